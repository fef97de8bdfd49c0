/* What the libFuzzer harnesses share: inputs as strings, inputs cut into
 * parts, and scratch trees standing in for /proc, cgroupfs and runtime
 * state. A harness aborts on anything that is not the parser's own failure
 * (a scratch file it cannot write): libFuzzer reports it like a crash. */
#ifndef CAPTRAIL_FUZZ_H
#define CAPTRAIL_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parts of one input are separated by this byte (ASCII record separator):
 * one byte is easy for the fuzzer to insert, and seeds stay readable. */
#define FUZZ_SEP '\x1e'

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: harness check failed: %s\n", __FILE__, \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* data[0..size) as a NUL-terminated string (cut at its first NUL by the
 * string parsers, as a file read with read_small_file() would be). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s);
	if (size) /* an absent part has no data at all */
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

struct fuzz_part {
	const uint8_t *data;
	size_t size;
};

/* Cuts data at each FUZZ_SEP into at most max parts (the last keeps the
 * rest, separators included); parts not present are empty. Returns the
 * number present. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts,
				size_t max)
{
	size_t n = 0;

	memset(parts, 0, max * sizeof(*parts));
	while (n < max) {
		const uint8_t *sep = n + 1 < max ? memchr(data, FUZZ_SEP, size) : NULL;
		size_t len = sep ? (size_t)(sep - data) : size;

		parts[n].data = data;
		parts[n++].size = len;
		if (!sep)
			break;
		data += len + 1;
		size -= len + 1;
	}
	return n;
}

static inline char *fuzz_part_str(const struct fuzz_part *p)
{
	return fuzz_strndup(p->data, p->size);
}

/* <dir>/<name>, replaced: written to a new file and renamed, as runtimes
 * and the kernel present them (never half-written). */
static inline void fuzz_write(const char *dir, const char *name, const void *data, size_t size)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	FUZZ_CHECK(!close(fd));
	FUZZ_CHECK(!rename(tmp, path));
}

static inline void fuzz_unlink(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FUZZ_CHECK(!unlink(path) || errno == ENOENT);
}

/* mkdir -p of <root>/<rel>, into ret_path. */
static inline void fuzz_mkdirs(const char *root, const char *rel, char *ret_path, size_t size)
{
	char *p;

	FUZZ_CHECK((size_t)snprintf(ret_path, size, "%s/%s", root, rel) < size);
	for (p = ret_path + strlen(root) + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		FUZZ_CHECK(!mkdir(ret_path, 0700) || errno == EEXIST);
		*p = c;
		if (!c)
			break;
	}
}

static int fuzz_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static char fuzz_scratch_root[64];

static void fuzz_scratch_remove(void)
{
	/* Best effort at exit: a leftover directory in /tmp is all it costs. */
	(void)nftw(fuzz_scratch_root, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* <tmpfs>/captrail-fuzz-<name>.XXXXXX, removed when the fuzzer exits:
 * harnesses rewrite their files on every input, which a disk would slow. */
static inline const char *fuzz_scratch(const char *name)
{
	struct stat st;
	const char *base = !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";

	snprintf(fuzz_scratch_root, sizeof(fuzz_scratch_root), "%s/captrail-fuzz-%s.XXXXXX",
		 base, name);
	FUZZ_CHECK(mkdtemp(fuzz_scratch_root));
	atexit(fuzz_scratch_remove);
	return fuzz_scratch_root;
}

#endif
