/* Container and pod resolution from cgroup paths, runtime state, OCI
 * bundles and kubelet's log directories, on the fixture tree in
 * tests/fixtures/container (copied, because runtime state holds absolute
 * bundle paths, written there as @ROOT@). */
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
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "identity/container.h"
#include "container_tree.h"
#include "lib/text.h"
#include "scratch.h"

#define ID_A "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"
#define ID_B "df7e70e5021544f4834bbee64a9e3789febc4be81470df629cad6ddb03320a5c"
#define ID_C "6b23c0d5f35d1b11f9b683f0b0a617355deb11277d91ae091d399c655b87940d"
#define ID_D "3f39d5c348e5b79d06e842c114e6cc571583bbf44e4b0ebfda1a01ec05745d43"
#define ID_E "a9f51566bd6705f7ea6ad54bb9deb449f795582d6529a0e22207b8981233ec58"
#define ID_F "f67ab10ad4e4c53121b6a5fe4da9c10ddee905b978d3788d2723d7bfacbe28a9"
#define ID_G "333e0a1e27815d0ceee55c473fe3dc93d56c63e3bee2b3b4aee8eed6d70191a3"
#define ID_H "44bd7ae60f478fae1061e11a7739f4b94d1daf917982d33b6fc8a01a63f89c21"
#define ID_P "5c62e091b8c0565f1bafad0dad5934276143ae2ccef7a5381e8ada5b1a8d26d2"
#define ID_R "8c2574892063f995fdf756bce07f46c1a5193e54cd52837ed91e32008ccf41ac"
#define ID_K "0ff7bfdc55cb40a468839b9ec0e7dd1439df820419a0ab5ec4da48fee44230d3"
#define ID_L "d0c4e7c1a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"
#define ID_M "e0c4e7c1a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"
#define UID_A "0b6f4c1e-6a3c-4a8e-9d3b-1f2e3d4c5b6a"
#define UID_B "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define UID_C "11111111-2222-4333-8444-555555555555"
#define UID_D "d4e5f6a7-b8c9-4dab-9cde-f0123456789a"
#define UID_R "f0f0f0f0-0000-4000-8000-000000000004"

#define CG_A "/kubepods/besteffort/pod" UID_A "/" ID_A
#define CG_B "/kubepods.slice/kubepods-burstable.slice/" \
	"kubepods-burstable-pod7d1c2b3a_4e5f_4a6b_8c7d_9e0f1a2b3c4d.slice/crio-" ID_B ".scope"
#define CG_C "/kubepods.slice/kubepods-pod11111111_2222_4333_8444_555555555555.slice/" \
	"cri-containerd-" ID_C ".scope"
#define CG_D "/kubepods/burstable/pod" UID_D "/" ID_D
#define CG_E "/system.slice/docker-" ID_E ".scope"
#define CG_F "/kubepods/besteffort/podf0f0f0f0-0000-4000-8000-000000000001/" ID_F
#define CG_G "/kubepods/besteffort/podf0f0f0f0-0000-4000-8000-000000000002/" ID_G
#define CG_H "/kubepods/besteffort/podf0f0f0f0-0000-4000-8000-000000000003/" ID_H
#define CG_R "/kubepods/besteffort/pod" UID_R "/" ID_R
#define CG_K "/captrail/docker/" ID_K /* cgroupfs driver, --cgroup-parent /captrail/docker */
#define CG_HOST "/user.slice/user-1000.slice/session-1.scope"

static char root[SCRATCH_DIR_LEN];

static void path_of(char *buf, size_t size, const char *rel)
{
	fmt(buf, size, "%s/%s", root, rel);
}

