#include "agent/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lib/caps.h"
#include "lib/check.h"
#include "lib/hash.h"
#include "lib/text.h"

#define LISTEN_BACKLOG 16
#define MAX_CONNECTIONS 32 /* scrapers are few; a flood must not grow threads or memory */
#define CONNECTION_TIMEOUT_S 10

struct workload {
	UT_hash_handle hh;
	char *name; /* the label value, escaped: two names that read the same share it */
	uint64_t checks[CAPS_MAX][2]; /* [cap][denied] */
};

/* One series of the replica families: its labels as written. */
struct series {
	UT_hash_handle hh;
	char *labels; /* `node="n",...` without braces */
	uint64_t value;
};

enum { FAMILY_CHECKS, FAMILY_INSTANCES, FAMILIES };

struct metrics {
	pthread_mutex_t lock;
	char *node; /* escaped */
	size_t max_series;
	size_t n_series;
	struct series *series[FAMILIES]; /* uthash, insertion order */
	uint64_t series_overflow;
	struct MHD_Daemon *daemon;
	uint16_t port;
	size_t max_workloads;
	size_t n_workloads; /* "other" not included */
	struct workload *workloads; /* uthash, insertion order */
	struct workload *other;
	uint64_t overflow;
	uint64_t labels_cut;
	uint64_t values[METRICS_VALUES];
	uint64_t cache_entries[METRICS_CACHES];
	uint64_t cache_evictions[METRICS_CACHES];
};

static const struct {
	const char *name;
	const char *type;
	const char *help;
} value_info[METRICS_VALUES] = {
	[METRICS_EVENTS_LOST] = { "captrail_events_lost_total", "counter",
				  "Capability events the kernel could not queue." },
	[METRICS_STORE_FLUSHES] = { "captrail_store_flushes_total", "counter",
				    "Store transactions committed." },
	[METRICS_STORE_FLUSH_ERRORS] = { "captrail_store_flush_errors_total", "counter",
					 "Store flushes that failed (retried later)." },
	[METRICS_STORE_ROWS] = { "captrail_store_rows", "gauge",
				 "Profile rows in the store." },
	[METRICS_API_CLIENTS] = { "captrail_api_clients", "gauge",
				  "Clients connected to the local API." },
	[METRICS_API_DROPPED] = { "captrail_api_events_dropped_total", "counter",
				  "Events not sent to API clients that read too slowly." },
	[METRICS_API_CLOSED] = { "captrail_api_clients_closed_total", "counter",
				 "API connections closed by the agent: no whole request in time, "
				 "a reply or a full stream not read." },
	[METRICS_API_FILTER_GAVE_UP] = { "captrail_api_filter_regex_gave_up_total", "counter",
					 "Regex matches of API clients' filters that reached a "
					 "PCRE2 limit, counted as non-matches." },
	[METRICS_EVENT_STRINGS_CUT] = { "captrail_event_strings_cut_total", "counter",
					"Strings of streamed or exported events longer than their "
					"bound, cut and marked." },
	[METRICS_CONTAINER_CUT] = { "captrail_container_metadata_cut_total", "counter",
				    "Container names, images and labels cut to their bound, and "
				    "labels past the count bound, as read." },
	[METRICS_CONTAINER_REFUSED] = { "captrail_container_files_refused_total", "counter",
					"Runtime state or config files refused for their size." },
	[METRICS_CONTAINER_LIVE_EVICTIONS] = { "captrail_container_live_evictions_total",
					       "counter",
					       "Containers evicted from the full cache while they still "
					       "ran: their pod is read again." },
	[METRICS_EXPORT_RATE_DROPPED] = { "captrail_export_rate_dropped_total", "counter",
					  "Events the export's rate limit dropped." },
	[METRICS_EXPORT_WRITE_ERRORS] = { "captrail_export_write_errors_total", "counter",
					  "Failed writes to the export file." },
	[METRICS_RUNTIME_CHECKS] = { "captrail_runtime_checks_total", "counter",
				     "Checks of a container runtime's start-up, kept out of "
				     "the profiles." },
	[METRICS_OUT_OF_SCOPE] = { "captrail_out_of_scope_checks_total", "counter",
				   "Checks of workloads outside the agent's scope "
				   "(--namespaces, --cgroup-scope), not stored." },
};

static const char *const cache_names[METRICS_CACHES] = {
	[METRICS_CACHE_PROCESS] = "process",
	[METRICS_CACHE_CONTAINER] = "container",
};

