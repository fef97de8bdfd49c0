/* Program images by (pid, exec_gen): what exec records add, what forks
 * inherit, what exits leave, the bound, and the runtime start-up rule that
 * keeps a container runtime's checks out of its workload's profile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity/images.h"
#include "proc_records.h"

#define CG_POD 7001ull /* a container's cgroup */
#define CG_HOST 7002ull /* where the runtime ran before it moved in */
#define MNT_HOST 4026531841u
#define MNT_POD 4026532600u

static struct ct_proc_event rec;

/* An exec record of pid's image exec_gen: no binary, cwd unknown. */
static struct ct_proc_event *mk_exec(uint32_t pid, uint32_t exec_gen, uint64_t cgroup,
				     uint32_t mntns)
{
	return proc_record_image(&rec, CT_REC_EXEC, pid, 0, exec_gen, cgroup, mntns);
}

static struct ct_proc_event *mk_fork(uint32_t child, uint32_t parent, uint32_t exec_gen,
				     uint64_t cgroup, uint32_t mntns)
{
	return proc_record_image(&rec, CT_REC_FORK, child, parent, exec_gen, cgroup, mntns);
}

static struct images *new_images(size_t max)
{
	struct images *t = NULL;

	assert_int_equal(images__new(max, &t), 0);
	assert_non_null(t);
	return t;
}

static const struct image *find_ok(const struct images *t, uint32_t pid, uint32_t exec_gen)
{
	const struct image *img = images_find(t, pid, exec_gen);

	assert_non_null(img);
	return img;
}

/* pid's exec of image exec_gen, of binary (NULL: none recorded), which t
 * must take. */
static void apply_exec(struct images *t, uint32_t pid, uint32_t exec_gen, uint64_t cgroup,
		       uint32_t mntns, const char *binary)
{
	struct ct_proc_event *r = mk_exec(pid, exec_gen, cgroup, mntns);

	if (binary)
		set_binary(r, binary);
	assert_int_equal(images_apply(t, r), 0);
}

/* The image, which t must know, and its binary (NULL: none) and place of
 * exec. */
static const struct image *assert_image(const struct images *t, uint32_t pid, uint32_t exec_gen,
					const char *binary, uint64_t cgroup, uint32_t mntns)
{
	const struct image *img = find_ok(t, pid, exec_gen);

	if (binary)
		assert_string_equal(img->binary, binary);
	else
		assert_null(img->binary);
	assert_int_equal(img->exec_cgroup, cgroup);
	assert_int_equal(img->exec_mntns, mntns);
	return img;
}

static void test_exec_absolute(void **state)
{
	struct images *t = new_images(0);
	struct ct_proc_event *r;

	(void)state;
	r = mk_exec(100, 3, CG_POD, MNT_POD);
	set_binary(r, "/usr/sbin/nginx");
	set_cwd(r, "/srv");
	assert_int_equal(images_apply(t, r), 0);
	assert_image(t, 100, 3, "/usr/sbin/nginx", CG_POD, MNT_POD);
	/* the image is a copy: the record's buffer is the ring's, reused */
	memset(&rec, 0, sizeof(rec));
	assert_string_equal(find_ok(t, 100, 3)->binary, "/usr/sbin/nginx");
	assert_int_equal(images_untracked(t), 0);
	images__free(t);
}

static void test_exec_relative(void **state)
{
	static const struct {
		uint32_t pid;
		const char *binary, *cwd; /* cwd NULL: the walk failed */
		const char *want;
	} cases[] = {
		{ 100, "./bin/app", "/srv/www", "/srv/www/bin/app" },
		{ 101, "app", "/", "/app" }, /* no doubled slash at the root */
		/* The cwd walk failed: the name as given, not a made-up path. */
		{ 102, "app", NULL, "app" },
	};
	struct images *t = new_images(0);
	struct ct_proc_event *r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = mk_exec(cases[i].pid, 1, CG_POD, MNT_POD);
		set_binary(r, cases[i].binary);
		if (cases[i].cwd)
			set_cwd(r, cases[i].cwd);
		else
			r->flags = CT_PROC_ERR_CWD;
		assert_int_equal(images_apply(t, r), 0);
		assert_string_equal(find_ok(t, cases[i].pid, 1)->binary, cases[i].want);
	}
	images__free(t);
}

/* The filename could not be read: the image is still known by where it
 * was exec'd, which is what the runtime rule needs. */
