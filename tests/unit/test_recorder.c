/* The recorder for real, as root with the BPF programs loaded: what a
 * command's processes check is counted and blamed on the binary that made
 * the check, in the recording's own cgroup and under fork tracking; a
 * command that cannot run, a --duration, a stop request, no stop flag and a
 * denied check; then the profile built from a recording. Exits 77 without
 * root or BPF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity/cgroup.h"
#include "lib/caps.h"
#include "privilege/rings.h"
#include "profile/profile.h"
#include "record/record_profile.h"
#include "record/recorder.h"
#include "scratch.h"

#define NOBODY 65534
/* argv[1] that makes this binary the command of test_denied_syslog. */
#define SYSLOG_HELPER "--syslog-as-nobody"
/* klogctl(2)'s SYSLOG_ACTION_SIZE_UNREAD: restricted whatever dmesg_restrict
 * says, and it reads (or clears) nothing when it is allowed. */
#define SYSLOG_ACTION_SIZE_UNREAD 9

/* snprintf that fails the test rather than cut a path or a script short. */
#define FORMAT(buf, size, ...) assert_true((size_t)snprintf(buf, size, __VA_ARGS__) < (size))

static char self_exe[PATH_MAX];
static volatile int stop_flag;

struct fixture {
	char dir[SCRATCH_DIR_LEN];
	struct rings *rings;
};

/* Like which(1): the path the shell execs for name. The exec record keeps
 * the path given to execve, so that is what an entry's binary says. */
