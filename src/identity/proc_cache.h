/* Who asked: the process and parent objects of each event. The cache is fed
 * by a start-up /proc scan and by the exec/fork/exit records that share the
 * capability events' ring buffer (so it is in step with them), and answers
 * one lookup per capability event without allocating.
 *
 * An entry is one process image: an exec makes a new entry (new exec_id);
 * the one it replaces, and an exited process, stay reachable for a grace
 * period (late events, and children naming it as parent) and, while a
 * cached child names it as parent, until that child is dropped. The whole
 * is bounded in entries and in bytes; the least recently used entry goes
 * first.
 *
 * Choices of the "flags" word, which follows the reference format:
 * - "clone": the process was created by a fork record we saw. It stays set
 *   across its exec, so a forked-then-exec'd process reads "execve clone",
 *   as the reference's "execve rootcwd clone" does. A process forked and
 *   not (yet) exec'd copies its parent's binary, arguments and cwd.
 * - "procFS": read from /proc (start-up scan, or on the spot for an unknown
 *   pid); "miss": not cached when an event for it was looked up.
 * - "nocwd" whenever cwd is empty (unknown); "errorCWD" the record said the
 *   cwd walk failed, or was cut (CT_PROC_TRUNC_CWD): then cwd holds the
 *   recorded leaf components without a leading '/'.
 * - "errorEnvs" is never set: environments are not recorded.
 *
 * Not thread-safe. Entries are read-only to callers and owned by the cache;
 * a pointer returned by proc_cache_lookup() or proc_cache_parent(), and its
 * strings, stay valid until the next proc_cache_apply(), proc_cache_scan() or
 * proc_cache_lookup() call (any of them may drop entries at the bound). */
#ifndef CAPTRAIL_PROC_CACHE_H
#define CAPTRAIL_PROC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/captrail.h"
#include "lib/clock.h"

#define PROC_NODE_NAME_MAX 253 /* a Kubernetes node name */
/* base64 of "<node>:<20-digit ktime>:<10-digit pid>", and a NUL */
#define PROC_EXEC_ID_LEN (((PROC_NODE_NAME_MAX + 32 + 2) / 3) * 4 + 1)
#define PROC_FLAGS_LEN 96
/* Per entry, for a sleeping process of the RSS benchmark ("/usr/bin/sleep
 * infinity" in /home/user, its parent cached, node "kind-control-plane"):
 * 568 bytes as the cache counts them (proc_cache_stats().bytes: the entry
 * with its strings, and its share of the hash tables; test_bytes_per_entry
 * fills 10,000 and holds it under 640), 589 bytes of malloc'd memory
 * (mallinfo2() around 10,000 exec records: glibc's chunk headers on top).
 * They were 5,326 bytes when every string had a fixed array. A full cache
 * of such entries takes 9 MiB; the bytes bound holds larger ones (up to
 * 5.3 KiB: the longest binary, arguments and cwd) to 16 MiB, within the
 * trace command's 32 MiB. */
#define PROC_CACHE_DEFAULT_ENTRIES 16384
#define PROC_CACHE_DEFAULT_BYTES (16u << 20)
#define PROC_CACHE_MIN_BYTES (64u << 10) /* room for a dozen of the largest entries */
#define PROC_CACHE_DEFAULT_GRACE_NS 5000000000ull

/* Bits of proc_entry.flags, in the order of their names in flags_text. */
enum proc_flag {
	PROC_EXECVE = 1u << 0, /* "execve" */
	PROC_PROCFS = 1u << 1, /* "procFS" */
	PROC_TRUNC_ARGS = 1u << 2, /* "truncArgs" */
	PROC_MISS = 1u << 3, /* "miss" */
	PROC_ERR_FILENAME = 1u << 4, /* "errorFilename" */
	PROC_ERR_ARGS = 1u << 5, /* "errorArgs" */
	PROC_NOCWD = 1u << 6, /* "nocwd" */
	PROC_ROOTCWD = 1u << 7, /* "rootcwd" */
	PROC_ERR_CWD = 1u << 8, /* "errorCWD" */
	PROC_CLONE = 1u << 9, /* "clone" */
};

/* "execve rootcwd clone": the names of the set bits, space-joined. */
void proc_flags_text(uint32_t flags, char ret_text[PROC_FLAGS_LEN]);

/* exec_id: base64("<node_name>:<ktime_ns>:<pid>"), standard alphabet, padded. */
int proc_exec_id(const char *node_name, uint64_t ktime_ns, uint32_t pid,
		 char ret_exec_id[PROC_EXEC_ID_LEN]);

/* The strings point into the entry's own allocation: NUL-terminated, "" when
 * unknown. */
