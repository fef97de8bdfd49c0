#include "agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/api_server.h"
#include "agent/ledger.h"
#include "agent/metrics.h"
#include "agent/store.h"
#include "event/output.h"
#include "identity/identity.h"
#include "kernel/kallsyms.h"
#include "kernel/loader.h"
#include "lib/clock.h"

/* The ring buffer batches wake-ups: a bounded wait keeps events flowing to
 * clients while the node is quiet. */
#define LOOP_WAIT_MS 100
#define LOOP_EVENTS 8

enum tag { TAG_RING = 1, TAG_API, TAG_SIGNAL, TAG_TICK };

struct agent {
	struct agent_opts opts;
	struct loader_report hooks;
	struct loader *loader;
	struct identity *identity;
	struct ledger *ledger;
	struct store *store;
	struct api_server *api;
	struct export *export;
	struct metrics *metrics;
	struct output out;
	FILE *line; /* one event rendered as JSON, reused */
	char *line_buf;
	size_t line_size;
	struct identity_view view;
	int64_t boot_offset_ns;
	int epoll_fd, signal_fd, timer_fd;
	bool stop;
	bool streaming; /* the per-check program is attached */
	uint64_t stream_errors, drain_errors, record_errors;
	int store_err; /* the last flush's error, said once until it changes */
};

static void warn(struct agent *a, const char *what, int err)
{
	if (a->opts.warn)
		a->opts.warn(a->opts.warn_ctx, what, err);
}

/* Events: rendered once, to every interested client and the export. */
static int on_cap(void *ctx, const struct ct_cap_event *e)
{
	struct agent *a = ctx;
	struct evfilter_subject subject;
	struct workload w;
	long len;

	if (a->opts.cgroup_scope) {
		identity_workload(a->identity, e->cgroup_id, e->pid, NULL, &w);
		if (!ledger_cgroup_in(a->opts.cgroup_scope, w.cgroup))
			return 0;
	}
	identity_resolve(a->identity, e, &a->view);
	evfilter_subject_of(&a->view.ev, &subject);
	if (a->opts.scope && !evfilter_match(a->opts.scope, &subject))
		return 0;
	rewind(a->line);
	output_event(&a->out, &a->view.ev);
	if (fflush(a->line))
		return -errno;
	len = ftell(a->line);
	if (len <= 0)
		return 0;
	if (a->api) {
		api_server_broadcast(a->api, a->line_buf, (size_t)len, &subject);
	}
	/* What the export drops or fails to write, it counts (metrics). */
	if (a->export)
		(void)export_write(a->export, a->line_buf, (size_t)len);
	return 0;
}

static int on_proc(void *ctx, const struct ct_proc_event *e)
{
	struct agent *a = ctx;
	int err = identity_apply(a->identity, e);

	return err ? err : ledger_proc(a->ledger, e);
}

/* Records are handled as they come; one that fails (out of memory) is
 * reported once and the loop goes on with the next. */
static void consume(struct agent *a)
{
	int err = loader_consume(a->loader);

	if (err < 0 && a->record_errors++ == 0)
		warn(a, "handling ring buffer records failed", err);
}

static int drain_entry(void *ctx, const struct ct_agg_key *key, const struct ct_agg_value *value)
{
	struct agent *a = ctx;
	struct ct_outcome outcome;
	bool known = (key->flags & CT_AGG_DENIED) && loader_outcome(a->loader, key, &outcome) == 0;

	return ledger_entry(a->ledger, key, value, known ? &outcome : NULL, clock_realtime_ns());
}

static int delete_key(void *ctx, const struct ct_agg_key *key)
{
	struct agent *a = ctx;
	int err = loader_agg_delete(a->loader, key);

	return err == -ENOENT ? 0 : err;
}

