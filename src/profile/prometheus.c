#include "profile/prometheus.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "lib/caps.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/text.h"

static const char *const kinds[] = {
	"Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "Pod", "Container", NULL,
};

int prom_workload_parse(const char *text, struct prom_workload *ret_workload)
{
	const char *slash1 = text ? strchr(text, '/') : NULL;
	const char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
	size_t ns_len, kind_len;

	if (!slash2 || strlen(text) >= PROM_WORKLOAD_MAX || !slash2[1])
		return -EINVAL;
	ns_len = (size_t)(slash1 - text);
	kind_len = (size_t)(slash2 - slash1 - 1);
	for (size_t i = 0; kinds[i]; i++) {
		if (strlen(kinds[i]) != kind_len || strncasecmp(kinds[i], slash1 + 1, kind_len))
			continue;
		/* A plain container has no namespace; a Kubernetes workload does. */
		if ((ns_len == 0) != (strcmp(kinds[i], "Container") == 0))
			return -EINVAL;
		snprintf(ret_workload->ns, sizeof(ret_workload->ns), "%.*s", (int)ns_len, text);
		snprintf(ret_workload->kind, sizeof(ret_workload->kind), "%s", kinds[i]);
		snprintf(ret_workload->name, sizeof(ret_workload->name), "%s", slash2 + 1);
		return 0;
	}
	return -EINVAL;
}

void prom_workload_name(const struct prom_workload *w, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s", w->ns, w->kind, w->name);
}

int prom_duration_parse(const char *text, uint64_t *ret_seconds)
{
	static const struct {
		char unit;
		uint64_t seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	unsigned long long n;
	char *end;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (end == text || !end[0] || end[1])
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (*end != units[i].unit)
			continue;
		if (errno || !n || n > PROM_WINDOW_MAX / units[i].seconds)
			return -ERANGE;
		*ret_seconds = n * units[i].seconds;
		return 0;
	}
	return -EINVAL;
}

int prom_query_text(const struct prom_workload *w, enum prom_query q, uint64_t window,
		    char **ret_promql)
{
	char ns[TEXT_BUF(TEXT_NAME_MAX)], name[TEXT_BUF(TEXT_WORKLOAD_MAX)];
	char sel[sizeof(ns) + sizeof(name) + 256];
	unsigned long long s = window;
	char *promql = NULL;
	int n;

	if (!window || window > PROM_WINDOW_MAX || (unsigned int)q >= PROM_QUERY_COUNT)
		return -EINVAL;
	text_render(ns, sizeof(ns), w->ns, TEXT_NAME_MAX, TEXT_PROM, NULL);
	text_render(name, sizeof(name), w->name, TEXT_WORKLOAD_MAX, TEXT_PROM, NULL);
	snprintf(sel, sizeof(sel), "{namespace=\"%s\",workload_kind=\"%s\",workload=\"%s\"}", ns,
		 w->kind, name);
	switch (q) {
	case PROM_QUERY_INSTANCES:
		n = asprintf(&promql, "max_over_time(" PROM_INSTANCES_METRIC "%s[%llus])", sel, s);
		break;
	case PROM_QUERY_BASELINE:
		/* The window before, so a counter last scraped a while before
		 * this window (a scrape gap) still has its base. */
		n = asprintf(&promql,
			     "last_over_time(" PROM_CHECKS_METRIC "%s[%llus] offset %llus)", sel, s,
			     s);
		break;
	default:
		n = asprintf(&promql, PROM_CHECKS_METRIC "%s[%llus]", sel, s);
		break;
	}
	if (n < 0)
		return -ENOMEM;
	*ret_promql = promql;
	return 0;
}

/* A counter series of the workload, by every label but its name. */
struct series {
	UT_hash_handle hh;
	char *key;
	char *node;
	char *instance; /* NULL: unnamed */
	int cap;
	enum profile_class cls;
	enum profile_outcome outcome;
	bool valid; /* labels the agent writes, of a class a profile keeps */
	bool runtime; /* class "runtime" */
	bool has_samples;
	uint64_t first; /* the window's first value */
	uint64_t rest; /* what the later samples added, resets counted whole */
	uint64_t last;
	bool has_base;
	uint64_t base;
};

/* A replica seen in the window. */
struct replica {
	UT_hash_handle hh;
	char *instance;
	char *node;
};

struct prom_profile {
	struct series *series;
	struct replica *replicas;
	bool any; /* an answer held a series of the workload */
	struct prom_stats stats;
};

int prom_profile__new(struct prom_profile **ret_pp)
{
	struct prom_profile *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return -ENOMEM;
	*ret_pp = pp;
	return 0;
}

static void series_free(struct series *s)
{
	free(s->key);
	free(s->node);
	free(s->instance);
	free(s);
}

