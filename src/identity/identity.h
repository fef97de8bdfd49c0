/* Who asked: turns a capability event into the process, parent, pod and
 * container the output shows, from the process cache (fed by lifecycle
 * records and a /proc scan) and the container resolver. Shared by trace
 * and the agent. */
#ifndef CAPTRAIL_IDENTITY_H
#define CAPTRAIL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/store.h"
#include "event/evfilter.h"
#include "event/output.h"
#include "identity/container.h"
#include "identity/proc_cache.h"

#define IDENTITY_MAX_LABELS 32
#define IDENTITY_SYSCALLS 512 /* names cached for numbers below this */

struct identity_opts {
	const char *proc_root; /* NULL: /proc */
	const char *node_name;
	int64_t boot_offset_ns;
	size_t max_processes; /* 0: the process cache's default */
	size_t max_containers; /* 0: 4096 */
	const char *const *state_roots; /* extra runtime state roots, NULL-terminated */
	void (*around_miss)(void *ctx, bool begin); /* see struct proc_cache_opts */
	void *around_miss_ctx;
};

/* One resolved event; output_event points into it. Valid until the next
 * identity_apply() or identity_resolve(). */
struct identity_pod {
	struct output_pod pod;
	struct output_label labels[IDENTITY_MAX_LABELS];
	char container_id[CONTAINER_ID_LEN + 32];
	char docker[32];
};

struct identity_view {
	struct output_event ev;
	struct output_process parent;
	struct identity_pod pod;
	struct identity_pod parent_pod;
	struct evfilter_subject subject;
};

struct identity;

int identity__new(const struct identity_opts *opts, struct identity **ret_identity);
void identity__free(struct identity *id);
/* Processes that already run, and PID 1's namespaces (is_host). Needs to
 * read other processes' /proc entries. */
int identity_scan(struct identity *id);
const uint32_t *identity_host_ns(const struct identity *id); /* NULL until scanned */
int identity_apply(struct identity *id, const struct ct_proc_event *rec);
int identity_resolve(struct identity *id, const struct ct_cap_event *e,
		     struct identity_view *ret_view);
/* The workload a process belongs to, for the agent's store: a pod's
 * container, a container, a systemd service, or a host binary. Strings
 * point into the caches and stay valid until the next identity call. */
int identity_workload(struct identity *id, uint64_t cgroup_id, uint32_t pid,
		      struct store_workload *ret_workload);

void identity_stats(const struct identity *id, struct proc_cache_stats *ret_procs,
		    struct container_cache_stats *ret_containers);

#endif
