/* Exec records from the real BPF program, decoded: the arguments are
 * exactly argv[1..] whatever argv[0]'s length (up to the kernel's 128 KiB
 * per string), and arguments past CT_ARGS_MAX are cut with
 * CT_PROC_TRUNC_ARGS, never filled with argv[0]'s tail. Exits 77 without
 * root or BPF. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/loader.h"
#include "kernel/records.h"

#define ARG_STRLEN_MAX (32 * 4096) /* the kernel's MAX_ARG_STRLEN, NUL included */
#define MAX_CHILDREN 16
#define WAIT_POLLS 600 /* of 100 ms: records come at once, this only avoids a hang */

static char true_bin[PATH_MAX];
static struct loader *loader;

/* The exec records of the children exec_all() started. */
static struct {
	pid_t pid[MAX_CHILDREN];
	struct ct_proc_event rec[MAX_CHILDREN];
	bool got[MAX_CHILDREN];
	size_t n;
} seen;

static int on_proc(void *ctx, const struct ct_proc_event *e)
{
	(void)ctx;
	if (e->type != CT_REC_EXEC)
		return 0;
	for (size_t i = 0; i < seen.n; i++)
		if ((pid_t)e->pid == seen.pid[i] && !seen.got[i]) {
			seen.rec[i] = *e;
			seen.got[i] = true;
		}
	return 0;
}

static size_t got(void)
{
	size_t n = 0;

	for (size_t i = 0; i < seen.n; i++)
		n += seen.got[i];
	return n;
}

/* A string of n bytes of c, then `tail` (so a leak of argv[0] shows). */
static char *filled(size_t n, const char *tail)
{
	size_t t = strlen(tail);
	char *s;

	assert_true(n >= t);
	s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'A', n - t);
	memcpy(s + n - t, tail, t + 1);
	return s;
}

