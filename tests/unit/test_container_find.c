/* From a container's name or id, or a pod, to its cgroup (record
 * --container, --pod, --cgroup), on a copy of tests/fixtures/container with
 * a second pod added whose container shares a name with the first's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "identity/container_find.h"
#include "container_tree.h"
#include "scratch.h"

#define ID_API "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"
#define ID_NGINX "6b23c0d5f35d1b11f9b683f0b0a617355deb11277d91ae091d399c655b87940d"
#define ID_PODMAN "5c62e091b8c0565f1bafad0dad5934276143ae2ccef7a5381e8ada5b1a8d26d2"
#define UID_JOB2 "f0f0f0f0-0000-4000-8000-0000000000a1"
#define ID_WORKER2 "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define ID_HELPER "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define ID_PAUSE "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
#define POD_JOB2 "/kubepods/besteffort/pod" UID_JOB2
#define POD_WEB0 "/kubepods.slice/kubepods-pod11111111_2222_4333_8444_555555555555.slice"

static char root[SCRATCH_DIR_LEN];
static struct container_tree tree;
static const struct container_roots *roots;

/* A runc container of pod batch/job-2: its cgroup, and the annotations runc
 * copied into its state. */
static void add_container(const char *id, const char *name, const char *type)
{
	char path[PATH_MAX];
	FILE *f;

	run("mkdir -p %s/cgroupfs/unified%s/%s %s/run/runc/%s", root, POD_JOB2, id, root, id);
	fmt(path, sizeof(path), "%s/run/runc/%s/state.json", root, id);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"{\"id\": \"%s\", \"init_process_pid\": 0, \"created\": \"2024-05-03T00:00:00Z\", "
		"\"config\": {\"labels\": [\"io.kubernetes.cri.sandbox-namespace=batch\", "
		"\"io.kubernetes.cri.sandbox-name=job-2\", "
		"\"io.kubernetes.cri.sandbox-uid=" UID_JOB2 "\", "
		"\"io.kubernetes.cri.container-type=%s\", "
		"\"io.kubernetes.cri.container-name=%s\"]}}\n",
		id, type, name);
	assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
	(void)state;
	if (container_tree_make(root, "container-find"))
		return -1;
	roots = container_tree_roots(&tree, root, "cgroupfs");
	add_container(ID_WORKER2, "worker", "container");
	add_container(ID_HELPER, "helper", "container");
	add_container(ID_PAUSE, "pause", "sandbox");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_dir_remove(root);
}

static void test_by_name(void **state)
{
	struct container_found f;

	(void)state;
	assert_int_equal(container_find_container(roots, "api", &f), 0);
	assert_int_equal(f.n_matches, 1);
	assert_string_equal(f.matches[0].id, ID_API);
	assert_string_equal(f.matches[0].name, "payments/api-6d4cf56db6-x2x7q/api");
	assert_string_equal(f.matches[0].cgroup,
			    "/kubepods/besteffort/pod0b6f4c1e-6a3c-4a8e-9d3b-1f2e3d4c5b6a/" ID_API);
	assert_true(f.walked > 0);

	/* The systemd driver's layout, named from kubelet's log directory. */
	assert_int_equal(container_find_container(roots, "nginx", &f), 0);
	assert_int_equal(f.n_matches, 1);
	assert_string_equal(f.matches[0].cgroup, POD_WEB0 "/cri-containerd-" ID_NGINX ".scope");
}

static void test_by_id_prefix(void **state)
{
	struct container_found f;

	(void)state;
	assert_int_equal(container_find_container(roots, "559aead08264", &f), 0);
	assert_int_equal(f.n_matches, 1);
	assert_string_equal(f.matches[0].id, ID_API);
	/* Shorter than CONTAINER_FIND_ID_MIN: a name, which none has. */
	assert_int_equal(container_find_container(roots, "559aead0826", &f), 0);
	assert_int_equal(f.n_matches, 0);
	/* A container without a name is found by its id alone, once although
	 * its runtime nests a cgroup below its own. */
	assert_int_equal(container_find_container(roots, ID_PODMAN, &f), 0);
	assert_int_equal(f.n_matches, 1);
	assert_string_equal(f.matches[0].cgroup, "/machine.slice/libpod-" ID_PODMAN ".scope");
}

