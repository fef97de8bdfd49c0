/* The SQLite store: flush arithmetic, reopen, selections, a writer killed
 * between flushes, and files that are not (or no longer) a store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/api_protocol.h"
#include "agent/store.h"
#include "cmd/commands.h"
#include "scratch.h"

#define ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

struct fixture {
	char dir[SCRATCH_DIR_LEN];
	char path[PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (scratch_dir_make(f->dir, "store"))
		return -1;
	/* a parent that does not exist yet: store_open creates it */
	snprintf(f->path, sizeof(f->path), "%s/state/captrail.db", f->dir);
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

static struct store_obs xwing_obs(const char *id, int cap, bool denied, uint64_t count,
				  uint64_t first, uint64_t last)
{
	return (struct store_obs){
		.workload = {
			.kind = WORKLOAD_POD_CONTAINER,
			.pod_namespace = "default",
			.pod_name = "xwing",
			.container_name = "spaceship",
			.container_id = id,
			.image = "docker.io/library/busybox:1.36",
			.binary = "/bin/dmesg",
		},
		.check = {
			.cap = cap,
			.denied = denied,
			.audit = CHECK_AUDITED,
			.syscall = 103,
			.count = count,
			.first_ns = first,
			.last_ns = last,
		},
	};
}

struct collected {
	struct store_row rows[16];
	char pods[16][64]; /* row strings live during the callback only */
	char images[16][64];
	char pod_names[16][64];
	char owners[16][64];
	size_t n;
};

static int collect(void *ctx, const struct store_row *row)
{
	struct collected *c = ctx;

	if (c->n == 16)
		return -E2BIG;
	c->rows[c->n] = *row;
	snprintf(c->pods[c->n], sizeof(c->pods[0]), "%s/%s/%s", row->workload.pod_namespace,
		 row->workload.pod_name, *row->workload.container_name ? row->workload.container_name : row->workload.binary);
	snprintf(c->images[c->n], sizeof(c->images[0]), "%s", row->workload.image);
	snprintf(c->pod_names[c->n], sizeof(c->pod_names[0]), "%s", row->workload.pod_name);
	snprintf(c->owners[c->n], sizeof(c->owners[0]), "%s/%s/%s", row->workload.owner_kind,
		 row->workload.owner_name, row->workload.owner_how);
	c->n++;
	return 0;
}

static struct collected query(struct store *s, const struct store_filter *filter)
{
	struct collected c = { .n = 0 };

	assert_int_equal(store_query(s, filter, collect, &c), 0);
	return c;
}

static const struct store_filter all = { .select = STORE_SELECT_ALL };

static void test_flush_adds_up(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_stats stats;
	struct store_obs obs;
	struct collected c;
	struct stat st;

	assert_int_equal(store__new(f->path, 0, &s), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	obs = xwing_obs(ID_A, 34, true, 2, 1000, 2000);
	obs.check.outcome.eperm = 2;
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs(ID_A, 34, true, 3, 500, 1500); /* same row: merged in memory */
	obs.check.outcome.eperm = 3;
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs(ID_A, 34, false, 1, 3000, 3000); /* granted: another row */
	assert_int_equal(store_add(s, &obs), 0);
	store_stats(s, &stats);
	assert_int_equal(stats.pending, 3); /* two check rows, one instance */

	c = query(s, &all);
	assert_int_equal(c.n, 0); /* nothing flushed yet */
	assert_int_equal(store_flush(s), 0);
	c = query(s, &all);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.rows[0].check.cap, 34);
	assert_false(c.rows[0].check.denied);
	assert_true(c.rows[1].check.denied);
	assert_int_equal(c.rows[1].check.count, 5);
	assert_int_equal(c.rows[1].check.first_ns, 500);
	assert_int_equal(c.rows[1].check.last_ns, 2000);
	assert_int_equal(c.rows[1].check.outcome.eperm, 5);
	assert_int_equal(c.rows[1].check.syscall, 103);
	assert_int_equal(c.rows[1].check.audit, CHECK_AUDITED);
	assert_int_equal(c.rows[1].instances, 1);
	assert_int_equal(c.rows[1].workload.kind, WORKLOAD_POD_CONTAINER);
	assert_string_equal(c.images[1], "docker.io/library/busybox:1.36");
	assert_string_equal(c.pods[1], "default/xwing/spaceship");

	/* the next flush adds to the stored rows */
	obs = xwing_obs(ID_B, 34, true, 10, 100, 9000);
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(store_flush(s), 0); /* nothing pending: no transaction */
	c = query(s, &all);
	assert_int_equal(c.rows[1].check.count, 15);
	assert_int_equal(c.rows[1].check.first_ns, 100);
	assert_int_equal(c.rows[1].check.last_ns, 9000);
	assert_int_equal(c.rows[1].instances, 2);
	store_stats(s, &stats);
	assert_int_equal(stats.flushes, 2);
	assert_int_equal(stats.flush_errors, 0);
	assert_int_equal(stats.rows, 2);
	assert_int_equal(stats.pending, 0);
	store__free(s);
	store__free(NULL);
}

