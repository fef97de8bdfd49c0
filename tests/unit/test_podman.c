/* podman's containers, named from its containers/storage roots: the graph
 * root's containers.json and libpod's bundle, the run root's pidfile, found
 * through the roots' own list or a state root laid out as one; on a fixture
 * tree written here. */
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
#include <sys/stat.h>

#include "identity/container.h"
#include "container_tree.h"
#include "scratch.h"

#define POD "320f0727cfcc68b66b528d21745f2c5b378bdad398560dc3ec8b0432a20e7b6a"
#define ID_SOLO "a8169732b440f524c8f42d88ae95cf216d149a2f6fd99db92b2daa637faaf02e"
#define ID_PILOT "f6aad4a963a9720f20ba4de583c18bfabe4ea5406d727b3c66aec579268a6a24"
#define ID_CRIO "5bcc803aa9d518b65968cf24bdb0496355f1b80d5ca4a2d082ca5b115739b5d6"
#define ID_OTHER "46cb27eff81430828c65c5b1b3bf9b7174c1617c5aaf5441568d9c1636c9532a"
#define ID_GONE "0589e175f89fd0f4a657f9679bc389180b778e304654b4811a9f9599068d8d96"

#define CG_SOLO "/libpod_parent/libpod-" ID_SOLO
#define CG_PILOT "/libpod_parent/" POD "/libpod-" ID_PILOT
#define CG_CRIO \
	"/kubepods/besteffort/pod0b6f4c1e-6a3c-4a8e-9d3b-1f2e3d4c5b6a/crio-" ID_CRIO ".scope"
#define CG_OTHER "/machine.slice/libpod-" ID_OTHER ".scope"
#define CG_GONE "/libpod_parent/libpod-" ID_GONE

/* containers/storage's entry: libpod's metadata is JSON in a string. */
#define ENTRY(id, name, image)                                                                 \
	"{\"id\":\"" id "\",\"names\":[\"" name "\"],\"image\":\"681803076e4a\","              \
	"\"metadata\":\"{\\\"image-name\\\":\\\"" image "\\\",\\\"name\\\":\\\"" name "\\\"}\"," \
	"\"created\":\"2026-11-28T02:18:10.554386422Z\"}"

static char root[SCRATCH_DIR_LEN];

