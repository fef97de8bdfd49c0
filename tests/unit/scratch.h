/* What several unit tests need around the code under test: a scratch
 * directory, a file's text, a child's exit code. Include after cmocka.h. */
#ifndef CAPTRAIL_TEST_SCRATCH_H
#define CAPTRAIL_TEST_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>

#define SCRATCH_DIR_LEN 64

/* /tmp/captrail-<name>.XXXXXX, created; 0 or -1. */
static inline int scratch_dir_make(char dir[SCRATCH_DIR_LEN], const char *name)
{
	snprintf(dir, SCRATCH_DIR_LEN, "/tmp/captrail-%s.XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

/* The directory and all below it; 0 or -1. */
static inline int scratch_dir_remove(const char *dir)
{
	char cmd[SCRATCH_DIR_LEN + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

/* The first 64 KiB of path, NUL-terminated, in a buffer the next call
 * reuses. */
static inline char *slurp(const char *path)
{
	static char buf[64 * 1024];
	FILE *in = fopen(path, "r");
	size_t n;

	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	buf[n] = '\0';
	fclose(in);
	return buf;
}

/* Waits for pid, which must exit (not be killed); returns its exit code. */
static inline int child_exit_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#endif