static void test_name_of_several(void **state)
{
	struct container_found f;
	bool job1 = false, job2 = false;

	(void)state;
	assert_int_equal(container_find_container(roots, "worker", &f), 0);
	assert_int_equal(f.n_matches, 2);
	for (size_t i = 0; i < 2; i++) {
		job1 |= !strcmp(f.matches[i].name, "batch/job-1-xyz/worker");
		job2 |= !strcmp(f.matches[i].name, "batch/job-2/worker") &&
			!strcmp(f.matches[i].id, ID_WORKER2);
	}
	assert_true(job1 && job2);
}

static void test_no_match(void **state)
{
	struct container_found f;

	(void)state;
	assert_int_equal(container_find_container(roots, "nosuch", &f), 0);
	assert_int_equal(f.n_matches, 0);
	/* A pod's sandbox is no container a user names. */
	assert_int_equal(container_find_container(roots, "pause", &f), 0);
	assert_int_equal(f.n_matches, 0);
	assert_int_equal(container_find_pod(roots, "batch", "nosuch", &f), 0);
	assert_int_equal(f.n_matches, 0);
	assert_string_equal(f.pod_cgroup, "");
}

static void test_pod(void **state)
{
	struct container_found f;

	(void)state;
	/* Every container, the sandbox too, under the pod's own cgroup. */
	assert_int_equal(container_find_pod(roots, "batch", "job-2", &f), 0);
	assert_int_equal(f.n_matches, 3);
	assert_string_equal(f.pod_cgroup, POD_JOB2);

	assert_int_equal(container_find_pod(roots, "prod", "web-0", &f), 0);
	assert_int_equal(f.n_matches, 1);
	assert_string_equal(f.pod_cgroup, POD_WEB0);
}

static void test_malformed(void **state)
{
	struct container_found f = { .n_matches = 7 };

	(void)state;
	assert_int_equal(container_find_container(roots, "a/b", &f), -EINVAL);
	assert_int_equal(container_find_container(roots, "", &f), -EINVAL);
	assert_int_equal(container_find_container(roots, "a b", &f), -EINVAL);
	assert_int_equal(container_find_pod(roots, "", "x", &f), -EINVAL);
	assert_int_equal(container_find_pod(roots, "a", "b/c", &f), -EINVAL);
	assert_int_equal(f.n_matches, 7); /* untouched */
	assert_true(container_find_valid_name("web-0"));
	assert_false(container_find_valid_name("web\n0"));
}

static void test_cgroup_path(void **state)
{
	char fs[PATH_MAX], want[PATH_MAX], abs[PATH_MAX], path[PATH_MAX];

	(void)state;
	fmt(fs, sizeof(fs), "%s/cgroupfs", root);
	fmt(want, sizeof(want), "%s/unified%s", fs, POD_JOB2);
	assert_int_equal(container_find_cgroup(fs, POD_JOB2, path, sizeof(path)), 0);
	assert_string_equal(path, want);
	assert_int_equal(container_find_cgroup(fs, POD_JOB2 + 1, path, sizeof(path)), 0);
	assert_string_equal(path, want);
	assert_int_equal(container_find_cgroup(fs, want, path, sizeof(path)), 0);
	assert_string_equal(path, want);

	assert_int_equal(container_find_cgroup(fs, "/nosuch", path, sizeof(path)), -ENOENT);
	assert_int_equal(container_find_cgroup(fs, "/", path, sizeof(path)), -EINVAL);
	assert_int_equal(container_find_cgroup(fs, "/kubepods/..", path, sizeof(path)), -EINVAL);
	fmt(abs, sizeof(abs), "%s/unified/..", fs);
	assert_int_equal(container_find_cgroup(fs, abs, path, sizeof(path)), -EINVAL);
	assert_int_equal(container_find_cgroup(fs, "/../../proc", path, sizeof(path)), -EINVAL);
	assert_int_equal(container_find_cgroup(fs, "/cgroup.procs", path, sizeof(path)),
			 -ENOTDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_by_id_prefix),
		cmocka_unit_test(test_name_of_several),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_pod),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_cgroup_path),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