static int update_metrics(struct agent *a)
{
	struct loader_stats ls;
	struct proc_cache_stats ps;
	struct container_cache_stats cs;
	struct store_stats ss;
	struct api_server_stats as;
	struct export_stats es;
	struct ledger_stats ledger;
	int err;

	if (!a->metrics)
		return 0;
	err = loader_stats(a->loader, &ls);
	if (err)
		return err;
	identity_stats(a->identity, &ps, &cs);
	store_stats(a->store, &ss);
	metrics_set(a->metrics, METRICS_EVENTS_LOST, ls.lost + ls.proc_lost + ls.agg_full + ls.missed);
	metrics_set(a->metrics, METRICS_STORE_FLUSHES, ss.flushes);
	metrics_set(a->metrics, METRICS_STORE_FLUSH_ERRORS, ss.flush_errors);
	metrics_set(a->metrics, METRICS_STORE_ROWS, ss.rows);
	metrics_set_cache(a->metrics, METRICS_CACHE_PROCESS, ps.entries, ps.evictions);
	metrics_set_cache(a->metrics, METRICS_CACHE_CONTAINER, cs.entries, cs.evictions);
	api_server_stats(a->api, &as);
	metrics_set(a->metrics, METRICS_API_CLIENTS, as.clients);
	metrics_set(a->metrics, METRICS_API_DROPPED, as.dropped);
	metrics_set(a->metrics, METRICS_API_CLOSED, as.timed_out + as.evicted + as.stalled);
	metrics_set(a->metrics, METRICS_API_FILTER_GAVE_UP, as.filter_gave_up);
	metrics_set(a->metrics, METRICS_EVENT_STRINGS_CUT, a->out.cut);
	metrics_set(a->metrics, METRICS_CONTAINER_CUT, cs.cut);
	metrics_set(a->metrics, METRICS_CONTAINER_REFUSED, cs.refused);
	metrics_set(a->metrics, METRICS_CONTAINER_LIVE_EVICTIONS, cs.evictions_live);
	ledger_stats(a->ledger, &ledger);
	metrics_set(a->metrics, METRICS_RUNTIME_CHECKS, ledger.runtime);
	metrics_set(a->metrics, METRICS_OUT_OF_SCOPE, ledger.out_of_scope);
	if (a->export) {
		export_stats(a->export, &es);
		metrics_set(a->metrics, METRICS_EXPORT_RATE_DROPPED, es.rate_dropped);
		metrics_set(a->metrics, METRICS_EXPORT_WRITE_ERRORS, es.write_errors);
	}
	return 0;
}

int agent_flush(struct agent *a)
{
	int err, store_err;

	/* Records queued before the drain name the processes it counts. */
	consume(a);
	rings_enter(a->opts.rings, RING_EBPF, "read the aggregation map");
	err = loader_agg_drain(a->loader, drain_entry, a);
	if (!err)
		err = ledger_forget_gone(a->ledger, delete_key, a);
	if (!err)
		err = update_metrics(a);
	rings_leave(a->opts.rings);
	if (err && a->drain_errors++ == 0)
		warn(a, "reading the aggregation map failed", err);
	store_err = store_flush(a->store);
	/* A full disk fails every flush: said when it starts and when it ends;
	 * the profile replies and the summary say what is held meanwhile. */
	if (store_err && store_err != a->store_err)
		warn(a, "store flush failed (counts are held until it works)", store_err);
	else if (!store_err && a->store_err)
		warn(a, "store flush works again: the held counts are stored", 0);
	a->store_err = store_err;
	/* Write errors are counted by the export itself (metrics). */
	if (a->export)
		(void)export_flush(a->export);
	return err ? err : store_err;
}

static int on_profile(void *ctx, const struct store_filter *filter, json_object **ret_reply)
{
	struct agent *a = ctx;

	/* A client asking now sees what was counted until now; a failed flush
	 * was reported, and the reply says what the store has. */
	(void)agent_flush(a);
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
	double secs = a->opts.flush_seconds;
	int err;

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	/* An ignored signal (SIGINT in a shell's background job) is discarded
	 * before signalfd could read it. */
	if (signal(SIGINT, SIG_DFL) == SIG_ERR || signal(SIGTERM, SIG_DFL) == SIG_ERR ||
	    sigprocmask(SIG_BLOCK, &stop_signals, NULL))
		return -errno;
	a->signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->signal_fd < 0)
		return -errno;
	a->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (a->timer_fd < 0)
		return -errno;
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epoll_fd < 0)
		return -errno;
	period.it_interval.tv_sec = (time_t)secs;
	period.it_interval.tv_nsec = (long)((secs - (double)period.it_interval.tv_sec) * 1e9);
	period.it_value = period.it_interval;
	if (timerfd_settime(a->timer_fd, 0, &period, NULL))
		return -errno;
	err = epoll_add(a->epoll_fd, loader_ring_fd(a->loader), TAG_RING);
	if (!err)
		err = epoll_add(a->epoll_fd, a->signal_fd, TAG_SIGNAL);
	if (!err)
		err = epoll_add(a->epoll_fd, a->timer_fd, TAG_TICK);
	if (!err)
		err = epoll_add(a->epoll_fd, api_server_fd(a->api), TAG_API);
	return err;
}

