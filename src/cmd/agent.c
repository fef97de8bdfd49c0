/* captrail agent: every workload's capability checks, continuously, into a
 * store; events and profiles to clients; JSON-lines export; metrics. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "agent/api.h"
#include "agent/export.h"
#include "agent/metrics.h"
#include "agent/store.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "cmd/options.h"
#include "event/output.h"
#include "identity/identity.h"
#include "kernel/kallsyms.h"
#include "kernel/loader.h"
#include "lib/clock.h"
#include "lib/util.h"

#define usage_error(...) cmd_usage_error("agent", __VA_ARGS__)
#define DEFAULT_DB "/var/lib/captrail/captrail.db"
#define MAX_STATE_ROOTS 4

enum { TAG_RING = 1, TAG_API, TAG_SIGNAL, TAG_TICK };

struct agent_args {
	const char *db;
	const char *socket;
	const char *metrics_addr;
	long metrics_workloads;
	struct export_opts export;
	double flush_seconds;
	bool watch_denials;
	const char *state_roots[MAX_STATE_ROOTS + 1];
	size_t n_state_roots;
	bool verbose;
	struct rings_config rings;
};

/* What the store already has of one aggregation entry: the kernel's counts
 * only grow, so each flush stores the difference. */
struct seen_key {
	struct ct_agg_key key;
	uint64_t count;
	struct ct_outcome outcome;
	bool gone; /* its process exited: delete once read */
	UT_hash_handle hh;
};

/* Where each program image (pid x exec count) was exec'd. A container's
 * runtime execs its init (runc:[2:INIT]) in the host's mount namespace,
 * and enters the container's namespaces only afterwards, while the
 * workload's command is always exec'd inside them: an image a container
 * runs that was exec'd in the host's mount namespace, or outside the
 * container's cgroup, is the runtime's start-up, not the workload's. */
#define MAX_IMAGES 65536

struct image {
	uint64_t id; /* pid << 32 | exec_gen */
	uint64_t exec_cgroup;
	uint32_t exec_mntns;
	UT_hash_handle hh;
};

struct agent {
	struct agent_args args;
	struct loader *loader;
	struct identity *identity;
	struct store *store;
	struct api_server *api;
	struct export *export;
	struct metrics *metrics;
	struct rings *rings;
	struct seen_key *seen;
	struct image *images;
	size_t n_images;
	uint64_t images_untracked; /* past MAX_IMAGES */
	uint64_t runtime_checks; /* not stored: the runtime's, see struct image */
	uint64_t checks_seen; /* drained from the kernel, kernel threads' aside */
	uint64_t checks_denied;
	struct output out;
	FILE *line; /* one event rendered as JSON, reused */
	char *line_buf;
	size_t line_size;
	struct identity_view view;
	int64_t boot_offset_ns;
	int epoll_fd, signal_fd, timer_fd;
	bool stop;
	bool streaming; /* the per-check program is attached */
	uint64_t stream_errors;
	uint64_t drain_errors;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail agent [OPTIONS]\n"
		"\n"
		"Records the capability checks of every workload on the node (pod container,\n"
		"container, systemd service or host binary) into a store, and serves events and\n"
		"profiles to 'captrail events' and 'captrail profile'.\n"
		"\n"
		"      --db PATH              the store (default " DEFAULT_DB ")\n"
		"      --socket PATH          the local API (default " API_DEFAULT_SOCKET ")\n"
		"      --flush-interval SECS  store flush period (default 5)\n"
		"      --metrics ADDR         Prometheus metrics on HTTP, e.g. 127.0.0.1:9464\n"
		"      --metrics-workloads N  distinct workload labels before \"other\" (500)\n"
		"      --export FILE          JSON-lines copy of every check (mode 0600)\n"
		"      --export-max-size BYTES   rotate the export at this size (100 MiB)\n"
		"      --export-max-backups N    rotated files kept (5)\n"
		"      --export-rate N        at most N events/s to the export; drops counted\n"
		"      --watch-denials        record what denied syscalls return (costs every\n"
		"                             syscall of every process once a denial is seen)\n"
		"      --state-root DIR       also look for container runtime state in DIR\n"
		"  -v, --verbose              libbpf debug output and ring changes\n"
		"      --capabilities KEY=VALUE   captrail's own capabilities, as for trace\n");
}

