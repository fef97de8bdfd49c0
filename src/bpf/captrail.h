/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records shared by the BPF programs and user space. Fixed-size, no
 * pointers, so user space decodes them in place without allocating. */
#ifndef CAPTRAIL_BPF_H
#define CAPTRAIL_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* user space; BPF gets the types from vmlinux.h */
#endif

#define CT_COMM_LEN 16
#define CT_MAX_PIDS 1024 /* entries of the --pid filter set */
#define CT_UNIQUE_ENTRIES 65536 /* LRU of --unique (pid x cap x verdict) */
#define CT_ANY_UID 0xffffffffu
#define CT_NO_SYSCALL (-1)
#define CT_PATH_MAX 1024 /* bytes of a path record (binary or cwd) */
#define CT_ARGS_MAX 1024 /* bytes of argv kept; more sets CT_PROC_TRUNC_ARGS */
#define CT_PATH_DEPTH 32 /* dentries walked for cwd; more sets CT_PROC_TRUNC_CWD */

/* The ring buffer: 8 MiB is ~80,000 capability events of slack for a
 * stream reader that falls behind. Without a stream (record) it carries
 * only lifecycle records (~3 KiB each), which 1 MiB holds for
 * hundreds of execs between two polls: the rest would be locked memory
 * for nothing. Both are powers of two, as the kernel requires. */
#define CT_RING_BYTES (8u << 20)
#define CT_RING_BYTES_LIFECYCLE (1u << 20)

/* Threads with a denied check whose syscall has not returned yet, and the
 * denied keys whose syscall outcome is counted; past either, outcomes are
 * counted in CT_STAT_OUTCOME_FULL. */
#define CT_PENDING_DENIALS 4096
#define CT_OUTCOME_ENTRIES 4096
/* Distinct denied keys one syscall keeps for its outcome; more are left
 * unobserved (a syscall rarely asks more than two capabilities). */
#define CT_DENIALS_PER_SYSCALL 4

/* The errnos whose return after a denied check means the denial mattered
 * (the BPF side has no errno.h; user space checks they are the same). */
#define CT_EPERM 1
#define CT_EACCES 13

enum ct_record_type {
	CT_REC_CAP = 1, /* one capability check: struct ct_cap_event */
	CT_REC_EXEC = 2, /* struct ct_proc_event */
	CT_REC_FORK = 3,
	CT_REC_EXIT = 4,
	CT_REC_PRIV = 5, /* a way of coming to hold a capability: struct ct_priv_event */
	CT_REC_OBJECT = 6, /* what a check's syscall named: struct ct_object_event */
};

/* AUDIT_KNOWN, NOAUDIT and INSETID are for hooks that see cap_capable's
 * opts (fexit, kprobe); the tracepoint does not carry it. */
enum ct_cap_flag {
	CT_CAP_REAL_CRED = 1u << 0, /* checked cred is the task's real cred */
	CT_CAP_AUDIT_KNOWN = 1u << 1, /* the hook saw opts */
	CT_CAP_NOAUDIT = 1u << 2, /* CAP_OPT_NOAUDIT */
	CT_CAP_INSETID = 1u << 3, /* CAP_OPT_INSETID */
};

enum ct_pidns_mode {
	CT_PIDNS_ANY = 0,
	CT_PIDNS_CONTAINERS = 1, /* only tasks outside the initial pid ns */
	CT_PIDNS_HOST = 2, /* only tasks in the initial pid ns */
};

/* Order of ct_cap_event.ns[]; names in the event schema follow it. */
enum ct_ns {
	CT_NS_UTS,
	CT_NS_IPC,
	CT_NS_MNT,
	CT_NS_PID,
	CT_NS_PID_FOR_CHILDREN,
	CT_NS_NET,
	CT_NS_TIME,
	CT_NS_TIME_FOR_CHILDREN,
	CT_NS_CGROUP,
	CT_NS_USER,
	CT_NS_COUNT,
};