static void write_file(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	path_of(path, sizeof(path), rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int group_setup(void **state)
{
	(void)state;
	return container_tree_make(root, "container");
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_dir_remove(root);
}

static void fixture_roots(struct container_roots *r, const char *cgroupfs)
{
	static struct container_tree tree;

	*r = *container_tree_roots(&tree, root, cgroupfs);
}

static struct container_cache *fixture_cache(size_t max)
{
	struct container_roots r;
	struct container_cache *cache;

	fixture_roots(&r, "cgroupfs");
	assert_int_equal(container_cache__new(&r, max, &cache), 0);
	return cache;
}

/* The cgroup id of a fixture cgroup: its inode, as on cgroupfs. */
static uint64_t cgid(const char *v2_root, const char *cgroup)
{
	return container_tree_cgid(root, v2_root, cgroup);
}

static const struct container_info *lookup_ok(struct container_cache *cache, uint64_t id, pid_t pid)
{
	const struct container_info *info = NULL;

	assert_int_equal(container_cache__lookup(cache, id, pid, &info), 0);
	assert_non_null(info);
	return info;
}

static const char *label(const struct container_info *info, const char *key)
{
	size_t i;

	for (i = 0; i < info->n_labels; i++)
		if (!strcmp(info->labels[i].key, key))
			return info->labels[i].value;
	return NULL;
}

static void test_parse_layouts(void **state)
{
	static const struct {
		const char *path, *runtime, *id, *uid;
	} cases[] = {
		{ CG_A, "containerd", ID_A, UID_A },
		{ "/kubepods/pod" UID_A "/" ID_A, "containerd", ID_A, UID_A }, /* guaranteed QoS */
		{ CG_B, "cri-o", ID_B, UID_B },
		{ CG_C, "containerd", ID_C, UID_C },
		{ CG_E, "docker", ID_E, "" },
		{ "/docker/" ID_E, "docker", ID_E, "" },
		{ "crio-" ID_B ".scope", "cri-o", ID_B, "" },
		{ "libpod-" ID_P ".scope", "podman", ID_P, "" },
		{ "/machine.slice/libpod-" ID_P ".scope/container", "podman", ID_P, "" },
		{ "/libpod_parent/libpod-" ID_P, "podman", ID_P, "" },
		{ "/kubepods/burstable/pod" UID_D "/crio-" ID_D, "cri-o", ID_D, UID_D },
		/* static pods: a 32-hex UID without dashes */
		{ "/kubepods/besteffort/pod0123456789abcdef0123456789abcdef/" ID_A, "containerd",
		  ID_A, "0123456789abcdef0123456789abcdef" },
		{ CG_A "\n", "containerd", ID_A, UID_A }, /* a /proc/PID/cgroup line */
	};
	static const char *const hosts[] = {
		"/",
		"",
		CG_HOST,
		"/system.slice/docker.service",
		"/system.slice/crio-conmon-" ID_B ".scope",
		"/kubepods/besteffort/pod" UID_A, /* the pod, not a container */
		"/system.slice/" ID_A, /* bare id outside kubepods or docker */
		"/docker/" ID_E "0", /* 65 digits */
		"/docker/559AEAD08264D5795D3909718CDD05ABD49572E84FE55590EEF31A88A08FDFFD",
		"/kubepods/besteffort/pod" UID_A "/docker-" ID_A "x.scope",
	};
	struct container_cgroup cg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&cg, 0, sizeof(cg));
		assert_int_equal(container_parse_cgroup(cases[i].path, &cg), 0);
		assert_string_equal(cg.runtime, cases[i].runtime);
		assert_string_equal(cg.id, cases[i].id);
		assert_string_equal(cg.pod_uid, cases[i].uid);
	}
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		cg.runtime = "untouched";
		assert_int_equal(container_parse_cgroup(hosts[i], &cg), -ENOENT);
		assert_string_equal(cg.runtime, "untouched");
	}
	assert_int_equal(container_parse_cgroup(NULL, &cg), -EINVAL);
}

static void test_default_roots(void **state)
{
	struct container_roots r;

	(void)state;
	container_roots_default(&r);
	assert_string_equal(r.proc, "/proc");
	assert_string_equal(r.cgroupfs, "/sys/fs/cgroup");
	assert_string_equal(r.state[0], "/run/runc");
	assert_string_equal(r.state[1], "/run/containerd/runc");
	assert_string_equal(r.containerd, "/run/containerd");
	assert_string_equal(r.pods_log, "/var/log/pods");
	assert_string_equal(r.docker, "/var/lib/docker");
}

static void test_cgroup_path_walk(void **state)
{
	char v2[PATH_MAX], path[PATH_MAX];

	(void)state;
	path_of(v2, sizeof(v2), "cgroupfs/unified");
	assert_int_equal(container_cgroup_path(v2, cgid("cgroupfs/unified", CG_B), path,
					       sizeof(path)), 0);
	assert_string_equal(path, CG_B);
	assert_int_equal(container_cgroup_path(v2, cgid("cgroupfs/unified", ""), path,
					       sizeof(path)), 0);
	assert_string_equal(path, "/");
	assert_int_equal(container_cgroup_path(v2, 1ull << 60, path, sizeof(path)), -ENOENT);
	assert_int_equal(container_cgroup_path(v2, cgid("cgroupfs/unified", CG_B), path, 10),
			 -ENAMETOOLONG);
}

static void test_containerd_annotations(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_A), 0);
	assert_string_equal(info->runtime, "containerd");
	assert_string_equal(info->id, ID_A);
	assert_string_equal(info->pod_uid, UID_A);
	assert_string_equal(info->cgroup, CG_A);
	assert_string_equal(info->pod_namespace, "payments");
	assert_string_equal(info->pod_name, "api-6d4cf56db6-x2x7q");
	assert_string_equal(info->name, "api");
	assert_string_equal(info->image, "registry.example/payments/api:1.4.2");
	assert_string_equal(info->type, "container");
	assert_string_equal(info->start_time, "2024-05-01T10:00:00.123456789Z");
	assert_int_equal(info->init_pid, 4242);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_int_equal(info->meta_err, 0);
	assert_null(info->labels);
	/* no labels (containerd): the owner from the pod's name */
	assert_string_equal(info->owner_kind, "Deployment");
	assert_string_equal(info->owner_name, "api");
	assert_string_equal(info->owner_how, "name-pattern");
	container_cache__free(cache);
}

static void test_crio_annotations(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_B), 0);
	assert_string_equal(info->runtime, "cri-o");
	assert_string_equal(info->id, ID_B);
	assert_string_equal(info->pod_uid, UID_B); /* dashes restored */
	assert_string_equal(info->pod_namespace, "kube-system");
	assert_string_equal(info->pod_name, "coredns-5d78c9869d-abcde");
	assert_string_equal(info->name, "coredns");
	assert_string_equal(info->image, "registry.k8s.io/coredns/coredns:v1.10.1");
	assert_string_equal(info->type, "container");
	assert_string_equal(info->start_time, "2024-05-02T08:30:00Z");
	assert_int_equal(info->init_pid, 3131); /* crun's "pid" */
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_int_equal(info->n_labels, 3);
	assert_string_equal(label(info, "k8s-app"), "kube-dns");
	assert_string_equal(label(info, "pod-template-hash"), "5d78c9869d");
	/* the owner, from the labels */
	assert_string_equal(info->owner_kind, "Deployment");
	assert_string_equal(info->owner_name, "coredns");
	assert_string_equal(info->owner_how, "label:pod-template-hash");
	container_cache__free(cache);
}