static void test_reopen_continues(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_obs obs = xwing_obs(ID_A, 21, false, 7, 10, 20);
	struct store_stats stats;
	struct collected c;

	assert_int_equal(store__new(f->path, 0, &s), 0);
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	store__free(s);

	assert_int_equal(store__new(f->path, 0, &s), 0);
	store_stats(s, &stats);
	assert_int_equal(stats.rows, 1);
	obs = xwing_obs(ID_A, 21, false, 3, 5, 30);
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	c = query(s, &all);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].check.count, 10);
	assert_int_equal(c.rows[0].check.first_ns, 5);
	assert_int_equal(c.rows[0].check.last_ns, 30);
	assert_int_equal(c.rows[0].instances, 1);
	store__free(s);
}

/* A writer killed between flushes loses what it had not flushed, nothing
 * else; the next writer's counts add to the flushed ones. */
static void test_sigkill_between_flushes(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct collected c;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_obs obs = xwing_obs(ID_A, 34, true, 4, 1, 2);

		if (store__new(f->path, 0, &s) || store_add(s, &obs) || store_flush(s))
			_exit(1);
		obs.check.count = 1000; /* buffered, never flushed */
		if (store_add(s, &obs))
			_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	assert_int_equal(store__new(f->path, 0, &s), 0);
	c = query(s, &all);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].check.count, 4);
	struct store_obs more = xwing_obs(ID_A, 34, true, 6, 1, 2);
	assert_int_equal(store_add(s, &more), 0);
	assert_int_equal(store_flush(s), 0);
	c = query(s, &all);
	assert_int_equal(c.rows[0].check.count, 10);
	store__free(s);
}

struct ids {
	size_t n;
	int64_t workloads[8];
	char ids[8][80];
};

static int collect_id(void *ctx, int64_t workload_id, const char *instance)
{
	struct ids *ids = ctx;

	if (ids->n == 8)
		return -E2BIG;
	ids->workloads[ids->n] = workload_id;
	snprintf(ids->ids[ids->n++], sizeof(ids->ids[0]), "%s", instance);
	return 0;
}