static void test_exec_without_binary(void **state)
{
	struct images *t = new_images(0);
	struct ct_proc_event *r;

	(void)state;
	r = mk_exec(100, 1, CG_HOST, MNT_HOST);
	r->flags = CT_PROC_ERR_FILENAME;
	set_cwd(r, "/run");
	assert_int_equal(images_apply(t, r), 0);
	assert_image(t, 100, 1, NULL, CG_HOST, MNT_HOST);
	images__free(t);
}

/* A reused pid with a reused exec count is a new process: its exec record
 * replaces what the old one left. */
static void test_exec_replaces(void **state)
{
	struct images *t = new_images(0);

	(void)state;
	apply_exec(t, 100, 1, CG_HOST, MNT_HOST, "/usr/bin/runc");
	apply_exec(t, 100, 1, CG_POD, MNT_POD, "/bin/sh");
	assert_image(t, 100, 1, "/bin/sh", CG_POD, MNT_POD);

	apply_exec(t, 100, 1, CG_POD, MNT_POD, NULL); /* and with no binary, none is kept */
	assert_null(find_ok(t, 100, 1)->binary);
	images__free(t);
}

/* A forked child runs its parent's image until it execs: the parent's
 * binary and place of exec, not where the fork happened. */
static void test_fork_inherits(void **state)
{
	struct images *t = new_images(0);
	const struct image *parent, *child;

	(void)state;
	apply_exec(t, 100, 2, CG_HOST, MNT_HOST, "/usr/bin/runc");
	assert_int_equal(images_apply(t, mk_fork(200, 100, 2, CG_POD, MNT_POD)), 0);
	parent = find_ok(t, 100, 2);
	child = assert_image(t, 200, 2, "/usr/bin/runc", CG_HOST, MNT_HOST);
	assert_ptr_not_equal(child->binary, parent->binary); /* each image owns its copy */
	assert_null(images_find(t, 200, 3));

	/* The grandchild, then the child execs: only its new image changes. */
	assert_int_equal(images_apply(t, mk_fork(300, 200, 2, CG_POD, MNT_POD)), 0);
	assert_string_equal(find_ok(t, 300, 2)->binary, "/usr/bin/runc");
	apply_exec(t, 200, 3, CG_POD, MNT_POD, "/bin/sh");
	assert_string_equal(find_ok(t, 200, 3)->binary, "/bin/sh");
	assert_string_equal(find_ok(t, 200, 2)->binary, "/usr/bin/runc");

	/* The parent's image is gone once forgotten; the child's copy stays. */
	images_forget(t, 100);
	assert_string_equal(find_ok(t, 200, 2)->binary, "/usr/bin/runc");
	images__free(t);
}

/* A fork of a parent whose image is unknown (started before the agent), or
 * whose exec count does not match, makes no image. */
static void test_fork_unknown_parent(void **state)
{
	struct images *t = new_images(0);

	(void)state;
	assert_int_equal(images_apply(t, mk_fork(200, 100, 1, CG_POD, MNT_POD)), 0);
	assert_null(images_find(t, 200, 1));
	apply_exec(t, 100, 1, CG_POD, MNT_POD, "/bin/sh");
	assert_int_equal(images_apply(t, mk_fork(201, 100, 2, CG_POD, MNT_POD)), 0);
	assert_null(images_find(t, 201, 2));
	assert_null(images_find(t, 201, 1));
	assert_int_equal(images_untracked(t), 0);

	/* The pid ran another process before, exec'd by the runtime outside
	 * the container: the new child of an unknown parent has no image, not
	 * that one (which would make its checks a runtime's start-up). */
	apply_exec(t, 300, 2, CG_HOST, MNT_HOST, "/usr/sbin/runc");
	assert_int_equal(images_apply(t, mk_fork(300, 400, 2, CG_POD, MNT_POD)), 0);
	assert_null(images_find(t, 300, 2));
	images__free(t);
}

/* Checks may still be read after the exit record: the image stays until
 * images_forget(). */
static void test_exit_keeps(void **state)
{
	struct images *t = new_images(0);

	(void)state;
	apply_exec(t, 100, 1, CG_POD, MNT_POD, "/bin/sh");
	assert_int_equal(images_apply(t, proc_record_image(&rec, CT_REC_EXIT, 100, 0, 1, 0, 0)), 0);
	assert_string_equal(find_ok(t, 100, 1)->binary, "/bin/sh");
	rec.type = CT_REC_CAP; /* not a lifecycle record: nothing either */
	assert_int_equal(images_apply(t, &rec), 0);
	assert_string_equal(find_ok(t, 100, 1)->binary, "/bin/sh");
	images__free(t);
}