static void test_pods_log_fallback(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_C), 0);
	assert_string_equal(info->runtime, "containerd");
	assert_string_equal(info->id, ID_C);
	assert_string_equal(info->pod_uid, UID_C);
	assert_string_equal(info->pod_namespace, "prod");
	assert_string_equal(info->pod_name, "web-0");
	assert_string_equal(info->name, "nginx"); /* the only container */
	assert_string_equal(info->image, "");
	assert_string_equal(info->start_time, "");
	assert_int_equal(info->source, CONTAINER_SRC_PODS_LOG);

	/* Two containers: the one whose log links the id. */
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_D), 0);
	assert_string_equal(info->pod_namespace, "shop");
	assert_string_equal(info->pod_name, "cart-7f9c");
	assert_string_equal(info->name, "sidecar");
	assert_int_equal(info->source, CONTAINER_SRC_PODS_LOG);
	container_cache__free(cache);
}

static void test_docker_task_dir(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_E), 0);
	assert_string_equal(info->runtime, "docker");
	assert_string_equal(info->id, ID_E);
	assert_string_equal(info->pod_uid, "");
	assert_string_equal(info->pod_name, "");
	assert_string_equal(info->name, "");
	assert_int_equal(info->init_pid, 5151); /* the shim's init.pid */
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	container_cache__free(cache);
}

/* Docker's data root names the container, its image and labels; once it
 * runs, its pid and start. */
static void test_docker_config(void **state)
{
	struct container_roots r;
	struct container_cache *cache;
	const struct container_info *info;
	char docker[PATH_MAX];

	(void)state;
	fixture_roots(&r, "cgroupfs");
	path_of(docker, sizeof(docker), "var/lib/docker");
	r.docker = docker;
	assert_int_equal(container_cache__new(&r, 16, &cache), 0);
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_E), 0);
	assert_string_equal(info->runtime, "docker");
	assert_string_equal(info->id, ID_E);
	assert_string_equal(info->name, "web-1"); /* Docker's "/web-1" */
	assert_string_equal(info->image, "nginx:1.25"); /* as asked for, not the digest */
	assert_string_equal(info->start_time, "2024-05-03T09:00:00.5Z");
	assert_int_equal(info->init_pid, 5151);
	assert_string_equal(info->pod_name, "");
	assert_string_equal(info->pod_uid, "");
	assert_int_equal(info->n_labels, 2); /* a number is no label value */
	assert_string_equal(label(info, "com.docker.compose.service"), "web");
	assert_string_equal(label(info, "com.example.team"), "payments");
	assert_int_equal(info->source, CONTAINER_SRC_DOCKER);
	assert_int_equal(info->meta_err, 0);
	container_cache__free(cache);
}

/* A private dockerd's --data-root and --exec-root given as state roots:
 * told apart by their layout. Created, not yet running: the name from the
 * data root, the pid and start from runc's state in the exec root. */
static void test_docker_private_roots(void **state)
{
	struct container_roots r;
	struct container_cache *cache;
	const struct container_info *info;
	char data[PATH_MAX], exec[PATH_MAX];

	(void)state;
	fixture_roots(&r, "cgroupfs");
	path_of(data, sizeof(data), "dockerd/data");
	path_of(exec, sizeof(exec), "dockerd/exec");
	r.state[3] = data;
	r.state[4] = exec;
	assert_int_equal(container_cache__new(&r, 16, &cache), 0);
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_K), 0);
	assert_string_equal(info->runtime, "docker");
	assert_string_equal(info->id, ID_K);
	assert_string_equal(info->name, "ct-chown");
	assert_string_equal(info->image, "captrail-busybox:e2e");
	assert_int_equal(info->init_pid, 6161);
	assert_string_equal(info->start_time, "2024-05-04T10:00:00.2Z");
	assert_null(info->labels);
	assert_int_equal(info->source, CONTAINER_SRC_DOCKER);
	container_cache__free(cache);

	/* Without them: the cgroup's id alone. */
	fixture_roots(&r, "cgroupfs");
	assert_int_equal(container_cache__new(&r, 16, &cache), 0);
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_K), 0);
	assert_string_equal(info->id, ID_K);
	assert_string_equal(info->name, "");
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, -ENOENT);
	container_cache__free(cache);
}

static void test_state_labels_when_bundle_gone(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_H), 0);
	assert_int_equal(info->source, CONTAINER_SRC_STATE);
	assert_string_equal(info->pod_namespace, "batch");
	assert_string_equal(info->pod_name, "job-1-xyz");
	assert_string_equal(info->name, "worker");
	assert_string_equal(info->image, "busybox:1.36");
	assert_int_equal(info->init_pid, 777);
	container_cache__free(cache);
}

static void test_malformed_json(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_F), 0); /* truncated state.json */
	assert_string_equal(info->id, ID_F);
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, -EINVAL);
	assert_string_equal(info->pod_name, "");

	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_G), 0); /* trailing garbage */
	assert_string_equal(info->id, ID_G);
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, -EINVAL);
	container_cache__free(cache);
}

static void test_host(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_HOST), 0);
	assert_string_equal(info->id, "");
	assert_string_equal(info->runtime, "");
	assert_string_equal(info->cgroup, CG_HOST);
	assert_string_equal(info->pod_name, "");
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, 0);

	info = lookup_ok(cache, cgid("cgroupfs/unified", ""), 0);
	assert_string_equal(info->id, "");
	assert_string_equal(info->cgroup, "/");
	container_cache__free(cache);
}

