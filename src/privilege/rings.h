/* Protection rings: captrail holds as few capabilities as it can.
 *
 * At start the command computes the union of what it can need and calls
 * rings__new(), which cuts the bounding and permitted sets to that union
 * plus Base, clears inheritable and ambient, and lowers effective to Base.
 * Each privileged operation then runs between rings_enter*() and
 * rings_leave():
 *
 *   FULL      every permitted capability effective
 *   EBPF      loading/attaching BPF and reading maps on this kernel, + Base
 *   SPECIFIC  one operation's capabilities, + Base
 *   BASE      always effective: empty unless --capabilities add=
 *
 * Capabilities are per thread: call rings__new() before any thread exists
 * (threads inherit the lowered sets), and enter rings on the thread that
 * does the privileged operation.
 *
 * Commands that run a user's command (record, run) fork it first and call
 * rings__new() only in the parent, after the fork: the command keeps the
 * privileges the user gave it, captrail alone is lowered.
 *
 * Configuration: the command layer parses each --capabilities flag with
 * rings_config_parse_option() while it reads its options, then calls
 * rings_config_from_env() once, which fills in only the keys no flag set.
 * So flags win key by key: --capabilities add=x replaces CAPABILITIES_ADD
 * (which is then not even parsed) but keeps CAPABILITIES_DROP.
 */
#ifndef CAPTRAIL_RINGS_H
#define CAPTRAIL_RINGS_H

#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>

#define RINGS_CAP(c) (1ull << (c))

/* Reading other processes' /proc entries (exe, cwd, root, fd, environ). */
#define RINGS_NEED_PROC (RINGS_CAP(CAP_SYS_PTRACE) | RINGS_CAP(CAP_DAC_READ_SEARCH))
/* Opening /proc/kallsyms with addresses (kptr_restrict, perf_event_paranoid). */
#define RINGS_NEED_KALLSYMS RINGS_CAP(CAP_SYSLOG)
/* Files owned by other users: runtime state, delegated cgroups. */
#define RINGS_NEED_FILES (RINGS_CAP(CAP_DAC_OVERRIDE) | RINGS_CAP(CAP_DAC_READ_SEARCH))
/* Removing record's cgroup: systemd mounts cgroup roots r-x, even for root. */
#define RINGS_NEED_CGROUP RINGS_CAP(CAP_DAC_OVERRIDE)
/* Stopping a command that runs as another user (SIGTERM to its processes). */
#define RINGS_NEED_SIGNAL RINGS_CAP(CAP_KILL)
/* Every capability captrail raises in a Specific ring (for the table). */
#define RINGS_SPECIFIC_CAPS \
	(RINGS_NEED_PROC | RINGS_NEED_KALLSYMS | RINGS_NEED_FILES | RINGS_NEED_SIGNAL)

#define RINGS_DETAIL_LEN 256 /* a usage or failure message, without prefix */
#define RINGS_MAX_DEPTH 8 /* nested rings_enter*() */

enum ring { RING_NONE, RING_BASE, RING_SPECIFIC, RING_EBPF, RING_FULL };

/* Keys set by flags, which the environment then leaves alone. */
enum {
	RINGS_SET_BYPASS = 1 << 0,
	RINGS_SET_ADD = 1 << 1,
	RINGS_SET_DROP = 1 << 2,
};

struct rings_config {
	bool bypass; /* keep every permitted capability effective, drop nothing */
	uint64_t add; /* into Base (repeated add= accumulate) */
	uint64_t drop; /* out of Base; wins over add */
	unsigned int set; /* RINGS_SET_* */
	bool verbose; /* log each ring change through log() */
	void (*log)(void *data, const char *line); /* "rings: enter ebpf (...) for load" */
	void *log_data;
	const char *procfs_root; /* NULL: /proc */
	/* Capabilities this kernel's loading needs on top of the EBPF ring's
	 * (kernel/loader.h: loader_extra_caps()); kept permitted and raised
	 * with the EBPF ring. */
	uint64_t ebpf_extra;
};