void prom_profile__free(struct prom_profile *pp)
{
	struct series *s, *stmp;
	struct replica *r, *rtmp;

	if (!pp)
		return;
	HASH_ITER(hh, pp->series, s, stmp) {
		HASH_DEL(pp->series, s);
		series_free(s);
	}
	HASH_ITER(hh, pp->replicas, r, rtmp) {
		HASH_DEL(pp->replicas, r);
		free(r->instance);
		free(r->node);
		free(r);
	}
	free(pp);
}

static int bad(char *why, const char *fmt, const char *where)
{
	snprintf(why, PROM_WHY_LEN, fmt, where);
	return -EBADMSG;
}

/* A sample's value ("1", "NaN", "+Inf") as a count: false when it is none
 * (not a number, infinite, negative). Counts above 2^53 are as exact as
 * Prometheus's float64 keeps them. */
static bool sample_count(json_object *value, uint64_t *ret_count)
{
	const char *text = json_object_get_string(value);
	char *end;
	double v;

	if (!json_object_is_type(value, json_type_string) || !*text)
		return false;
	v = strtod(text, &end);
	if (*end || !isfinite(v) || v < 0)
		return false;
	*ret_count = v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)(v + 0.5);
	return true;
}

/* "name=value\n" for every label but __name__, in Prometheus's order
 * (sorted by name in every answer), so the same series has the same key
 * in each query. */
static int series_key(json_object *metric, char **ret_key)
{
	char *key = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&key, &size);

	if (!out)
		return -errno;
	json_object_object_foreach(metric, name, value) {
		if (strcmp(name, "__name__"))
			fprintf(out, "%s=%s\n", name, json_object_get_string(value));
	}
	if (fclose(out) != 0) {
		free(key);
		return -ENOMEM;
	}
	*ret_key = key;
	return 0;
}

static const char *label(json_object *metric, const char *name)
{
	const char *value = json_member_string(metric, name);

	return value ? value : "";
}

/* The pod names a replica; a plain container, not in a pod, its name on
 * its node. */
static int instance_id(json_object *metric, char **ret_id)
{
	const char *pod = label(metric, "pod"), *container = label(metric, "container");
	const char *node = label(metric, "node");
	int n;

	if (*pod)
		n = asprintf(ret_id, "%s", pod);
	else if (*container && *node)
		n = asprintf(ret_id, "%s@%s", container, node);
	else if (*container)
		n = asprintf(ret_id, "%s", container);
	else
		return *ret_id = NULL, 0;
	return n < 0 ? -ENOMEM : 0;
}

/* The classes a check can have, as the agent labels them; "kept" comes
 * from what record sees of capset() and exec, never from a check. */
static void series_labels(struct series *s, json_object *metric)
{
	const char *cls = label(metric, "class"), *outcome = label(metric, "outcome");
	int c;

	s->runtime = strcmp(cls, "runtime") == 0;
	if (caps_parse(label(metric, "capability"), &s->cap))
		return;
	for (c = 0; c < PROFILE_CLASS_COUNT; c++) {
		if (c != PROFILE_CLASS_KEPT && !strcmp(cls, profile_class_name(c)))
			break;
	}
	if (c == PROFILE_CLASS_COUNT)
		return;
	s->cls = (enum profile_class)c;
	s->outcome = PROFILE_OUTCOME_UNOBSERVED;
	if (*outcome && (s->cls != PROFILE_CLASS_DENIED ||
			 profile_outcome_parse(outcome, &s->outcome)))
		return;
	s->valid = true;
}