/* A runtime that puts the container in v1 hierarchies only leaves it in the
 * v2 root: the task's /proc/PID/cgroup names it. */
static void test_pid_fallback_hybrid(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;
	uint64_t v2_root = cgid("cgroupfs/unified", "");

	(void)state;
	info = lookup_ok(cache, v2_root, 100);
	assert_string_equal(info->id, ID_A);
	assert_string_equal(info->pod_name, "api-6d4cf56db6-x2x7q");
	assert_string_equal(info->cgroup, CG_A);

	info = lookup_ok(cache, 0, 102); /* cgroupfs docker: /docker/<id> */
	assert_string_equal(info->runtime, "docker");
	assert_string_equal(info->id, ID_E);
	assert_int_equal(info->init_pid, 5151);

	info = lookup_ok(cache, v2_root, 101);
	assert_string_equal(info->id, "");
	assert_string_equal(info->cgroup, "/");
	info = lookup_ok(cache, 0, 101);
	assert_string_equal(info->id, "");

	/* A gone cgroup: the pid still tells, or nothing does. */
	info = lookup_ok(cache, 1ull << 60, 100);
	assert_string_equal(info->id, ID_A);
	assert_int_equal(container_cache__lookup(cache, 1ull << 60, 0, &info), -ENOENT);
	assert_int_equal(container_cache__lookup(cache, 0, 999, &info), -ENOENT);
	assert_int_equal(container_cache__lookup(cache, 0, 0, &info), -EINVAL);
	container_cache__free(cache);
}

static void test_pure_v2(void **state)
{
	struct container_cache *cache;
	const struct container_info *info;
	struct container_roots r;

	(void)state;
	fixture_roots(&r, "cgroupfs-v2");
	assert_int_equal(container_cache__new(&r, 4, &cache), 0);
	info = lookup_ok(cache, cgid("cgroupfs-v2", CG_E), 0);
	assert_string_equal(info->id, ID_E);
	assert_string_equal(info->cgroup, CG_E);
	info = lookup_ok(cache, cgid("cgroupfs-v2", "/init.scope"), 0);
	assert_string_equal(info->id, "");
	container_cache__free(cache);
}

static void test_eviction_at_bound(void **state)
{
	struct container_cache *cache = fixture_cache(2);
	struct container_cache_stats st;
	const struct container_info *info;

	(void)state;
	lookup_ok(cache, cgid("cgroupfs/unified", CG_A), 0);
	lookup_ok(cache, cgid("cgroupfs/unified", CG_B), 0);
	lookup_ok(cache, cgid("cgroupfs/unified", CG_A), 0); /* A is now the most recent */
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_HOST), 0);
	assert_string_equal(info->cgroup, CG_HOST);
	container_cache__stats(cache, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.hits, 1);

	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_A), 0); /* kept */
	assert_string_equal(info->name, "api");
	container_cache__stats(cache, &st);
	assert_int_equal(st.hits, 2);
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_B), 0); /* evicted: resolved again */
	assert_string_equal(info->name, "coredns");
	container_cache__stats(cache, &st);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.entries, 2);

	assert_int_equal(container_cache__new(NULL, 0, &cache), -EINVAL);
	container_cache__free(cache);
	container_cache__free(NULL);
}

/* Caught before its runtime wrote the state: looked at again later. */
static void test_retry_until_state_appears(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	struct container_cache_stats st;
	const struct container_info *info;
	char dir[PATH_MAX], text[2 * PATH_MAX];
	uint64_t id = cgid("cgroupfs/unified", CG_R);

	(void)state;
	info = lookup_ok(cache, id, 0);
	assert_string_equal(info->id, ID_R);
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, -ENOENT);
	info = lookup_ok(cache, id, 0); /* cached, not a host answer */
	assert_string_equal(info->id, ID_R);

	path_of(dir, sizeof(dir), "bundles/late");
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file("bundles/late/config.json",
		   "{\"annotations\": {\"io.kubernetes.cri.sandbox-name\": \"late-pod\", "
		   "\"io.kubernetes.cri.container-name\": \"late\"}}");
	path_of(dir, sizeof(dir), "run/runc/" ID_R);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(text, sizeof(text), "{\"bundle\": \"%s/bundles/late\", \"pid\": 99, "
		 "\"created\": \"2024-06-01T00:00:00Z\"}", root);
	write_file("run/runc/" ID_R "/state.json", text);

	container_cache__set_retry(cache, 0);
	info = lookup_ok(cache, id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_string_equal(info->pod_name, "late-pod");
	assert_string_equal(info->name, "late");
	assert_string_equal(info->cgroup, CG_R);
	assert_string_equal(info->pod_uid, UID_R);
	assert_int_equal(info->init_pid, 99);
	container_cache__stats(cache, &st);
	assert_int_equal(st.retries, 1);
	lookup_ok(cache, id, 0); /* complete: no more retries */
	container_cache__stats(cache, &st);
	assert_int_equal(st.retries, 1);
	container_cache__free(cache);
}

