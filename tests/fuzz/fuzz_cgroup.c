/* cgroup paths: container_parse_cgroup() on any text (a cgroup's path is
 * chosen by whoever creates it: a runtime, systemd, a delegated user), and
 * the same as process 1's /proc/1/cgroup (v1 and v2 lines), which the
 * container cache reads; with no runtime state, kubelet's /var/log/pods
 * directory names are what is left. Parts: the cgroup text, then the name
 * of a pod's log directory and of a container's within it. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "container_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_make("cgroup");
	return 0;
}

static bool dir_name(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') && strlen(s) < 256;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_cgroup cg, untouched;
	char pod_dir[4096] = "", ctr_dir[4096 + 256] = "";
	struct fuzz_part parts[3];
	char *text, *pod, *ctr;

	fuzz_split(data, size, parts, 3);
	text = fuzz_part_str(&parts[0]);
	pod = fuzz_part_str(&parts[1]);
	ctr = fuzz_part_str(&parts[2]);

	memset(&cg, 0x5a, sizeof(cg));
	untouched = cg;
	if (container_parse_cgroup(text, &cg)) {
		FUZZ_CHECK(!memcmp(&cg, &untouched, sizeof(cg)));
	} else {
		FUZZ_CHECK(cg.runtime && strlen(cg.id) == CONTAINER_ID_LEN);
		FUZZ_CHECK(strnlen(cg.pod_uid, sizeof(cg.pod_uid)) < sizeof(cg.pod_uid));
	}

	if (dir_name(pod)) {
		snprintf(pod_dir, sizeof(pod_dir), "%s/%s", fx.pods, pod);
		FUZZ_CHECK(!mkdir(pod_dir, 0700));
		if (dir_name(ctr)) {
			snprintf(ctr_dir, sizeof(ctr_dir), "%s/%s", pod_dir, ctr);
			FUZZ_CHECK(!mkdir(ctr_dir, 0700));
		}
	}
	fuzz_write(fx.pid1, "cgroup", parts[0].data, parts[0].size);
	fixture_lookup();
	if (ctr_dir[0])
		FUZZ_CHECK(!rmdir(ctr_dir));
	if (pod_dir[0])
		FUZZ_CHECK(!rmdir(pod_dir));

	free(ctr);
	free(pod);
	free(text);
	return 0;
}