static void test_selections(void **state)
{
	struct ids ids;
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_obs obs;
	struct store_filter filter;
	struct collected c;
	char buf[128];

	assert_int_equal(store__new(f->path, 0, &s), 0);
	obs = xwing_obs(ID_A, 34, true, 1, 1, 1);
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs(ID_B, 34, true, 1, 1, 1);
	obs.workload.pod_name = "tiefighter";
	obs.workload.container_name = "cockpit";
	obs.check.cap = 12;
	assert_int_equal(store_add(s, &obs), 0);
	obs = (struct store_obs){
		.workload = { .kind = WORKLOAD_HOST_BINARY, .binary = "/usr/sbin/sshd",
			      .pod_name = "ignored" },
		.check = { .cap = 6, .syscall = CHECK_NO_SYSCALL, .count = 1, .first_ns = 1,
			   .last_ns = 1 },
	};
	assert_int_equal(store_add(s, &obs), 0);
	obs = (struct store_obs){
		.workload = { .kind = WORKLOAD_UNIT, .unit = "cron.service",
			      .binary = "/usr/sbin/cron" },
		.check = { .cap = 7, .count = 1 },
	};
	assert_int_equal(store_add(s, &obs), 0);
	obs = (struct store_obs){
		.workload = { .kind = WORKLOAD_CONTAINER, .container_id = ID_B, .binary = "/bin/sh" },
		.check = { .cap = 1, .count = 1 },
	};
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);

	c = query(s, &all);
	assert_int_equal(c.n, 5);

	assert_int_equal(store_filter_pod("default/xwing", &filter, buf, sizeof(buf)), 0);
	c = query(s, &filter);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.pods[0], "default/xwing/spaceship");
	assert_int_equal(store_filter_pod("xwing", &filter, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(store_filter_pod("default/", &filter, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(store_filter_pod("a/b/c", &filter, buf, sizeof(buf)), -EINVAL);

	filter = (struct store_filter){ .select = STORE_SELECT_CONTAINER, .container = "cockpit" };
	c = query(s, &filter);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].check.cap, 12);
	/* an id prefix with the runtime as events print it: the pod container
	 * it ran in and the plain container named by that id */
	filter.container = "containerd://fedcba987654";
	c = query(s, &filter);
	assert_int_equal(c.n, 2);
	filter.container = "fedcba98"; /* too short a prefix to be an id */
	c = query(s, &filter);
	assert_int_equal(c.n, 0);

	filter.container = "containerd://fedcba987654";
	ids.n = 0;
	assert_int_equal(store_instances(s, &filter, collect_id, &ids), 0);
	assert_int_equal(ids.n, 2); /* the pod container's instance, the plain container */
	assert_string_equal(ids.ids[0], ID_B);
	assert_string_equal(ids.ids[1], ID_B);
	assert_true(ids.workloads[0] != ids.workloads[1]);
	filter = (struct store_filter){ .select = STORE_SELECT_ALL };
	ids.n = 0;
	assert_int_equal(store_instances(s, &filter, collect_id, &ids), 0);
	assert_int_equal(ids.n, 3);

	filter = (struct store_filter){ .select = STORE_SELECT_BINARY, .binary = "/usr/sbin/sshd" };
	c = query(s, &filter);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].workload.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(c.pod_names[0], ""); /* not part of a host binary's identity */
	assert_int_equal(c.rows[0].check.syscall, CHECK_NO_SYSCALL);
	assert_int_equal(c.rows[0].instances, 0);

	filter = (struct store_filter){ .select = STORE_SELECT_UNIT, .unit = "cron.service" };
	c = query(s, &filter);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].check.cap, 7);
	store__free(s);
}

static int stop_at_first(void *ctx, const struct store_row *row)
{
	(void)row;
	(*(int *)ctx)++;
	return 42;
}

static void test_query_stops(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_obs a = xwing_obs(ID_A, 1, false, 1, 1, 1);
	struct store_obs b = xwing_obs(ID_A, 2, false, 1, 1, 1);
	int calls = 0;

	assert_int_equal(store__new(f->path, 0, &s), 0);
	assert_int_equal(store_add(s, &a), 0);
	assert_int_equal(store_add(s, &b), 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(store_query(s, &all, stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);
	store__free(s);
}

static void test_read_only(void **state)
{
	struct fixture *f = *state;
	struct store *w = NULL, *r = NULL;
	struct store_obs obs = xwing_obs(ID_A, 34, true, 1, 1, 1);
	struct collected c;

	assert_int_equal(store__new(f->path, STORE_RDONLY, &r), -ENOENT);
	assert_int_equal(store__new(f->path, 0, &w), 0);
	assert_int_equal(store_add(w, &obs), 0);
	assert_int_equal(store_flush(w), 0);
	/* a reader next to the live writer (captrail profile --db) */
	assert_int_equal(store__new(f->path, STORE_RDONLY, &r), 0);
	c = query(r, &all);
	assert_int_equal(c.n, 1);
	assert_int_equal(store_add(r, &obs), -EROFS);
	assert_int_equal(store_add(w, &obs), 0);
	assert_int_equal(store_flush(w), 0);
	c = query(r, &all);
	assert_int_equal(c.rows[0].check.count, 2);
	store__free(r);
	store__free(w);
	/* and after the writer closed (the WAL is gone) */
	assert_int_equal(store__new(f->path, STORE_RDONLY, &r), 0);
	c = query(r, &all);
	assert_int_equal(c.n, 1);
	store__free(r);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_bad_files(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	char garbage[8192], path[PATH_MAX];
	sqlite3 *db;

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 131 + 7);
	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	write_file(path, garbage, sizeof(garbage));
	assert_int_equal(store__new(path, 0, &s), -EBADMSG);
	assert_null(s);
	assert_int_equal(store__new(path, STORE_RDONLY, &s), -EBADMSG);

	/* a real store whose header was overwritten */
	assert_int_equal(store__new(f->path, 0, &s), 0);
	store__free(s);
	s = NULL;
	{
		int fd = open(f->path, O_WRONLY);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, garbage, 100, 0), 100);
		close(fd);
	}
	assert_int_equal(store__new(f->path, 0, &s), -EBADMSG);

	/* somebody else's SQLite database */
	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store__new(path, 0, &s), -EBADMSG);

	/* a store from a newer captrail */
	snprintf(path, sizeof(path), "%s/newer.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store__new(path, 0, &s), -EPROTO);

	/* an empty file is a new store, read-only it is not a store yet */
	snprintf(path, sizeof(path), "%s/empty.db", f->dir);
	write_file(path, "", 0);
	assert_int_equal(store__new(path, STORE_RDONLY, &s), -EBADMSG);
	assert_int_equal(store__new(path, 0, &s), 0);
	store__free(s);
	s = NULL;

	/* a directory where the file should be */
	assert_true(store__new(f->dir, 0, &s) < 0);
	assert_null(s);
}

