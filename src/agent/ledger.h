/* The agent's books, between the kernel's aggregation map and the store.
 *
 * The kernel's counts only grow, so each flush stores what grew since the
 * last one. Entries of a process that exited are read one last time and
 * then deleted. Each entry is named by its workload; a container's runtime
 * start-up (identity/images.h) is counted apart, never stored as the
 * workload's. Kernel threads working for a cgroup are not its workload.
 *
 * The replica metrics (agent/metrics.h) of a pod's container or a
 * container get what grew, by class; a denied group's checks by what
 * their syscall returned as far as this flush knows it, the rest
 * "unobserved": an outcome that comes in later is not counted again, so a
 * replica's series add up to its checks. */
#ifndef CAPTRAIL_AGENT_LEDGER_H
#define CAPTRAIL_AGENT_LEDGER_H

#include <stdint.h>

#include "agent/metrics.h"
#include "agent/store.h"
#include "bpf/captrail.h"
#include "event/evfilter.h"
#include "identity/identity.h"

#define LEDGER_MAX_EXITS 65536 /* exited processes remembered between two drains */

struct ledger_opts {
	struct identity *identity; /* names workloads; its scan gives the host's mount ns */
	struct store *store;
	struct metrics *metrics; /* NULL: none */
	/* Only pods this filter matches are stored and metered (the agent's
	 * --namespaces); NULL: every workload. */
	struct evfilter *scope;
	/* Only containers whose cgroup is this one or under it are stored and
	 * metered (--cgroup-scope, no trailing '/'); NULL: any cgroup. */
	const char *cgroup_scope;
	int64_t boot_offset_ns; /* wall clock - boot clock, for first-seen times */
	size_t max_images; /* 0: IMAGES_DEFAULT_MAX */
};

struct ledger_stats {
	uint64_t checks; /* counted by the kernel, kernel threads' aside */
	uint64_t denied;
	uint64_t runtime; /* a container runtime's start-up: not stored */
	uint64_t out_of_scope; /* workloads the scope leaves out: not stored */
	uint64_t images_untracked; /* past the image bound: their checks are stored */
	uint64_t exits_untracked; /* past LEDGER_MAX_EXITS: keys left in the kernel's map */
};

struct ledger;

/* Whether cgroup is scope (non-empty) or below it; scope NULL: true, cgroup
 * NULL: false. */
bool ledger_cgroup_in(const char *scope, const char *cgroup);

int ledger__new(const struct ledger_opts *opts, struct ledger **ret_ledger);
void ledger__free(struct ledger *l);

/* A lifecycle record, in ring buffer order. */
int ledger_proc(struct ledger *l, const struct ct_proc_event *rec);
/* One aggregation entry as the drain reads it; outcome NULL when none was
 * observed. now_ns (unix) is its last-seen time. */
int ledger_entry(struct ledger *l, const struct ct_agg_key *key, const struct ct_agg_value *value,
		 const struct ct_outcome *outcome, uint64_t now_ns);
/* After a whole drain: calls delete_key for every key of a process that
 * exited, and forgets it. Stops at delete_key's first error and returns
 * it (the rest are tried again after the next drain). */
int ledger_forget_gone(struct ledger *l,
		       int (*delete_key)(void *ctx, const struct ct_agg_key *key), void *ctx);

void ledger_stats(const struct ledger *l, struct ledger_stats *ret_stats);

#endif