static void render_workload(FILE *out, const struct workload *w)
{
	char name[CAPS_NAME_LEN];

	for (int cap = 0; cap < CAPS_MAX; cap++)
		for (int denied = 0; denied < 2; denied++) {
			if (!w->checks[cap][denied])
				continue;
			caps_name(cap, name);
			fprintf(out, "captrail_checks_total{capability=\"%s\",verdict=\"%s\","
				     "workload=\"%s\"} %llu\n", name, denied ? "denied" : "granted",
				w->name, (unsigned long long)w->checks[cap][denied]);
		}
}

static void render_series(FILE *out, const struct metrics *m)
{
	static const struct {
		const char *name;
		const char *type;
		const char *help;
	} families[FAMILIES] = {
		[FAMILY_CHECKS] = { "captrail_workload_capability_checks_total", "counter",
				    "Capability checks of a replica by capability, profile class "
				    "and, for denied checks, what their syscall returned." },
		[FAMILY_INSTANCES] = { "captrail_workload_instances", "gauge",
				       "Replicas (pod containers, containers) seen, 1 each." },
	};
	struct series *s, *tmp;

	for (int f = 0; f < FAMILIES; f++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
			families[f].name, families[f].type);
		HASH_ITER(hh, m->series[f], s, tmp)
			fprintf(out, "%s{%s} %llu\n", families[f].name, s->labels,
				(unsigned long long)s->value);
	}
	fprintf(out,
		"# HELP captrail_workload_series_overflow_total Replica updates not counted: "
		"their series would have been one past %zu.\n"
		"# TYPE captrail_workload_series_overflow_total counter\n"
		"captrail_workload_series_overflow_total %llu\n",
		m->max_series, (unsigned long long)m->series_overflow);
}

static void render_locked(struct metrics *m, FILE *out)
{
	struct workload *w, *tmp;

	fputs("# HELP captrail_checks_total Capability checks by capability, verdict, workload.\n"
	      "# TYPE captrail_checks_total counter\n", out);
	HASH_ITER(hh, m->workloads, w, tmp)
		render_workload(out, w);
	if (m->other)
		render_workload(out, m->other);
	fprintf(out,
		"# HELP captrail_metrics_workloads_overflow_total Check updates counted under "
		"workload=\"" METRICS_OTHER "\" once %zu workloads had series.\n"
		"# TYPE captrail_metrics_workloads_overflow_total counter\n"
		"captrail_metrics_workloads_overflow_total %llu\n"
		"# HELP captrail_metrics_labels_cut_total Check updates whose workload name was "
		"cut to %d bytes (ending in U+2026) for its label.\n"
		"# TYPE captrail_metrics_labels_cut_total counter\n"
		"captrail_metrics_labels_cut_total %llu\n",
		m->max_workloads, (unsigned long long)m->overflow, TEXT_WORKLOAD_MAX,
		(unsigned long long)m->labels_cut);
	for (int i = 0; i < METRICS_VALUES; i++)
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", value_info[i].name,
			value_info[i].help, value_info[i].name, value_info[i].type,
			value_info[i].name, (unsigned long long)m->values[i]);
	render_series(out, m);
	fputs("# HELP captrail_cache_entries Entries in the process and container caches.\n"
	      "# TYPE captrail_cache_entries gauge\n", out);
	for (int i = 0; i < METRICS_CACHES; i++)
		fprintf(out, "captrail_cache_entries{cache=\"%s\"} %llu\n", cache_names[i],
			(unsigned long long)m->cache_entries[i]);
	fputs("# HELP captrail_cache_evictions_total Entries evicted at the caches' bound.\n"
	      "# TYPE captrail_cache_evictions_total counter\n", out);
	for (int i = 0; i < METRICS_CACHES; i++)
		fprintf(out, "captrail_cache_evictions_total{cache=\"%s\"} %llu\n", cache_names[i],
			(unsigned long long)m->cache_evictions[i]);
}

int metrics_render(struct metrics *m, char **ret_text, size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return -errno;
	pthread_mutex_lock(&m->lock);
	render_locked(m, out);
	pthread_mutex_unlock(&m->lock);
	if (ferror(out)) {
		fclose(out);
		free(text);
		return -ENOMEM;
	}
	if (fclose(out)) {
		free(text);
		return -ENOMEM;
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, bool owned)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (owned)
		resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	else
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	static char ok[] = "ok\n", not_found[] = "not found: try /metrics\n",
		    bad_method[] = "only GET and HEAD\n";
	struct metrics *m = cls;
	char *text;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
			     sizeof(bad_method) - 1, false);
	if (*upload_data_size) /* a GET with a body: ignore it */
		*upload_data_size = 0;
	if (!strcmp(url, "/healthz"))
		return reply(conn, MHD_HTTP_OK, "text/plain", ok, sizeof(ok) - 1, false);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			     sizeof(not_found) - 1, false);
	if (metrics_render(m, &text, &len))
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
		     true);
}