/* sql on the store at path, through another connection, as a person
 * editing the file would. */
static void edit(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A store of n rows (CAP n of pod xwing), flushed and closed. */
static void make_store(const char *path, int n)
{
	struct store *s = NULL;

	assert_int_equal(store__new(path, 0, &s), 0);
	for (int cap = 0; cap < n; cap++) {
		struct store_obs obs = xwing_obs(ID_A, cap, false, 10, 1, 2);

		assert_int_equal(store_add(s, &obs), 0);
	}
	assert_int_equal(store_flush(s), 0);
	store__free(s);
}

static size_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

/* A damaged page is found at open (PRAGMA quick_check), read-only or not,
 * before anything is written to the file; a query that meets one later
 * says so too. */
static void test_corrupt_page(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	unsigned char page[4096], before[16384], after[16384];
	int fd;

	make_store(f->path, 40);
	assert_true(file_size(f->path) >= 3 * sizeof(page));
	/* page 2, after the header page: a b-tree page whose header is gone */
	memset(page, 0xff, 64);
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, page, 64, sizeof(page)), 64);
	assert_int_equal(pread(fd, before, sizeof(before), 0), (ssize_t)sizeof(before));
	close(fd);

	assert_int_equal(store__new(f->path, 0, &s), -EUCLEAN);
	assert_null(s);
	assert_int_equal(store__new(f->path, STORE_RDONLY, &s), -EUCLEAN);
	assert_null(s);
	fd = open(f->path, O_RDONLY);
	assert_int_equal(pread(fd, after, sizeof(after), 0), (ssize_t)sizeof(after));
	close(fd);
	assert_memory_equal(before, after, sizeof(before));
}

/* Rows with values the store never writes (an edited file) are skipped and
 * counted, never read as huge or wrapped numbers; the rest still come. */
static void test_invalid_rows(void **state)
{
	static const char *const edits[] = {
		"UPDATE checks SET count = -100 WHERE cap = 1",
		"UPDATE checks SET count = 'abc' WHERE cap = 2",
		"UPDATE checks SET count = 4.5 WHERE cap = 3",
		"UPDATE checks SET cap = 999 WHERE cap = 4",
		"UPDATE checks SET cap = -1 WHERE cap = 5",
		"UPDATE checks SET audit = 77 WHERE cap = 6",
		"UPDATE checks SET denied = 7 WHERE cap = 7",
		"UPDATE checks SET flags = -1 WHERE cap = 8",
		"UPDATE checks SET flags = 1024 WHERE cap = 9",
		"UPDATE checks SET syscall = -5 WHERE cap = 10",
		"UPDATE checks SET syscall = 9999999999 WHERE cap = 11",
		"UPDATE checks SET first_seen = -1 WHERE cap = 12",
		"UPDATE checks SET eperm = -3 WHERE cap = 13",
		"UPDATE checks SET other = x'00ff' WHERE cap = 14",
		"UPDATE checks SET cap = 'x15' WHERE cap = 15",
	};
	const size_t n_edits = sizeof(edits) / sizeof(edits[0]);
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_stats stats;
	struct store_gaps gaps;
	struct ids ids = { .n = 0 };
	struct collected c;

	make_store(f->path, 16 + 4); /* 16 fit struct collected: 4 more stay valid */
	for (size_t i = 0; i < n_edits; i++)
		edit(f->path, edits[i]);
	assert_int_equal(store__new(f->path, STORE_RDONLY, &s), 0);
	c = query(s, &all);
	store_stats(s, &stats);
	assert_int_equal(stats.invalid, n_edits);
	assert_int_equal(c.n, 20 - n_edits);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.rows[i].check.count, 10);
		assert_true(c.rows[i].check.cap == 0 || c.rows[i].check.cap >= 16);
	}
	store_gaps(s, 0, &gaps);
	assert_int_equal(gaps.invalid, n_edits);
	assert_int_equal(gaps.unstored, 0);
	store__free(s);

	/* a workload of no known kind, and an instance id that is not text */
	edit(f->path, "UPDATE workloads SET kind = 9; UPDATE instances SET instance = x'41ff00'");
	assert_int_equal(store__new(f->path, STORE_RDONLY, &s), 0);
	c = query(s, &all);
	assert_int_equal(c.n, 0);
	assert_int_equal(store_instances(s, &all, collect_id, &ids), 0);
	assert_int_equal(ids.n, 0);
	store_stats(s, &stats);
	assert_int_equal(stats.invalid, 20 + 1);
	store__free(s);
}