enum {
	OPT_DB = 256,
	OPT_SOCKET,
	OPT_FLUSH,
	OPT_METRICS,
	OPT_METRICS_WORKLOADS,
	OPT_EXPORT,
	OPT_EXPORT_SIZE,
	OPT_EXPORT_BACKUPS,
	OPT_EXPORT_RATE,
	OPT_WATCH_DENIALS,
	OPT_STATE_ROOT,
	OPT_CAPABILITIES,
};

static const struct option long_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "flush-interval", required_argument, NULL, OPT_FLUSH },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-workloads", required_argument, NULL, OPT_METRICS_WORKLOADS },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "export-max-size", required_argument, NULL, OPT_EXPORT_SIZE },
	{ "export-max-backups", required_argument, NULL, OPT_EXPORT_BACKUPS },
	{ "export-rate", required_argument, NULL, OPT_EXPORT_RATE },
	{ "watch-denials", no_argument, NULL, OPT_WATCH_DENIALS },
	{ "state-root", required_argument, NULL, OPT_STATE_ROOT },
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_args(int argc, char **argv, struct agent_args *a)
{
	long value;
	int opt, rc;

	a->db = DEFAULT_DB;
	a->socket = API_DEFAULT_SOCKET;
	a->flush_seconds = 5;
	a->metrics_workloads = 500;
	a->export.max_size = 100ull << 20;
	a->export.max_backups = 5;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_DB: a->db = optarg; break;
		case OPT_SOCKET: a->socket = optarg; break;
		case OPT_FLUSH:
			if (cli_parse_seconds(optarg, &a->flush_seconds))
				return usage_error("invalid flush interval '%s' (seconds > 0)", optarg);
			break;
		case OPT_METRICS: a->metrics_addr = optarg; break;
		case OPT_METRICS_WORKLOADS:
			if (parse_long(optarg, 1, 1000000, &a->metrics_workloads))
				return usage_error("invalid workload count '%s'", optarg);
			break;
		case OPT_EXPORT: a->export.path = optarg; break;
		case OPT_EXPORT_SIZE:
			if (parse_long(optarg, 0, 0x7fffffffffffffffL, &value))
				return usage_error("invalid size '%s' (bytes)", optarg);
			a->export.max_size = (uint64_t)value;
			break;
		case OPT_EXPORT_BACKUPS:
			if (parse_long(optarg, 0, 1000, &value))
				return usage_error("invalid backup count '%s' (0 to 1000)", optarg);
			a->export.max_backups = (unsigned)value;
			break;
		case OPT_EXPORT_RATE:
			if (cli_parse_seconds(optarg, &a->export.rate))
				return usage_error("invalid rate '%s' (events per second > 0)", optarg);
			break;
		case OPT_WATCH_DENIALS: a->watch_denials = true; break;
		case OPT_STATE_ROOT:
			if (a->n_state_roots == MAX_STATE_ROOTS)
				return usage_error("at most %d --state-root directories",
						   MAX_STATE_ROOTS);
			a->state_roots[a->n_state_roots++] = optarg;
			break;
		case OPT_CAPABILITIES:
			rc = cmd_rings_option("agent", &a->rings, optarg);
			if (rc >= 0)
				return rc;
			break;
		case 'v': a->verbose = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}

/* Events: rendered once, to every interested client and the export. */
static void stream_event(struct agent *a, const struct ct_cap_event *e)
{
	long len;

	identity_resolve(a->identity, e, &a->view);
	rewind(a->line);
	output_event(&a->out, &a->view.ev);
	fflush(a->line);
	len = ftell(a->line);
	if (len <= 0)
		return;
	if (a->api)
		api_server_broadcast(a->api, a->line_buf, (size_t)len, &a->view.subject);
	if (a->export)
		export_write(a->export, a->line_buf, (size_t)len);
}

static uint64_t image_id(uint32_t pid, uint32_t exec_gen)
{
	return (uint64_t)pid << 32 | exec_gen;
}

static struct image *image_find(struct agent *a, uint32_t pid, uint32_t exec_gen)
{
	uint64_t id = image_id(pid, exec_gen);
	struct image *img;

	HASH_FIND(hh, a->images, &id, sizeof(id), img);
	return img;
}

/* Past the bound an image is not tracked, and its checks are kept: the
 * profile may then show a runtime's check, never lose a workload's. */
static void image_set(struct agent *a, uint32_t pid, uint32_t exec_gen, uint64_t exec_cgroup,
		      uint32_t exec_mntns)
{
	struct image *img = image_find(a, pid, exec_gen);

	if (!img) {
		if (a->n_images >= MAX_IMAGES) {
			a->images_untracked++;
			return;
		}
		img = calloc(1, sizeof(*img));
		if (!img)
			return;
		img->id = image_id(pid, exec_gen);
		HASH_ADD(hh, a->images, id, sizeof(img->id), img);
		a->n_images++;
	}
	img->exec_cgroup = exec_cgroup;
	img->exec_mntns = exec_mntns;
}

