/* Runs one command under in-kernel aggregation: forks it held on a pipe,
 * puts it in a cgroup of its own (or follows its forks where no cgroup v2
 * is writable), attaches, releases it, and waits for it and every
 * descendant. The command layer turns the result into a profile. */
#ifndef CAPTRAIL_RECORDER_H
#define CAPTRAIL_RECORDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/loader.h"
#include "lib/check.h"
#include "privilege/confine.h"
#include "privilege/rings.h"

struct recorder_opts {
	char *const *argv; /* the command */
	/* Instead of a command: what runs in this cgroup v2 directory and
	 * below, new processes and cgroups included, until duration (0: until
	 * no process is left in it or it is gone) or a stop request. It is
	 * never signalled. Checks of a container runtime's start-up
	 * (image_is_runtime_start()) are counted apart, not returned. */
	const char *cgroup;
	/* The cgroup holds containers: image_is_runtime_start() applies. */
	bool runtime_rule;
	struct confine_spec confine; /* user, group, granted caps */
	const char *procfs_root;
	const char *cgroupfs_root; /* NULL: CGROUP_DEFAULT_ROOT */
	double duration; /* 0: until the command and its descendants end */
	double stop_timeout; /* seconds from SIGTERM to SIGKILL when stopped */
	const char *probe; /* record/supervise.h; NULL: none */
	bool stop_on_probe; /* --verify, --minimize: stop once the probe succeeded */
	const volatile int *stop; /* set by a signal handler; NULL: none */
	enum hook hook; /* where to attach (HOOK_AUTO: the first that works) */
	bool verbose; /* libbpf's messages of hooks that failed before one worked */
	/* After attach, before release: false aborts. */
	bool (*on_ready)(void *ctx, const struct loader_report *hooks);
	void *ctx;
};

#define RECORDER_OBJECTS 4 /* distinct objects kept per entry */

/* One aggregation entry: denied checks carry their outcome when the exit
 * hook observed their syscall's return, and what the first of them were
 * made on (kernel/objects.h), in the order seen. */
struct recorder_entry {
	struct check check;
	const char *binary; /* NULL when its exec was not seen; owned by the recorder */
	const char *objects[RECORDER_OBJECTS]; /* owned by the recorder */
	unsigned int n_objects;
};

/* A capability a process kept or gained without a check: how (a
 * ct_priv_kind: capset, ambient raise or a privileged exec), by which
 * image, in how many requests. */
struct recorder_kept {
	int cap;
	enum ct_priv_kind how;
	const char *binary; /* NULL when its exec was not seen; owned by the recorder */
	uint64_t count;
};

struct recorder_result {
	int wait_status; /* of the command, as from waitpid() */
	bool used_cgroup; /* false: fork tracking */
	bool stopped; /* SIGTERM sent at the deadline, on a signal, or once probed */
	bool stopped_cleanly; /* it exited on that SIGTERM */
	bool killed; /* processes still there after the grace period: SIGKILL */
	double stopped_after; /* seconds from release to the SIGTERM */
	bool probe_ok; /* the probe succeeded (see record/supervise.h) */
	int signal_error; /* a stop or kill signal that could not be sent (-errno) */
	bool noaudit_unknown; /* kallsyms unreadable: every check counted as audited */
	uint64_t untracked; /* processes and images past the recorder's bound */
	struct loader_stats stats;
	struct recorder_entry *entries;
	size_t n_entries;
	struct recorder_kept *kept;
	size_t n_kept;
	bool keep_caps; /* PR_SET_KEEPCAPS or SECBIT_KEEP_CAPS asked */
	bool exec_gain; /* an exec gained capabilities or became root */
	uint64_t objects_dropped; /* past RECORDER_OBJECTS per entry, or past the bound */
	/* recorder_opts.cgroup: the checks of a runtime's start-up left out,
	 * and whether the workload ended (its cgroup emptied or went away) */
	uint64_t runtime;
	bool workload_ended;
};

struct recorder;

/* Forks the held child: call before captrail lowers its own privileges,
 * so the command keeps what the user gave it. With opts.cgroup, opens the
 * cgroup instead (-ENOENT, -ENOTDIR). */
int recorder__new(const struct recorder_opts *opts, struct recorder **ret_recorder);
/* What recorder_run() was doing when it failed. */
struct recorder_error {
	const char *step; /* "load the BPF programs", "run the command", ... */
	bool loading; /* the programs did not load: hooks says why */
	struct loader_report hooks;
	bool exec_failed; /* the command could not be confined or exec'd: its errno */
};

/* Attaches (raising rings for what needs privileges), releases the
 * command and waits for it and its descendants, then reads the counts. */
int recorder_run(struct recorder *r, struct rings *rings, struct recorder_result *ret_result,
		 struct recorder_error *ret_error);
void recorder_result_free(struct recorder_result *result);
void recorder__free(struct recorder *r);

#endif