/* Counts saturate at STORE_COUNT_MAX: in the buffer, when stored, and when
 * added to a stored row; they never wrap to a small or negative number. */
static void test_counts_saturate(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_obs obs = xwing_obs(ID_A, 21, true, UINT64_MAX - 1, 1, 2);
	struct collected c;

	obs.check.outcome.eperm = UINT64_MAX;
	assert_int_equal(store__new(f->path, 0, &s), 0);
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_add(s, &obs), 0); /* the buffer's sum saturates */
	assert_int_equal(store_flush(s), 0);
	c = query(s, &all);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].check.count, STORE_COUNT_MAX);
	assert_int_equal(c.rows[0].check.outcome.eperm, STORE_COUNT_MAX);
	obs.check.count = 5;
	obs.check.outcome.eperm = 5;
	assert_int_equal(store_add(s, &obs), 0); /* the stored row's sum saturates */
	assert_int_equal(store_flush(s), 0);
	c = query(s, &all);
	assert_int_equal(c.rows[0].check.count, STORE_COUNT_MAX);
	assert_int_equal(c.rows[0].check.outcome.eperm, STORE_COUNT_MAX);

	edit(f->path, "UPDATE checks SET count = 9223372036854775803");
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	c = query(s, &all);
	assert_int_equal(c.rows[0].check.count, STORE_COUNT_MAX);
	obs.check.count = 1;
	edit(f->path, "UPDATE checks SET count = 100");
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	c = query(s, &all);
	assert_int_equal(c.rows[0].check.count, 101);
	store__free(s);
}

/* A flush that cannot write (here: past RLIMIT_FSIZE, an I/O error to
 * SQLite; a full disk is 62_store_truth's) keeps the rows buffered and says
 * so in the gaps; the next flush that can write stores them, nothing lost. */
static void test_full_disk(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_gaps gaps;
	struct rlimit old, low;
	struct collected c;
	void (*old_handler)(int);
	int err;

	assert_int_equal(store__new(f->path, 0, &s), 0);
	for (int cap = 0; cap < 16; cap++) {
		struct store_obs obs = xwing_obs(ID_A, cap, false, 3, 1, 2);

		assert_int_equal(store_add(s, &obs), 0);
	}
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	low = old;
	low.rlim_cur = 1024;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	err = store_flush(s);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_true(err < 0);
	store_gaps(s, 0, &gaps);
	assert_int_equal(gaps.unstored, 17); /* 16 check rows and the instance */
	assert_int_equal(gaps.flush_err, err);
	assert_int_equal(gaps.lost, 0);

	assert_int_equal(store_flush(s), 0);
	store_gaps(s, 0, &gaps);
	assert_int_equal(gaps.unstored, 0);
	assert_int_equal(gaps.flush_err, 0);
	c = query(s, &all);
	assert_int_equal(c.n, 16);
	store__free(s);
}

/* The agent's reply to a profile request carries the gaps of its store:
 * what it holds unflushed, and the invalid rows this query skipped. */
