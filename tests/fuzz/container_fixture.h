/* One container as the container cache finds it, in a scratch tree the
 * harnesses write their input into: process 1's /proc/1/cgroup names the
 * container (a pod's, under kubepods), whose runc state, containerd task
 * bundle and kubelet log directory are where container_roots say.
 *   <root>/proc/1/cgroup
 *   <root>/cgroupfs/                         (no v2 mount: by pid only)
 *   <root>/run/runc/<id>/state.json
 *   <root>/run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json, init.pid
 *   <root>/bundle/config.json                (a state.json's "bundle": "bundle")
 *   <root>/pods/<ns>_<pod>_<uid>/<container>/
 * The harness runs in <root>, so a relative "bundle" leads into it. */
#ifndef CAPTRAIL_FUZZ_CONTAINER_FIXTURE_H
#define CAPTRAIL_FUZZ_CONTAINER_FIXTURE_H

#include <string.h>
#include <unistd.h>

#include "identity/container.h"

#include "fuzz.h"

#define FIXTURE_ID "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"
#define FIXTURE_UID "0b6f4c1e-6a3c-4a8e-9d3b-1f2e3d4c5b6a"
#define FIXTURE_CGROUP "0::/kubepods/besteffort/pod" FIXTURE_UID "/" FIXTURE_ID "\n"

struct fixture {
	struct container_roots roots;
	char proc[256], pid1[256], cgroupfs[256], runc[256], state[256];
	char containerd[256], task[512], bundle[256], pods[256];
};

static struct fixture fx;

static inline void fixture_make(const char *name)
{
	const char *root = fuzz_scratch(name);

	fuzz_mkdirs(root, "proc", fx.proc, sizeof(fx.proc));
	fuzz_mkdirs(root, "proc/1", fx.pid1, sizeof(fx.pid1));
	fuzz_mkdirs(root, "cgroupfs", fx.cgroupfs, sizeof(fx.cgroupfs));
	fuzz_mkdirs(root, "run/runc", fx.runc, sizeof(fx.runc));
	fuzz_mkdirs(root, "run/runc/" FIXTURE_ID, fx.state, sizeof(fx.state));
	fuzz_mkdirs(root, "run/containerd", fx.containerd, sizeof(fx.containerd));
	fuzz_mkdirs(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" FIXTURE_ID,
		    fx.task, sizeof(fx.task));
	fuzz_mkdirs(root, "bundle", fx.bundle, sizeof(fx.bundle));
	fuzz_mkdirs(root, "pods", fx.pods, sizeof(fx.pods));
	fx.roots = (struct container_roots){
		.proc = fx.proc,
		.cgroupfs = fx.cgroupfs,
		.state = { fx.runc },
		.containerd = fx.containerd,
		.pods_log = fx.pods,
	};
	fuzz_write(fx.pid1, "cgroup", FIXTURE_CGROUP, strlen(FIXTURE_CGROUP));
	FUZZ_CHECK(!chdir(root));
}

/* Every field of an answer is a string a printer may read whole. */
static inline void fixture_check_info(const struct container_info *info)
{
	const char *const strs[] = { info->runtime, info->cgroup, info->pod_namespace,
				     info->pod_name, info->name, info->image, info->type,
				     info->start_time };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		FUZZ_CHECK(strs[i] && strlen(strs[i]) < (64u << 20));
	FUZZ_CHECK(strnlen(info->id, sizeof(info->id)) < sizeof(info->id));
	FUZZ_CHECK(strnlen(info->pod_uid, sizeof(info->pod_uid)) < sizeof(info->pod_uid));
	for (size_t i = 0; i < info->n_labels; i++)
		FUZZ_CHECK(strlen(info->labels[i].key) + strlen(info->labels[i].value) <
			   (64u << 20));
}

/* What the cache says about process 1, on a fresh cache: nothing kept
 * between inputs. */
static inline void fixture_lookup(void)
{
	const struct container_info *info;
	struct container_cache *cache;

	FUZZ_CHECK(!container_cache__new(&fx.roots, 4, &cache));
	if (!container_cache__lookup(cache, 0, 1, &info))
		fixture_check_info(info);
	container_cache__free(cache);
}

#endif
