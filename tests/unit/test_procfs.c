/* /proc readers on the fixture tree in tests/fixtures/proc, and on the real
 * /proc for the test's own process (no root needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/procfs.h"
#include "lib/clock.h"

static char root[PATH_MAX];

static void test_stat_comm_with_parens_and_spaces(void **state)
{
	struct procfs_stat st;

	(void)state;
	assert_int_equal(procfs_read_stat(root, 200, &st), 0);
	assert_string_equal(st.comm, "a) b (c");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 1);
	assert_true(st.starttime == 5000);

	assert_int_equal(procfs_read_stat(root, 500, &st), 0);
	assert_string_equal(st.comm, "kworker/0:1-eve"); /* cut to CT_COMM_LEN - 1 */
	assert_int_equal(st.ppid, 2);
	assert_true(st.starttime == 20);
}

static void test_gone_is_enoent(void **state)
{
	struct procfs_stat st = { .ppid = 77 };
	struct procfs_process p;
	uint32_t auid = 5, ns[CT_NS_COUNT];
	char buf[64];
	bool flag;

	(void)state;
	assert_int_equal(procfs_read_stat(root, 999, &st), -ENOENT);
	assert_int_equal(st.ppid, 77); /* untouched on failure */
	assert_int_equal(procfs_read_loginuid(root, 999, &auid), -ENOENT);
	assert_int_equal(auid, 5);
	assert_int_equal(procfs_read_exe(root, 999, buf, sizeof(buf), &flag), -ENOENT);
	assert_int_equal(procfs_read_cmdline(root, 999, buf, sizeof(buf), &flag), -ENOENT);
	assert_int_equal(procfs_read_ns(root, 999, ns), -ENOENT);
	assert_int_equal(procfs_read_process(root, 999, &p), -ENOENT);
}

static void test_status(void **state)
{
	struct procfs_status st;

	(void)state;
	assert_int_equal(procfs_read_status(root, 300, &st), 0);
	assert_int_equal(st.tgid, 300);
	assert_int_equal(st.euid, 1001);
	assert_true(st.cap_permitted == 0x3000);
	assert_true(st.cap_effective == 0x1000);
	assert_true(st.cap_inheritable == 0);
	assert_int_equal(procfs_read_status(root, 400, &st), 0);
	assert_int_equal(st.tgid, 300);
}

static void test_loginuid(void **state)
{
	uint32_t auid = 0;

	(void)state;
	assert_int_equal(procfs_read_loginuid(root, 300, &auid), 0);
	assert_int_equal(auid, 1000);
	assert_int_equal(procfs_read_loginuid(root, 1, &auid), 0);
	assert_true(auid == PROCFS_AUID_UNSET);
	auid = 0;
	/* No loginuid file (kernel without audit): unset, not an error. */
	assert_int_equal(procfs_read_loginuid(root, 200, &auid), 0);
	assert_true(auid == PROCFS_AUID_UNSET);
}