/* Per-CPU counters in the "stats" map, summed by user space. */
enum ct_stat {
	CT_STAT_LOST, /* capability events lost: ring buffer full */
	CT_STAT_PROC_LOST, /* lifecycle records lost (ring buffer full) */
	CT_STAT_AGG_FULL, /* checks not aggregated: aggregation map full */
	CT_STAT_TRACK_FULL, /* descendants not followed: tracked set full */
	CT_STAT_OUTCOME_FULL, /* denial outcomes not kept: map full */
	CT_STAT_KRETPROBE_MISSED, /* checks whose return probe never ran: lost */
	CT_STAT_COUNT,
};

/* Aggregation (record, agent): one map entry per distinct key, counting.
 * Keys are per process so user space can name binaries; it folds them
 * into whatever workload it reports. */
#define CT_AGG_ENTRIES 32768
#define CT_TRACKED_ENTRIES 8192 /* fork-tracking fallback of record */
#define CT_NOAUDIT_RANGES 8 /* kernel functions whose checks are noaudit */
#define CT_STACK_DEPTH 10 /* frames looked at to classify a check */

enum ct_agg_flag {
	CT_AGG_DENIED = 1u << 0,
	CT_AGG_OVERRIDE_CRED = 1u << 1, /* checked cred is not the real cred */
	CT_AGG_FOREIGN_USERNS = 1u << 2, /* target ns is not the cred's own */
	CT_AGG_KTHREAD = 1u << 3,
	CT_AGG_INSETID = 1u << 4, /* CAP_OPT_INSETID (hooks that see opts) */
	CT_AGG_AUDIT_KNOWN = 1u << 5, /* the hook saw opts: NOAUDIT is exact */
	CT_AGG_NOAUDIT = 1u << 6, /* CAP_OPT_NOAUDIT */
};

/* What the fourth argument of cap_capable() holds, which user space reads
 * from its prototype in the kernel's BTF. */
enum ct_opts_style {
	CT_OPTS_NONE = 0, /* not seen: the tracepoint */
	CT_OPTS_BITS = 1, /* unsigned int opts (5.1 and later, and backports) */
	CT_OPTS_AUDIT_INT = 2, /* int audit: 0 is SECURITY_CAP_NOAUDIT */
};

/* The kernel's CAP_OPT_* bits (include/linux/security.h). */
#define CT_CAP_OPT_NOAUDIT (1u << 1)
#define CT_CAP_OPT_INSETID (1u << 2)

/* A kprobe's arguments, kept per thread until the return probe. */
#define CT_KPROBE_INFLIGHT 16384

struct ct_cap_args {
	__u64 cred;
	__u64 target_ns;
	__s32 cap;
	__s32 opts;
	__u32 pending; /* not yet seen by the return probe that consumes it */
	__u32 pad;
};

struct ct_agg_key {
	__u64 cgroup_id;
	__u32 pid; /* tgid */
	__u32 exec_gen; /* the task's exec count: which image of pid checked */
	__s32 cap;
	__s32 syscall;
	__u32 flags; /* enum ct_agg_flag */
	__u32 pad;
};

/* The denied keys of one thread's syscall, until it returns, with the
 * checks each key made in it: a syscall may be denied the same capability
 * many times (kill(-1, sig) once per process), each gets the outcome. */
struct ct_pending_denials {
	__u32 n;
	__u32 pad;
	struct ct_agg_key keys[CT_DENIALS_PER_SYSCALL];
	__u32 checks[CT_DENIALS_PER_SYSCALL];
};

/* The call chain is walked (the expensive part) only for a key's 1st,
 * 2nd, 4th, 8th... check, so a key's steady state is one increment while
 * a key whose checks come from both audited and noaudit paths is still
 * seen as mixed. */
struct ct_agg_value {
	__u64 count;
	__u64 noaudit_samples; /* chain passed through a noaudit function */
	__u64 audit_samples;
	__u64 first_ns; /* CLOCK_BOOTTIME */
	/* The latest check whose time was read (the first, or one that took
	 * a per-CPU slot); the checks a slot then counts do not move it. */
	__u64 last_ns;
};

/* record's per-CPU cache in front of the aggregation map: a check whose key
 * is in its slot is one increment, not a hash lookup. User space folds the
 * pending counts into the map once the program is detached. */
#define CT_AGG_SLOTS 8

struct ct_agg_slot {
	struct ct_agg_key key;
	__u64 base; /* the key's count in the map when it took the slot; 0: empty */
	__u64 pending; /* checks since then, not yet in the map */
	__u64 noaudit_pending;
	__u64 audit_pending;
};