/* Runs true_bin with each argv, and waits for their exec records. */
static void exec_all(char **const *argvs, size_t n)
{
	memset(&seen, 0, sizeof(seen));
	assert_true(n <= MAX_CHILDREN);
	for (size_t i = 0; i < n; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			char *envp[] = { "LC_ALL=C", NULL };

			execve(true_bin, argvs[i], envp);
			_exit(127);
		}
		seen.pid[i] = pid;
		seen.n = i + 1;
	}
	for (size_t i = 0; i < n; i++) {
		int status;

		assert_int_equal(waitpid(seen.pid[i], &status, 0), seen.pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (int i = 0; i < WAIT_POLLS && got() < n; i++)
		assert_true(loader_poll(loader, 100) >= 0);
	assert_int_equal(got(), n);
}

static const char *args_of(size_t i, char ret[RECORDS_ARGS_LEN])
{
	records_exec_args(&seen.rec[i], ret);
	return ret;
}

/* argv[0] of every length around the read size (CT_ARGS_MAX - 1 bytes of
 * it per read) and its multiples, up to the longest exec allows. */
static void test_long_argv0(void **state)
{
	static const size_t lengths[] = { 0, 1, 1022, 1023, 1024, 1025, 2045, 2046, 2047,
					  2048, 4096, 5000, ARG_STRLEN_MAX - 1 };
	char *argv0[sizeof(lengths) / sizeof(lengths[0])];
	char **argvs[sizeof(lengths) / sizeof(lengths[0])];
	char arguments[RECORDS_ARGS_LEN];
	size_t n = sizeof(lengths) / sizeof(lengths[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char **argv = calloc(5, sizeof(*argv));

		assert_non_null(argv);
		argv0[i] = filled(lengths[i], lengths[i] >= 7 ? "SPOOFED" : "");
		argv[0] = argv0[i];
		argv[1] = "real-arg";
		argv[2] = "";
		argv[3] = "two words";
		argvs[i] = argv;
	}
	exec_all(argvs, n);
	for (size_t i = 0; i < n; i++) {
		const struct ct_proc_event *r = &seen.rec[i];

		print_message("argv[0] of %zu bytes\n", lengths[i]);
		assert_string_equal(args_of(i, arguments), "real-arg  \"two words\"");
		assert_int_equal(r->args_len, sizeof("real-arg") + 1 + sizeof("two words"));
		assert_int_equal(r->flags & (CT_PROC_TRUNC_ARGS | CT_PROC_ERR_ARGS), 0);
		free(argv0[i]);
		free(argvs[i]);
	}
}

/* No argument at all after a long argv[0]; and execve with an empty argv,
 * which the kernel (5.18+) gives an empty argv[0], or leaves without one. */
static void test_no_arguments(void **state)
{
	char *long0 = filled(3000, "SPOOFED");
	char *only[] = { long0, NULL }, *empty[] = { NULL };
	char **argvs[] = { only, empty };
	char arguments[RECORDS_ARGS_LEN];

	(void)state;
	exec_all(argvs, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(args_of(i, arguments), "");
		assert_int_equal(seen.rec[i].args_len, 0);
		assert_int_equal(seen.rec[i].flags & (CT_PROC_TRUNC_ARGS | CT_PROC_ERR_ARGS), 0);
	}
	free(long0);
}

/* Arguments past CT_ARGS_MAX are cut there and marked; what is kept is
 * their start, byte for byte, with or without a long argv[0] before. */
static void test_cut_arguments(void **state)
{
	char *long0 = filled(3000, "SPOOFED"), *big = filled(CT_ARGS_MAX + 500, "END");
	char *fits = filled(CT_ARGS_MAX - 1, "END"); /* with its NUL: exactly CT_ARGS_MAX */
	char *a[] = { "short", big, NULL }, *b[] = { long0, big, NULL };
	char *c[] = { long0, fits, NULL }, *d[] = { "zero", "short", fits, NULL };
	char **argvs[] = { a, b, c, d };
	char arguments[RECORDS_ARGS_LEN];

	(void)state;
	exec_all(argvs, 4);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(seen.rec[i].args_len, CT_ARGS_MAX);
		assert_true(seen.rec[i].flags & CT_PROC_TRUNC_ARGS);
		assert_int_equal(strlen(args_of(i, arguments)), CT_ARGS_MAX);
		assert_memory_equal(arguments, big, CT_ARGS_MAX);
	}
	/* Exactly CT_ARGS_MAX bytes: whole, not marked. */
	assert_int_equal(seen.rec[2].args_len, CT_ARGS_MAX);
	assert_int_equal(seen.rec[2].flags & CT_PROC_TRUNC_ARGS, 0);
	assert_string_equal(args_of(2, arguments), fits);
	/* One byte more: the last argument is cut, and marked. */
	assert_true(seen.rec[3].flags & CT_PROC_TRUNC_ARGS);
	assert_memory_equal(args_of(3, arguments), "short ", 6);
	free(long0);
	free(big);
	free(fits);
}

static bool find_true(void)
{
	static const char *const candidates[] = { "/usr/bin/true", "/bin/true" };

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!access(candidates[i], X_OK)) {
			snprintf(true_bin, sizeof(true_bin), "%s", candidates[i]);
			return true;
		}
	return false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_argv0),
		cmocka_unit_test(test_no_arguments),
		cmocka_unit_test(test_cut_arguments),
	};
	struct loader_opts opts = {
		.filter = { .uid = CT_ANY_UID },
		.track_procs = true,
		.handlers = { .on_proc = on_proc },
	};
	int err, rc;

	if (getuid() != 0) {
		printf("skipped: needs root (loads BPF programs)\n");
		return 77;
	}
	if (!find_true()) {
		printf("no true(1) to exec\n");
		return 1;
	}
	(void)loader_raise_memlock(); /* kernels before 5.11 charge maps to it */
	err = loader__new(&opts, &loader, NULL);
	if (err == -EPERM || err == -EOPNOTSUPP) {
		printf("skipped: the BPF programs cannot load here: %s\n", strerror(-err));
		return 77;
	}
	if (err) {
		printf("cannot load the BPF programs: %s\n", strerror(-err));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	loader__free(loader);
	return rc;
}
