#include "record/supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity/cgroup.h"
#include "lib/clock.h"

#define POLL_MS 50

static uint64_t seconds_ns(double s)
{
	return s > 0 ? (uint64_t)(s * 1e9) : 0;
}

void supervise_attach(struct supervise *sv, const struct supervise_opts *opts, pid_t pid,
		      struct rings *rings)
{
	char mount[PATH_MAX], name[64];

	*sv = (struct supervise){ .opts = *opts, .rings = rings, .pid = pid };
	if (rings)
		rings_enter_specific(rings, RINGS_NEED_CGROUP, "create the command's cgroup");
	if (cgroup_v2_root(opts->cgroupfs_root ? opts->cgroupfs_root : CGROUP_DEFAULT_ROOT, mount,
			   sizeof(mount), NULL))
		goto out;
	snprintf(name, sizeof(name), "captrail-%s-%d", opts->name, (int)getpid());
	if (cgroup_create(mount, name, sv->cgroup, sizeof(sv->cgroup))) {
		sv->cgroup[0] = '\0';
		goto out;
	}
	if (cgroup_attach(sv->cgroup, pid) || cgroup_id(sv->cgroup, &sv->cgroup_id)) {
		cgroup_remove(sv->cgroup);
		sv->cgroup[0] = '\0';
		sv->cgroup_id = 0;
	}
out:
	if (rings)
		rings_leave(rings);
}

void supervise_begin(struct supervise *sv)
{
	sv->start_ns = clock_monotonic_ns();
	sv->deadline_ns = sv->opts.duration > 0 ? sv->start_ns + seconds_ns(sv->opts.duration) : 0;
	sv->probe_next_ns = sv->start_ns;
}

static void note_signal_error(struct supervise *sv, int err)
{
	if (err && err != -ESRCH)
		sv->signal_errors = err;
}

/* cgroup v2 has cgroup.kill for SIGKILL only: any other signal goes to each
 * pid of cgroup.procs. A process forked while the list is read may miss
 * it; the grace period's cgroup.kill then takes it. */
static void signal_cgroup(struct supervise *sv, int sig)
{
	char file[PATH_MAX + sizeof("/cgroup.procs")];
	FILE *f;
	int pid;

	snprintf(file, sizeof(file), "%s/cgroup.procs", sv->cgroup);
	f = fopen(file, "re");
	if (!f) {
		note_signal_error(sv, -errno);
		return;
	}
	while (fscanf(f, "%d", &pid) == 1)
		if (kill(pid, sig))
			note_signal_error(sv, -errno);
	fclose(f);
}

/* The command's processes get sig: those of its cgroup, else the command
 * itself while it is not reaped (a reaped pid may be someone else's). */
static void send_signal(struct supervise *sv, int sig)
{
	if (sv->rings)
		rings_enter_specific(sv->rings, RINGS_NEED_SIGNAL, "signal the command");
	if (sv->cgroup[0] && sig == SIGKILL)
		note_signal_error(sv, cgroup_kill(sv->cgroup));
	else if (sv->cgroup[0])
		signal_cgroup(sv, sig);
	else if (!sv->exited && kill(sv->pid, sig))
		note_signal_error(sv, -errno);
	if (sv->rings)
		rings_leave(sv->rings);
}

/* A probe still running when the command is stopped or gone came too
 * late: it does not count. */
static void probe_cancel(struct supervise *sv)
{
	if (sv->probe_pid <= 0)
		return;
	kill(sv->probe_pid, SIGKILL);
	waitpid(sv->probe_pid, NULL, 0);
	sv->probe_pid = 0;
}

void supervise_stop(struct supervise *sv, int sig)
{
	if (sv->stopping)
		return;
	sv->stopping = true;
	sv->stop_signal = sig;
	sv->stop_ns = clock_monotonic_ns();
	sv->kill_ns = sv->stop_ns + seconds_ns(sv->opts.stop_timeout);
	probe_cancel(sv);
	send_signal(sv, sig);
}

/* To the command alone, as a supervisor's reload does: its workers are its
 * own to tell. */
void supervise_forward(struct supervise *sv, int sig)
{
	if (sv->exited)
		return;
	if (sv->rings)
		rings_enter_specific(sv->rings, RINGS_NEED_SIGNAL, "signal the command");
	if (kill(sv->pid, sig))
		note_signal_error(sv, -errno);
	if (sv->rings)
		rings_leave(sv->rings);
}

static void probe_reap(struct supervise *sv, int options)
{
	int status;

	if (sv->probe_pid <= 0 || waitpid(sv->probe_pid, &status, options) != sv->probe_pid)
		return;
	sv->probe_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		sv->probe_ok = true;
}

/* The probe's stdout joins stderr: captrail's stdout is the profile. */
static int probe_spawn(struct supervise *sv)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", sv->opts.probe, (char *)NULL);
		_exit(127);
	}
	sv->probe_pid = pid;
	sv->probe_tried = true;
	return 0;
}

