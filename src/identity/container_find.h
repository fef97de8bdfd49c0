/* The reverse of the container resolver: from a container's name or id, or
 * a pod's namespace and name, to the cgroup it runs in (record --container,
 * --pod, --cgroup). The cgroup v2 hierarchy is walked and each container
 * cgroup resolved the way every event's is (container.h), so a name is
 * found wherever the resolver would put it on an event. */
#ifndef CAPTRAIL_CONTAINER_FIND_H
#define CAPTRAIL_CONTAINER_FIND_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "identity/container.h"

#define CONTAINER_FIND_MATCHES 8 /* matches kept to be named; more are counted */
#define CONTAINER_FIND_CGROUPS 65536 /* directories walked at most */
#define CONTAINER_FIND_DEPTH 32 /* levels below the mount walked at most */
#define CONTAINER_FIND_ID_MIN 12 /* hex digits an id prefix needs */
#define CONTAINER_FIND_NAME_MAX 128 /* "namespace/pod/container", cut when longer */

struct container_match {
	char cgroup[PATH_MAX]; /* relative to the v2 mount, starting with '/' */
	char id[CONTAINER_ID_LEN + 1];
	char name[CONTAINER_FIND_NAME_MAX]; /* [namespace/pod/]container, or "" */
};

struct container_found {
	char v2_root[PATH_MAX]; /* where the cgroup v2 hierarchy is mounted */
	size_t n_matches; /* every container that matched */
	struct container_match matches[CONTAINER_FIND_MATCHES]; /* the first of them */
	/* --pod: the pod's own cgroup (the one parent of its containers' that
	 * the pod's UID names), relative to v2_root; "" when they have none */
	char pod_cgroup[PATH_MAX];
	size_t walked; /* cgroups looked at */
};

/* Whether text is a container name or id: not empty, no '/', no space or
 * control character. */
bool container_find_valid_name(const char *text);

/* Every container (not a pod's sandbox) whose name is name_or_id, or whose
 * id starts with it when it is CONTAINER_FIND_ID_MIN hex digits or more.
 * -E2BIG when the hierarchy has more than CONTAINER_FIND_CGROUPS cgroups;
 * no match is 0 with n_matches 0. */
int container_find_container(const struct container_roots *roots, const char *name_or_id,
			     struct container_found *ret_found);
/* Every container of the pod namespace/name, sandbox included, and the
 * pod's cgroup. */
int container_find_pod(const struct container_roots *roots, const char *pod_namespace,
		       const char *pod_name, struct container_found *ret_found);

/* path as the user gave it: absolute under the v2 mount (/sys/fs/cgroup/x),
 * or relative to it with or without a leading '/' (as /proc/PID/cgroup
 * writes it). ret_path: the directory, absolute. -EINVAL: it leaves the
 * hierarchy ("..", a symlink) or is the root; -ENOENT: no such cgroup;
 * -ENOTDIR. */
int container_find_cgroup(const char *cgroupfs, const char *path, char *ret_path, size_t size);

#endif