static void test_container_started_after_cache(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	const struct container_info *info;

	(void)state;
	run("mkdir -p %s/cgroupfs/unified/kubepods/besteffort/pod%s/" ID_P, root,
	    "00000000-0000-4000-8000-00000000000e");
	run("mkdir -p %s/var/log/pods/late_newpod_%s/c", root,
	    "00000000-0000-4000-8000-00000000000e");
	info = lookup_ok(cache, cgid("cgroupfs/unified", "/kubepods/besteffort/"
				     "pod00000000-0000-4000-8000-00000000000e/" ID_P), 0);
	assert_string_equal(info->id, ID_P);
	assert_string_equal(info->pod_namespace, "late");
	assert_string_equal(info->pod_name, "newpod");
	assert_string_equal(info->name, "c");
	container_cache__free(cache);
}

/* ---- short-lived containers, bounds ---- */

/* A container made in the copy for one test: a pod UID and id of its own,
 * numbered n. */
struct ctr {
	char id[CONTAINER_ID_LEN + 1];
	char uid[CONTAINER_UID_LEN + 1];
	char cgroup[PATH_MAX];
	uint64_t cgroup_id;
};

static struct ctr new_ctr(unsigned int n)
{
	struct ctr c;
	char dir[PATH_MAX];

	fmt(c.id, sizeof(c.id), "%064x", 0xc0de0000u + n);
	fmt(c.uid, sizeof(c.uid), "00000000-0000-4000-8000-%012x", 0xc0de0000u + n);
	fmt(c.cgroup, sizeof(c.cgroup), "/kubepods/besteffort/pod%s/%s", c.uid, c.id);
	fmt(dir, sizeof(dir), "cgroupfs/unified%s", c.cgroup);
	run("mkdir -p %s/%s", root, dir);
	c.cgroup_id = cgid("cgroupfs/unified", c.cgroup);
	return c;
}

/* runc's state for c, its bundle in bundles/<id> with these annotations
 * (JSON members without braces). */
static void ctr_state(const struct ctr *c, const char *annotations)
{
	char rel[PATH_MAX], text[3 * PATH_MAX];

	run("mkdir -p %s/run/runc/%s %s/bundles/%s", root, c->id, root, c->id);
	fmt(rel, sizeof(rel), "bundles/%s/config.json", c->id);
	fmt(text, sizeof(text), "{\"annotations\": {%s}}", annotations);
	write_file(rel, text);
	fmt(rel, sizeof(rel), "run/runc/%s/state.json", c->id);
	fmt(text, sizeof(text), "{\"bundle\": \"%s/bundles/%s\", \"pid\": 77, "
	    "\"created\": \"2024-06-01T00:00:00Z\"}", root, c->id);
	write_file(rel, text);
}

/* The runtime deleted the container: state, bundle, cgroup. */
static void ctr_gone(const struct ctr *c)
{
	run("rm -rf %s/run/runc/%s %s/bundles/%s", root, c->id, root, c->id);
	run("rmdir %s/cgroupfs/unified%s", root, c->cgroup);
}

#define ANNOTATIONS(pod, ctr) \
	"\"io.kubernetes.cri.sandbox-namespace\": \"churn\", " \
	"\"io.kubernetes.cri.sandbox-name\": \"" pod "\", " \
	"\"io.kubernetes.cri.container-name\": \"" ctr "\", " \
	"\"io.kubernetes.cri.image-name\": \"busybox:1.36\""

static struct container_cache_stats stats_of(struct container_cache *cache)
{
	struct container_cache_stats st;

	container_cache__stats(cache, &st);
	return st;
}

/* runc execs its init in the container's cgroup before it writes the
 * state, the container's command after; the container ends and runc
 * deletes it all within a second. Read at the command's exec, the pod is
 * known for good. */
static void test_exec_reads_state_before_it_goes(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	struct ctr c = new_ctr(1);
	const struct container_info *info;

	(void)state;
	assert_int_equal(container_cache__exec(cache, c.cgroup_id), 0); /* runc init */
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_string_equal(info->id, c.id);
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(stats_of(cache).exec_reads, 1);

	ctr_state(&c, ANNOTATIONS("short-1", "c"));
	/* the command's exec reads again at once, whatever the retry interval */
	assert_int_equal(container_cache__exec(cache, c.cgroup_id), 0);
	assert_int_equal(stats_of(cache).exec_reads, 2);
	ctr_gone(&c);

	container_cache__set_retry(cache, 0);
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_string_equal(info->pod_namespace, "churn");
	assert_string_equal(info->pod_name, "short-1");
	assert_string_equal(info->name, "c");
	assert_string_equal(info->pod_uid, c.uid);
	assert_string_equal(info->cgroup, c.cgroup);
	/* complete: later execs and lookups read nothing more */
	assert_int_equal(container_cache__exec(cache, c.cgroup_id), 0);
	lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(stats_of(cache).exec_reads, 2);
	assert_int_equal(stats_of(cache).retries, 0);
	container_cache__free(cache);
}

/* What a reading found is kept when a later one finds less; a later one
 * that finds more replaces it. */
static void test_learned_kept(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	struct ctr c = new_ctr(2);
	const struct container_info *info;

	(void)state;
	run("mkdir -p %s/var/log/pods/logs_short-2_%s/c2", root, c.uid);
	container_cache__set_retry(cache, 0);
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_PODS_LOG);
	assert_string_equal(info->pod_name, "short-2");

	/* kubelet removed the pod's logs: the names stay */
	run("rm -rf %s/var/log/pods/logs_short-2_%s", root, c.uid);
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(stats_of(cache).retries, 1);
	assert_int_equal(info->source, CONTAINER_SRC_PODS_LOG);
	assert_string_equal(info->pod_namespace, "logs");
	assert_string_equal(info->pod_name, "short-2");
	assert_string_equal(info->name, "c2");

	/* the runtime's state says more */
	ctr_state(&c, ANNOTATIONS("short-2", "c2"));
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_string_equal(info->pod_namespace, "churn");
	assert_string_equal(info->image, "busybox:1.36");
	ctr_gone(&c);
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_string_equal(info->image, "busybox:1.36");
	container_cache__free(cache);
}