static void test_profile_reply_gaps(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_obs obs = xwing_obs(ID_B, 30, false, 1, 1, 2);
	struct store_gaps gaps;
	json_object *reply, *v;

	make_store(f->path, 4);
	edit(f->path, "UPDATE checks SET count = -1 WHERE cap = 2");
	assert_int_equal(store__new(f->path, 0, &s), 0);
	assert_int_equal(store_add(s, &obs), 0); /* buffered: not in the reply */
	for (int i = 0; i < 2; i++) { /* each reply counts its own query's skips */
		assert_int_equal(api_profile_reply(s, &all, &reply), 0);
		assert_true(json_object_object_get_ex(reply, "profile", &v));
		assert_int_equal(json_object_array_length(v), 3);
		assert_true(json_object_object_get_ex(reply, "store", &v));
		assert_int_equal(api_gaps_from_json(v, &gaps), 0);
		assert_int_equal(gaps.invalid, 1);
		assert_int_equal(gaps.unstored, 2); /* a check row and an instance */
		assert_int_equal(gaps.lost, 0);
		assert_int_equal(gaps.flush_err, 0);
		json_object_put(reply);
	}
	store__free(s);
}

static void test_names(void **state)
{
	enum workload_kind kind;
	enum check_audit audit;

	(void)state;
	for (int k = WORKLOAD_POD_CONTAINER; k <= WORKLOAD_UNIT; k++) {
		assert_int_equal(workload_kind_parse(workload_kind_name(k), &kind), 0);
		assert_int_equal(kind, k);
	}
	for (int a = CHECK_AUDIT_UNKNOWN; a <= CHECK_NOAUDIT; a++) {
		assert_int_equal(check_audit_parse(check_audit_name(a), &audit), 0);
		assert_int_equal(audit, a);
	}
	assert_int_equal(check_audit_parse("audit", &audit), 0); /* an older agent's replies */
	assert_int_equal(audit, CHECK_AUDITED);
	assert_int_equal(workload_kind_parse("pod", &kind), -EINVAL);
	assert_int_equal(check_audit_parse("mixed", &audit), -EINVAL);
	assert_null(workload_kind_name(0));
	assert_null(check_audit_name(CHECK_AUDIT_COUNT));
}


/* ---- captrail profile --db, on this store ---- */

/* Runs cmd_profile in a child, stdout into out, stderr into err (NULL:
 * left alone); returns its exit code. */
static int run_profile_err(const char *out, const char *err, char **argv)
{
	int argc = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int efd = err ? open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600) : 2;

		if (fd < 0 || dup2(fd, 1) < 0 || efd < 0 || dup2(efd, 2) < 0)
			_exit(99);
		while (argv[argc])
			argc++;
		_exit(cmd_profile(argc, argv));
	}
	return child_exit_status(pid);
}

static int run_profile(const char *out, char **argv)
{
	return run_profile_err(out, NULL, argv);
}

static void test_profile_command(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct store_obs obs;
	char out[PATH_MAX + 8], *text;
	char *k8s[] = { "profile", "--db", f->path, "--pod", "default/xwing", "-o", "k8s", NULL };
	char *json[] = { "profile", "--db", f->path, "--container", "spaceship", "-o", "json",
			 NULL };
	char *none[] = { "profile", "--db", f->path, "--pod", "default/nothere", NULL };
	char *usage[] = { "profile", "--db", f->path, NULL };
	char *both[] = { "profile", "--all", "--binary", "/bin/x", NULL };
	char *missing[] = { "profile", "--db", "/nonexistent/captrail.db", "--all", NULL };

	snprintf(out, sizeof(out), "%s/out", f->dir);
	assert_int_equal(store__new(f->path, 0, &s), 0);
	obs = xwing_obs(ID_A, 13, false, 5, 1, 2); /* CAP_NET_RAW granted: required */
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs(ID_B, 34, true, 1, 1, 2); /* CAP_SYSLOG denied: reported only */
	obs.check.outcome.eperm = 1;
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs(ID_A, 21, false, 9, 1, 2); /* overlayfs copy-up: not the workload's */
	obs.check.flags = CHECK_OVERRIDE_CRED;
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs("c0ffee" ID_A, 12, false, 1, 1, 2); /* a replica in another pod */
	obs.workload.pod_name = "xwing-2";
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	store__free(s);

	assert_int_equal(run_profile(out, k8s), 0);
	text = slurp(out);
	assert_non_null(strstr(text, "NET_RAW"));
	assert_null(strstr(text, "SYSLOG"));
	assert_null(strstr(text, "SYS_ADMIN"));
	assert_null(strstr(text, "NET_ADMIN")); /* the other pod */

	/* the container name covers both pods: their union, coverage 3 */
	assert_int_equal(run_profile(out, json), 0);
	{
		json_object *doc = json_tokener_parse(slurp(out)), *v;

		assert_non_null(doc);
		assert_true(json_object_object_get_ex(doc, "coverage", &v));
		assert_int_equal(json_object_get_int(v), 3);
		assert_non_null(strstr(slurp(out), "CAP_NET_ADMIN"));
		assert_non_null(strstr(slurp(out), "CAP_NET_RAW"));
		json_object_put(doc);
	}
	assert_int_equal(run_profile(out, none), 1);
	assert_int_equal(run_profile(out, usage), 2);
	assert_int_equal(run_profile(out, both), 2);
	assert_int_equal(run_profile(out, missing), 1);
}

