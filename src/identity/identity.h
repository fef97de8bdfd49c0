/* Who asked: turns a capability event into the process, parent, pod and
 * container the output shows, from the process cache (fed by lifecycle
 * records and a /proc scan) and the container resolver. Shared by trace
 * and the agent. */
#ifndef CAPTRAIL_IDENTITY_H
#define CAPTRAIL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/container.h"
#include "identity/proc_cache.h"
#include "identity/workload.h"

#define IDENTITY_MAX_LABELS CONTAINER_MAX_LABELS
#define IDENTITY_SYSCALLS 512 /* names cached for numbers below this */

struct identity_opts {
	const char *proc_root; /* NULL: /proc */
	const char *node_name;
	int64_t boot_offset_ns;
	size_t max_processes; /* 0: the process cache's default */
	size_t max_containers; /* 0: 4096 */
	const char *const *state_roots; /* extra runtime state roots, NULL-terminated */
	/* Where containers are looked up; NULL: container_roots_default() with
	 * proc_root and the state_roots above. Fixture trees in tests. */
	const struct container_roots *container_roots;
	void (*around_miss)(void *ctx, bool begin); /* see struct proc_cache_opts */
	void *around_miss_ctx;
};

/* What is known of who made one check, as the event format shows it. */
struct identity_label {
	const char *key;
	const char *value;
};

/* Pod and container identity; NULL strings are unknown. */
struct identity_pod {
	const char *namespace_;
	const char *name;
	const char *uid;
	const char *container_id; /* "<runtime>://<id>" */
	const char *container_name;
	const char *image;
	const char *container_start_time;
	uint32_t container_pid;
	const struct identity_label *labels;
	size_t n_labels;
	const char *docker; /* first 31 characters of the container id */
	/* The pod's owner (identity/workload.h: workload_owner_of()): a bare
	 * pod is its own, kind "Pod", as Tetragon's is without an owner. */
	const char *workload;
	const char *workload_kind;
};

/* Whether a container's process descends from its init (Tetragon's
 * in_init_tree): a process entered into the container (runc exec,
 * nsenter) does not. */
enum identity_init_tree {
	IDENTITY_INIT_UNKNOWN, /* on the host, or the ancestry is not known */
	IDENTITY_INIT_OUT,
	IDENTITY_INIT_IN,
};

/* What is known of one process; NULL strings are unknown and omitted. */
struct identity_process {
	uint32_t pid;
	uint32_t tid; /* 0: unknown (the parent): written as the pid */
	uint32_t uid;
	uint32_t auid;
	const char *exec_id;
	const char *parent_exec_id;
	const char *binary;
	const char *arguments;
	const char *cwd;
	const char *flags;
	const char *start_time;
	const uint32_t *ns; /* CT_NS_COUNT inode numbers, or NULL */
	const struct identity_pod *pod; /* NULL on the host */
	enum identity_init_tree init_tree;
};

struct identity_event {
	const struct ct_cap_event *cap;
	struct identity_process process;
	const struct identity_process *parent; /* NULL when unknown */
	const char *syscall; /* name, NULL when not in a syscall */
	/* A container runtime's start-up (its init before it execs the
	 * workload): image_is_runtime_start() of the image that asked. */
	bool runtime;
};

/* Where a resolved pod's strings live. */
struct identity_pod_buf {
	struct identity_pod pod;
	struct identity_label labels[IDENTITY_MAX_LABELS];
	char container_id[CONTAINER_ID_LEN + 32];
	char docker[32];
	uint32_t init_pid; /* the container's init, in the initial pid namespace; 0 unknown */
};

/* One resolved event and the buffers it points into. Valid until the next
 * identity_apply() or identity_resolve(). */
struct identity_view {
	struct identity_event ev;
	struct identity_process parent;
	struct identity_pod_buf pod;
	struct identity_pod_buf parent_pod;
};

struct identity;

int identity__new(const struct identity_opts *opts, struct identity **ret_identity);
void identity__free(struct identity *id);
/* Processes that already run, and PID 1's namespaces (is_host). Needs to
 * read other processes' /proc entries. */
int identity_scan(struct identity *id);
const uint32_t *identity_host_ns(const struct identity *id); /* NULL until scanned */
/* A lifecycle record, in ring buffer order: the process cache, and at an
 * exec inside a mount namespace other than the host's, the container of
 * its cgroup (container_cache__exec()), so that a container living less
 * than a second is known by the time its checks are named. */
int identity_apply(struct identity *id, const struct ct_proc_event *rec);
void identity_resolve(struct identity *id, const struct ct_cap_event *e,
		      struct identity_view *ret_view);
/* The workload a process belongs to, for the agent's store: a pod's
 * container, a container, a systemd service, or a host binary: binary (the
 * image the checks were made under), else the latest image of pid the
 * process cache knows. Strings point into the caches and binary and stay
 * valid until the next identity call. */
void identity_workload(struct identity *id, uint64_t cgroup_id, uint32_t pid, const char *binary,
		       struct workload *ret_workload);

void identity_stats(const struct identity *id, struct proc_cache_stats *ret_procs,
		    struct container_cache_stats *ret_containers);

#endif
