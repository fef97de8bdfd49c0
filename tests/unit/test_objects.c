/* The objects of checks: which syscalls the BPF side reads what for, and
 * how each record reads as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "kernel/objects.h"

static struct ct_object_event rec;

static struct ct_object_event *mk(int nr, const char *path)
{
	memset(&rec, 0, sizeof(rec));
	rec.type = CT_REC_OBJECT;
	rec.key.syscall = nr;
	if (path) {
		rec.data_len = (uint32_t)strlen(path) + 1;
		memcpy(rec.data, path, rec.data_len);
		rec.flags = CT_OBJECT_DATA_READ;
	}
	return &rec;
}

static const char *render(void)
{
	static char text[OBJECTS_TEXT_LEN];

	strcpy(text, "untouched");
	return objects_render(&rec, text) ? NULL : text;
}

static void test_paths_and_owners(void **state)
{
	(void)state;
	mk(SYS_fchownat, "/var/lib/nginx/body");
	rec.args[2] = 33;
	rec.args[3] = 33;
	assert_string_equal(render(), "/var/lib/nginx/body -> 33:33");
	rec.args[3] = UINT32_MAX; /* -1: unchanged */
	assert_string_equal(render(), "/var/lib/nginx/body -> 33:-");
	mk(SYS_fchown, NULL);
	rec.args[0] = 3;
	rec.args[1] = 0;
	rec.args[2] = 0xffffffffffffffffull;
	assert_string_equal(render(), "fd 3 -> 0:-");
	mk(SYS_openat, "/etc/shadow");
	assert_string_equal(render(), "/etc/shadow");
	mk(SYS_fchmodat, "/x");
	rec.args[2] = 04755;
	assert_string_equal(render(), "/x mode 4755");
	/* A path the read could not get: no object, text untouched. */
	mk(SYS_chmod, NULL);
	rec.flags = CT_OBJECT_DATA_FAILED;
	assert_null(render());
	/* A path as long as the buffer may be cut: said. */
	mk(SYS_openat, NULL);
	memset(rec.data, 'a', sizeof(rec.data) - 1);
	rec.data_len = CT_OBJECT_DATA;
	rec.flags = CT_OBJECT_DATA_READ;
	assert_int_equal(strlen(render()), CT_OBJECT_DATA - 1 + 3);
	/* No NUL where the length says: bounded anyway. */
	memset(rec.data, 'b', sizeof(rec.data));
	assert_true(strlen(render()) <= CT_OBJECT_DATA + 3);
}

static void test_ids_pids_ports(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
	struct sockaddr_un {
		sa_family_t family;
		char path[14];
	} un = { AF_UNIX, "x" };

	(void)state;
	mk(SYS_setuid, NULL);
	rec.args[0] = 33;
	assert_string_equal(render(), "uid 33");
	mk(SYS_setresgid, NULL);
	rec.args[0] = 1;
	rec.args[1] = 2;
	rec.args[2] = UINT32_MAX;
	assert_string_equal(render(), "gid 1/2/-");
	mk(SYS_kill, NULL);
	rec.args[0] = 1234;
	assert_string_equal(render(), "pid 1234");
	mk(SYS_ptrace, NULL);
	rec.args[1] = 99;
	assert_string_equal(render(), "pid 99");
	mk(SYS_bind, NULL);
	memcpy(rec.data, &in, sizeof(in));
	rec.data_len = 28;
	rec.flags = CT_OBJECT_DATA_READ;
	assert_string_equal(render(), "port 80");
	memcpy(rec.data, &in6, sizeof(in6));
	assert_string_equal(render(), "port 443");
	rec.data_len = 16; /* an IPv6 address cut short */
	assert_null(render());
	memcpy(rec.data, &un, sizeof(un));
	rec.data_len = 28;
	assert_null(render());
	/* Outside the table, or not in a syscall. */
	mk(SYS_getpid, NULL);
	assert_null(render());
	mk(-1, NULL);
	assert_null(render());
}

static int count_spec(void *ctx, int nr, const struct ct_object_spec *spec)
{
	int *n = ctx;

	assert_true(nr >= 0 && nr < CT_OBJECT_SYSCALLS);
	if (nr == SYS_fchownat) {
		assert_int_equal(spec->read, CT_OBJECT_STRING);
		assert_int_equal(spec->arg, 1);
	}
	if (nr == SYS_bind) {
		assert_int_equal(spec->read, CT_OBJECT_SOCKADDR);
		assert_int_equal(spec->arg, 1);
	}
	if (nr == SYS_kill)
		assert_int_equal(spec->read, CT_OBJECT_ARGS_ONLY);
	(*n)++;
	return 0;
}

static int refuse(void *ctx, int nr, const struct ct_object_spec *spec)
{
	(void)ctx;
	(void)nr;
	(void)spec;
	return -E2BIG;
}

static void test_specs(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(objects_specs(count_spec, &n), 0);
	assert_true(n > 50);
	assert_int_equal(objects_specs(refuse, NULL), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_and_owners),
		cmocka_unit_test(test_ids_pids_ports),
		cmocka_unit_test(test_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
