/* The node agent: every workload's capability checks, counted in the
 * kernel, drained into the store every flush interval (agent/ledger.h),
 * streamed to API clients and the export while any wants them, and
 * summed into metrics. One thread runs it all from one epoll loop; the
 * metrics server answers from its own. */
#ifndef CAPTRAIL_AGENT_AGENT_H
#define CAPTRAIL_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/export.h"
#include "event/evfilter.h"
#include "kernel/loader.h"
#include "privilege/rings.h"

#define AGENT_DEFAULT_DB "/var/lib/captrail/captrail.db"
#define AGENT_DEFAULT_FLUSH_SECONDS 5
#define AGENT_DEFAULT_EXPORT_MAX_SIZE (100ull << 20)
#define AGENT_DEFAULT_EXPORT_BACKUPS 5
#define AGENT_MAX_STATE_ROOTS 4

struct agent_opts {
	const char *node_name;
	const char *db; /* the store */
	const char *socket; /* the API's; NULL: API_DEFAULT_SOCKET */
	const char *metrics_addr; /* NULL: no metrics */
	size_t metrics_workloads; /* 0: METRICS_DEFAULT_WORKLOADS */
	size_t metrics_series; /* 0: METRICS_DEFAULT_SERIES */
	/* Only the pods it matches are recorded, streamed and metered (a node
	 * scope: --namespaces); NULL: every workload. Not owned. */
	struct evfilter *scope;
	/* Only containers whose cgroup is under it (a node scope when several
	 * agents share a host: --cgroup-scope); NULL: any. */
	const char *cgroup_scope;
	struct export_opts export; /* path NULL: no export */
	double flush_seconds;
	bool watch_denials; /* count what denied syscalls return */
	enum hook hook; /* where to attach on cap_capable() */
	bool verbose; /* libbpf's messages of hooks that failed before one worked */
	const char *const *state_roots; /* extra runtime state roots, NULL-terminated */
	struct rings *rings; /* raised around each privileged operation */
	/* Things that went wrong while running, which do not stop the agent
	 * (what failed, and why): the command layer says them. NULL: silent. */
	void (*warn)(void *ctx, const char *what, int err);
	void *warn_ctx;
};

/* What agent__new() was doing when it failed: "open the store", ... and
 * the path or address it was about, if any. */
struct agent_error {
	const char *step;
	const char *subject; /* NULL: none */
	bool loading; /* the BPF programs did not load: hooks says why */
	struct loader_report hooks;
};

struct agent_summary {
	uint64_t checks; /* counted by the kernel, kernel threads' aside */
	uint64_t denied;
	uint64_t lost; /* checks not counted: map full, or missed by the kernel */
	uint64_t stream_dropped; /* events the ring buffer dropped: clients lost them */
	uint64_t images_untracked; /* program images past the bound */
	uint64_t runtime; /* a container runtime's start-up: not stored */
	uint64_t out_of_scope; /* checks of workloads outside the scope: not stored */
	uint64_t unstored; /* rows of counts the store could not take: lost at exit */
	int store_err; /* why: the last flush's -errno, 0 when it worked */
};

struct agent;

/* Opens the store, loads and attaches the programs, reads the running
 * processes, listens on the API socket, opens the export and serves
 * metrics; call with the rings lowered, before any thread exists. */
int agent__new(const struct agent_opts *opts, struct agent **ret_agent,
	       struct agent_error *ret_error);
void agent__free(struct agent *a);

/* The hooks tried and the one in use. */
const struct loader_report *agent_hooks(const struct agent *a);

/* The port metrics are served on; 0 without metrics. */
uint16_t agent_metrics_port(const struct agent *a);

/* Runs until SIGINT or SIGTERM, then flushes what is left. A failed ring
 * change stops it (rings_failure()). */
int agent_run(struct agent *a);

/* Drains the kernel's counts into the store and flushes it, as the timer
 * does (and as a profile request does first). */
int agent_flush(struct agent *a);

int agent_summary(struct agent *a, struct agent_summary *ret_summary);

#endif
