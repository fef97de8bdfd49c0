/* What the agent keeps a profile for: a pod's container, a container, a
 * systemd unit or a host program; and the one name each goes by, in metrics
 * labels and profile titles alike. */
#ifndef CAPTRAIL_IDENTITY_WORKLOAD_H
#define CAPTRAIL_IDENTITY_WORKLOAD_H

#include <stddef.h>

#include "identity/container.h"

/* Persisted by the agent's store: never renumber. */
enum workload_kind {
	WORKLOAD_POD_CONTAINER = 1, /* named by pod namespace, pod and container */
	WORKLOAD_CONTAINER = 2, /* by container name, else id */
	WORKLOAD_HOST_BINARY = 3, /* by binary path */
	WORKLOAD_UNIT = 4, /* by systemd unit */
};

#define WORKLOAD_NAME_MAX 1024 /* bytes of workload_name(), NUL included */

/* Strings NULL or "" when unknown. Only the fields of the kind name the
 * workload; image is its latest attribute, container_id an instance. */
struct workload {
	enum workload_kind kind;
	const char *pod_namespace;
	const char *pod_name;
	const char *container_name;
	const char *container_id; /* bare id, no "<runtime>://" */
	const char *image;
	const char *binary;
	const char *unit;
};

/* "pod-container", "container", "host-binary", "unit"; NULL out of range. */
const char *workload_kind_name(enum workload_kind kind);
int workload_kind_parse(const char *name, enum workload_kind *ret_kind);

/* The container part of the name: the container's name, else its id. */
const char *workload_container(const struct workload *w);

/* "NS/POD/CONTAINER", "CONTAINER", the unit or the binary, cut to size. */
void workload_name(const struct workload *w, char *buf, size_t size);

/* The workload a task belongs to: a pod's container or a container (c
 * names one), else the systemd service its cgroup is (c->cgroup), else
 * the program it runs (binary; "unknown" when NULL, empty, or a name that
 * is no program's, such as /proc/self/exe: see image_exec_name()).
 * Strings point into c and binary. */
void workload_of(const struct container_info *c, const char *binary, struct workload *ret_w);

#endif
