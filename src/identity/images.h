/* The program images processes ran, named as aggregation keys name them:
 * the pid and the task's exec count, so checks made before an exec are not
 * blamed on the program exec'd next. Each keeps what was exec'd and where:
 * the cgroup and mount namespace of the exec tell a container's workload
 * from its runtime's start-up (see image_is_runtime_start()). Bounded;
 * images the bound turns away are counted. */
#ifndef CAPTRAIL_IDENTITY_IMAGES_H
#define CAPTRAIL_IDENTITY_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/captrail.h"

#define IMAGES_DEFAULT_MAX 65536

struct image {
	const char *binary; /* absolute when the exec record allowed; NULL unknown */
	uint64_t exec_cgroup; /* the cgroup the exec happened in */
	uint32_t exec_mntns; /* the mount namespace it happened in */
};

struct images;

/* What an exec's filename says of the file it ran. Container runtimes and
 * busybox run themselves again through /proc/self/exe, and runc 1.1 its
 * sealed copy through /dev/fd/N: such names are no program's. */
enum image_exec_name {
	IMAGE_EXEC_PATH, /* a path: the file itself */
	IMAGE_EXEC_SELF, /* /proc/self/exe, /proc/thread-self/exe, /proc/<pid>/exe:
			  * the image the process ran before, again */
	IMAGE_EXEC_INDIRECT, /* /dev/fd/N, /proc/.../fd/N, another process's exe:
			      * a file that only /proc/<pid>/exe now names */
};

/* binary as records_exec_binary() decodes it, of the exec of process pid. */
enum image_exec_name image_exec_name(const char *binary, uint32_t pid);

/* max 0: IMAGES_DEFAULT_MAX. */
int images__new(size_t max, struct images **ret_images);
void images__free(struct images *t);

/* An exec adds its image; a forked child runs its parent's image until it
 * execs (and none that its pid had before); other records change nothing.
 * An exec by a name that is no path (image_exec_name()) gets the binary
 * of the image it replaced: the program that ran itself, or the file it
 * opened and ran (runc's sealed copy of itself); none (NULL) when that is
 * not known. -ENOMEM leaves the table as it was; an image past the bound
 * is counted in images_untracked(). */
int images_apply(struct images *t, const struct ct_proc_event *rec);
const struct image *images_find(const struct images *t, uint32_t pid, uint32_t exec_gen);
/* Drops every image of pid (its process is gone and its keys were read). */
void images_forget(struct images *t, uint32_t pid);
uint64_t images_untracked(const struct images *t);

/* A container runtime execs its init (runc:[2:INIT]) in the host's mount
 * namespace and enters the container's namespaces only afterwards, while
 * the workload's command is always exec'd inside them: checks that a
 * container's cgroup_id counts are the runtime's start-up when their image
 * was exec'd in the host's mount namespace (host_mntns, 0 unknown) or
 * outside that cgroup. */
bool image_is_runtime_start(const struct image *img, uint64_t cgroup_id, uint32_t host_mntns);

#endif