/* Execs read a container's missing metadata at most CONTAINER_EXEC_READS
 * times; hosts and gone cgroups read nothing. */
static void test_exec_reads_bounded(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	struct ctr c = new_ctr(3);
	int i;

	(void)state;
	for (i = 0; i < CONTAINER_EXEC_READS + 3; i++)
		assert_int_equal(container_cache__exec(cache, c.cgroup_id), 0);
	assert_int_equal(stats_of(cache).exec_reads, CONTAINER_EXEC_READS);
	assert_int_equal(container_cache__exec(cache, cgid("cgroupfs/unified", CG_HOST)), 0);
	assert_int_equal(container_cache__exec(cache, 1ull << 60), 0);
	assert_int_equal(container_cache__exec(cache, 0), 0);
	assert_int_equal(stats_of(cache).exec_reads, CONTAINER_EXEC_READS);
	assert_int_equal(stats_of(cache).entries, 3);
	ctr_gone(&c);
	container_cache__free(cache);
}

/* At the bound, a container whose cgroup still exists is kept while an
 * older entry of a gone one can go instead. */
static void test_eviction_spares_live(void **state)
{
	struct container_cache *cache = fixture_cache(2);
	struct ctr dead = new_ctr(4);
	const struct container_info *info;
	struct container_cache_stats st;

	(void)state;
	lookup_ok(cache, cgid("cgroupfs/unified", CG_A), 0); /* least recently used, alive */
	lookup_ok(cache, dead.cgroup_id, 0);
	ctr_gone(&dead);
	lookup_ok(cache, cgid("cgroupfs/unified", CG_HOST), 0);
	st = stats_of(cache);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.evictions_live, 0);
	info = lookup_ok(cache, cgid("cgroupfs/unified", CG_A), 0);
	assert_string_equal(info->name, "api");
	assert_int_equal(stats_of(cache).misses, 3); /* A was a hit */

	/* Only live containers: the least recently used goes, counted. */
	lookup_ok(cache, cgid("cgroupfs/unified", CG_B), 0); /* evicts the host */
	lookup_ok(cache, cgid("cgroupfs/unified", CG_D), 0); /* evicts A, alive */
	st = stats_of(cache);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.evictions_live, 1);
	assert_int_equal(st.entries, 2);
	container_cache__free(cache);
}

/* n copies of the UTF-8 character ch, NUL-terminated, malloc'd. */
static char *repeat(const char *ch, size_t n)
{
	size_t len = strlen(ch);
	char *s = malloc(n * len + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, ch, len);
	s[n * len] = '\0';
	return s;
}

/* Whether s ends with the mark, and the bytes before it with a whole
 * character of ch. */
static void assert_cut(const char *s, size_t max, const char *ch)
{
	size_t len = strlen(s), body = len - TEXT_CUT_MARK_LEN;

	assert_true(len <= max);
	assert_true(len > max - TEXT_CUT_MARK_LEN - strlen(ch));
	assert_string_equal(s + body, TEXT_CUT_MARK);
	assert_int_equal(body % strlen(ch), 0);
	assert_memory_equal(s + body - strlen(ch), ch, strlen(ch));
}

/* A pod with four 1 MiB annotations (and forty labels, one of them huge):
 * every value is cut to its bound, at a character boundary, marked, and
 * counted. */
static void test_oversized_annotations_cut(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	struct ctr c = new_ctr(5);
	char *ns = repeat("n", 1 << 20), *pod = repeat("\xc3\xa9", 1 << 19); /* é */
	char *name = repeat("\xe2\x82\xac", 350000), *image = repeat("\xf0\x9f\x90\xb3", 1 << 18);
	char *big = repeat("k", 4096), path[PATH_MAX];
	const struct container_info *info;
	FILE *f;

	(void)state;
	ctr_state(&c, "");
	fmt(path, sizeof(path), "%s/bundles/%s/config.json", root, c.id);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"annotations\": {\"io.kubernetes.cri.sandbox-namespace\": \"%s\", "
		"\"io.kubernetes.cri.sandbox-name\": \"%s\", "
		"\"io.kubernetes.cri.container-name\": \"%s\", "
		"\"io.kubernetes.cri.image-name\": \"%s\", "
		"\"io.kubernetes.cri-o.Labels\": \"{\\\"%s\\\": \\\"%s\\\"", ns, pod, name, image,
		big, big);
	for (int i = 1; i < 40; i++)
		fprintf(f, ", \\\"l%d\\\": \\\"v\\\"", i);
	fprintf(f, "}\"}}");
	fclose(f);

	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_cut(info->pod_namespace, TEXT_NAME_MAX, "n");
	assert_cut(info->pod_name, TEXT_NAME_MAX, "\xc3\xa9");
	assert_cut(info->name, TEXT_NAME_MAX, "\xe2\x82\xac");
	assert_cut(info->image, TEXT_IMAGE_MAX, "\xf0\x9f\x90\xb3");
	assert_int_equal(info->n_labels, CONTAINER_MAX_LABELS);
	assert_cut(info->labels[0].key, TEXT_LABEL_MAX, "k");
	assert_cut(info->labels[0].value, TEXT_LABEL_MAX, "k");
	assert_string_equal(info->labels[1].key, "l1");
	/* four values, a key and a value, eight labels past the bound */
	assert_int_equal(info->cut, 4 + 2 + 8);
	assert_int_equal(stats_of(cache).cut, 14);
	assert_int_equal(stats_of(cache).refused, 0);
	ctr_gone(&c);
	container_cache__free(cache);
	free(ns);
	free(pod);
	free(name);
	free(image);
	free(big);
}