struct proc_entry {
	const char *exec_id;
	const char *parent_exec_id; /* "" when the parent is unknown */
	const char *start_time; /* ktime_ns + boot offset, RFC 3339 */
	const char *flags_text;
	const char *binary; /* absolute unless relative to an unknown or cut cwd */
	const char *arguments; /* argv[1..] joined with spaces */
	const char *cwd; /* "" when unknown */
	uint64_t ktime_ns; /* boot clock at exec/fork (in exec_id); procFS: stat starttime */
	uint64_t cgroup_id; /* 0 when unknown (procFS entries) */
	/* Where the image was exec'd (a fork's: its parent's), as struct image
	 * keeps it for image_is_runtime_start(); 0 when unknown. */
	uint64_t image_cgroup;
	uint32_t image_mntns;
	uint64_t exe_ino; /* the image's file (a fork's: its parent's); 0 unknown */
	uint32_t exe_dev;
	uint32_t pid; /* tgid */
	uint32_t tid; /* of the exec or fork: an event's own tid is in the event */
	uint32_t ppid; /* the parent named by parent_exec_id, when known */
	uint32_t uid; /* effective, at exec */
	uint32_t auid; /* 4294967295 when unset */
	uint32_t ns[CT_NS_COUNT]; /* inode numbers, 0 when unknown */
	uint32_t flags; /* enum proc_flag */
	char comm[CT_COMM_LEN];
	bool exited; /* exited, or replaced by a later exec */
	bool binary_deleted; /* procFS: the executable was deleted */
};

struct proc_cache_opts {
	const char *proc_root; /* NULL: "/proc" */
	const char *node_name; /* required: names processes in exec_ids */
	size_t max_entries; /* 0: PROC_CACHE_DEFAULT_ENTRIES; at least 4 */
	size_t max_bytes; /* 0: PROC_CACHE_DEFAULT_BYTES; at least PROC_CACHE_MIN_BYTES */
	uint64_t grace_ns; /* exited entries kept this long; 0: the default */
	int64_t boot_offset_ns; /* wall clock - boot clock; 0: measured */
	/* Called with true before and false after the /proc reads of a cache
	 * miss (other users' entries need privileges the caller may hold
	 * only around such reads); NULL: nothing to do. */
	void (*around_miss)(void *ctx, bool begin);
	void *around_miss_ctx;
};

struct proc_cache_stats {
	uint64_t entries;
	uint64_t bytes; /* allocated by the cache: entries, hash tables, itself */
	uint64_t evictions; /* dropped at a bound */
	uint64_t misses; /* lookups of a pid that was not cached */
	uint64_t reaped; /* exited entries dropped after the grace period */
};

struct proc_cache;

int proc_cache__new(const struct proc_cache_opts *opts, struct proc_cache **ret_cache);
void proc_cache__free(struct proc_cache *cache);

/* Adds the processes /proc lists, flagged procFS, then links each to its
 * parent. Meant once, after the BPF programs are attached, so records of
 * processes started meanwhile replay over the scan. Processes that vanish
 * or cannot be read are skipped. */
int proc_cache_scan(struct proc_cache *cache);

/* Applies one CT_REC_EXEC, CT_REC_FORK or CT_REC_EXIT record, in ring buffer
 * order. Its ktime drives the grace period. -EINVAL for another type. */
int proc_cache_apply(struct proc_cache *cache, const struct ct_proc_event *rec);

/* What an event says of its process, for when it is not cached. */
struct proc_hint {
	uint32_t tid;
	uint32_t ppid;
	uint32_t uid;
	uint64_t cgroup_id;
	const uint32_t *ns; /* CT_NS_COUNT inode numbers, or NULL */
	const char *comm; /* or NULL */
};

/* The process pid at ktime_ns (an event's time; 0: the latest time seen).
 * A hit neither allocates nor reads. Not cached: /proc/PID is read on the
 * spot (kept if it started by ktime_ns and, given a hint, is hint->ppid's
 * child), else an entry is made from the hint; both are flagged miss and
 * cached. -ENOENT when there is neither (each such lookup reads /proc). */
int proc_cache_lookup(struct proc_cache *cache, uint32_t pid, uint64_t ktime_ns,
		      const struct proc_hint *hint, const struct proc_entry **ret_entry);

/* proc_cache_lookup() with the hint taken from a capability event. */
int proc_cache_lookup_cap(struct proc_cache *cache, const struct ct_cap_event *ev,
			  const struct proc_entry **ret_entry);

/* The entry named by entry->parent_exec_id; NULL when unknown or dropped.
 * Never a later process that reused the parent's pid. */
const struct proc_entry *proc_cache_parent(struct proc_cache *cache,
					   const struct proc_entry *entry);

void proc_cache_stats(const struct proc_cache *cache, struct proc_cache_stats *ret_stats);

#endif