static int series_get(struct prom_profile *pp, json_object *metric, struct series **ret)
{
	struct series *s;
	char *key = NULL;
	int err = series_key(metric, &key);

	if (err)
		return err;
	HASH_FIND(hh, pp->series, key, strlen(key), s);
	if (s) {
		free(key);
		*ret = s;
		return 0;
	}
	if (HASH_COUNT(pp->series) >= PROM_SERIES_MAX) {
		free(key);
		pp->stats.series_dropped++;
		*ret = NULL;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->node = strdup(label(metric, "node"))) || instance_id(metric, &s->instance)) {
		free(key);
		if (s)
			series_free(s);
		return -ENOMEM;
	}
	s->key = key;
	series_labels(s, metric);
	HASH_ADD_KEYPTR(hh, pp->series, s->key, strlen(s->key), s);
	if (hash_add_failed()) {
		series_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

/* [time, "value"] */
static json_object *pair_value(json_object *pair)
{
	if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
		return NULL;
	return json_object_array_get_idx(pair, 1);
}

static int add_samples(struct prom_profile *pp, struct series *s, json_object *values,
		       char *why)
{
	size_t n = json_object_array_length(values);
	uint64_t v;

	for (size_t i = 0; i < n; i++) {
		json_object *value = pair_value(json_object_array_get_idx(values, i));

		if (!value)
			return bad(why, "%s: a sample is not [time, \"value\"]", "values");
		if (!sample_count(value, &v)) {
			pp->stats.samples_invalid++;
			continue;
		}
		if (!s->has_samples) {
			s->has_samples = true;
			s->first = v;
		} else {
			s->rest = check_count_add(s->rest, v >= s->last ? v - s->last : v);
		}
		s->last = v;
	}
	return 0;
}

static int add_replica(struct prom_profile *pp, json_object *metric, json_object *value)
{
	struct replica *r;
	uint64_t seen;
	char *id;
	int err;

	if (!sample_count(value, &seen)) {
		pp->stats.samples_invalid++;
		return 0;
	}
	if (!seen)
		return 0;
	err = instance_id(metric, &id);
	if (err)
		return err;
	if (!id)
		return 0; /* no pod or container: an instance no profile names */
	HASH_FIND(hh, pp->replicas, id, strlen(id), r);
	if (r || HASH_COUNT(pp->replicas) >= PROM_SERIES_MAX) {
		pp->stats.series_dropped += !r;
		free(id);
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->node = strdup(label(metric, "node")))) {
		free(r);
		free(id);
		return -ENOMEM;
	}
	r->instance = id;
	HASH_ADD_KEYPTR(hh, pp->replicas, r->instance, strlen(r->instance), r);
	if (hash_add_failed()) {
		free(r->node);
		free(r->instance);
		free(r);
		return -ENOMEM;
	}
	return 0;
}

static int add_result(struct prom_profile *pp, enum prom_query q, json_object *item, char *why)
{
	json_object *metric = json_member(item, "metric", json_type_object);
	json_object *values = json_member(item, "values", json_type_array);
	json_object *value = pair_value(json_member(item, "value", json_type_array));
	struct series *s;
	uint64_t base;
	int err;

	if (!metric)
		return bad(why, "%s: a series without \"metric\"", "result");
	if (q == PROM_QUERY_CHECKS ? !values : !value)
		return bad(why, "%s: a series without its samples", "result");
	/* A series that ended before the window has a base and nothing else. */
	pp->any |= q != PROM_QUERY_BASELINE;
	if (q == PROM_QUERY_INSTANCES)
		return add_replica(pp, metric, value);
	err = series_get(pp, metric, &s);
	if (err || !s)
		return err;
	if (q == PROM_QUERY_CHECKS)
		return add_samples(pp, s, values, why);
	if (!sample_count(value, &base)) {
		pp->stats.samples_invalid++;
		return 0;
	}
	s->has_base = true;
	s->base = base;
	return 0;
}

/* Prometheus's own words, bounded (the command escapes what it prints). */
static int refused(json_object *root, char *why)
{
	char type[48], msg[200];

	text_render(type, sizeof(type), json_member_string(root, "errorType"), 32, TEXT_UTF8,
		    NULL);
	text_render(msg, sizeof(msg), json_member_string(root, "error"), 160, TEXT_UTF8, NULL);
	snprintf(why, PROM_WHY_LEN, "%s: %s", type[0] ? type : "error", msg);
	return -EPROTO;
}

int prom_profile_add(struct prom_profile *pp, enum prom_query q, long http_status,
		     const char *body, size_t len, char why[PROM_WHY_LEN])
{
	const char *want = q == PROM_QUERY_CHECKS ? "matrix" : "vector";
	json_object *root, *data, *result;
	const char *status, *type;
	int err;

	if ((unsigned int)q >= PROM_QUERY_COUNT)
		return -EINVAL;
	err = json_parse_object(body, len, &root, why, PROM_WHY_LEN);
	if (err == -EINVAL && http_status != 200) {
		snprintf(why, PROM_WHY_LEN, "HTTP status %ld", http_status);
		return -EPROTO;
	}
	if (err == -EINVAL)
		return -EBADMSG;
	if (err)
		return err;
	status = json_member_string(root, "status");
	data = json_member(root, "data", json_type_object);
	result = json_member(data, "result", json_type_array);
	type = json_member_string(data, "resultType");
	if (status && !strcmp(status, "error"))
		err = refused(root, why);
	else if (!status || strcmp(status, "success"))
		err = bad(why, "%s: neither \"success\" nor \"error\"", "status");
	else if (!result || !type)
		err = bad(why, "%s: no \"resultType\" and \"result\"", "data");
	else if (strcmp(type, want))
		err = bad(why, "%s: not the type the query gives", "resultType");
	for (size_t i = 0; !err && i < json_object_array_length(result); i++)
		err = add_result(pp, q, json_object_array_get_idx(result, i), why);
	json_object_put(root);
	return err;
}