static void track_image(struct agent *a, const struct ct_proc_event *e)
{
	const struct image *parent;

	if (e->type == CT_REC_EXEC) {
		image_set(a, e->pid, e->exec_gen, e->cgroup_id, e->ns[CT_NS_MNT]);
	} else if (e->type == CT_REC_FORK) {
		/* A forked child runs its parent's image. */
		parent = image_find(a, e->ppid, e->exec_gen);
		if (parent)
			image_set(a, e->pid, e->exec_gen, parent->exec_cgroup, parent->exec_mntns);
	}
}

static bool runtime_image(struct agent *a, const struct image *img, const struct ct_agg_key *key)
{
	const uint32_t *host_ns = identity_host_ns(a->identity);

	if (img->exec_cgroup != key->cgroup_id)
		return true;
	return host_ns && img->exec_mntns == host_ns[CT_NS_MNT];
}

static void mark_gone(struct agent *a, uint32_t pid)
{
	struct seen_key *s, *tmp;

	HASH_ITER(hh, a->seen, s, tmp)
		if (s->key.pid == pid)
			s->gone = true;
}

static void forget_images(struct agent *a, uint32_t pid)
{
	struct image *img, *tmp;

	HASH_ITER(hh, a->images, img, tmp) {
		if (img->id >> 32 != pid)
			continue;
		HASH_DEL(a->images, img);
		free(img);
		a->n_images--;
	}
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct agent *a = ctx;
	__u32 type = *(const __u32 *)data;

	switch (type) {
	case CT_REC_CAP:
		if (size >= sizeof(struct ct_cap_event))
			stream_event(a, data);
		break;
	case CT_REC_DENIAL_SEEN:
		if (a->args.watch_denials) {
			rings_enter(a->rings, RING_EBPF, "attach the denial-outcome program");
			loader_watch_denials(a->loader);
			rings_leave(a->rings);
		}
		break;
	default:
		if (size < sizeof(struct ct_proc_event))
			break;
		identity_apply(a->identity, data);
		track_image(a, data);
		if (type == CT_REC_EXIT)
			mark_gone(a, ((const struct ct_proc_event *)data)->pid);
	}
	return 0;
}

static void workload_label(const struct store_workload *w, char *buf, size_t size)
{
	switch (w->kind) {
	case STORE_POD_CONTAINER:
		snprintf(buf, size, "%s/%s/%s", w->pod_namespace, w->pod_name,
			 w->container_name ? w->container_name : w->container_id);
		break;
	case STORE_CONTAINER:
		snprintf(buf, size, "%s", w->container_name ? w->container_name : w->container_id);
		break;
	case STORE_UNIT: snprintf(buf, size, "%s", w->unit); break;
	case STORE_HOST_BINARY: snprintf(buf, size, "%s", w->binary); break;
	}
}

static enum store_audit audit_of(const struct ct_agg_value *v)
{
	if (v->audit_samples)
		return STORE_AUDIT;
	return v->noaudit_samples ? STORE_NOAUDIT : STORE_AUDIT_UNKNOWN;
}

static struct seen_key *seen_get(struct agent *a, const struct ct_agg_key *key)
{
	struct seen_key *s;

	HASH_FIND(hh, a->seen, key, sizeof(*key), s);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = *key;
	HASH_ADD(hh, a->seen, key, sizeof(s->key), s);
	return s;
}

static uint64_t now_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One aggregation entry: what grew since the last flush goes to the store
 * and the metrics. */