/* What aggregation keeps per CPU: whether the task that checked last on
 * this CPU is recorded, and under which cgroup, so that the next check of
 * the same task need not walk to its cgroup again; and record's slots. */
struct ct_agg_cpu {
	__u64 task; /* its task_struct's address */
	__u64 task_gen; /* the program's task_gen when the verdict was taken */
	__u64 cgroup_id; /* the cgroup its checks count under; 0: not recorded */
	__u64 pad;
	struct ct_agg_slot slots[CT_AGG_SLOTS];
};

struct ct_noaudit_range {
	__u64 start;
	__u64 end;
};

/* What the syscall that made a denied check returned. */
struct ct_outcome {
	__u64 eperm;
	__u64 eacces;
	__u64 success;
	__u64 other;
};

struct ct_cap_event {
	__u32 type; /* CT_REC_CAP */
	__u32 flags; /* enum ct_cap_flag */
	__u64 ktime_ns; /* CLOCK_BOOTTIME */
	__u64 cgroup_id;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 euid; /* of the checked cred */
	__s32 cap;
	__s32 ret; /* 0 granted, -EPERM denied */
	__s32 syscall; /* CT_NO_SYSCALL when not in a syscall */
	__u32 target_ns_level;
	__u32 target_ns_uid;
	__u32 target_ns_gid;
	__u32 target_ns_inum;
	__u32 ns_pid; /* pid in the task's own pid namespace */
	/* The rest of the checked cred's ids, and its securebits (SECBIT_*):
	 * on the cache line euid is read from. */
	__u32 uid;
	__u32 gid;
	__u32 egid;
	__u32 suid;
	__u32 sgid;
	__u32 fsuid;
	__u32 fsgid;
	__u32 securebits;
	__u64 cap_permitted; /* of the checked cred */
	__u64 cap_effective;
	__u64 cap_inheritable;
	__u32 ns[CT_NS_COUNT];
	char comm[CT_COMM_LEN];
};

enum ct_proc_flag {
	/* argv[1..] longer than CT_ARGS_MAX (args[] is their start), or no end
	 * of argv[0] inside the arguments' area (args[] is empty) */
	CT_PROC_TRUNC_ARGS = 1u << 0,
	CT_PROC_TRUNC_CWD = 1u << 1, /* cwd deeper or longer than recorded */
	CT_PROC_ERR_FILENAME = 1u << 2, /* binary could not be read */
	CT_PROC_ERR_ARGS = 1u << 3,
	CT_PROC_ERR_CWD = 1u << 4,
};

/* One process lifecycle record (exec, fork or exit) from the
 * sched_process_* tracepoints. For fork, pid/tid are the child's and ppid
 * the parent's tgid; binary/args/cwd are empty (the child inherits them).
 * For exit, only the header fields are set, and only when the whole thread
 * group exits. */
struct ct_proc_event {
	__u32 type; /* CT_REC_EXEC, CT_REC_FORK, CT_REC_EXIT */
	__u32 flags; /* enum ct_proc_flag */
	__u64 ktime_ns; /* CLOCK_BOOTTIME of the event */
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid; /* effective */
	__u32 auid; /* loginuid, 4294967295 when unset */
	__u32 exec_gen; /* CT_REC_EXEC: the new image's ct_agg_key.exec_gen */
	/* CT_REC_EXEC: the exec'd file (bprm->file), whatever name it was
	 * exec'd by: its inode and its superblock's (kernel) dev_t */
	__u64 exe_ino;
	__u32 exe_dev;
	__u32 ns[CT_NS_COUNT];
	__u16 binary_len; /* bytes in binary[], including the NUL */
	__u16 args_len; /* bytes in args[]: arguments, NUL-separated */
	__u16 cwd_len; /* bytes in cwd[] */
	__u16 cwd_parts; /* components in cwd[], leaf first, NUL-separated */
	char comm[CT_COMM_LEN];
	char binary[CT_PATH_MAX]; /* as given to execve (bprm->filename) */
	/* argv[1..] (argv[0], of any length, dropped), NUL-separated; bytes past
	 * args_len are scratch */
	char args[CT_ARGS_MAX];
	char cwd[CT_PATH_MAX]; /* cwd components, leaf first: "b\0a\0" is /a/b */
};

