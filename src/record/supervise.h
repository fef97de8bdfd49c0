/* A command run the way a service supervisor runs one: in a cgroup of its
 * own (where cgroup v2 is writable), stopped at a deadline or on request by
 * a signal to every process of that cgroup, killed (cgroup.kill) when it
 * has not exited a grace period later, and optionally probed from outside
 * while it runs. One implementation for the recording, record --verify and
 * --minimize runs, and `captrail run`, so none of them leaves its command
 * behind.
 *
 * The command is a held child (privilege/held.h): supervise_attach() puts
 * it in its cgroup before it is released, supervise_begin() starts the
 * clock once it exec'd, supervise_poll() is called every few tens of
 * milliseconds until it says done, supervise_end() kills what is left and
 * removes the cgroup. */
#ifndef CAPTRAIL_SUPERVISE_H
#define CAPTRAIL_SUPERVISE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "privilege/held.h"
#include "privilege/rings.h"

#define SUPERVISE_STOP_TIMEOUT 10.0 /* seconds, --stop-timeout's default */
#define SUPERVISE_PROBE_MS 200 /* between two tries of the probe */

struct supervise_opts {
	const char *cgroupfs_root; /* NULL: CGROUP_DEFAULT_ROOT */
	/* The cgroup is captrail-NAME-PID: one name per cgroup alive at a
	 * time in one captrail (record, verify, minimize, run). */
	const char *name;
	double duration; /* seconds; 0: no deadline */
	double stop_timeout; /* seconds from the stop signal to SIGKILL */
	/* A /bin/sh -c string run as captrail's user, outside the cgroup,
	 * its output on stderr. With a duration it is retried every
	 * SUPERVISE_PROBE_MS until it exits 0 once; without, it runs once
	 * after the command ended. NULL: none. */
	const char *probe;
	bool stop_on_probe; /* stop the command as soon as the probe succeeded */
	/* A stop request passes the signal received (SIGINT, SIGTERM) on, as
	 * `captrail run` does; else the command gets SIGTERM, as record's. */
	bool forward_stop;
	/* Without a cgroup, whether processes of the command other than the
	 * one forked are still running (fork tracking); NULL: none counted. */
	bool (*others_alive)(void *ctx);
	void *ctx;
};

struct supervise {
	struct supervise_opts opts;
	struct rings *rings; /* NULL: captrail is not lowered (yet) */
	pid_t pid;
	char cgroup[PATH_MAX]; /* empty: none, the command alone is signalled */
	uint64_t cgroup_id;
	uint64_t start_ns, deadline_ns, stop_ns, kill_ns;
	int wait_status;
	bool exited; /* pid reaped: wait_status is its */
	bool stopping; /* the stop signal was sent */
	int stop_signal;
	bool killed; /* SIGKILL sent after the grace period */
	pid_t probe_pid;
	uint64_t probe_next_ns;
	bool probe_ok;
	bool probe_tried;
	int signal_errors; /* signals or cgroup.kill that failed (-errno of the last) */
};

/* Puts pid (held, not yet released) into a new cgroup captrail-NAME-PID
 * under the cgroup v2 root; without one (v1 only, read-only), sv->cgroup
 * stays empty and the command alone is signalled. Never fails: the
 * fallback is the caller's to report (sv->cgroup_id == 0). The cgroup
 * operations run in the RINGS_NEED_CGROUP ring of rings when given. */
void supervise_attach(struct supervise *sv, const struct supervise_opts *opts, pid_t pid,
		      struct rings *rings);
/* The command exec'd: the deadline starts now. */
void supervise_begin(struct supervise *sv);
/* Sends sig to every process of the command and gives it stop_timeout to
 * exit; only the first call counts. */
void supervise_stop(struct supervise *sv, int sig);
/* Passes sig (SIGHUP...) on to the command (not the processes it started)
 * without stopping it. */
void supervise_forward(struct supervise *sv, int sig);
/* One step: reaps the command, tries the probe, stops at the deadline or
 * once the probe succeeded (stop_on_probe), kills after the grace period.
 * *ret_done once the command and every process of its cgroup are gone
 * (without a cgroup: the command, and others_alive() false or killed). */
int supervise_poll(struct supervise *sv, bool *ret_done);
/* supervise_poll() every interval until done. *stop (a signal number set
 * by a handler; NULL: none) stops the command; *hangup (NULL: none), when
 * set, is cleared and SIGHUP passed on. */
int supervise_wait(struct supervise *sv, const volatile int *stop, volatile int *hangup);
/* The whole life of a held child under supervision (verify, minimize,
 * run): attach, release with spec, wait, end. -errno of a release that
 * failed (the child could not be confined or exec'd; it is reaped) or of
 * the wait; the outcome is read from *sv afterwards. */
int supervise_run(struct supervise *sv, const struct supervise_opts *opts, struct held *h,
		  const struct confine_spec *spec, struct rings *rings, const volatile int *stop,
		  volatile int *hangup);
/* Kills what is left, reaps the probe, removes the cgroup. Idempotent. */
void supervise_end(struct supervise *sv);

/* The command exited on the stop signal (exit 0, 128+SIGTERM, or killed by
 * it) before the grace period ended; processes it left may have been
 * killed after it (sv->killed). */
bool supervise_stopped_cleanly(const struct supervise *sv);
/* Seconds from begin to the stop signal. */
double supervise_stopped_after(const struct supervise *sv);
/* With a probe: whether it succeeded (during the run with a duration,
 * once after it without). */
bool supervise_probe_ok(const struct supervise *sv);

#endif
