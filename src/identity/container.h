/* Which container and pod a task belongs to, without a cluster API: the
 * cgroup path names the runtime, the container id and the pod UID; the
 * runtime's state leads to the OCI bundle whose config.json annotations
 * (written by every CRI runtime) name the pod and the container; kubelet's
 * /var/log/pods layout is the fallback. */
#ifndef CAPTRAIL_CONTAINER_H
#define CAPTRAIL_CONTAINER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONTAINER_ID_LEN 64 /* hex digits */
#define CONTAINER_UID_LEN 36 /* a pod UID with dashes */
#define CONTAINER_STATE_ROOTS 8
#define CONTAINER_STORAGE_ROOTS 4

/* What a container's runtime state and annotations say is bounded when
 * read, to the bounds every output applies (lib/text.h: TEXT_NAME_MAX for
 * namespace, pod, container and type, TEXT_IMAGE_MAX, TEXT_LABEL_MAX for a
 * label's key and value): a longer value is cut, marked and counted. */
#define CONTAINER_TIME_MAX 64
#define CONTAINER_MAX_LABELS 32 /* labels past it are dropped, and counted as cut */
/* config.json, state.json: a larger file is refused, and counted. A
 * config.json with every mount is ~50 KB; Kubernetes caps a pod's
 * annotations at 256 KiB. */
#define CONTAINER_JSON_MAX (8u << 20)
#define CONTAINER_EXEC_READS 4 /* see container_cache__exec() */

/* Where to look; every path is a parameter so tests can use fixture trees. */
struct container_roots {
	const char *proc; /* /proc */
	const char *cgroupfs; /* /sys/fs/cgroup: cgroup2 there, or at <cgroupfs>/unified */
	/* runc-style state roots, NULL-terminated: <root>/<id>/state.json (runc)
	 * or <root>/<id>/status (crun), also one namespace level deeper
	 * (<root>/<ns>/<id>/..., as containerd's /run/containerd/runc/k8s.io);
	 * or a containerd state directory, searched as containerd is below.
	 * A runc started with a private --root is only found if that root is
	 * listed here. */
	const char *state[CONTAINER_STATE_ROOTS];
	const char *containerd; /* /run/containerd: io.containerd.runtime.v2.task/<ns>/<id>/ */
	const char *pods_log; /* /var/log/pods: <ns>_<pod>_<uid>/<container>/ */
	/* Docker's data root: <docker>/containers/<id>/config.v2.json names the
	 * container. A state root above may be one too, or Docker's exec root
	 * (runc's state in <root>/runtime-runc/<ns>/<id>/): told by its layout. */
	const char *docker;
	/* containers/storage roots of podman, NULL-terminated: a graph root
	 * (--root) has <root>/<driver>-containers/containers.json, which names
	 * each container and its image, and <id>/userdata/config.json, libpod's
	 * OCI bundle; a run root (--runroot) has <id>/userdata/pidfile. A state
	 * root above laid out so is read the same way, for podman's containers
	 * (libpod-<id> cgroups) only: CRI-O shares the layout but names its
	 * containers by annotations. */
	const char *storage[CONTAINER_STORAGE_ROOTS];
};

/* /proc, /sys/fs/cgroup, /run/runc, /run/containerd/runc, /run/crun,
 * /run/docker/runtime-runc, /run/containerd, /var/log/pods, /var/lib/docker,
 * /var/lib/containers/storage, /run/containers/storage. */
void container_roots_default(struct container_roots *ret_roots);

/* What a cgroup path alone says. */
struct container_cgroup {
	const char *runtime; /* "docker", "containerd", "cri-o", "podman" */
	char id[CONTAINER_ID_LEN + 1];
	char pod_uid[CONTAINER_UID_LEN + 1]; /* "" outside Kubernetes */
};

/* Parses one cgroup path (v1 or v2, cgroupfs or systemd driver layout):
 * 0 for a container, -ENOENT for anything else (host services, sessions,
 * a pod's own cgroup), ret_cg untouched then. */
int container_parse_cgroup(const char *path, struct container_cgroup *ret_cg);

/* The path, relative to the cgroup v2 mount v2_root, of the cgroup whose id
 * (inode, as bpf_get_current_cgroup_id() reports it) is id: by file handle
 * when permitted, else by walking the hierarchy. -ENOENT when it is gone. */
int container_cgroup_path(const char *v2_root, uint64_t id, char *ret_path, size_t size);

struct container_label {
	char *key;
	char *value;
};