static int drain_entry(void *ctx, const struct ct_agg_key *key, const struct ct_agg_value *value)
{
	struct agent *a = ctx;
	struct seen_key *s = seen_get(a, key);
	struct store_obs obs = {};
	struct ct_outcome outcome = {};
	char label[512];

	const struct image *img;

	if (!s)
		return -ENOMEM;
	if (key->flags & CT_AGG_KTHREAD || value->count <= s->count)
		return 0;
	a->checks_seen += value->count - s->count;
	if (key->flags & CT_AGG_DENIED)
		a->checks_denied += value->count - s->count;
	identity_workload(a->identity, key->cgroup_id, key->pid, &obs.workload);
	img = image_find(a, key->pid, key->exec_gen);
	if (obs.workload.kind <= STORE_CONTAINER && img && runtime_image(a, img, key)) {
		a->runtime_checks += value->count - s->count;
		s->count = value->count;
		return 0;
	}
	obs.cap = key->cap;
	obs.denied = key->flags & CT_AGG_DENIED;
	obs.audit = audit_of(value);
	obs.syscall = key->syscall;
	obs.flags = key->flags & ~CT_AGG_DENIED;
	obs.count = value->count - s->count;
	obs.first_seen = value->first_ns + (uint64_t)a->boot_offset_ns;
	obs.last_seen = now_unix_ns();
	if (obs.denied && loader_outcome(a->loader, key, &outcome) == 0) {
		obs.outcome.eperm = outcome.eperm - s->outcome.eperm;
		obs.outcome.eacces = outcome.eacces - s->outcome.eacces;
		obs.outcome.success = outcome.success - s->outcome.success;
		obs.outcome.other = outcome.other - s->outcome.other;
		s->outcome = outcome;
	}
	s->count = value->count;
	if (a->metrics) {
		workload_label(&obs.workload, label, sizeof(label));
		metrics_add_checks(a->metrics, label, obs.cap, obs.denied, obs.count);
	}
	return store_add(a->store, &obs);
}

/* Entries of exited processes were read for the last time just now. */
static void forget_gone(struct agent *a)
{
	struct seen_key *s, *tmp;

	HASH_ITER(hh, a->seen, s, tmp) {
		if (!s->gone)
			continue;
		loader_agg_delete(a->loader, &s->key);
		forget_images(a, s->key.pid);
		HASH_DEL(a->seen, s);
		free(s);
	}
}

static void update_metrics(struct agent *a)
{
	struct loader_stats ls = {};
	struct proc_cache_stats ps;
	struct container_cache_stats cs;
	struct store_stats ss;

	if (!a->metrics)
		return;
	loader_stats(a->loader, &ls);
	identity_stats(a->identity, &ps, &cs);
	store_stats(a->store, &ss);
	metrics_set(a->metrics, METRICS_EVENTS_LOST, ls.lost + ls.proc_lost + ls.agg_full + ls.missed);
	metrics_set(a->metrics, METRICS_STORE_FLUSHES, ss.flushes);
	metrics_set(a->metrics, METRICS_STORE_FLUSH_ERRORS, ss.flush_errors);
	metrics_set(a->metrics, METRICS_STORE_ROWS, ss.rows);
	metrics_set_cache(a->metrics, METRICS_CACHE_PROCESS, ps.entries, ps.evictions);
	metrics_set_cache(a->metrics, METRICS_CACHE_CONTAINER, cs.entries, cs.evictions);
	if (a->api) {
		struct api_server_stats as;

		api_server_stats(a->api, &as);
		metrics_set(a->metrics, METRICS_API_CLIENTS, as.clients);
		metrics_set(a->metrics, METRICS_API_DROPPED, as.dropped);
	}
	if (a->export) {
		struct export_stats es;

		export_stats(a->export, &es);
		metrics_set(a->metrics, METRICS_EXPORT_RATE_DROPPED, es.rate_dropped);
		metrics_set(a->metrics, METRICS_EXPORT_WRITE_ERRORS, es.write_errors);
	}
}

static void flush(struct agent *a)
{
	int err;

	/* Records queued before the drain name the processes it counts. */
	loader_consume(a->loader);
	rings_enter(a->rings, RING_EBPF, "read the aggregation map");
	err = loader_agg_drain(a->loader, drain_entry, a);
	if (!err)
		forget_gone(a);
	update_metrics(a);
	rings_leave(a->rings);
	if (err && a->drain_errors++ == 0)
		fprintf(stderr, "captrail: reading the aggregation map failed: %s\n", strerror(-err));
	err = store_flush(a->store);
	if (err)
		fprintf(stderr, "captrail: store flush failed: %s\n", strerror(-err));
	if (a->export)
		export_flush(a->export);
}

static void report_summary(struct agent *a)
{
	struct loader_stats ls = {};

	rings_enter(a->rings, RING_EBPF, "read drop counters");
	loader_stats(a->loader, &ls);
	rings_leave(a->rings);
	fprintf(stderr, "captrail: agent stopped: %llu checks seen, %llu granted, %llu denied, "
			"%llu lost\n",
		(unsigned long long)a->checks_seen,
		(unsigned long long)(a->checks_seen - a->checks_denied),
		(unsigned long long)a->checks_denied, (unsigned long long)(ls.agg_full + ls.missed));
	/* The stream's losses cost clients events, not the store counts. */
	if (ls.lost)
		fprintf(stderr, "captrail: %llu streamed events dropped (ring buffer full)\n",
			(unsigned long long)ls.lost);
	if (a->images_untracked)
		fprintf(stderr, "captrail: warning: %llu program images past the bound were not "
				"tracked: their runtime start-up checks may count as the workload's\n",
			(unsigned long long)a->images_untracked);
}

