/* Loads captrail's BPF programs: open, configure (rodata), load, attach. */
#ifndef CAPTRAIL_LOADER_H
#define CAPTRAIL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/captrail.h"
#include "kernel/hooks.h"
#include "kernel/records.h"

struct loader_filter {
	const uint32_t *pids; /* --pid set; NULL/0 for all */
	size_t n_pids;
	uint32_t uid; /* CT_ANY_UID for all */
	uint64_t cap_mask; /* 0 for all */
	bool denied_only;
	bool unique;
	uint64_t cgroup_id; /* 0 for all */
	enum ct_pidns_mode pidns_mode;
	char comm[CT_COMM_LEN]; /* "" for all */
	uint32_t self_tgid; /* excluded; 0 for none */
};

struct loader_aggregate {
	bool enabled; /* count checks in the kernel (record, agent) */
	uint64_t cgroup_id; /* only this cgroup; 0 for every workload */
	uint32_t tracked_pid; /* else follow this process and its descendants */
	/* else, with subtree, the cgroup v2 directory open at subtree_fd and
	 * every cgroup below it, each check under its task's own cgroup id */
	bool subtree;
	int subtree_fd;
	bool armed; /* count from the start, not from the first exec */
	/* count through per-CPU slots in front of the map (record): cheaper
	 * per check, read only after loader_agg_stop() */
	bool slots;
	const struct ct_noaudit_range *noaudit; /* see kallsyms.h */
	size_t n_noaudit;
	/* count what each denied check's syscall returned (loader_outcome());
	 * costs every syscall on the host a test of one word while nothing
	 * denied is pending */
	bool watch_denials;
	/* send CT_REC_PRIV records: capset()/prctl() requests and privileged
	 * execs of what is followed (record); costs every syscall on the host
	 * a program run while attached */
	bool privileges;
	/* send CT_REC_OBJECT records: what the first checks of each key were
	 * made on (record) */
	bool objects;
};

struct loader_opts {
	enum hook hook; /* HOOK_AUTO: the first of tracepoint, fexit, kprobe that works */
	/* Only load and attach the hook's aggregation program, unarmed (probing
	 * what a kernel offers: `captrail hooks`). */
	bool probe_only;
	/* libbpf's messages of a hook that failed where another is tried next
	 * are silenced unless verbose: the report says why. */
	bool verbose;
	const char *sysfs_root; /* NULL: /sys */
	struct loader_filter filter;
	bool stream; /* per-check events through the ring buffer */
	bool stream_on_demand; /* attached only by loader_set_stream() */
	struct loader_aggregate aggregate;
	bool track_procs; /* exec/fork/exit records for the process cache */
	uint64_t proc_cgroup_id; /* lifecycle records only from this cgroup */
	struct records_handlers handlers; /* for each ring buffer record */
};

struct loader_stats {
	uint64_t lost; /* capability events dropped: ring buffer full */
	uint64_t proc_lost; /* lifecycle records dropped */
	uint64_t agg_full; /* checks not counted: aggregation map full */
	uint64_t track_full; /* descendants not followed: tracked set full */
	uint64_t outcome_full; /* denial outcomes not kept */
	uint64_t missed; /* checks the programs never saw (recursion, kretprobe) */
};

/* One hook tried: 0, or why it could not be used. */
struct loader_attempt {
	enum hook hook;
	int err;
	char why[HOOK_WHY_LEN];
};

/* The hooks tried, in order, and why each one before the last failed. */
struct loader_report {
	enum hook used; /* HOOK_AUTO when none worked */
	size_t n_tried;
	struct loader_attempt tried[HOOK_COUNT];
	struct hook_features features;
};

struct loader;

/* What loading captrail's programs needs on this kernel besides CAP_BPF
 * and CAP_PERFMON: CAP_SYS_ADMIN where libbpf 1.1 looks for a kfunc the
 * kernel lacks in module BTF (bpf_rdonly_cast(), before 6.2), and where
 * the kprobe fallback goes through perf_event_open() at Debian's
 * perf_event_paranoid 3, when HOOK may reach it (HOOK_KPROBE: it will be
 * tried). A mask of capabilities; roots NULL: /sys and /proc. */
uint64_t loader_extra_caps(const char *sysfs_root, const char *procfs_root, enum hook hook);

/* RLIMIT_MEMLOCK to infinity: kernels before 5.11 charge BPF maps to it.
 * Needs CAP_SYS_RESOURCE, which later kernels do not. */
int loader_raise_memlock(void);

/* When no hook works, the report says why, hook by hook, and the error is
 * theirs when they all failed alike (-EPERM: not privileged), else
 * -EOPNOTSUPP. ret_report may be NULL. */
int loader__new(const struct loader_opts *opts, struct loader **ret_loader,
		struct loader_report *ret_report);
void loader__free(struct loader *loader);

/* Waits up to timeout_ms for records, then drains whatever is queued (the
 * BPF side batches wake-ups, so a timeout is not "nothing to read").
 * Returns the number of records handled or a negative errno. */
int loader_poll(struct loader *loader, int timeout_ms);

int loader_stats(struct loader *loader, struct loader_stats *ret_stats);

/* The hook the programs are attached to. */
enum hook loader_hook(const struct loader *loader);

/* For a caller's own epoll loop: readable when records are queued (or on
 * a forced wake-up); loader_consume() then handles what is queued. */
int loader_ring_fd(struct loader *loader);
int loader_consume(struct loader *loader);

/* Attaches or detaches the per-check stream (agent). */
int loader_set_stream(struct loader *loader, bool active);
/* Attaches or detaches the aggregation program; counts stay (the bench
 * switches it on and off under a running workload). */
int loader_set_aggregate(struct loader *loader, bool active);

/* Removes one aggregation entry (the agent, once a process is gone). */
int loader_agg_delete(struct loader *loader, const struct ct_agg_key *key);

/* Detaches the aggregation program and folds what its per-CPU slots hold
 * into the map: the last step before the final loader_agg_drain(). */
int loader_agg_stop(struct loader *loader);

/* Calls fn for each aggregated entry. */
int loader_agg_drain(struct loader *loader,
		     int (*fn)(void *ctx, const struct ct_agg_key *key,
			       const struct ct_agg_value *value),
		     void *ctx);

/* -ENOENT when no outcome was observed for the key. */
int loader_outcome(struct loader *loader, const struct ct_agg_key *key,
		   struct ct_outcome *ret_outcome);

#endif