/* Docker's config.v2.json is bounded as the annotations are: a name past
 * its bound is cut, labels past CONTAINER_MAX_LABELS dropped, both
 * counted; a malformed file names nothing. */
static void test_docker_config_bounded(void **state)
{
	struct container_roots r;
	struct container_cache *cache;
	const struct container_info *info;
	char data[PATH_MAX], path[PATH_MAX];
	char *name = repeat("d", 1000);
	FILE *f;

	(void)state;
	run("mkdir -p %s/cgroupfs/unified/captrail/docker/%s %s/dockerd/data/containers/%s "
	    "%s/cgroupfs/unified/captrail/docker/%s %s/dockerd/data/containers/%s",
	    root, ID_L, root, ID_L, root, ID_M, root, ID_M);
	fmt(path, sizeof(path), "%s/dockerd/data/containers/%s/config.v2.json", root, ID_L);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"Name\": \"/%s\", \"Config\": {\"Image\": \"i\", \"Labels\": {", name);
	for (int i = 0; i < 40; i++)
		fprintf(f, "%s\"l%d\": \"v\"", i ? ", " : "", i);
	fprintf(f, "}}}");
	fclose(f);
	write_file("dockerd/data/containers/" ID_M "/config.v2.json", "{\"Name\": \"/m\", ");

	fixture_roots(&r, "cgroupfs");
	path_of(data, sizeof(data), "dockerd/data");
	r.docker = data;
	assert_int_equal(container_cache__new(&r, 16, &cache), 0);
	info = lookup_ok(cache, cgid("cgroupfs/unified", "/captrail/docker/" ID_L), 0);
	assert_int_equal(info->source, CONTAINER_SRC_DOCKER);
	assert_cut(info->name, TEXT_NAME_MAX, "d");
	assert_string_equal(info->image, "i");
	assert_int_equal(info->n_labels, CONTAINER_MAX_LABELS);
	assert_string_equal(info->labels[0].key, "l0");
	assert_int_equal(info->cut, 1 + 8);
	assert_int_equal(stats_of(cache).cut, 9);

	info = lookup_ok(cache, cgid("cgroupfs/unified", "/captrail/docker/" ID_M), 0);
	assert_string_equal(info->id, ID_M);
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, -EINVAL);
	assert_string_equal(info->name, "");
	container_cache__free(cache);
	free(name);
}

static void write_padded(const char *path, const char *head, size_t size, const char *tail)
{
	FILE *f = fopen(path, "w");
	size_t n = strlen(head) + strlen(tail);

	assert_non_null(f);
	fputs(head, f);
	for (; n < size; n++)
		fputc(' ', f);
	fputs(tail, f);
	fclose(f);
}

#define HUGE_HEAD "{\"annotations\": {" ANNOTATIONS("huge", "c") "}"

/* config.json and state.json past CONTAINER_JSON_MAX are not read, and
 * counted; kubelet's logs still name the pod. */