static int on_profile(void *ctx, const struct store_filter *filter, json_object **ret_reply)
{
	struct agent *a = ctx;

	/* A client asking now sees what was counted until now. */
	flush(a);
	return api_profile_reply(a->store, filter, ret_reply);
}

static int epoll_add(int epoll_fd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

static int setup_loop(struct agent *a)
{
	struct itimerspec period = {};
	sigset_t stop_signals;
	int err;

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	/* An ignored signal (SIGINT in a shell's background job) is discarded
	 * before signalfd could read it. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (sigprocmask(SIG_BLOCK, &stop_signals, NULL))
		return -errno;
	a->signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
	a->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->signal_fd < 0 || a->timer_fd < 0 || a->epoll_fd < 0)
		return -errno;
	period.it_interval.tv_sec = (time_t)a->args.flush_seconds;
	period.it_interval.tv_nsec =
		(long)((a->args.flush_seconds - (double)period.it_interval.tv_sec) * 1e9);
	period.it_value = period.it_interval;
	if (timerfd_settime(a->timer_fd, 0, &period, NULL))
		return -errno;
	err = epoll_add(a->epoll_fd, loader_ring_fd(a->loader), TAG_RING);
	if (!err)
		err = epoll_add(a->epoll_fd, a->signal_fd, TAG_SIGNAL);
	if (!err)
		err = epoll_add(a->epoll_fd, a->timer_fd, TAG_TICK);
	if (!err && a->api)
		err = epoll_add(a->epoll_fd, api_server_fd(a->api), TAG_API);
	return err;
}

/* Checks are streamed only while a client or the export wants them. */
static void set_streaming(struct agent *a, bool want)
{
	int err;

	if (want == a->streaming)
		return;
	rings_enter(a->rings, RING_EBPF, want ? "attach the event stream" : "detach the event stream");
	err = loader_set_stream(a->loader, want);
	rings_leave(a->rings);
	if (err) {
		if (a->stream_errors++ == 0)
			fprintf(stderr, "captrail: cannot attach the event stream: %s\n",
				strerror(-err));
		return;
	}
	a->streaming = want;
}

static void run_loop(struct agent *a)
{
	struct epoll_event events[8];

	while (!a->stop) {
		/* The ring buffer batches wake-ups: a bounded wait keeps events
		 * flowing to clients while the node is quiet. */
		int n = epoll_wait(a->epoll_fd, events, 8, 100);

		for (int i = 0; i < n; i++) {
			uint64_t ticks;

			switch (events[i].data.u64) {
			case TAG_API: api_server_handle(a->api); break;
			case TAG_SIGNAL: a->stop = true; break;
			case TAG_TICK:
				if (read(a->timer_fd, &ticks, sizeof(ticks)) > 0)
					flush(a);
				break;
			}
		}
		set_streaming(a, (a->api && api_server_streaming(a->api)) || a->export);
		loader_consume(a->loader);
		if (a->export)
			export_flush(a->export);
	}
}

static int start_services(struct agent *a)
{
	struct api_server_opts api_opts = { .path = a->args.socket, .profile = on_profile, .ctx = a };
	int err;

	err = store_open(a->args.db, 0, &a->store);
	if (err) {
		fprintf(stderr, "captrail: cannot open the store '%s': %s\n", a->args.db,
			strerror(-err));
		return err;
	}
	err = api_server__new(&api_opts, &a->api);
	if (err) {
		fprintf(stderr, "captrail: cannot listen on '%s': %s\n", a->args.socket,
			strerror(-err));
		return err;
	}
	if (a->args.export.path) {
		err = export__new(&a->args.export, &a->export);
		if (err) {
			fprintf(stderr, "captrail: cannot open the export '%s': %s\n",
				a->args.export.path, strerror(-err));
			return err;
		}
	}
	if (a->args.metrics_addr) {
		err = metrics__new(a->args.metrics_addr, (size_t)a->args.metrics_workloads,
				   &a->metrics);
		if (err) {
			fprintf(stderr, "captrail: cannot serve metrics on '%s': %s\n",
				a->args.metrics_addr, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int start_tracing(struct agent *a, const char *node)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];
	struct identity_opts iopts = {
		.node_name = node,
		.boot_offset_ns = a->boot_offset_ns,
		.state_roots = a->args.state_roots,
		.around_miss = cmd_proc_miss_ring,
		.around_miss_ctx = a->rings,
	};
	struct loader_opts lopts = {};
	size_t n_ranges = 0;
	int err;

	err = identity__new(&iopts, &a->identity);
	if (err)
		return err;
	rings_enter_specific(a->rings, RINGS_NEED_KALLSYMS, "read kernel symbol addresses");
	if (kallsyms_noaudit_ranges("/proc", ranges, CT_NOAUDIT_RANGES, &n_ranges))
		n_ranges = 0;
	rings_leave(a->rings);
	lopts.filter.uid = CT_ANY_UID;
	lopts.filter.self_tgid = (uint32_t)getpid();
	lopts.stream = true;
	lopts.stream_on_demand = true;
	lopts.track_procs = true;
	lopts.aggregate = (struct loader_aggregate){
		.enabled = true,
		.armed = true,
		.noaudit = ranges,
		.n_noaudit = n_ranges,
	};
	lopts.on_record = on_record;
	lopts.ctx = a;
	rings_enter(a->rings, RING_EBPF, "load and attach BPF programs");
	err = loader__new(&lopts, &a->loader);
	rings_leave(a->rings);
	if (err) {
		cmd_report_load_error(err);
		return err;
	}
	rings_enter_specific(a->rings, RINGS_NEED_PROC, "read running processes from /proc");
	err = identity_scan(a->identity);
	rings_leave(a->rings);
	if (err)
		fprintf(stderr, "captrail: warning: cannot read running processes: %s\n",
			strerror(-err));
	return 0;
}

static void agent_free(struct agent *a)
{
	struct seen_key *s, *tmp;

	export__free(a->export);
	api_server__free(a->api);
	metrics__free(a->metrics);
	store_close(a->store);
	loader__free(a->loader);
	identity__free(a->identity);
	rings__free(a->rings);
	if (a->line)
		fclose(a->line);
	free(a->line_buf);
	struct image *img, *img_tmp;

	HASH_ITER(hh, a->seen, s, tmp) {
		HASH_DEL(a->seen, s);
		free(s);
	}
	HASH_ITER(hh, a->images, img, img_tmp) {
		HASH_DEL(a->images, img);
		free(img);
	}
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	if (a->signal_fd >= 0)
		close(a->signal_fd);
	if (a->timer_fd >= 0)
		close(a->timer_fd);
}

int cmd_agent(int argc, char **argv)
{
	struct agent a = { .epoll_fd = -1, .signal_fd = -1, .timer_fd = -1 };
	struct output_opts oopts = { .format = OUTPUT_JSON };
	char node[256];
	int rc, err;

	rc = parse_args(argc, argv, &a.args);
	if (rc >= 0)
		return rc;
	cmd_libbpf_output(a.args.verbose);
	/* Before any thread (the metrics server) exists: rings are per thread. */
	rc = cmd_rings_start("agent", &a.args.rings, a.args.verbose,
			     RINGS_NEED_PROC | RINGS_NEED_KALLSYMS, &a.rings);
	if (rc >= 0)
		return rc;
	rc = EXIT_RUNTIME;
	cli_node_name(node, sizeof(node));
	a.boot_offset_ns = clock_boot_offset_ns();
	a.line = open_memstream(&a.line_buf, &a.line_size);
	if (!a.line || start_tracing(&a, node) || start_services(&a))
		goto cleanup;
	oopts.node_name = node;
	oopts.boot_offset_ns = a.boot_offset_ns;
	oopts.host_ns = identity_host_ns(a.identity);
	output_init(&a.out, a.line, &oopts);
	err = setup_loop(&a);
	if (err) {
		fprintf(stderr, "captrail: cannot set up the event loop: %s\n", strerror(-err));
		goto cleanup;
	}
	fprintf(stderr, "captrail: ready, agent recording every workload (store %s, socket %s)\n",
		a.args.db, a.args.socket);
	if (a.metrics)
		fprintf(stderr, "captrail: metrics on port %u\n", metrics_port(a.metrics));
	run_loop(&a);
	flush(&a);
	report_summary(&a);
	rc = EXIT_OK;
cleanup:
	agent_free(&a);
	return rc;
}