static void test_find_misses(void **state)
{
	struct images *t = new_images(0);

	(void)state;
	assert_null(images_find(t, 100, 1)); /* empty table */
	apply_exec(t, 100, 1, CG_POD, MNT_POD, NULL);
	assert_non_null(images_find(t, 100, 1));
	assert_null(images_find(t, 100, 0)); /* another image of the same pid */
	assert_null(images_find(t, 100, 2));
	assert_null(images_find(t, 101, 1));
	assert_null(images_find(t, 1, 100)); /* pid and exec_gen are not interchangeable */
	images__free(t);
}

static void test_forget(void **state)
{
	struct images *t = new_images(0);

	(void)state;
	apply_exec(t, 100, 1, CG_POD, MNT_POD, NULL);
	apply_exec(t, 100, 2, CG_POD, MNT_POD, NULL);
	apply_exec(t, 101, 1, CG_POD, MNT_POD, NULL);
	/* its exec_gen is 100's pid: only the high half names the pid */
	apply_exec(t, 7, 100, CG_POD, MNT_POD, NULL);
	images_forget(t, 100);
	assert_null(images_find(t, 100, 1));
	assert_null(images_find(t, 100, 2));
	assert_non_null(images_find(t, 101, 1));
	assert_non_null(images_find(t, 7, 100));
	images_forget(t, 100); /* nothing left of it: no change */
	images_forget(t, 4242);
	assert_non_null(images_find(t, 101, 1));
	assert_non_null(images_find(t, 7, 100));
	images__free(t);
}

static void test_bound(void **state)
{
	struct images *t = new_images(2);

	(void)state;
	apply_exec(t, 100, 1, CG_POD, MNT_POD, NULL);
	apply_exec(t, 101, 1, CG_POD, MNT_POD, NULL);
	apply_exec(t, 102, 1, CG_POD, MNT_POD, NULL);
	assert_null(images_find(t, 102, 1));
	assert_int_equal(images_untracked(t), 1);
	assert_non_null(images_find(t, 100, 1)); /* the first ones are kept, not evicted */
	assert_non_null(images_find(t, 101, 1));

	/* A forked child is an image too. */
	assert_int_equal(images_apply(t, mk_fork(103, 100, 1, CG_POD, MNT_POD)), 0);
	assert_null(images_find(t, 103, 1));
	assert_int_equal(images_untracked(t), 2);

	/* Replacing a known image takes no room. */
	apply_exec(t, 100, 1, CG_HOST, MNT_HOST, "/usr/bin/runc");
	assert_string_equal(find_ok(t, 100, 1)->binary, "/usr/bin/runc");
	assert_int_equal(images_untracked(t), 2);

	/* Forgetting makes room again. */
	images_forget(t, 101);
	apply_exec(t, 102, 1, CG_POD, MNT_POD, NULL);
	assert_non_null(images_find(t, 102, 1));
	assert_int_equal(images_untracked(t), 2);
	images__free(t);
	images__free(NULL);
}