static void find_in_path(const char *name, char ret_path[PATH_MAX])
{
	const char *path = getenv("PATH");
	char dirs[4096], *save = NULL;
	struct stat st;

	snprintf(dirs, sizeof(dirs), "%s", path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		if (dir[0] != '/')
			continue; /* a relative PATH entry would make no absolute binary */
		if ((size_t)snprintf(ret_path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
			continue;
		if (!stat(ret_path, &st) && S_ISREG(st.st_mode) && !access(ret_path, X_OK))
			return;
	}
	fail_msg("no %s in PATH", name);
}

static int new_rings(struct rings **ret_rings)
{
	/* Bypass keeps every capability: what is tested is the recorder, not
	 * the rings, and the test process must not lower itself for the next
	 * test. */
	struct rings_config cfg = { .bypass = true };
	uint64_t needed = rings_need_ebpf(NULL) | RINGS_NEED_KALLSYMS | RINGS_NEED_PROC |
			  RINGS_NEED_CGROUP;

	return rings__new(&cfg, needed, ret_rings, NULL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || scratch_dir_make(f->dir, "recorder") || new_rings(&f->rings)) {
		free(f);
		return -1;
	}
	stop_flag = 0;
	*state = f;
	return 0;
}

static bool record_cgroup_path(char ret_path[PATH_MAX]);

static int teardown(void **state)
{
	struct fixture *f = *state;
	int err = scratch_dir_remove(f->dir);
	char cgroup[PATH_MAX];

	/* A failed assertion jumps past recorder__free(): its cgroup would stay
	 * on the machine and make the next recorder fall back to fork
	 * tracking. */
	if (record_cgroup_path(cgroup) && !access(cgroup, F_OK)) {
		(void)cgroup_kill(cgroup);
		for (int i = 0; i < 100 && cgroup_remove(cgroup) == -EBUSY; i++)
			usleep(10000);
	}
	rings__free(f->rings);
	free(f);
	return err;
}

static struct recorder_opts opts_for(char *const *argv)
{
	return (struct recorder_opts){
		.argv = argv,
		.procfs_root = "/proc",
		.stop = &stop_flag,
		.stop_timeout = 30, /* no command here should need it */
	};
}

/* Where the recorder puts its cgroup (recorder.c: captrail-record-<pid> at
 * the cgroup v2 root); false when this machine has no cgroup v2. */
static bool record_cgroup_path(char ret_path[PATH_MAX])
{
	char mount[PATH_MAX];

	if (cgroup_v2_root(CGROUP_DEFAULT_ROOT, mount, sizeof(mount), NULL))
		return false;
	FORMAT(ret_path, PATH_MAX, "%s/captrail-record-%d", mount, (int)getpid());
	return true;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Checks of cap with that verdict, summed over the entries blamed on
 * binary (NULL: on any binary, or none). */
static uint64_t checks(const struct recorder_result *res, int cap, bool denied, const char *binary)
{
	uint64_t n = 0;

	for (size_t i = 0; i < res->n_entries; i++) {
		const struct recorder_entry *e = &res->entries[i];

		if (e->check.cap != cap || e->check.denied != denied)
			continue;
		if (binary && (!e->binary || strcmp(e->binary, binary)))
			continue;
		n += e->check.count;
	}
	return n;
}

static void dump(const struct recorder_result *res)
{
	for (size_t i = 0; i < res->n_entries; i++) {
		const struct recorder_entry *e = &res->entries[i];

		print_message("  %s %s syscall %d count %llu audit %d flags %#x %s\n",
			      caps_name_static(e->check.cap),
			      e->check.denied ? "denied" : "granted", e->check.syscall,
			      (unsigned long long)e->check.count, e->check.audit, e->check.flags,
			      e->binary ? e->binary : "(no binary)");
	}
}

/* At least one check of cap with that verdict by binary; says what was
 * seen when there is none. */
static void expect_checks(const struct recorder_result *res, int cap, bool denied,
			  const char *binary)
{
	if (checks(res, cap, denied, binary) == 0) {
		dump(res);
		fail_msg("no %s %s check by %s", denied ? "denied" : "granted",
			 caps_name_static(cap), binary);
	}
}

/* The exec records named every image that made a check, with the path it
 * was exec'd by: absolute, as every command here is. */
static void expect_binaries_absolute(const struct recorder_result *res)
{
	for (size_t i = 0; i < res->n_entries; i++) {
		const char *b = res->entries[i].binary;

		if (!b || b[0] != '/') {
			dump(res);
			fail_msg("entry %zu has binary '%s'", i, b ? b : "(null)");
		}
	}
}

static void expect_exit_0(const struct recorder_result *res)
{
	if (!WIFEXITED(res->wait_status) || WEXITSTATUS(res->wait_status) != 0)
		fail_msg("command ended with wait status %#x", res->wait_status);
}

static void expect_killed(const struct recorder_result *res, int sig)
{
	if (!WIFSIGNALED(res->wait_status) || WTERMSIG(res->wait_status) != sig)
		fail_msg("command ended with wait status %#x, want signal %d", res->wait_status,
			 sig);
}

static void write_file(const char *path)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
}

/* (a) A root script in the recording's cgroup: chown needs CAP_CHOWN (the
 * file goes to another user), the chmod that follows CAP_FOWNER (root no
 * longer owns it), each blamed on its own binary, not on the shell. */
static void test_cgroup_chown(void **state)
{
	struct fixture *f = *state;
	char chown_bin[PATH_MAX], chmod_bin[PATH_MAX], cgroup[PATH_MAX], file[PATH_MAX];
	char script[3 * PATH_MAX + 64], procs[PATH_MAX + 16];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = {};
	struct recorder_error error;
	struct profile *p = NULL;
	struct recorder *r = NULL;
	char *const *command;
	int wait_status = -1;
	struct stat st;
	uid_t uid = 1;

	if (!record_cgroup_path(cgroup)) {
		print_message("no cgroup v2 here: the cgroup path is not tested\n");
		skip();
	}
	find_in_path("chown", chown_bin);
	find_in_path("chmod", chmod_bin);
	FORMAT(file, sizeof(file), "%s/owned", f->dir);
	FORMAT(script, sizeof(script), "set -e; echo hi >'%s'; '%s' %d '%s'; '%s' 600 '%s'", file,
		 chown_bin, NOBODY, file, chmod_bin, file);

	assert_int_equal(recorder__new(&opts, &r), 0);
	/* Held in its cgroup before anything runs: the only process there. */
	assert_true(exists(cgroup));
	FORMAT(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
	assert_int_equal(strspn(slurp(procs), "0123456789"), strlen(slurp(procs)) - 1);
	assert_int_equal(recorder_run(r, f->rings, &res, &error), 0);

	assert_true(res.used_cgroup);
	assert_false(res.stopped);
	expect_exit_0(&res);
	/* The script really ran. */
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(st.st_mode & 07777, 0600);

	expect_checks(&res, CAP_CHOWN, false, chown_bin);
	expect_checks(&res, CAP_FOWNER, false, chmod_bin);
	/* Every CAP_CHOWN check is chown's own. */
	assert_true(checks(&res, CAP_CHOWN, false, NULL) ==
		    checks(&res, CAP_CHOWN, false, chown_bin));
	assert_true(checks(&res, CAP_CHOWN, true, NULL) == 0);
	expect_binaries_absolute(&res);
	for (size_t i = 0; i < res.n_entries; i++) {
		if (res.entries[i].check.cap == CAP_CHOWN) {
			assert_true(res.entries[i].check.first_ns > 0);
			assert_int_not_equal(res.entries[i].check.audit, CHECK_NOAUDIT);
			assert_int_equal(res.entries[i].check.flags & CHECK_KTHREAD, 0);
		}
	}

	/* The profile of the recording. */
	assert_int_equal(record_profile_build(&res, argv, 0, &p), 0);
	assert_true(profile_required_mask(p) & RINGS_CAP(CAP_CHOWN));
	assert_true(profile_required_mask(p) & RINGS_CAP(CAP_FOWNER));
	assert_true(profile_grant_mask(p) == profile_required_mask(p));
	assert_false(profile_mask(p, PROFILE_CLASS_DENIED) & RINGS_CAP(CAP_CHOWN));
	/* Exec and mmap probe CAP_SYS_ADMIN without auditing: not required, and
	 * nothing else is, as long as the kernel's symbols told the probes
	 * apart. */
	if (!res.noaudit_unknown)
		assert_true(profile_required_mask(p) ==
			    (RINGS_CAP(CAP_CHOWN) | RINGS_CAP(CAP_FOWNER)));
	assert_string_equal(profile_workload(p), "sh");
	command = profile_command(p);
	assert_non_null(command);
	for (int i = 0; argv[i]; i++)
		assert_string_equal(command[i], argv[i]);
	assert_null(command[3]);
	assert_int_equal(profile_coverage(p), 1);
	assert_true(profile_unnamed_instance(p));
	assert_true(profile_exit(p, &wait_status));
	assert_int_equal(wait_status, res.wait_status);
	assert_true(profile_user(p, &uid, NULL));
	assert_int_equal(uid, 0);
	profile__free(p);
	recorder_result_free(&res);
	assert_null(res.entries);
	assert_int_equal(res.n_entries, 0);

	/* The cgroup lives as long as the recorder, and goes with it. */
	assert_true(exists(cgroup));
	recorder__free(r);
	assert_false(exists(cgroup));
}

/* (b) No cgroup v2 under the given root: the recorder follows forks. The
 * shell's child chowns, its grandchild chgrps to a group root is not in;
 * both need CAP_CHOWN and both are counted. */
static void test_fork_tracking(void **state)
{
	struct fixture *f = *state;
	char chown_bin[PATH_MAX], chgrp_bin[PATH_MAX], sh_bin[PATH_MAX];
	char f1[PATH_MAX], f2[PATH_MAX], script[5 * PATH_MAX + 64];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = {};
	struct recorder_error error;
	struct recorder *r = NULL;
	struct stat st;

	find_in_path("chown", chown_bin);
	find_in_path("chgrp", chgrp_bin);
	find_in_path("sh", sh_bin);
	FORMAT(f1, sizeof(f1), "%s/child", f->dir);
	FORMAT(f2, sizeof(f2), "%s/grandchild", f->dir);
	write_file(f1);
	write_file(f2);
	/* Neither call is the last of its shell, so neither shell execs in
	 * place: sh -> sh -> chgrp is a real grandchild. */
	FORMAT(script, sizeof(script), "set -e; '%s' %d '%s'; '%s' -c \"'%s' %d '%s'; true\"; true",
		 chown_bin, NOBODY, f1, sh_bin, chgrp_bin, NOBODY, f2);
	/* A plain directory, without "unified" below it: not cgroup v2. */
	opts.cgroupfs_root = f->dir;

	assert_int_equal(recorder__new(&opts, &r), 0);
	assert_int_equal(recorder_run(r, f->rings, &res, &error), 0);
	assert_false(res.used_cgroup);
	assert_false(res.stopped);
	expect_exit_0(&res);
	assert_int_equal(stat(f1, &st), 0);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(stat(f2, &st), 0);
	assert_int_equal(st.st_gid, NOBODY);

	expect_checks(&res, CAP_CHOWN, false, chown_bin);
	expect_checks(&res, CAP_CHOWN, false, chgrp_bin);
	assert_true(checks(&res, CAP_CHOWN, false, NULL) ==
		    checks(&res, CAP_CHOWN, false, chown_bin) +
			    checks(&res, CAP_CHOWN, false, chgrp_bin));
	expect_binaries_absolute(&res);
	assert_int_equal(res.untracked, 0);
	assert_int_equal(res.stats.track_full, 0);
	recorder_result_free(&res);
	recorder__free(r);
}

/* (c) The command cannot be exec'd: its errno comes back as the error, and
 * nothing is left behind. */
static void test_exec_fails(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "/nonexistent", NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = { .n_entries = 99 };
	struct recorder_error error;
	struct recorder *r = NULL;
	char cgroup[PATH_MAX];
	bool has_cgroup = record_cgroup_path(cgroup);

	assert_int_equal(recorder__new(&opts, &r), 0);
	assert_int_equal(recorder_run(r, f->rings, &res, &error), -ENOENT);
	assert_true(error.exec_failed);
	assert_false(error.loading);
	assert_string_equal(error.step, "run the command");
	assert_int_equal(res.n_entries, 99); /* the result is untouched */
	assert_null(res.entries);
	recorder__free(r);
	if (has_cgroup)
		assert_false(exists(cgroup));
}

/* (d) --duration on a command that would outlive it: stopped, and the
 * command killed; in the cgroup (cgroup.kill) and under fork tracking
 * (kill of the command), which stop it differently. */
static void test_duration(void **state)
{
	struct fixture *f = *state;
	char sleep_bin[PATH_MAX];
	char *argv[] = { sleep_bin, "30", NULL };

	find_in_path("sleep", sleep_bin);
	for (int fork_tracking = 0; fork_tracking <= 1; fork_tracking++) {
		struct recorder_opts opts = opts_for(argv);
		struct recorder_result res = {};
		struct recorder_error error;
		struct recorder *r = NULL;

		opts.duration = 1;
		if (fork_tracking)
			opts.cgroupfs_root = f->dir;
		assert_int_equal(recorder__new(&opts, &r), 0);
		assert_int_equal(recorder_run(r, f->rings, &res, &error), 0);
		/* Stopped as a supervisor would: sleep dies of the SIGTERM. */
		assert_true(res.stopped);
		assert_true(res.stopped_cleanly);
		assert_false(res.killed);
		expect_killed(&res, SIGTERM);
		if (fork_tracking)
			assert_false(res.used_cgroup);
		recorder_result_free(&res);
		recorder__free(r);
	}
}

/* A signal handler sets the stop flag; on_ready runs at the one moment a
 * test can be sure the recording has started. */
static bool request_stop(void *ctx, const struct loader_report *hooks)
{
	assert_non_null(hooks);
	*(int *)ctx += 1;
	stop_flag = 1;
	return true;
}

static void test_stop_flag(void **state)
{
	struct fixture *f = *state;
	char sleep_bin[PATH_MAX];
	char *argv[] = { sleep_bin, "30", NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = {};
	struct recorder_error error;
	struct recorder *r = NULL;
	int calls = 0;

	find_in_path("sleep", sleep_bin);
	opts.on_ready = request_stop;
	opts.ctx = &calls;
	assert_int_equal(recorder__new(&opts, &r), 0);
	assert_int_equal(recorder_run(r, f->rings, &res, &error), 0);
	assert_int_equal(calls, 1);
	assert_true(res.stopped);
	assert_true(res.stopped_cleanly);
	expect_killed(&res, SIGTERM);
	recorder_result_free(&res);
	recorder__free(r);
}

/* A command that ignores SIGTERM is killed once the grace period is over,
 * in its cgroup and under fork tracking alike. */
static void test_stop_timeout(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "/bin/sh", "-c", "trap '' TERM; exec sleep 30", NULL };

	for (int fork_tracking = 0; fork_tracking <= 1; fork_tracking++) {
		struct recorder_opts opts = opts_for(argv);
		struct recorder_result res = {};
		struct recorder_error error;
		struct recorder *r = NULL;

		opts.duration = 0.5;
		opts.stop_timeout = 0.5;
		if (fork_tracking)
			opts.cgroupfs_root = f->dir;
		assert_int_equal(recorder__new(&opts, &r), 0);
		assert_int_equal(recorder_run(r, f->rings, &res, &error), 0);
		assert_true(res.stopped);
		assert_true(res.killed);
		assert_false(res.stopped_cleanly);
		expect_killed(&res, SIGKILL);
		recorder_result_free(&res);
		recorder__free(r);
	}
}

/* No stop flag at all (a caller without a signal handler): the wait
 * dereferenced it on its first round that found the command still
 * running. A sleep longer than one round of the wait (POLL_MS) makes sure
 * there is such a round; how long it takes is not asserted. */
static void test_no_stop_flag(void **state)
{
	struct fixture *f = *state;
	char sleep_bin[PATH_MAX];
	char *argv[] = { sleep_bin, "0.3", NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = {};
	struct recorder_error error;
	struct recorder *r = NULL;

	find_in_path("sleep", sleep_bin);
	opts.stop = NULL;
	assert_int_equal(recorder__new(&opts, &r), 0);
	assert_int_equal(recorder_run(r, f->rings, &res, &error), 0);
	assert_false(res.stopped);
	expect_exit_0(&res);
	recorder_result_free(&res);
	recorder__free(r);
}

static bool refuse(void *ctx, const struct loader_report *hooks)
{
	(void)hooks;
	*(int *)ctx += 1;
	return false;
}

/* on_ready says no: the command is never released, so it never runs. */
static void test_on_ready_aborts(void **state)
{
	struct fixture *f = *state;
	char touch_bin[PATH_MAX], file[PATH_MAX], cgroup[PATH_MAX];
	char *argv[] = { touch_bin, file, NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = {};
	struct recorder_error error;
	struct recorder *r = NULL;
	bool has_cgroup = record_cgroup_path(cgroup);
	int calls = 0;

	find_in_path("touch", touch_bin);
	FORMAT(file, sizeof(file), "%s/never", f->dir);
	opts.on_ready = refuse;
	opts.ctx = &calls;
	assert_int_equal(recorder__new(&opts, &r), 0);
	assert_int_equal(recorder_run(r, f->rings, &res, &error), -ECANCELED);
	assert_int_equal(calls, 1);
	assert_string_equal(error.step, "start recording");
	assert_false(error.loading);
	assert_false(error.exec_failed);
	recorder__free(r); /* reaps the held command */
	assert_false(exists(file));
	if (has_cgroup)
		assert_false(exists(cgroup));
}

/* (e) This binary, run as the command, drops to nobody and asks for the
 * kernel log's unread size: CAP_SYSLOG denied, counted as such, blamed on
 * this binary and its syslog call; the setresuid before it granted. */
static void test_denied_syslog(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { self_exe, SYSLOG_HELPER, NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = {};
	struct recorder_error error;
	struct profile_denial *denials = NULL;
	struct profile *p = NULL;
	struct recorder *r = NULL;
	bool syscall_seen = false;
	size_t n_denials = 0;
	const char *user = NULL;
	uid_t uid = 1;

	assert_int_equal(recorder__new(&opts, &r), 0);
	assert_int_equal(recorder_run(r, f->rings, &res, &error), 0);
	expect_exit_0(&res); /* the helper saw EPERM */
	expect_checks(&res, CAP_SYSLOG, true, self_exe);
	assert_true(checks(&res, CAP_SYSLOG, false, NULL) == 0);
	expect_checks(&res, CAP_SETUID, false, self_exe);
	for (size_t i = 0; i < res.n_entries; i++) {
		const struct recorder_entry *e = &res.entries[i];

		if (e->check.cap == CAP_SYSLOG && e->check.denied)
			syscall_seen |= e->check.syscall == SYS_syslog;
	}
	assert_true(syscall_seen);
	expect_binaries_absolute(&res);

	assert_int_equal(record_profile_build(&res, argv, 0, &p), 0);
	assert_true(profile_user(p, &uid, &user));
	assert_int_equal(uid, 0);
	assert_string_equal(user, "root");
	assert_true(profile_mask(p, PROFILE_CLASS_DENIED) & RINGS_CAP(CAP_SYSLOG));
	assert_false(profile_required_mask(p) & RINGS_CAP(CAP_SYSLOG));
	assert_true(profile_required_mask(p) & RINGS_CAP(CAP_SETUID));
	assert_string_equal(profile_workload(p), strrchr(self_exe, '/') + 1);
	assert_int_equal(profile_coverage(p), 1);
	assert_int_equal(profile_denials(p, &denials, &n_denials), 0);
	assert_int_equal(n_denials, 1);
	assert_int_equal(denials[0].cap, CAP_SYSLOG);
	assert_int_equal(denials[0].syscall, SYS_syslog);
	assert_string_equal(denials[0].binary, self_exe);
	/* The outcome hook is there from the start: the very first denial's
	 * EPERM is seen, however soon the syscall returns. */
	assert_true(denials[0].outcomes[PROFILE_OUTCOME_MATTERED] >= 1);
	assert_true(denials[0].outcomes[PROFILE_OUTCOME_UNOBSERVED] == 0);
	free(denials);
	profile__free(p);
	recorder_result_free(&res);
	recorder__free(r);
}

static void test_free_null(void **state)
{
	struct recorder_result res = {};

	(void)state;
	recorder__free(NULL);
	recorder_result_free(NULL);
	recorder_result_free(&res);
	assert_null(res.entries);
}

/* The command of test_denied_syslog. _exit: nothing of the test's state
 * (nor a leak checker) runs in it. */
static int syslog_as_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(2);
	if (klogctl(SYSLOG_ACTION_SIZE_UNREAD, NULL, 0) != -1 || errno != EPERM)
		_exit(3);
	_exit(0);
}

/* Skips (77) where the programs cannot load at all; any other failure is
 * left for the tests to report. */
static int probe_bpf(void)
{
	char true_bin[PATH_MAX];
	char *argv[] = { true_bin, NULL };
	struct recorder_opts opts = opts_for(argv);
	struct recorder_result res = {};
	struct recorder_error error = {};
	struct rings *rings = NULL;
	struct recorder *r = NULL;
	int err;

	find_in_path("true", true_bin);
	err = recorder__new(&opts, &r);
	if (!err)
		err = new_rings(&rings);
	if (!err)
		err = recorder_run(r, rings, &res, &error);
	recorder_result_free(&res);
	recorder__free(r);
	rings__free(rings);
	if (err && error.loading && (err == -EPERM || err == -EOPNOTSUPP)) {
		printf("skipped: the BPF programs cannot load here: %s\n", strerror(-err));
		return 77;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cgroup_chown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_tracking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_stop_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_ready_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denied_syslog, setup, teardown),
		cmocka_unit_test(test_free_null),
	};
	int rc;

	if (argc == 2 && !strcmp(argv[1], SYSLOG_HELPER))
		return syslog_as_nobody();
	if (getuid() != 0) {
		printf("skipped: needs root (loads BPF programs)\n");
		return 77;
	}
	/* The path test_denied_syslog execs this binary by, and so the binary
	 * its checks are blamed on. */
	if (!realpath("/proc/self/exe", self_exe)) {
		perror("realpath /proc/self/exe");
		return 1;
	}
	rc = probe_bpf();
	if (rc)
		return rc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