/* "HOST:PORT", ":PORT", "[V6]:PORT" into host (NULL for any) and port. */
static int split_addr(const char *addr, char *host, size_t host_size, const char **ret_port)
{
	const char *colon, *port;
	size_t len;

	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		len = (size_t)(end - addr - 1);
		addr++;
		port = end + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL;
		len = (size_t)(colon - addr);
		port = colon + 1;
	}
	if (len >= host_size || !*port || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || atoi(port) > 65535)
		return -EINVAL;
	memcpy(host, addr, len);
	host[len] = '\0';
	*ret_port = port;
	return 0;
}

static int listen_on(const char *addr, int *ret_fd, int *ret_family, uint16_t *ret_port)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	struct addrinfo *res;
	char host[256];
	const char *port;
	int fd, one = 1, err;

	err = split_addr(addr, host, sizeof(host), &port);
	if (err)
		return err;
	if (!*host)
		hints.ai_family = AF_INET;
	if (getaddrinfo(*host ? host : NULL, port, &hints, &res))
		return -EINVAL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, LISTEN_BACKLOG) ||
	    getsockname(fd, (struct sockaddr *)&bound, &bound_len)) {
		err = -errno;
		close(fd);
		goto out;
	}
	*ret_family = res->ai_family;
	*ret_port = ntohs(bound.ss_family == AF_INET6
				  ? ((struct sockaddr_in6 *)&bound)->sin6_port
				  : ((struct sockaddr_in *)&bound)->sin_port);
	*ret_fd = fd;
out:
	freeaddrinfo(res);
	return err;
}

/* A label value as written: bounded, escaped, its cut counted. */
static char *label_value(struct metrics *m, const char *value, size_t max)
{
	char *buf = malloc(TEXT_BUF(TEXT_LABEL_MAX));
	bool cut;

	if (!buf)
		return NULL;
	text_render(buf, TEXT_BUF(TEXT_LABEL_MAX), value ? value : "", max, TEXT_PROM, &cut);
	m->labels_cut += cut;
	return buf;
}

int metrics__new(const struct metrics_opts *opts, struct metrics **ret_metrics)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	struct metrics *m;
	sigset_t all, old;
	int fd = -1, family = AF_INET, err;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->max_workloads = opts->max_workloads ? opts->max_workloads : METRICS_DEFAULT_WORKLOADS;
	m->max_series = opts->max_series ? opts->max_series : METRICS_DEFAULT_SERIES;
	m->node = label_value(m, opts->node, TEXT_NAME_MAX);
	if (!m->node) {
		err = -ENOMEM;
		goto fail;
	}
	err = listen_on(opts->addr, &fd, &family, &m->port);
	if (err)
		goto fail;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The HTTP thread inherits a mask blocking every signal, so SIGTERM
	 * and SIGINT always reach (and interrupt) the agent's own loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
				     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->daemon) {
		err = -EIO;
		close(fd);
		goto fail;
	}
	*ret_metrics = m;
	return 0;
fail:
	pthread_mutex_destroy(&m->lock);
	free(m->node);
	free(m);
	return err;
}

static void free_workload(struct workload *w)
{
	if (!w)
		return;
	free(w->name);
	free(w);
}