/* What the window adds to a series: its values after the base, each drop
 * a reset. */
static uint64_t series_count(const struct series *s)
{
	uint64_t from_base = s->first;

	if (!s->has_samples)
		return 0;
	if (s->has_base && s->first >= s->base)
		from_base = s->first - s->base;
	return check_count_add(from_base, s->rest);
}

void prom_profile_stats(const struct prom_profile *pp, struct prom_stats *ret_stats)
{
	struct prom_stats stats = pp->stats;
	const struct series *s, *tmp;

	HASH_ITER(hh, pp->series, s, tmp) {
		stats.series++;
		if (s->runtime)
			stats.runtime_checks = check_count_add(stats.runtime_checks,
							       series_count(s));
		else if (!s->valid)
			stats.series_invalid++;
	}
	*ret_stats = stats;
}

static void series_obs(const struct series *s, struct profile_obs *obs)
{
	*obs = (struct profile_obs){
		.cap = s->cap,
		.granted = s->cls != PROFILE_CLASS_DENIED,
		.audit = s->cls == PROFILE_CLASS_NOAUDIT ? CHECK_NOAUDIT : CHECK_AUDITED,
		.override_cred = s->cls == PROFILE_CLASS_OVERRIDE_CRED,
		.foreign_userns = s->cls == PROFILE_CLASS_FOREIGN_USERNS,
		.via_capset = s->cls == PROFILE_CLASS_CAPSET,
		/* the metrics do not say which syscall */
		.syscall = CHECK_NO_SYSCALL,
		.outcome = s->outcome,
		.count = series_count(s),
		.instance = s->instance,
	};
}

/* Nodes by name, each with the capabilities one of its replicas had in
 * their profile class. */
struct node {
	UT_hash_handle hh;
	const char *name;
	uint64_t caps;
};

static int node_get(struct node **nodes, const char *name, struct node **ret)
{
	struct node *n;

	HASH_FIND(hh, *nodes, name, strlen(name), n);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->name = name;
		HASH_ADD_KEYPTR(hh, *nodes, n->name, strlen(n->name), n);
		if (hash_add_failed()) {
			free(n);
			return -ENOMEM;
		}
	}
	*ret = n;
	return 0;
}

static int add_nodes(const struct prom_profile *pp, struct profile *p)
{
	struct profile_cap caps[CAPS_MAX];
	const struct replica *r, *rtmp;
	const struct series *s, *stmp;
	struct node *nodes = NULL, *n, *ntmp;
	struct profile_obs obs;
	uint64_t present;
	int err;

	err = profile_summary(p, caps, &present);
	HASH_ITER(hh, pp->replicas, r, rtmp) {
		if (!err && *r->node)
			err = node_get(&nodes, r->node, &n);
	}
	HASH_ITER(hh, pp->series, s, stmp) {
		series_obs(s, &obs);
		if (err || !s->valid || !obs.count || !*s->node)
			continue;
		err = node_get(&nodes, s->node, &n);
		if (!err && (present & (1ull << s->cap)) && caps[s->cap].cls == s->cls)
			n->caps |= 1ull << s->cap;
	}
	if (!err) {
		profile_set_replicas(p, true);
		profile_set_nodes(p, HASH_COUNT(nodes));
	}
	for (int cap = 0; !err && cap < CAPS_MAX; cap++) {
		unsigned int on = 0;

		HASH_ITER(hh, nodes, n, ntmp)
			on += !!(n->caps & (1ull << cap));
		profile_set_cap_nodes(p, cap, on);
	}
	HASH_ITER(hh, nodes, n, ntmp) {
		HASH_DEL(nodes, n);
		free(n);
	}
	return err;
}

int prom_profile_build(const struct prom_profile *pp, const char *name,
		       struct profile **ret_profile)
{
	const struct replica *r, *rtmp;
	const struct series *s, *stmp;
	struct profile *p = NULL;
	struct profile_obs obs;
	int err;

	if (!pp->any)
		return -ENODATA;
	err = profile__new(&p);
	if (!err)
		err = profile_set_workload(p, name);
	HASH_ITER(hh, pp->replicas, r, rtmp) {
		if (!err)
			err = profile_add_instance(p, r->instance);
	}
	HASH_ITER(hh, pp->series, s, stmp) {
		if (err || !s->valid)
			continue;
		series_obs(s, &obs);
		err = profile_add(p, &obs);
	}
	if (!err)
		err = add_nodes(pp, p);
	if (err) {
		profile__free(p);
		return err;
	}
	*ret_profile = p;
	return 0;
}