static void test_exe_and_cwd(void **state)
{
	char buf[64];
	bool deleted = true;

	(void)state;
	assert_int_equal(procfs_read_exe(root, 300, buf, sizeof(buf), &deleted), 0);
	assert_string_equal(buf, "/usr/bin/prog");
	assert_false(deleted);
	assert_int_equal(procfs_read_exe(root, 200, buf, sizeof(buf), &deleted), 0);
	assert_string_equal(buf, "/usr/bin/foo");
	assert_true(deleted);
	/* Kernel thread: the process is there, its exe is not. */
	assert_int_equal(procfs_read_exe(root, 500, buf, sizeof(buf), &deleted), -ENODATA);
	assert_int_equal(procfs_read_exe(root, 300, buf, 13, &deleted), -ENAMETOOLONG);
	assert_int_equal(procfs_read_cwd(root, 200, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/user");
}

static void test_cmdline(void **state)
{
	char buf[64];
	bool truncated = true;

	(void)state;
	/* "prog\0-x\0\0y\0": argv[0] dropped, an empty argument kept. */
	assert_int_equal(procfs_read_cmdline(root, 300, buf, sizeof(buf), &truncated), 0);
	assert_string_equal(buf, "-x  y");
	assert_false(truncated);
	/* Exactly room for it: the last terminator is not a cut. */
	assert_int_equal(procfs_read_cmdline(root, 300, buf, 6, &truncated), 0);
	assert_string_equal(buf, "-x  y");
	assert_false(truncated);
	assert_int_equal(procfs_read_cmdline(root, 300, buf, 5, &truncated), 0);
	assert_string_equal(buf, "-x  ");
	assert_true(truncated);
	/* Kernel thread: empty. */
	assert_int_equal(procfs_read_cmdline(root, 500, buf, sizeof(buf), &truncated), 0);
	assert_string_equal(buf, "");
	assert_false(truncated);
}

static void test_cmdline_truncated_at_args_max(void **state)
{
	char buf[CT_ARGS_MAX + 1];
	bool truncated = false;

	(void)state;
	assert_int_equal(procfs_read_cmdline(root, 200, buf, sizeof(buf), &truncated), 0);
	assert_true(truncated);
	/* 128 arguments of 7 bytes and their separators fill 1024 bytes: the
	 * 128th separator is dropped rather than kept dangling. */
	assert_int_equal(strlen(buf), CT_ARGS_MAX - 1);
	assert_memory_equal(buf, "arg0000 arg0001 arg0002", 23);
	assert_string_equal(buf + CT_ARGS_MAX - 8, "arg0127");
}

static void test_ns(void **state)
{
	uint32_t ns[CT_NS_COUNT];

	(void)state;
	assert_int_equal(procfs_read_ns(root, 1, ns), 0);
	assert_true(ns[CT_NS_UTS] == 4026531838u);
	assert_true(ns[CT_NS_IPC] == 4026531839u);
	assert_true(ns[CT_NS_MNT] == 4026531841u);
	assert_true(ns[CT_NS_PID] == 4026531836u);
	assert_true(ns[CT_NS_PID_FOR_CHILDREN] == 4026531836u);
	assert_true(ns[CT_NS_NET] == 4026531840u);
	assert_true(ns[CT_NS_TIME] == 4026531834u);
	assert_true(ns[CT_NS_TIME_FOR_CHILDREN] == 4026531834u);
	assert_true(ns[CT_NS_CGROUP] == 4026531835u);
	assert_true(ns[CT_NS_USER] == 4026531837u);
	/* A kernel without time namespaces. */
	assert_int_equal(procfs_read_ns(root, 300, ns), 0);
	assert_true(ns[CT_NS_TIME] == 0 && ns[CT_NS_TIME_FOR_CHILDREN] == 0);
	assert_true(ns[CT_NS_NET] == 4026532008u);
}

static void test_list_pids(void **state)
{
	static const uint32_t want[] = { 1, 200, 300, 400, 500 };
	uint32_t *pids = NULL;
	size_t count = 0, i;

	(void)state;
	assert_int_equal(procfs_list_pids(root, &pids, &count), 0);
	assert_int_equal(count, sizeof(want) / sizeof(want[0])); /* not "self", "sys", "stat" */
	for (i = 0; i < count; i++)
		assert_int_equal(pids[i], want[i]);
	free(pids);
	assert_int_equal(procfs_list_pids("/nonexistent", &pids, &count), -ENOENT);
}

static void test_btime(void **state)
{
	uint64_t btime = 0, real_btime = 0;
	int64_t offset;

	(void)state;
	assert_int_equal(clock_read_btime(root, &btime), 0);
	assert_true(btime == 1688625571);
	/* The clocks' offset is the boot time, which btime rounds down. */
	assert_int_equal(clock_read_btime("/proc", &real_btime), 0);
	offset = clock_boot_offset_ns();
	assert_true(offset / 1000000000 + 1 >= (int64_t)real_btime);
	assert_true(offset / 1000000000 <= (int64_t)real_btime + 1);
	assert_true(procfs_tick_ns() > 0);
}

static void test_process(void **state)
{
	struct procfs_process p;

	(void)state;
	assert_int_equal(procfs_read_process(root, 200, &p), 0);
	assert_int_equal(p.pid, 200);
	assert_int_equal(p.ppid, 1);
	assert_int_equal(p.euid, 0);
	assert_true(p.auid == PROCFS_AUID_UNSET);
	assert_true(p.starttime == 5000);
	assert_string_equal(p.comm, "a) b (c");
	assert_string_equal(p.exe, "/usr/bin/foo");
	assert_string_equal(p.cwd, "/home/user");
	assert_int_equal(p.flags, PROCFS_EXE_DELETED | PROCFS_TRUNC_ARGS);
	assert_int_equal(strlen(p.args), CT_ARGS_MAX - 1);

	assert_int_equal(procfs_read_process(root, 500, &p), 0);
	assert_int_equal(p.flags, PROCFS_ERR_EXE);
	assert_string_equal(p.exe, "");
	assert_string_equal(p.cwd, "/");

	/* A thread id is not a process. */
	assert_int_equal(procfs_read_process(root, 400, &p), -ENOENT);
}

/* The real /proc, for this process: what it says must agree with the
 * system calls. */
static void test_real_proc_self(void **state)
{
	char exe[PATH_MAX], cwd[PATH_MAX];
	struct procfs_process p;
	struct stat st;
	ssize_t n;

	(void)state;
	assert_int_equal(procfs_read_process("/proc", (uint32_t)getpid(), &p), 0);
	assert_int_equal(p.pid, getpid());
	assert_int_equal(p.ppid, getppid());
	assert_int_equal(p.euid, geteuid());
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(p.exe, exe);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_string_equal(p.cwd, cwd);
	assert_int_equal(stat("/proc/self/ns/uts", &st), 0);
	assert_true(p.ns[CT_NS_UTS] == st.st_ino);
	assert_int_equal(stat("/proc/self/ns/user", &st), 0);
	assert_true(p.ns[CT_NS_USER] == st.st_ino);
	/* The reference format's quoting, as an exec record gets it. */
	assert_string_equal(p.args, "--self-test-arg x \"a b\"");
	assert_true(p.starttime > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_comm_with_parens_and_spaces),
		cmocka_unit_test(test_gone_is_enoent),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_loginuid),
		cmocka_unit_test(test_exe_and_cwd),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_cmdline_truncated_at_args_max),
		cmocka_unit_test(test_ns),
		cmocka_unit_test(test_list_pids),
		cmocka_unit_test(test_btime),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_real_proc_self),
	};
	const char *src = getenv("CAPTRAIL_SRC");

	/* Re-run with known arguments, so that the real cmdline is known. */
	if (argc < 2 || strcmp(argv[1], "--self-test-arg") != 0) {
		execl("/proc/self/exe", argv[0], "--self-test-arg", "x", "a b", (char *)NULL);
		perror("execl /proc/self/exe");
		return 1;
	}
	snprintf(root, sizeof(root), "%s/tests/fixtures/proc", src ? src : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
