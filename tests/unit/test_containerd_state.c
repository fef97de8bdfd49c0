/* Pods of containerd's CRI plugin as containerd itself lays them out, on a
 * fixture tree written here: a state root that is a containerd state
 * directory (<state>/io.containerd.runtime.v2.task/<ns>/<id>/), the runc
 * root its shim was given (options.json) holding the start time, and the
 * pod's sandbox, which has no container name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "identity/container.h"
#include "container_tree.h"
#include "scratch.h"

#define UID "5e0c1f3a-2b4d-4c6e-8f10-213243546576"
#define ID_APP "1f4dc0c1b2a3948576a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4"
#define ID_SANDBOX "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
#define ID_BARE "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define POD_CG "/kubepods/besteffort/pod" UID
#define TASKS "ctd/state/io.containerd.runtime.v2.task/k8s.io"

static char root[SCRATCH_DIR_LEN];

static void write_file(const char *rel, const char *format, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	fmt(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, format);
	vfprintf(f, format, ap);
	va_end(ap);
	fclose(f);
}

/* A task's bundle as the CRI plugin writes it: type, sandbox names, and
 * for a container its own name and image. */
static void task(const char *id, const char *type, const char *name, bool runc_root)
{
	char dir[PATH_MAX], rel[PATH_MAX];

	fmt(dir, sizeof(dir), TASKS "/%s", id);
	run("mkdir -p %s/%s %s/cgroupfs/unified" POD_CG "/%s", root, dir, root, id);
	fmt(rel, sizeof(rel), "%s/config.json", dir);
	write_file(rel, "{\"ociVersion\":\"1.0.2-dev\",\"annotations\":{"
		   "\"io.kubernetes.cri.container-type\":\"%s\",%s"
		   "\"io.kubernetes.cri.sandbox-id\":\"" ID_SANDBOX "\","
		   "\"io.kubernetes.cri.sandbox-name\":\"web-0\","
		   "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
		   "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"}}",
		   type, name);
	fmt(rel, sizeof(rel), "%s/init.pid", dir);
	write_file(rel, "%d", strcmp(id, ID_BARE) ? 4321 : 4300);
	if (runc_root) {
		fmt(rel, sizeof(rel), "%s/options.json", dir);
		write_file(rel, "{\"root\":\"%s/ctd/runc\"}", root);
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (scratch_dir_make(root, "containerd-state"))
		return -1;
	run("mkdir -p %s/proc %s/cgroupfs/unified %s/ctd/runc/k8s.io/" ID_APP, root, root, root);
	task(ID_APP, "container",
	     "\"io.kubernetes.cri.container-name\":\"app\","
	     "\"io.kubernetes.cri.image-name\":\"registry.example/shop/web:2\",",
	     true);
	write_file("ctd/runc/k8s.io/" ID_APP "/state.json",
		   "{\"id\":\"" ID_APP "\",\"init_process_pid\":4321,"
		   "\"created\":\"2026-11-28T02:24:33.558280416Z\","
		   "\"config\":{\"labels\":[\"bundle=%s/" TASKS "/" ID_APP "\"]}}", root);
	task(ID_SANDBOX, "sandbox", "", true);
	/* A shim left with containerd's default runc root writes no root. */
	task(ID_BARE, "container", "\"io.kubernetes.cri.container-name\":\"bare\",", false);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_dir_remove(root);
}

/* A cache whose one state root is dir (under root), or none. */
static struct container_cache *cache_with(const char *dir)
{
	static char proc[PATH_MAX], cgroupfs[PATH_MAX], state[PATH_MAX], none[PATH_MAX];
	struct container_roots r = { 0 };
	struct container_cache *cache;

	fmt(proc, sizeof(proc), "%s/proc", root);
	fmt(cgroupfs, sizeof(cgroupfs), "%s/cgroupfs", root);
	fmt(none, sizeof(none), "%s/absent", root);
	r.proc = proc;
	r.cgroupfs = cgroupfs;
	r.containerd = none;
	r.pods_log = none;
	if (dir) {
		fmt(state, sizeof(state), "%s/%s", root, dir);
		r.state[0] = state;
	}
	assert_int_equal(container_cache__new(&r, 8, &cache), 0);
	return cache;
}

static const struct container_info *lookup(struct container_cache *cache, const char *id)
{
	const struct container_info *info = NULL;
	char cg[PATH_MAX];

	fmt(cg, sizeof(cg), "%s/%s", POD_CG, id);
	assert_int_equal(container_cache__lookup(cache, container_tree_cgid(root, "cgroupfs/unified",
									  cg), 0, &info), 0);
	assert_non_null(info);
	return info;
}

static void test_state_root_is_containerd_state(void **state)
{
	struct container_cache *cache = cache_with("ctd/state");
	const struct container_info *info;

	(void)state;
	info = lookup(cache, ID_APP);
	assert_string_equal(info->runtime, "containerd");
	assert_string_equal(info->id, ID_APP);
	assert_string_equal(info->pod_uid, UID);
	assert_string_equal(info->pod_namespace, "shop");
	assert_string_equal(info->pod_name, "web-0");
	assert_string_equal(info->name, "app");
	assert_string_equal(info->image, "registry.example/shop/web:2");
	assert_string_equal(info->type, "container");
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	/* runc's state, in the root options.json names */
	assert_string_equal(info->start_time, "2026-11-28T02:24:33.558280416Z");
	assert_int_equal(info->init_pid, 4321);
	container_cache__free(cache);
}

static void test_default_runc_root(void **state)
{
	struct container_cache *cache = cache_with("ctd/state");
	const struct container_info *info;

	(void)state;
	info = lookup(cache, ID_BARE);
	assert_string_equal(info->name, "bare");
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_string_equal(info->start_time, ""); /* runc's state is in a default root */
	assert_int_equal(info->init_pid, 4300); /* the shim's init.pid */
	container_cache__free(cache);
}

static void test_sandbox_named_pod(void **state)
{
	struct container_cache *cache = cache_with("ctd/state");
	const struct container_info *info;

	(void)state;
	info = lookup(cache, ID_SANDBOX);
	assert_string_equal(info->type, "sandbox");
	assert_string_equal(info->pod_name, "web-0");
	assert_string_equal(info->name, "POD");
	container_cache__free(cache);
}

/* Without the state root the task is not found: the cgroup alone. */
static void test_not_a_state_root(void **state)
{
	struct container_cache *cache = cache_with(NULL);
	const struct container_info *info;

	(void)state;
	info = lookup(cache, ID_APP);
	assert_string_equal(info->id, ID_APP);
	assert_string_equal(info->pod_uid, UID);
	assert_string_equal(info->pod_name, "");
	assert_string_equal(info->name, "");
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	container_cache__free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_root_is_containerd_state),
		cmocka_unit_test(test_default_runc_root),
		cmocka_unit_test(test_sandbox_named_pod),
		cmocka_unit_test(test_not_a_state_root),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