static void test_oversized_files_refused(void **state)
{
	struct container_cache *cache = fixture_cache(16);
	struct ctr c = new_ctr(6), s = new_ctr(7);
	const struct container_info *info;
	char path[PATH_MAX];

	(void)state;
	ctr_state(&c, ANNOTATIONS("huge", "c"));
	fmt(path, sizeof(path), "%s/bundles/%s/config.json", root, c.id);
	write_padded(path, HUGE_HEAD, CONTAINER_JSON_MAX + 1, "}");
	run("mkdir -p %s/var/log/pods/logs_huge_%s/c", root, c.uid);
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(info->refused, 1);
	assert_int_equal(info->source, CONTAINER_SRC_PODS_LOG);
	assert_string_equal(info->pod_name, "huge");
	assert_string_equal(info->image, "");
	/* just below the bound: read */
	write_padded(path, HUGE_HEAD, CONTAINER_JSON_MAX, "}");
	container_cache__set_retry(cache, 0);
	info = lookup_ok(cache, c.cgroup_id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_string_equal(info->image, "busybox:1.36");

	ctr_state(&s, ANNOTATIONS("huge-state", "c"));
	fmt(path, sizeof(path), "%s/run/runc/%s/state.json", root, s.id);
	write_padded(path, "{\"pid\": 1", CONTAINER_JSON_MAX + 1, "}");
	info = lookup_ok(cache, s.cgroup_id, 0);
	assert_int_equal(info->source, CONTAINER_SRC_NONE);
	assert_int_equal(info->meta_err, -EFBIG);
	assert_int_equal(stats_of(cache).refused, 2);
	run("rm -rf %s/var/log/pods/logs_huge_%s", root, c.uid);
	ctr_gone(&c);
	ctr_gone(&s);
	container_cache__free(cache);
}

static uint64_t real_v2_root(char *buf, size_t size)
{
	static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sfs;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (!statfs(candidates[i], &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC) {
			snprintf(buf, size, "%s", candidates[i]);
			return 1;
		}
	}
	return 0;
}

/* On the real cgroupfs: the id is found by file handle (root) and the
 * metadata through the fixture roots. */
static void test_real_cgroup(void **state)
{
	static const char *const levels[] = { "kubepods", "besteffort", "pod" UID_A, ID_A };
	char v2[PATH_MAX], dirs[4][PATH_MAX], top[PATH_MAX], rel[PATH_MAX], path[PATH_MAX];
	const struct container_info *info;
	struct container_cache *cache;
	struct container_roots r;
	struct stat st;
	int i, made = 0;

	(void)state;
	if (geteuid() != 0 || !real_v2_root(v2, sizeof(v2)))
		skip();
	snprintf(rel, sizeof(rel), "/captrail-ctr-test-%d", (int)getpid());
	fmt(top, sizeof(top), "%s%s", v2, rel);
	if (mkdir(top, 0755))
		skip();
	for (i = 0; i < 4; i++) {
		fmt(dirs[i], PATH_MAX, "%s/%s", i ? dirs[i - 1] : top, levels[i]);
		if (mkdir(dirs[i], 0755))
			break;
		made++;
		strcat(rel, "/");
		strcat(rel, levels[i]);
	}
	if (made == 4 && !stat(dirs[3], &st)) {
		assert_int_equal(container_cgroup_path(v2, st.st_ino, path, sizeof(path)), 0);
		assert_string_equal(path, rel);
		fixture_roots(&r, "cgroupfs");
		r.cgroupfs = "/sys/fs/cgroup";
		assert_int_equal(container_cache__new(&r, 4, &cache), 0);
		assert_int_equal(container_cache__lookup(cache, st.st_ino, 0, &info), 0);
		assert_string_equal(info->cgroup, rel);
		assert_string_equal(info->id, ID_A);
		assert_string_equal(info->name, "api");
		container_cache__free(cache);
	}
	for (i = made - 1; i >= 0; i--)
		rmdir(dirs[i]);
	rmdir(top);
	assert_int_equal(made, 4);
}

static const char *need_env(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		fail_msg("%s is not set", name);
	return v;
}

/* Run by tests/e2e/20_runc_pod_smoke.sh against a real runc container. */
static void test_live_container(void **state)
{
	const struct container_info *info, *by_pid;
	struct container_cache *cache;
	struct container_roots r;
	int pid = atoi(need_env("CTR_LIVE_PID"));
	uint64_t id = strtoull(need_env("CTR_LIVE_CGROUP_ID"), NULL, 10);

	(void)state;
	container_roots_default(&r);
	memmove(&r.state[1], &r.state[0], sizeof(r.state) - sizeof(r.state[0]));
	r.state[0] = need_env("CTR_LIVE_RUNC_ROOT");
	assert_int_equal(container_cache__new(&r, 8, &cache), 0);
	assert_int_equal(container_cache__lookup(cache, id, 0, &info), 0);
	printf("cgroup id %llu: cgroup %s runtime %s id %s pod %s/%s uid %s container %s "
	       "image %s started %s init pid %d source %d\n", (unsigned long long)id,
	       info->cgroup, info->runtime, info->id, info->pod_namespace, info->pod_name,
	       info->pod_uid, info->name, info->image, info->start_time, (int)info->init_pid,
	       info->source);
	assert_string_equal(info->runtime, "containerd");
	assert_string_equal(info->id, need_env("CTR_LIVE_ID"));
	assert_string_equal(info->pod_uid, need_env("CTR_LIVE_POD_UID"));
	assert_string_equal(info->pod_namespace, need_env("CTR_LIVE_NAMESPACE"));
	assert_string_equal(info->pod_name, need_env("CTR_LIVE_POD"));
	assert_string_equal(info->name, need_env("CTR_LIVE_CONTAINER"));
	assert_string_equal(info->image, need_env("CTR_LIVE_IMAGE"));
	assert_string_equal(info->type, "container");
	assert_int_equal(info->source, CONTAINER_SRC_BUNDLE);
	assert_int_equal(info->init_pid, pid);
	assert_true(info->start_time[0]);

	assert_int_equal(container_cache__lookup(cache, 0, pid, &by_pid), 0);
	assert_string_equal(by_pid->id, need_env("CTR_LIVE_ID"));
	container_cache__free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_layouts),
		cmocka_unit_test(test_default_roots),
		cmocka_unit_test(test_cgroup_path_walk),
		cmocka_unit_test(test_containerd_annotations),
		cmocka_unit_test(test_crio_annotations),
		cmocka_unit_test(test_pods_log_fallback),
		cmocka_unit_test(test_docker_task_dir),
		cmocka_unit_test(test_docker_config),
		cmocka_unit_test(test_docker_private_roots),
		cmocka_unit_test(test_state_labels_when_bundle_gone),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_pid_fallback_hybrid),
		cmocka_unit_test(test_pure_v2),
		cmocka_unit_test(test_eviction_at_bound),
		cmocka_unit_test(test_retry_until_state_appears),
		cmocka_unit_test(test_container_started_after_cache),
		cmocka_unit_test(test_exec_reads_state_before_it_goes),
		cmocka_unit_test(test_learned_kept),
		cmocka_unit_test(test_exec_reads_bounded),
		cmocka_unit_test(test_eviction_spares_live),
		cmocka_unit_test(test_oversized_annotations_cut),
		cmocka_unit_test(test_docker_config_bounded),
		cmocka_unit_test(test_oversized_files_refused),
		cmocka_unit_test(test_real_cgroup),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_live_container),
	};

	if (getenv("CTR_LIVE_PID"))
		return cmocka_run_group_tests(live, NULL, NULL);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