static int probe_step(struct supervise *sv, uint64_t now)
{
	probe_reap(sv, WNOHANG);
	if (sv->probe_ok || sv->probe_pid > 0 || now < sv->probe_next_ns)
		return 0;
	sv->probe_next_ns = now + SUPERVISE_PROBE_MS * 1000000ull;
	return probe_spawn(sv);
}

static bool command_left(struct supervise *sv)
{
	bool populated = false;

	if (!sv->exited)
		return true;
	if (sv->cgroup[0])
		return cgroup_populated(sv->cgroup, &populated) == 0 && populated;
	return !sv->killed && sv->opts.others_alive && sv->opts.others_alive(sv->opts.ctx);
}

int supervise_poll(struct supervise *sv, bool *ret_done)
{
	uint64_t now = clock_monotonic_ns();
	int err = 0;

	*ret_done = false;
	if (!sv->exited && waitpid(sv->pid, &sv->wait_status, WNOHANG) == sv->pid)
		sv->exited = true;
	if (sv->opts.probe && sv->deadline_ns && !sv->stopping)
		err = probe_step(sv, now);
	if (!sv->stopping && ((sv->deadline_ns && now >= sv->deadline_ns) ||
			      (sv->opts.stop_on_probe && sv->probe_ok)))
		supervise_stop(sv, SIGTERM);
	if (sv->stopping && !sv->killed && now >= sv->kill_ns && command_left(sv)) {
		sv->killed = true;
		send_signal(sv, SIGKILL);
	}
	if (command_left(sv))
		return err;
	probe_cancel(sv);
	if (sv->opts.probe && !sv->deadline_ns && !sv->probe_tried) {
		err = probe_spawn(sv);
		probe_reap(sv, 0);
	}
	*ret_done = true;
	return err;
}

int supervise_wait(struct supervise *sv, const volatile int *stop, volatile int *hangup)
{
	const struct timespec interval = { 0, POLL_MS * 1000000L };
	bool done = false;
	int err;

	for (;;) {
		if (stop && *stop)
			supervise_stop(sv, sv->opts.forward_stop ? *stop : SIGTERM);
		if (hangup && *hangup) {
			*hangup = 0;
			supervise_forward(sv, SIGHUP);
		}
		err = supervise_poll(sv, &done);
		if (err || done)
			return err;
		nanosleep(&interval, NULL);
	}
}

void supervise_end(struct supervise *sv)
{
	probe_cancel(sv);
	if (!sv->exited && sv->pid > 0) {
		send_signal(sv, SIGKILL);
		if (waitpid(sv->pid, &sv->wait_status, 0) == sv->pid)
			sv->exited = true;
	}
	if (!sv->cgroup[0])
		return;
	if (sv->rings)
		rings_enter_specific(sv->rings, RINGS_NEED_CGROUP | RINGS_NEED_SIGNAL,
				     "remove the command's cgroup");
	/* Best effort on the way out: nothing is left to tell. A cgroup left
	 * behind is what e2e/45_record_counts looks for. */
	(void)cgroup_kill(sv->cgroup);
	/* rmdir succeeds once the killed processes are reaped. */
	for (int i = 0; i < 100 && cgroup_remove(sv->cgroup) == -EBUSY; i++)
		usleep(10000);
	if (sv->rings)
		rings_leave(sv->rings);
	sv->cgroup[0] = '\0';
}

bool supervise_stopped_cleanly(const struct supervise *sv)
{
	int s = sv->wait_status;

	/* Killed after the grace period, its status is SIGKILL's. */
	if (!sv->stopping || !sv->exited)
		return false;
	if (WIFEXITED(s))
		return WEXITSTATUS(s) == 0 || WEXITSTATUS(s) == 128 + sv->stop_signal;
	return WIFSIGNALED(s) && WTERMSIG(s) == sv->stop_signal;
}

double supervise_stopped_after(const struct supervise *sv)
{
	return sv->stopping ? (double)(sv->stop_ns - sv->start_ns) / NSEC_PER_SEC : 0;
}

bool supervise_probe_ok(const struct supervise *sv)
{
	return sv->probe_ok;
}

int supervise_run(struct supervise *sv, const struct supervise_opts *opts, struct held *h,
		  const struct confine_spec *spec, struct rings *rings, const volatile int *stop,
		  volatile int *hangup)
{
	int err;

	supervise_attach(sv, opts, h->pid, rings);
	err = held_release(h, spec);
	if (err) {
		/* It exited: reaped so that it leaves no zombie. */
		if (waitpid(h->pid, &sv->wait_status, 0) == h->pid)
			sv->exited = true;
	} else {
		supervise_begin(sv);
		err = supervise_wait(sv, stop, hangup);
	}
	supervise_end(sv);
	h->pid = 0;
	return err;
}