/* Checks are streamed only while a client or the export wants them. */
static void set_streaming(struct agent *a, bool want)
{
	int err;

	if (want == a->streaming)
		return;
	rings_enter(a->opts.rings, RING_EBPF,
		    want ? "attach the event stream" : "detach the event stream");
	err = loader_set_stream(a->loader, want);
	rings_leave(a->opts.rings);
	if (err) {
		if (a->stream_errors++ == 0)
			warn(a, "cannot attach the event stream", err);
		return;
	}
	a->streaming = want;
}

static void on_tag(struct agent *a, uint64_t tag)
{
	uint64_t ticks;
	int err;

	switch (tag) {
	case TAG_API:
		err = api_server_handle(a->api);
		if (err)
			warn(a, "serving the API failed", err);
		break;
	case TAG_SIGNAL: a->stop = true; break;
	case TAG_TICK:
		/* A flush that fails was reported and is tried again next tick. */
		if (read(a->timer_fd, &ticks, sizeof(ticks)) > 0)
			(void)agent_flush(a);
		break;
	}
}

int agent_run(struct agent *a)
{
	struct epoll_event events[LOOP_EVENTS];
	const char *why;
	int err = 0;

	while (!a->stop && !(err = rings_failure(a->opts.rings, &why))) {
		int n = epoll_wait(a->epoll_fd, events, LOOP_EVENTS, LOOP_WAIT_MS);

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			on_tag(a, events[i].data.u64);
		set_streaming(a, api_server_streaming(a->api) || a->export);
		consume(a);
		if (a->export)
			(void)export_flush(a->export); /* errors counted, see agent_flush() */
	}
	if (err)
		return err;
	return agent_flush(a);
}

static int fail(struct agent_error *ret_error, const char *step, const char *subject, int err)
{
	if (ret_error)
		*ret_error = (struct agent_error){ .step = step, .subject = subject };
	return err;
}

static int start_services(struct agent *a, struct agent_error *ret_error)
{
	struct api_server_opts api_opts = { .path = a->opts.socket, .profile = on_profile, .ctx = a };
	struct ledger_opts lopts = {
		.identity = a->identity,
		.boot_offset_ns = a->boot_offset_ns,
		.scope = a->opts.scope,
		.cgroup_scope = a->opts.cgroup_scope,
	};
	struct metrics_opts mopts = {
		.addr = a->opts.metrics_addr,
		.max_workloads = a->opts.metrics_workloads,
		.max_series = a->opts.metrics_series,
		.node = a->opts.node_name,
	};
	int err;

	err = store__new(a->opts.db, 0, &a->store);
	if (err)
		return fail(ret_error, "open the store", a->opts.db, err);
	err = api_server__new(&api_opts, &a->api);
	if (err)
		return fail(ret_error, "listen on", a->opts.socket ? a->opts.socket
								: API_DEFAULT_SOCKET, err);
	if (a->opts.export.path) {
		err = export__new(&a->opts.export, &a->export);
		if (err)
			return fail(ret_error, "open the export", a->opts.export.path, err);
	}
	if (a->opts.metrics_addr) {
		err = metrics__new(&mopts, &a->metrics);
		if (err)
			return fail(ret_error, "serve metrics on", a->opts.metrics_addr, err);
	}
	lopts.store = a->store;
	lopts.metrics = a->metrics;
	err = ledger__new(&lopts, &a->ledger);
	return err ? fail(ret_error, "set up the ledger", NULL, err) : 0;
}

