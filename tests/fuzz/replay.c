/* The harness named FUZZ_NAME as a cmocka unit test (build/tests/test_fuzz_NAME):
 * one test per file of tests/fuzz/corpus/NAME, each fed once to
 * LLVMFuzzerTestOneInput. The seeds and every input that once crashed a
 * parser run on each build (the ASan+UBSan one included), without clang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME: the harness's name"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_INPUT (4u << 20)

static char corpus[PATH_MAX];

static void replay_one(void **state)
{
	const char *name = *state;
	char path[PATH_MAX * 2];
	uint8_t *data = malloc(REPLAY_MAX_INPUT);
	size_t n;
	FILE *in;

	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/%s", corpus, name);
	in = fopen(path, "re");
	assert_non_null(in);
	n = fread(data, 1, REPLAY_MAX_INPUT, in);
	assert_false(ferror(in));
	fclose(in);
	/* Exactly n bytes, as libFuzzer hands them: ASan sees any overread. */
	data = realloc(data, n ? n : 1);
	assert_non_null(data);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct CMUnitTest *)a)->name, ((const struct CMUnitTest *)b)->name);
}

int main(int argc, char **argv)
{
	const char *src = getenv("CAPTRAIL_SRC");
	struct CMUnitTest *tests = NULL;
	char rel[PATH_MAX];
	size_t n = 0;
	struct dirent *de;
	DIR *dir;

	/* Absolute: a harness may change directory in LLVMFuzzerInitialize(). */
	snprintf(rel, sizeof(rel), "%s/tests/fuzz/corpus/%s", src ? src : ".", FUZZ_NAME);
	dir = realpath(rel, corpus) ? opendir(corpus) : NULL;
	if (!dir) {
		fprintf(stderr, "test_fuzz_%s: cannot open %s\n", FUZZ_NAME, rel);
		return 1;
	}
	while ((de = readdir(dir))) {
		char *name;

		if (de->d_name[0] == '.')
			continue;
		name = strdup(de->d_name);

		tests = realloc(tests, (n + 1) * sizeof(*tests));
		if (!tests || !name)
			return 1;
		tests[n++] = (struct CMUnitTest){
			.name = name,
			.test_func = replay_one,
			.initial_state = name,
		};
	}
	closedir(dir);
	if (!n) {
		fprintf(stderr, "test_fuzz_%s: no inputs in %s\n", FUZZ_NAME, corpus);
		return 1;
	}
	qsort(tests, n, sizeof(*tests), by_name);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	return _cmocka_run_group_tests("fuzz_" FUZZ_NAME, tests, n, NULL, NULL);
}