/* How a recorded process came to hold (or asked to keep) capabilities,
 * none of which passes through cap_capable(): a capset() or prctl() request
 * read at the syscall's entry (whether it then succeeds or not: a request
 * the set lacks fails, which is what the profile must prevent), or an exec
 * that gained privilege. */
enum ct_priv_kind {
	CT_PRIV_CAPSET = 1, /* asked: the sets requested; held: the cred's at entry */
	CT_PRIV_AMBIENT_RAISE = 2, /* prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, arg) */
	CT_PRIV_KEEPCAPS = 3, /* prctl(PR_SET_KEEPCAPS, arg) */
	CT_PRIV_SECUREBITS = 4, /* prctl(PR_SET_SECUREBITS, arg) */
	CT_PRIV_EXEC = 5, /* an exec the kernel marked secure (AT_SECURE) by a
			   * non-root user: held is the new cred's */
};

enum ct_priv_flag {
	CT_PRIV_UNREAD = 1u << 0, /* capset: the request could not be read */
};

/* The kernel's prctl() and capset() numbers the programs look for. */
#define CT_PR_SET_KEEPCAPS 8
#define CT_PR_SET_SECUREBITS 28
#define CT_PR_CAP_AMBIENT 47
#define CT_PR_CAP_AMBIENT_RAISE 2
#define CT_SECBIT_KEEP_CAPS (1u << 4)
#define CT_CAPSET_V1 0x19980330u /* one 32-bit word per set */

struct ct_priv_event {
	__u32 type; /* CT_REC_PRIV */
	__u32 kind; /* enum ct_priv_kind */
	__u64 ktime_ns; /* CLOCK_BOOTTIME */
	__u64 cgroup_id;
	__u32 pid; /* tgid */
	__u32 exec_gen; /* the image that asked, as in ct_agg_key */
	__u32 uid; /* real, of the cred at entry (exec: the new one) */
	__u32 euid;
	__u32 flags; /* enum ct_priv_flag */
	__u32 pad;
	__u64 arg; /* prctl's third (ambient) or second argument */
	__u64 asked_effective; /* capset */
	__u64 asked_permitted;
	__u64 asked_inheritable;
	__u64 held_effective;
	__u64 held_permitted;
};

/* The object of a check (record only): the arguments of the syscall that
 * made it, from the task's saved user registers, for the first
 * CT_OBJECT_SAMPLES checks of each aggregation key, plus what one argument
 * points to when the syscall's spec says so. */
#define CT_OBJECT_SAMPLES 8
#define CT_OBJECT_SYSCALLS 1024 /* entries of the spec map: syscall numbers */
#define CT_OBJECT_DATA 256 /* bytes of a path read (longer ones are cut) */
#define CT_OBJECT_ARGS 5 /* the first five: none the objects need is later */

/* What to read for a syscall, by number; a syscall without a spec sends
 * no object. */
enum ct_object_read {
	CT_OBJECT_NONE = 0,
	CT_OBJECT_ARGS_ONLY = 1, /* the arguments are the object (uid, pid...) */
	CT_OBJECT_STRING = 2, /* and a user string (a path) at argument arg */
	CT_OBJECT_SOCKADDR = 3, /* and a struct sockaddr at argument arg */
};

struct ct_object_spec {
	__u8 read; /* enum ct_object_read */
	__u8 arg; /* the argument that points to the data */
	__u8 pad[2];
};

enum ct_object_flag {
	CT_OBJECT_DATA_READ = 1u << 0, /* data[] holds data_len bytes read */
	CT_OBJECT_DATA_FAILED = 1u << 1, /* the spec asked for data, the read failed */
};

struct ct_object_event {
	__u32 type; /* CT_REC_OBJECT */
	__u32 flags; /* enum ct_object_flag */
	struct ct_agg_key key; /* the check's aggregation key */
	__u64 args[CT_OBJECT_ARGS];
	__u32 data_len; /* bytes in data[] (a string's NUL included) */
	__u32 pad;
	char data[CT_OBJECT_DATA];
};

#endif /* CAPTRAIL_BPF_H */
