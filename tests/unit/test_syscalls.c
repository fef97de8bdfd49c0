/* Syscall names of the build architecture, both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "lib/syscalls.h"

static void test_known_names(void **state)
{
	char name[SYSCALLS_NAME_LEN];

	(void)state;
	/* SYS_* are the build architecture's numbers, like the table's. */
	assert_string_equal(syscalls_name(SYS_openat, name), "openat");
	assert_string_equal(syscalls_name(SYS_syslog, name), "syslog");
	assert_string_equal(syscalls_name(SYS_fchownat, name), "fchownat");
	assert_string_equal(syscalls_name(SYS_capset, name), "capset");
}

static void test_unknown_and_none(void **state)
{
	char name[SYSCALLS_NAME_LEN] = "untouched";

	(void)state;
	assert_null(syscalls_name(-1, name));
	assert_string_equal(name, "untouched");
	assert_null(syscalls_name(-42, name));
	assert_string_equal(syscalls_name(100000, name), "syscall_100000");
	assert_string_equal(syscalls_name(2147483647, name), "syscall_2147483647");
}

static void test_reverse(void **state)
{
	int nr = -7;

	(void)state;
	assert_int_equal(syscalls_number("openat", &nr), 0);
	assert_int_equal(nr, SYS_openat);
	assert_int_equal(syscalls_number("syscall_100000", &nr), 0);
	assert_int_equal(nr, 100000);
	nr = -7;
	assert_int_equal(syscalls_number("no_such_syscall", &nr), -ENOENT);
	assert_int_equal(syscalls_number("syscall_", &nr), -ENOENT);
	assert_int_equal(syscalls_number("syscall_12x", &nr), -ENOENT);
	assert_int_equal(syscalls_number("syscall_-3", &nr), -ENOENT);
	assert_int_equal(syscalls_number("syscall_ 3", &nr), -ENOENT);
	assert_int_equal(syscalls_number("syscall_99999999999", &nr), -ENOENT);
	assert_int_equal(syscalls_number("sys", &nr), -ENOENT);
	assert_int_equal(syscalls_number("", &nr), -EINVAL);
	assert_int_equal(syscalls_number(NULL, &nr), -EINVAL);
	assert_int_equal(nr, -7);
#ifdef __x86_64__
	/* libseccomp knows it, but only as another architecture's. */
	assert_int_equal(syscalls_number("socketcall", &nr), -ENOENT);
#endif
}

/* Whatever a number is called, that name comes back to the number. */
static void test_round_trip(void **state)
{
	char name[SYSCALLS_NAME_LEN];
	int nr, named = 0;

	(void)state;
	for (int i = 0; i < 1024; i++) {
		assert_non_null(syscalls_name(i, name));
		assert_int_equal(syscalls_number(name, &nr), 0);
		assert_int_equal(nr, i);
		named += strncmp(name, "syscall_", 8) != 0;
	}
	assert_true(named > 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_names),
		cmocka_unit_test(test_unknown_and_none),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