/* One "KEY=VALUE" of --capabilities: bypass=true|false, add=CAPS, drop=CAPS
 * (names in any case, with or without cap_, or numbers). On -EINVAL,
 * ret_detail says which key or value is bad (and the closest known name
 * for an unknown capability); cfg is untouched. */
int rings_config_parse_option(struct rings_config *cfg, const char *text,
			      char ret_detail[RINGS_DETAIL_LEN]);

/* CAPABILITIES_BYPASS=0|1 (or true|false), CAPABILITIES_ADD and
 * CAPABILITIES_DROP through get (getenv, or a fake in tests), for the keys
 * not in cfg->set; empty variables count as unset. On -EINVAL, ret_detail
 * names the variable and the bad value; cfg is untouched. */
int rings_config_from_env(struct rings_config *cfg, char *(*get)(const char *name),
			  char ret_detail[RINGS_DETAIL_LEN]);

/* The Base ring a config asks for: add minus drop. */
uint64_t rings_config_base(const struct rings_config *cfg);

/* The EBPF ring without Base: CAP_BPF + CAP_PERFMON when the kernel knows
 * them (last_cap >= CAP_BPF) and both are permitted; else CAP_SYS_ADMIN,
 * which the kernel accepts for both. */
uint64_t rings_ebpf_caps(int last_cap, uint64_t permitted);

/* The EBPF ring of the running process, for the caller's needed mask:
 * call it before rings__new() cuts the permitted set. 0 when cap_last_cap
 * or the process's sets cannot be read. */
uint64_t rings_need_ebpf(const char *procfs_root);

/* The ring a capability would be raised in; RING_NONE when captrail never
 * raises it. */
enum ring rings_ring_of(int cap, uint64_t base, uint64_t ebpf);

/* "ebpf", "specific", ...; "-" for RING_NONE. */
const char *rings_name(enum ring ring);

/* Why rings__new() failed. */
struct rings_error {
	const char *op; /* "drop from the bounding set", ... */
	uint64_t caps; /* what could not be dropped (or raised into Base) */
	int err; /* negative errno */
};

struct rings;

/* Lowers the calling thread as described above. needed is the union of
 * what the command can need (rings_need_ebpf() | RINGS_NEED_PROC | ...).
 * Without CAP_SETPCAP in the permitted set the bounding set cannot be cut
 * by anyone; no_new_privs then keeps exec from regaining what was dropped.
 * On failure, *ret_error (if given) names the step, the capabilities and
 * the errno. With cfg->bypass nothing is dropped: every permitted
 * capability is made effective and rings_enter*()/rings_leave() only log.
 * cfg is copied. */
int rings__new(const struct rings_config *cfg, uint64_t needed, struct rings **ret,
	       struct rings_error *ret_error);
void rings__free(struct rings *r);

/* Raises ring (RING_FULL, RING_EBPF or RING_BASE) on top of the current
 * one; why names the operation in the log. Capabilities of the ring that
 * are not permitted are left out. Nests up to RINGS_MAX_DEPTH.
 *
 * A ring change that fails leaves the effective set as it was (the
 * operation inside then fails for want of privilege) and is kept:
 * rings_failure() returns the first one, and commands stop with it. */
void rings_enter(struct rings *r, enum ring ring, const char *why);
/* The same for the Specific ring made of caps. */
void rings_enter_specific(struct rings *r, uint64_t caps, const char *why);
/* Back to the ring before the last enter (Base at the outermost level);
 * without a matching enter, lowers to Base. */
void rings_leave(struct rings *r);
/* 0, or the first failed change (negative errno) and, in *ret_why, the
 * operation it was for. */
int rings_failure(const struct rings *r, const char **ret_why);

/* For a cache's around-miss hook (identity/proc_cache.h), with the struct
 * rings as ctx: the /proc reads of a process missing from the cache run in
 * the Specific ring of RINGS_NEED_PROC, as a start-up scan does. */
void rings_around_proc_read(void *rings, bool begin);

/* The sets rings__new() left: permitted, and the effective set now. */
uint64_t rings_permitted(const struct rings *r);
uint64_t rings_effective(const struct rings *r);

#endif