static int start_tracing(struct agent *a, struct agent_error *ret_error)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];
	struct identity_opts iopts = {
		.node_name = a->opts.node_name,
		.boot_offset_ns = a->boot_offset_ns,
		.state_roots = a->opts.state_roots,
		.around_miss = rings_around_proc_read,
		.around_miss_ctx = a->opts.rings,
	};
	struct loader_opts lopts = {};
	size_t n_ranges = 0;
	int err;

	err = identity__new(&iopts, &a->identity);
	if (err)
		return fail(ret_error, "set up the process cache", NULL, err);
	/* Without kallsyms every check counts as audited: profiles may then
	 * recommend more than needed, never less. */
	rings_enter_specific(a->opts.rings, RINGS_NEED_KALLSYMS, "read kernel symbol addresses");
	err = kallsyms_noaudit_ranges("/proc", ranges, CT_NOAUDIT_RANGES, &n_ranges);
	rings_leave(a->opts.rings);
	if (err) {
		warn(a, "cannot read kernel symbols; noaudit probes count as audited", err);
		n_ranges = 0;
	}
	lopts.hook = a->opts.hook;
	lopts.verbose = a->opts.verbose;
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
		.watch_denials = a->opts.watch_denials,
	};
	lopts.handlers = (struct records_handlers){
		.on_cap = on_cap,
		.on_proc = on_proc,
		.ctx = a,
	};
	rings_enter(a->opts.rings, RING_EBPF, "load and attach BPF programs");
	err = loader__new(&lopts, &a->loader, &a->hooks);
	rings_leave(a->opts.rings);
	if (err) {
		fail(ret_error, "load the BPF programs", NULL, err);
		if (ret_error) {
			ret_error->loading = true;
			ret_error->hooks = a->hooks;
		}
		return err;
	}
	/* After attaching: lifecycle records of processes started meanwhile
	 * replay over the scan. */
	rings_enter_specific(a->opts.rings, RINGS_NEED_PROC, "read running processes from /proc");
	err = identity_scan(a->identity);
	rings_leave(a->opts.rings);
	if (err)
		warn(a, "cannot read running processes", err);
	return 0;
}

int agent__new(const struct agent_opts *opts, struct agent **ret_agent,
	       struct agent_error *ret_error)
{
	struct output_opts oopts = { .format = OUTPUT_JSON };
	struct agent *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return fail(ret_error, "allocate the agent", NULL, -ENOMEM);
	a->opts = *opts;
	a->epoll_fd = a->signal_fd = a->timer_fd = -1;
	a->boot_offset_ns = clock_boot_offset_ns();
	a->line = open_memstream(&a->line_buf, &a->line_size);
	if (!a->line) {
		err = fail(ret_error, "allocate the event buffer", NULL, -errno);
		goto fail;
	}
	err = start_tracing(a, ret_error);
	if (!err)
		err = start_services(a, ret_error);
	if (err)
		goto fail;
	oopts.node_name = opts->node_name;
	oopts.boot_offset_ns = a->boot_offset_ns;
	oopts.host_ns = identity_host_ns(a->identity);
	output_init(&a->out, a->line, &oopts);
	err = setup_loop(a);
	if (err) {
		fail(ret_error, "set up the event loop", NULL, err);
		goto fail;
	}
	*ret_agent = a;
	return 0;
fail:
	agent__free(a);
	return err;
}

void agent__free(struct agent *a)
{
	if (!a)
		return;
	export__free(a->export);
	api_server__free(a->api);
	metrics__free(a->metrics);
	ledger__free(a->ledger);
	store__free(a->store);
	loader__free(a->loader);
	identity__free(a->identity);
	if (a->line)
		fclose(a->line);
	free(a->line_buf);
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	if (a->signal_fd >= 0)
		close(a->signal_fd);
	if (a->timer_fd >= 0)
		close(a->timer_fd);
	free(a);
}

const struct loader_report *agent_hooks(const struct agent *a)
{
	return &a->hooks;
}

uint16_t agent_metrics_port(const struct agent *a)
{
	return a->metrics ? metrics_port(a->metrics) : 0;
}

int agent_summary(struct agent *a, struct agent_summary *ret_summary)
{
	struct ledger_stats ls;
	struct loader_stats ks;
	struct store_gaps gaps;
	int err;

	rings_enter(a->opts.rings, RING_EBPF, "read drop counters");
	err = loader_stats(a->loader, &ks);
	rings_leave(a->opts.rings);
	if (err)
		return err;
	ledger_stats(a->ledger, &ls);
	store_gaps(a->store, 0, &gaps);
	*ret_summary = (struct agent_summary){
		.unstored = gaps.unstored + gaps.lost,
		.store_err = gaps.flush_err,
		.checks = ls.checks,
		.denied = ls.denied,
		.lost = ks.agg_full + ks.missed,
		.stream_dropped = ks.lost,
		.images_untracked = ls.images_untracked,
		.runtime = ls.runtime,
		.out_of_scope = ls.out_of_scope,
	};
	return 0;
}