enum container_source {
	CONTAINER_SRC_NONE, /* only what the cgroup path says */
	CONTAINER_SRC_BUNDLE, /* the OCI bundle's config.json */
	CONTAINER_SRC_STATE, /* annotations runc copied into state.json, podman's containers.json */
	CONTAINER_SRC_PODS_LOG, /* kubelet's log directory names */
	CONTAINER_SRC_DOCKER, /* Docker's config.v2.json */
};

/* Strings are never NULL: "" when unknown. A host task has an empty id. */
struct container_info {
	const char *runtime; /* "" on the host */
	char id[CONTAINER_ID_LEN + 1];
	char pod_uid[CONTAINER_UID_LEN + 1];
	char *cgroup; /* the path the answer came from, "" if none */
	char *pod_namespace;
	char *pod_name;
	char *name; /* container name within the pod, or Docker's (no leading '/') */
	char *image; /* as the engine was asked for it (Docker: Config.Image) */
	char *type; /* "container" or "sandbox" (the pause container) */
	char *start_time; /* RFC 3339, from the runtime state */
	pid_t init_pid; /* in the initial pid namespace, 0 unknown */
	struct container_label *labels; /* pod labels (CRI-O), Docker's; NULL if none */
	size_t n_labels;
	/* A pod's owner (identity/workload.h: workload_owner_of()), "" outside
	 * a pod; kind and how are static strings. */
	const char *owner_kind;
	char *owner_name;
	const char *owner_how;
	enum container_source source;
	int meta_err; /* why source is NONE for a container: negative errno */
	unsigned int cut; /* values cut and labels dropped at the bounds above */
	unsigned int refused; /* files larger than CONTAINER_JSON_MAX */
};

struct container_cache;

struct container_cache_stats {
	uint64_t hits;
	uint64_t misses; /* lookups that resolved a cgroup or container afresh */
	uint64_t retries; /* containers whose metadata was looked for again */
	uint64_t exec_reads; /* metadata read at an exec: container_cache__exec() */
	uint64_t evictions;
	uint64_t evictions_live; /* of which containers whose cgroup still existed */
	uint64_t cut; /* values cut and labels dropped, at every reading */
	uint64_t refused; /* runtime state or config files refused for their size */
	size_t entries;
};

/* Copies roots (NULL means container_roots_default()). max_entries >= 1
 * bounds the cache; the least recently used entry goes first, but one of
 * a container whose cgroup still exists (it still has processes) only
 * when the few least recently used all are such (evictions_live). What
 * was learned of a container is kept while it is cached: a later reading
 * that finds less (its runtime deleted the state) does not replace it. */
int container_cache__new(const struct container_roots *roots, size_t max_entries,
			 struct container_cache **ret_cache);
void container_cache__free(struct container_cache *cache);

/* A container's metadata that was missing (bundle not written yet, runtime
 * state not readable) is looked for again on a lookup at least interval_ns
 * after the last attempt; 1 s by default. Host answers are kept. */
void container_cache__set_retry(struct container_cache *cache, uint64_t interval_ns);

/* What runs in cgroup v2 cgroup_id, as BPF reports it. When cgroup_id does
 * not identify a container and pid is not 0, the task's <proc>/PID/cgroup is
 * read too (v1 lines included): on hybrid hierarchies a runtime may place a
 * container in v1 cgroups only. cgroup_id 0 means unknown: pid alone.
 * The answer stays valid until the next call on the cache.
 * -ENOENT: the cgroup (and the task) are gone; -EINVAL: neither given. */
int container_cache__lookup(struct container_cache *cache, uint64_t cgroup_id, pid_t pid,
			    const struct container_info **ret_info);

/* A process exec'd in cgroup_id (its exec record, which comes before the
 * checks of the new image). A container's runtime has written its state
 * by the time the workload's command is exec'd, and deletes it, with the
 * cgroup, as soon as the container ends: a container that lives less than
 * a second is resolved here, not at its first check or the agent's next
 * flush. Its metadata, still missing (the runtime's own start-up exec'd
 * first), is read again at once on each of the container's first
 * CONTAINER_EXEC_READS execs, whatever the retry interval.
 * -ENOMEM; 0 otherwise (a cgroup that is gone already is remembered so). */
int container_cache__exec(struct container_cache *cache, uint64_t cgroup_id);

void container_cache__stats(const struct container_cache *cache,
			    struct container_cache_stats *ret_stats);

#endif