void metrics__free(struct metrics *m)
{
	struct workload *w, *tmp;

	if (!m)
		return;
	if (m->daemon)
		MHD_stop_daemon(m->daemon); /* closes the listening socket */
	HASH_ITER(hh, m->workloads, w, tmp) {
		HASH_DEL(m->workloads, w);
		free_workload(w);
	}
	free_workload(m->other);
	for (int f = 0; f < FAMILIES; f++) {
		struct series *s, *stmp;

		HASH_ITER(hh, m->series[f], s, stmp) {
			HASH_DEL(m->series[f], s);
			free(s->labels);
			free(s);
		}
	}
	free(m->node);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

uint16_t metrics_port(const struct metrics *m)
{
	return m->port;
}

static struct workload *new_workload(const char *name)
{
	struct workload *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->name = strdup(name);
	if (!w->name) {
		free(w);
		return NULL;
	}
	return w;
}

/* Under the lock: the workload's entry, "other" past the bound. */
static struct workload *find_workload(struct metrics *m, const char *name)
{
	struct workload *w;

	HASH_FIND_STR(m->workloads, name, w);
	if (w)
		return w;
	if (m->n_workloads < m->max_workloads && strcmp(name, METRICS_OTHER)) {
		w = new_workload(name);
		if (w) {
			HASH_ADD_KEYPTR(hh, m->workloads, w->name, strlen(w->name), w);
			if (!hash_add_failed()) {
				m->n_workloads++;
				return w;
			}
			free_workload(w); /* out of memory: counted under "other" */
		}
	}
	if (!m->other)
		m->other = new_workload(METRICS_OTHER);
	if (m->other && strcmp(name, METRICS_OTHER))
		m->overflow++;
	return m->other;
}

void metrics_add_checks(struct metrics *m, const char *workload, int cap, bool denied,
			uint64_t n)
{
	char label[TEXT_BUF(TEXT_WORKLOAD_MAX)];
	struct workload *w;
	bool cut;

	if (cap < 0 || cap >= CAPS_MAX || !n)
		return;
	text_render(label, sizeof(label), workload && *workload ? workload : "unknown",
		    TEXT_WORKLOAD_MAX, TEXT_PROM, &cut);
	pthread_mutex_lock(&m->lock);
	m->labels_cut += cut;
	w = find_workload(m, label);
	if (w)
		w->checks[cap][denied] += n;
	pthread_mutex_unlock(&m->lock);
}

void metrics_set(struct metrics *m, enum metrics_value which, uint64_t value)
{
	if (which >= METRICS_VALUES)
		return;
	pthread_mutex_lock(&m->lock);
	m->values[which] = value;
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_cache(struct metrics *m, enum metrics_cache which, uint64_t entries,
		       uint64_t evictions)
{
	if (which >= METRICS_CACHES)
		return;
	pthread_mutex_lock(&m->lock);
	m->cache_entries[which] = entries;
	m->cache_evictions[which] = evictions;
	pthread_mutex_unlock(&m->lock);
}

/* `key="value"` for a value that is not empty, after a comma when not
 * first. */
static void put_label(FILE *out, const char *key, const char *value)
{
	if (!*value)
		return;
	fprintf(out, "%s%s=\"%s\"", ftell(out) ? "," : "", key, value);
}

/* The labels of r (and the check's, when cap >= 0) as written, malloc'd;
 * under the lock. */
static char *replica_labels(struct metrics *m, const struct metrics_replica *r, int cap,
			    const char *cls, const char *outcome)
{
	const char *raw[] = { r->namespace, r->kind, r->workload, r->container, r->pod };
	static const char *const keys[] = { "namespace", "workload_kind", "workload", "container",
					    "pod" };
	static const size_t max[] = { TEXT_NAME_MAX, TEXT_NAME_MAX, TEXT_LABEL_MAX,
				      TEXT_NAME_MAX, TEXT_NAME_MAX };
	char *text = NULL, capname[CAPS_NAME_LEN];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	bool ok = out;

	if (!out)
		return NULL;
	put_label(out, "node", m->node);
	for (size_t i = 0; ok && i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = label_value(m, raw[i], max[i]);

		ok = v;
		if (v)
			put_label(out, keys[i], v);
		free(v);
	}
	if (cap >= 0) {
		caps_name(cap, capname);
		put_label(out, "capability", capname);
		put_label(out, "class", cls);
		put_label(out, "outcome", outcome ? outcome : "");
	}
	if (fclose(out) || !ok) {
		free(text);
		return NULL;
	}
	return text;
}

/* Under the lock: the series of labels (consumed), NULL past the bound
 * (counted) or without memory. */
static struct series *find_series(struct metrics *m, int family, char *labels)
{
	struct series *s;

	HASH_FIND_STR(m->series[family], labels, s);
	if (s) {
		free(labels);
		return s;
	}
	if (m->n_series >= m->max_series) {
		m->series_overflow++;
		free(labels);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(labels);
		return NULL;
	}
	s->labels = labels;
	HASH_ADD_KEYPTR(hh, m->series[family], s->labels, strlen(s->labels), s);
	if (hash_add_failed()) {
		free(s->labels);
		free(s);
		return NULL;
	}
	m->n_series++;
	return s;
}

void metrics_add_replica_checks(struct metrics *m, const struct metrics_replica *r, int cap,
				const char *cls, const char *outcome, uint64_t n)
{
	struct series *s;
	char *labels;

	if (cap < 0 || cap >= CAPS_MAX || !n || !cls)
		return;
	pthread_mutex_lock(&m->lock);
	labels = replica_labels(m, r, cap, cls, outcome);
	s = labels ? find_series(m, FAMILY_CHECKS, labels) : NULL;
	if (s)
		s->value = check_count_add(s->value, n);
	pthread_mutex_unlock(&m->lock);
}

void metrics_add_replica(struct metrics *m, const struct metrics_replica *r)
{
	struct series *s;
	char *labels;

	pthread_mutex_lock(&m->lock);
	labels = replica_labels(m, r, -1, NULL, NULL);
	s = labels ? find_series(m, FAMILY_INSTANCES, labels) : NULL;
	if (s)
		s->value = 1;
	pthread_mutex_unlock(&m->lock);
}