/* profile --db says what it skipped, and refuses a corrupt store saying how
 * to move it aside. */
static void test_profile_command_gaps(void **state)
{
	struct fixture *f = *state;
	char out[PATH_MAX + 8], err[PATH_MAX + 8], *text;
	char *all_json[] = { "profile", "--db", f->path, "--all", "-o", "json", NULL };
	unsigned char junk[64];
	int fd;

	snprintf(out, sizeof(out), "%s/out", f->dir);
	snprintf(err, sizeof(err), "%s/err", f->dir);
	make_store(f->path, 40);
	edit(f->path, "UPDATE checks SET count = -100 WHERE cap = 21");
	assert_int_equal(run_profile_err(out, err, all_json), 0);
	assert_non_null(strstr(slurp(err), "warning: 1 store row skipped: it holds values "
					   "captrail never writes"));
	text = slurp(out);
	assert_null(strstr(text, "CAP_SYS_ADMIN"));
	assert_null(strstr(text, "18446744073709551516"));
	assert_non_null(strstr(text, "CAP_CHOWN"));

	edit(f->path, "UPDATE checks SET count = -1");
	assert_int_equal(run_profile_err(out, err, all_json), 1);
	text = slurp(err);
	assert_non_null(strstr(text, "warning: 40 store rows skipped"));
	assert_non_null(strstr(text, "no valid capability checks stored for any workload"));

	memset(junk, 0xff, sizeof(junk));
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 4096), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(run_profile_err(out, err, all_json), 1);
	text = slurp(err);
	assert_non_null(strstr(text, "it is corrupt (PRAGMA quick_check failed): move it and "
				     "its -wal and -shm files aside"));
	assert_int_equal(strlen(slurp(out)), 0);
}

static struct store_obs replica_obs(const char *pod, const char *id, int cap)
{
	struct store_obs obs = xwing_obs(id, cap, false, 1, 10, 20);

	obs.workload.pod_namespace = "shop";
	obs.workload.pod_name = pod;
	obs.workload.container_name = "app";
	obs.workload.owner_kind = "Deployment";
	obs.workload.owner_name = "checkout";
	obs.workload.owner_how = "name-pattern";
	return obs;
}