static void write_file(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	fmt(path, sizeof(path), "%s/%s", root, rel);
	run("mkdir -p \"$(dirname %s)\"", path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int group_setup(void **state)
{
	static const char *const cgroups[] = { CG_SOLO, CG_PILOT, CG_CRIO, CG_OTHER, CG_GONE };

	(void)state;
	if (scratch_dir_make(root, "podman"))
		return -1;
	for (size_t i = 0; i < sizeof(cgroups) / sizeof(cgroups[0]); i++)
		run("mkdir -p %s/cgroupfs/unified%s", root, cgroups[i]);
	write_file("storage/overlay-containers/containers.json",
		   "[" ENTRY(ID_SOLO, "solo", "localhost/captrail-busybox:1") ","
		   ENTRY(ID_PILOT, "xwing-pilot", "localhost/captrail-busybox:1") ","
		   ENTRY(ID_CRIO, "k8s_app_web", "quay.io/app:2") "]");
	write_file("storage/overlay-containers/" ID_PILOT "/userdata/config.json",
		   "{\"annotations\":{\"io.container.manager\":\"libpod\","
		   "\"io.kubernetes.cri-o.ContainerType\":\"container\"}}");
	write_file("runroot/overlay-containers/" ID_PILOT "/userdata/pidfile", "4242");
	/* A second store, given as a state root: found by its layout. */
	write_file("other/vfs-containers/containers.json",
		   "[" ENTRY(ID_OTHER, "web", "localhost/web:3") "]");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_dir_remove(root);
}

struct roots {
	char cgroupfs[PATH_MAX], storage[PATH_MAX], runroot[PATH_MAX], other[PATH_MAX];
	struct container_roots r;
};

static struct container_cache *new_cache(struct roots *t)
{
	struct container_cache *cache;

	memset(&t->r, 0, sizeof(t->r));
	fmt(t->cgroupfs, PATH_MAX, "%s/cgroupfs", root);
	fmt(t->storage, PATH_MAX, "%s/storage", root);
	fmt(t->runroot, PATH_MAX, "%s/runroot", root);
	fmt(t->other, PATH_MAX, "%s/other", root);
	t->r.proc = "/nonexistent";
	t->r.cgroupfs = t->cgroupfs;
	t->r.storage[0] = t->storage;
	t->r.storage[1] = t->runroot;
	t->r.state[0] = t->other;
	assert_int_equal(container_cache__new(&t->r, 16, &cache), 0);
	return cache;
}

static const struct container_info *lookup(struct container_cache *cache, const char *cgroup)
{
	const struct container_info *info = NULL;

	assert_int_equal(container_cache__lookup(cache, container_tree_cgid(root, "cgroupfs/unified",
									     cgroup),
						 0, &info),
			 0);
	assert_non_null(info);
	return info;
}

static void test_plain_container(void **state)
{
	struct roots t;
	struct container_cache *cache = new_cache(&t);
	const struct container_info *info;

	(void)state;
	info = lookup(cache, CG_SOLO);
	assert_string_equal(info->runtime, "podman");
	assert_string_equal(info->id, ID_SOLO);
	assert_string_equal(info->name, "solo");
	assert_string_equal(info->image, "localhost/captrail-busybox:1");
	assert_string_equal(info->start_time, "2026-11-28T02:18:10.554386422Z");
	/* No pod: podman keeps a pod's name in its database only. */
	assert_string_equal(info->pod_name, "");
	assert_string_equal(info->pod_namespace, "");
	assert_int_equal(info->source, CONTAINER_SRC_STATE);
	assert_int_equal(info->meta_err, 0);
	container_cache__free(cache);
}

static void test_pod_container(void **state)
{
	struct roots t;
	struct container_cache *cache = new_cache(&t);
	const struct container_info *info;

	(void)state;
	info = lookup(cache, CG_PILOT);
	assert_string_equal(info->id, ID_PILOT);
	assert_string_equal(info->name, "xwing-pilot");
	assert_string_equal(info->type, "container");
	assert_int_equal(info->init_pid, 4242);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	container_cache__free(cache);
}

static void test_state_root_layout(void **state)
{
	struct roots t;
	struct container_cache *cache = new_cache(&t);
	const struct container_info *info;

	(void)state;
	info = lookup(cache, CG_OTHER);
	assert_string_equal(info->name, "web");
	assert_string_equal(info->image, "localhost/web:3");
	container_cache__free(cache);
}

/* CRI-O keeps its containers in the same layout, under names of its own:
 * its annotations name them, never containers.json. */
static void test_crio_not_read(void **state)
{
	struct roots t;
	struct container_cache *cache = new_cache(&t);
	const struct container_info *info;

	(void)state;
	info = lookup(cache, CG_CRIO);
	assert_string_equal(info->runtime, "cri-o");
	assert_string_equal(info->name, "");
	container_cache__free(cache);
}

static void test_missing_and_refused(void **state)
{
	struct roots t;
	struct container_cache *cache = new_cache(&t);
	struct container_cache_stats stats;
	const struct container_info *info;
	char path[PATH_MAX];
	FILE *f;

	(void)state;
	info = lookup(cache, CG_GONE);
	assert_string_equal(info->name, "");
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, -ENOENT);
	container_cache__free(cache);

	/* A list larger than the bound is refused, and counted. */
	fmt(path, sizeof(path), "%s/other/vfs-containers/containers.json", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[" ENTRY(ID_OTHER, "web", "localhost/web:3"), f);
	for (size_t n = 0; n <= CONTAINER_JSON_MAX; n += 1024)
		fprintf(f, "%1024s", "");
	fputs("]", f);
	fclose(f);
	cache = new_cache(&t);
	info = lookup(cache, CG_OTHER);
	assert_string_equal(info->name, "");
	assert_int_equal(info->meta_err, -EFBIG);
	container_cache__stats(cache, &stats);
	assert_int_equal(stats.refused, 1);
	container_cache__free(cache);
	write_file("other/vfs-containers/containers.json",
		   "[" ENTRY(ID_OTHER, "web", "localhost/web:3") "]");
}

static void test_defaults(void **state)
{
	struct container_roots r;

	(void)state;
	container_roots_default(&r);
	assert_string_equal(r.storage[0], "/var/lib/containers/storage");
	assert_string_equal(r.storage[1], "/run/containers/storage");
	assert_null(r.storage[2]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_container),
		cmocka_unit_test(test_pod_container),
		cmocka_unit_test(test_state_root_layout),
		cmocka_unit_test(test_crio_not_read),
		cmocka_unit_test(test_missing_and_refused),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
