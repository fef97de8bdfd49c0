/* A scratch copy of tests/fixtures/container, on which the container,
 * identity and ledger tests resolve pods: copied, because its runtime state
 * holds absolute bundle paths, written there as @ROOT@. Include after
 * cmocka.h. */
#ifndef CAPTRAIL_TEST_CONTAINER_TREE_H
#define CAPTRAIL_TEST_CONTAINER_TREE_H

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "identity/container.h"
#include "scratch.h"

#define CONTAINER_TREE_PATHS 7

/* snprintf into buf, which must hold all of it. */
__attribute__((format(printf, 3, 4)))
static inline void fmt(char *buf, size_t size, const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(buf, size, format, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size);
}

/* A shell command, which must succeed. */
__attribute__((format(printf, 1, 2)))
static inline void run(const char *format, ...)
{
	char cmd[3 * PATH_MAX];
	va_list ap;

	va_start(ap, format);
	vsnprintf(cmd, sizeof(cmd), format, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* The copy, in a new scratch directory for name; 0, or -1 without one. */
static inline int container_tree_make(char root[SCRATCH_DIR_LEN], const char *name)
{
	const char *src = getenv("CAPTRAIL_SRC");

	if (scratch_dir_make(root, name))
		return -1;
	run("cp -a %s/tests/fixtures/container/. %s", src ? src : ".", root);
	run("find %s/run -type f \\( -name state.json -o -name status \\) "
	    "-exec sed -i 's|@ROOT@|%s|g' {} +", root, root);
	return 0;
}

/* Roots into a copy, and the paths they point to. */
struct container_tree {
	char paths[CONTAINER_TREE_PATHS][PATH_MAX];
	struct container_roots roots;
};

/* The copy at root as the host's /proc, runtime state and pod logs;
 * cgroupfs is its folder that stands for /sys/fs/cgroup. */
static inline const struct container_roots *container_tree_roots(struct container_tree *t,
								 const char *root,
								 const char *cgroupfs)
{
	const char *const rel[CONTAINER_TREE_PATHS] = {
		"proc", cgroupfs, "run/runc", "run/containerd/runc", "run/crun",
		"run/containerd", "var/log/pods",
	};

	for (int i = 0; i < CONTAINER_TREE_PATHS; i++)
		fmt(t->paths[i], PATH_MAX, "%s/%s", root, rel[i]);
	memset(&t->roots, 0, sizeof(t->roots));
	t->roots.proc = t->paths[0];
	t->roots.cgroupfs = t->paths[1];
	t->roots.state[0] = t->paths[2];
	t->roots.state[1] = t->paths[3];
	t->roots.state[2] = t->paths[4];
	t->roots.containerd = t->paths[5];
	t->roots.pods_log = t->paths[6];
	return &t->roots;
}

/* The id of cgroup in the copy's cgroup2 tree at root/v2: its inode, as on
 * cgroupfs. */
static inline uint64_t container_tree_cgid(const char *root, const char *v2, const char *cgroup)
{
	char path[PATH_MAX];
	struct stat st;

	fmt(path, sizeof(path), "%s/%s%s", root, v2, cgroup);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

#endif
