/* The export file: size rotation with a bounded number of backups, file
 * mode, the rate limit on a fake clock and its notice lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/export.h"
#include "scratch.h"

struct fixture {
	char dir[SCRATCH_DIR_LEN];
	char path[PATH_MAX];
	uint64_t now;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (scratch_dir_make(f->dir, "export"))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/events.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (scratch_dir_remove(f->dir))
		return -1;
	free(f);
	return 0;
}

static uint64_t fake_now(void *ctx)
{
	return ((struct fixture *)ctx)->now;
}

/* Each line of path parsed as JSON; returns the count, checks notices. */
static size_t count_lines(const char *path, size_t *ret_notices, char *last_notice, size_t size)
{
	FILE *in = fopen(path, "r");
	char line[128 * 1024];
	size_t n = 0;

	*ret_notices = 0;
	if (!in)
		return 0;
	while (fgets(line, sizeof(line), in)) {
		json_object *obj = json_tokener_parse(line), *notice;

		assert_non_null(obj);
		assert_true(line[strlen(line) - 1] == '\n');
		if (json_object_object_get_ex(obj, "notice", &notice)) {
			(*ret_notices)++;
			if (last_notice)
				snprintf(last_notice, size, "%s", json_object_get_string(notice));
			assert_true(json_object_object_get_ex(obj, "time", NULL));
		} else {
			n++;
		}
		json_object_put(obj);
	}
	fclose(in);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	struct export_opts opts = { .path = f->path, .max_size = 1000, .max_backups = 2 };
	struct export *x = NULL;
	struct export_stats stats;
	char line[100], path[PATH_MAX + 8];
	size_t notices, total = 0;
	struct stat st;

	assert_int_equal(export__new(&opts, &x), 0);
	for (int i = 0; i < 100; i++) {
		int n = snprintf(line, sizeof(line), "{\"event\":%d,\"pad\":\"%040d\"}", i, i);

		assert_int_equal(export_write(x, line, (size_t)n), 0);
	}
	export_stats(x, &stats);
	assert_int_equal(stats.events, 100);
	assert_true(stats.rotations >= 5);
	export__free(x);

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	for (int i = 0; i <= 2; i++) {
		if (i)
			snprintf(path, sizeof(path), "%s.%d", f->path, i);
		else
			snprintf(path, sizeof(path), "%s", f->path);
		assert_true(file_size(path) > 0);
		assert_true(file_size(path) <= 1000);
		total += count_lines(path, &notices, NULL, 0);
		assert_int_equal(notices, 0);
	}
	assert_true(total < 100); /* older backups were rotated away */
	snprintf(path, sizeof(path), "%s.3", f->path);
	assert_int_equal(file_size(path), -1);
	/* the newest line is in FILE, the one before it in FILE or FILE.1 */
	{
		FILE *in = fopen(f->path, "r");
		char buf[128], last[128] = "";

		while (fgets(buf, sizeof(buf), in))
			strcpy(last, buf);
		fclose(in);
		assert_non_null(strstr(last, "\"event\":99,"));
	}
}

static void test_no_backups_restarts(void **state)
{
	struct fixture *f = *state;
	struct export_opts opts = { .path = f->path, .max_size = 50, .max_backups = 0 };
	struct export *x = NULL;
	char path[PATH_MAX + 8];
	size_t notices;

	assert_int_equal(export__new(&opts, &x), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(export_write(x, "{\"abcdefghijklmnopqrstuvwxyz\":1}\n", 33), 0);
	export__free(x);
	assert_int_equal(count_lines(f->path, &notices, NULL, 0), 1);
	snprintf(path, sizeof(path), "%s.1", f->path);
	assert_int_equal(file_size(path), -1);
}

static void test_existing_file(void **state)
{
	struct fixture *f = *state;
	struct export_opts opts = { .path = f->path };
	struct export *x = NULL;
	char link[PATH_MAX + 8];
	size_t notices;
	struct stat st;
	int fd;

	fd = open(f->path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"old\":1}\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(export__new(&opts, &x), 0);
	assert_int_equal(export_write(x, "{\"new\":1}", 9), 0); /* newline added */
	assert_int_equal(export_flush(x), 0);
	export__free(x);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_lines(f->path, &notices, NULL, 0), 2);

	snprintf(link, sizeof(link), "%s.link", f->path);
	assert_int_equal(symlink(f->path, link), 0);
	opts.path = link;
	assert_int_equal(export__new(&opts, &x), -ELOOP);
	opts.path = f->dir;
	assert_true(export__new(&opts, &x) < 0);
	opts.path = "";
	assert_int_equal(export__new(&opts, &x), -EINVAL);
}

static void test_long_line(void **state)
{
	struct fixture *f = *state;
	struct export_opts opts = { .path = f->path };
	size_t len = EXPORT_BUFFER + 100, notices;
	char *line = malloc(len + 16);
	struct export *x = NULL;

	memcpy(line, "{\"big\":\"", 8);
	memset(line + 8, 'a', len - 10);
	memcpy(line + len - 2, "\"}", 2);
	assert_int_equal(export__new(&opts, &x), 0);
	assert_int_equal(export_write(x, "{\"small\":1}\n", 12), 0);
	assert_int_equal(export_write(x, line, len), 0);
	assert_int_equal(export_write(x, "{\"small\":2}\n", 12), 0);
	export__free(x);
	assert_int_equal(count_lines(f->path, &notices, NULL, 0), 3);
	assert_int_equal(file_size(f->path), (off_t)(len + 1 + 24));
	free(line);
}

static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct export_opts opts = {
		.path = f->path, .rate = 10, .burst = 2, .now_ns = fake_now, .clock_ctx = f,
	};
	struct export *x = NULL;
	struct export_stats stats;
	char notice[128];
	size_t notices;

	f->now = 1000000000ull;
	assert_int_equal(export__new(&opts, &x), 0);
	assert_int_equal(export_write(x, "{\"e\":1}", 7), 0);
	assert_int_equal(export_write(x, "{\"e\":2}", 7), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(export_write(x, "{\"e\":0}", 7), -ENOBUFS);
	f->now += 100000000ull; /* 0.1 s at 10/s: one token */
	assert_int_equal(export_write(x, "{\"e\":3}", 7), 0); /* after the notice */
	assert_int_equal(export_write(x, "{\"e\":0}", 7), -ENOBUFS);
	export_stats(x, &stats);
	assert_int_equal(stats.events, 3);
	assert_int_equal(stats.rate_dropped, 4);
	assert_int_equal(export_flush(x), 0);
	assert_int_equal(count_lines(f->path, &notices, notice, sizeof(notice)), 3);
	assert_int_equal(notices, 1);
	assert_string_equal(notice, "rate limit dropped 3 events");
	f->now += 10 * 1000000000ull; /* the bucket holds no more than the burst */
	for (int i = 0; i < 2; i++)
		assert_int_equal(export_write(x, "{\"e\":4}", 7), 0);
	assert_int_equal(export_write(x, "{\"e\":0}", 7), -ENOBUFS);
	export__free(x); /* the last drop is reported on close */
	assert_int_equal(count_lines(f->path, &notices, notice, sizeof(notice)), 5);
	assert_int_equal(notices, 3);
	assert_string_equal(notice, "rate limit dropped 1 events");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_backups_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