static void test_runtime_start(void **state)
{
	static const struct {
		uint64_t exec_cgroup;
		uint32_t exec_mntns;
		uint64_t cgroup;
		uint32_t host_mntns;
		bool runtime;
	} cases[] = {
		/* the workload: exec'd in its cgroup and its own mount ns */
		{ CG_POD, MNT_POD, CG_POD, MNT_HOST, false },
		/* runc:[2:INIT]: in the cgroup already, the host's mount ns still */
		{ CG_POD, MNT_HOST, CG_POD, MNT_HOST, true },
		/* exec'd before the move into the cgroup, whatever the ns */
		{ CG_HOST, MNT_POD, CG_POD, MNT_HOST, true },
		{ CG_HOST, MNT_HOST, CG_POD, MNT_HOST, true },
		/* the host's mount ns unknown: only the cgroup tells */
		{ CG_POD, MNT_HOST, CG_POD, 0, false },
		{ CG_POD, 0, CG_POD, 0, false },
		{ CG_HOST, MNT_POD, CG_POD, 0, true },
		/* an image whose mount ns is unknown is not the host's */
		{ CG_POD, 0, CG_POD, MNT_HOST, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct image img = { .binary = "/x", .exec_cgroup = cases[i].exec_cgroup,
					   .exec_mntns = cases[i].exec_mntns };

		if (image_is_runtime_start(&img, cases[i].cgroup, cases[i].host_mntns) !=
		    cases[i].runtime)
			fail_msg("case %zu: expected %s", i,
				 cases[i].runtime ? "runtime" : "workload");
	}
}

static void test_exec_names(void **state)
{
	static const struct {
		const char *binary;
		uint32_t pid;
		enum image_exec_name name;
	} cases[] = {
		{ "/proc/self/exe", 100, IMAGE_EXEC_SELF },
		{ "/proc/thread-self/exe", 100, IMAGE_EXEC_SELF },
		{ "/proc/100/exe", 100, IMAGE_EXEC_SELF },
		{ "/proc/101/exe", 100, IMAGE_EXEC_INDIRECT }, /* another process's image */
		{ "/dev/fd/6", 100, IMAGE_EXEC_INDIRECT }, /* runc 1.1's sealed copy */
		{ "/proc/self/fd/12", 100, IMAGE_EXEC_INDIRECT },
		{ "/proc/100/fd/3", 100, IMAGE_EXEC_INDIRECT },
		{ "/usr/sbin/runc", 100, IMAGE_EXEC_PATH },
		{ "/proc/self/exe2", 100, IMAGE_EXEC_PATH },
		{ "/proc/self/root/bin/sh", 100, IMAGE_EXEC_PATH },
		{ "/proc/self/fd/", 100, IMAGE_EXEC_PATH },
		{ "/proc/self/fd/3x", 100, IMAGE_EXEC_PATH },
		{ "/dev/fd/", 100, IMAGE_EXEC_PATH },
		{ "/dev/fd/6/x", 100, IMAGE_EXEC_PATH },
		{ "/proc/x/exe", 100, IMAGE_EXEC_PATH },
		{ "/proc/99999999999999999999999/exe", 100, IMAGE_EXEC_PATH },
		{ "/proc/exe", 100, IMAGE_EXEC_PATH },
		{ "", 100, IMAGE_EXEC_PATH },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (image_exec_name(cases[i].binary, cases[i].pid) != cases[i].name)
			fail_msg("%s: %d, want %d", cases[i].binary,
				 image_exec_name(cases[i].binary, cases[i].pid), cases[i].name);
	}
}

/* runc runs itself again through /proc/self/exe, then its sealed copy
 * through /dev/fd/N; busybox sh runs applets through /proc/self/exe: each
 * image is the program that ran before, never a name of /proc. */
static void test_exec_self(void **state)
{
	struct images *t = new_images(0);
	struct ct_proc_event *r;

	(void)state;
	r = mk_exec(100, 1, CG_HOST, MNT_HOST);
	set_binary(r, "/usr/sbin/runc");
	assert_int_equal(images_apply(t, r), 0);
	r = mk_exec(100, 2, CG_HOST, MNT_HOST);
	set_binary(r, "/proc/self/exe");
	assert_int_equal(images_apply(t, r), 0);
	r = mk_exec(100, 3, CG_POD, MNT_HOST);
	set_binary(r, "/dev/fd/6");
	assert_int_equal(images_apply(t, r), 0);
	assert_string_equal(find_ok(t, 100, 2)->binary, "/usr/sbin/runc");
	assert_string_equal(find_ok(t, 100, 3)->binary, "/usr/sbin/runc");
	assert_int_equal(find_ok(t, 100, 3)->exec_cgroup, CG_POD); /* where, as ever */
	r = mk_exec(100, 4, CG_POD, MNT_POD);
	set_binary(r, "/bin/sh");
	assert_int_equal(images_apply(t, r), 0);
	/* a forked child runs its parent's image, and its own exec replaces it */
	assert_int_equal(images_apply(t, mk_fork(101, 100, 4, CG_POD, MNT_POD)), 0);
	r = mk_exec(101, 5, CG_POD, MNT_POD);
	set_binary(r, "/proc/self/exe");
	assert_int_equal(images_apply(t, r), 0);
	assert_string_equal(find_ok(t, 101, 5)->binary, "/bin/sh");
	/* what ran before is not known: no name rather than a false one */
	r = mk_exec(102, 9, CG_POD, MNT_POD);
	set_binary(r, "/proc/self/exe");
	assert_int_equal(images_apply(t, r), 0);
	assert_null(find_ok(t, 102, 9)->binary);
	r = mk_exec(102, 10, CG_POD, MNT_POD);
	set_binary(r, "/proc/102/exe");
	assert_int_equal(images_apply(t, r), 0);
	assert_null(find_ok(t, 102, 10)->binary);
	images__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_absolute),
		cmocka_unit_test(test_exec_relative),
		cmocka_unit_test(test_exec_without_binary),
		cmocka_unit_test(test_exec_replaces),
		cmocka_unit_test(test_fork_inherits),
		cmocka_unit_test(test_fork_unknown_parent),
		cmocka_unit_test(test_exit_keeps),
		cmocka_unit_test(test_find_misses),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_runtime_start),
		cmocka_unit_test(test_exec_names),
		cmocka_unit_test(test_exec_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