static void test_select_workload(void **state)
{
	struct fixture *f = *state;
	struct store_filter filter;
	struct store_obs obs;
	struct store *s = NULL;
	struct collected c;
	char buf[256];

	assert_int_equal(store__new(f->path, 0, &s), 0);
	obs = replica_obs("checkout-7d4b9c6f5-x2x9q", ID_A, 0);
	assert_int_equal(store_add(s, &obs), 0);
	obs = replica_obs("checkout-7d4b9c6f5-b8k2p", ID_B, 12);
	assert_int_equal(store_add(s, &obs), 0);
	/* another owner's pod in the same namespace */
	obs = replica_obs("cart-5f7c8d9b4-b8k2p", ID_B, 21);
	obs.workload.owner_name = "cart";
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs(ID_A, 1, false, 1, 1, 1); /* no owner */
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	/* a later label-derived owner replaces the name pattern */
	obs = replica_obs("checkout-7d4b9c6f5-x2x9q", ID_A, 0);
	obs.workload.owner_how = "label:pod-template-hash";
	assert_int_equal(store_add(s, &obs), 0);
	obs = xwing_obs(ID_A, 1, false, 1, 1, 1); /* no owner known: kept */
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);

	assert_int_equal(store_filter_workload("shop/deployment/checkout", &filter, buf,
					       sizeof(buf)), 0);
	assert_string_equal(filter.owner_kind, "Deployment");
	c = query(s, &filter);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.pod_names[0], "checkout-7d4b9c6f5-x2x9q");
	assert_string_equal(c.owners[0], "Deployment/checkout/label:pod-template-hash");
	assert_string_equal(c.owners[1], "Deployment/checkout/name-pattern");
	assert_string_equal(c.pod_names[1], "checkout-7d4b9c6f5-b8k2p");
	assert_int_equal(store_filter_workload("shop/Deployment/cart", &filter, buf, sizeof(buf)),
			 0);
	c = query(s, &filter);
	assert_int_equal(c.n, 1);
	assert_int_equal(store_filter_workload("other/Deployment/checkout", &filter, buf,
					       sizeof(buf)), 0);
	c = query(s, &filter);
	assert_int_equal(c.n, 0);
	store__free(s);

	static const char *const bad[] = {
		"shop/checkout", "shop/ReplicaSet/checkout", "shop/Deployment/", "/Deployment/x",
		"shop/Container/redis", "shop/Deployment/a/b", "", "//",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(store_filter_workload(bad[i], &filter, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(store_filter_workload("/container/redis", &filter, buf, sizeof(buf)), 0);
	assert_string_equal(filter.owner_kind, "Container");
	assert_string_equal(filter.pod_namespace, "");
}

/* A store a captrail before owners wrote: read as it is, upgraded by a
 * writer. */
static void test_schema_v1(void **state)
{
	static const char v1[] =
		"CREATE TABLE workloads(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
		" pod_namespace TEXT NOT NULL, pod_name TEXT NOT NULL,"
		" container_name TEXT NOT NULL, binary TEXT NOT NULL, unit TEXT NOT NULL,"
		" image TEXT NOT NULL DEFAULT '',"
		" UNIQUE(kind, pod_namespace, pod_name, container_name, binary, unit));"
		"CREATE TABLE instances(workload_id INTEGER NOT NULL REFERENCES workloads(id),"
		" instance TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
		" PRIMARY KEY(workload_id, instance)) WITHOUT ROWID;"
		"CREATE INDEX instances_by_id ON instances(instance);"
		"CREATE TABLE checks(workload_id INTEGER NOT NULL REFERENCES workloads(id),"
		" cap INTEGER NOT NULL, denied INTEGER NOT NULL, audit INTEGER NOT NULL,"
		" syscall INTEGER NOT NULL, flags INTEGER NOT NULL, count INTEGER NOT NULL,"
		" first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
		" eperm INTEGER NOT NULL DEFAULT 0, eacces INTEGER NOT NULL DEFAULT 0,"
		" success INTEGER NOT NULL DEFAULT 0, other INTEGER NOT NULL DEFAULT 0,"
		" PRIMARY KEY(workload_id, cap, denied, audit, syscall, flags)) WITHOUT ROWID;"
		"INSERT INTO workloads VALUES(1, 1, 'shop', 'checkout-7d4b9c6f5-x2x9q', 'app', '',"
		" '', '');"
		"INSERT INTO instances VALUES(1, '" ID_A "', 1, 2);"
		"INSERT INTO checks VALUES(1, 0, 0, 1, 103, 0, 4, 1, 2, 0, 0, 0, 0);"
		"PRAGMA user_version = 1;";
	struct fixture *f = *state;
	struct store_filter filter;
	struct store_obs obs;
	struct store *s = NULL;
	struct collected c;
	char buf[256];
	sqlite3 *db;

	snprintf(f->path, sizeof(f->path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_filter_workload("shop/Deployment/checkout", &filter, buf,
					       sizeof(buf)), 0);

	assert_int_equal(store__new(f->path, STORE_RDONLY, &s), 0);
	c = query(s, &all);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].check.count, 4);
	assert_string_equal(c.owners[0], "//");
	c = query(s, &filter);
	assert_int_equal(c.n, 0); /* owners unknown */
	store__free(s);

	assert_int_equal(store__new(f->path, 0, &s), 0); /* upgraded */
	obs = replica_obs("checkout-7d4b9c6f5-x2x9q", ID_A, 0);
	obs.workload.container_name = "app";
	assert_int_equal(store_add(s, &obs), 0);
	assert_int_equal(store_flush(s), 0);
	c = query(s, &filter);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.rows[0].check.count, 5);
	store__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flush_adds_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_between_flushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_saturate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_reply_gaps, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_profile_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_command_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_workload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_v1, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
