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

/* The owner a pod belongs to, as Kubernetes names its kind. */
#define WORKLOAD_OWNER_DEPLOYMENT "Deployment"
#define WORKLOAD_OWNER_DAEMONSET "DaemonSet"
#define WORKLOAD_OWNER_STATEFULSET "StatefulSet"
#define WORKLOAD_OWNER_JOB "Job"
#define WORKLOAD_OWNER_CRONJOB "CronJob"
#define WORKLOAD_OWNER_POD "Pod" /* a bare pod: its own owner */
#define WORKLOAD_OWNER_CONTAINER "Container" /* outside Kubernetes, by container name */
#define WORKLOAD_OWNER_NAME_MAX 320 /* a label value's bound (TEXT_LABEL_MAX) */

/* Strings NULL or "" when unknown. Only the fields of the kind name the
 * workload; image is its latest attribute, container_id an instance. The
 * owner is an attribute of a pod's container or a container: its kind (one
 * of the WORKLOAD_OWNER_ names), name, and how it was derived (see
 * workload_owner_of()). */
struct workload {
	enum workload_kind kind;
	const char *pod_namespace;
	const char *pod_name;
	const char *container_name;
	const char *container_id; /* bare id, no "<runtime>://" */
	const char *image;
	const char *binary;
	const char *unit;
	const char *owner_kind;
	const char *owner_name;
	const char *owner_how;
	/* The cgroup the container was found by (relative to the cgroup v2
	 * mount, or a v1 path): where a node puts it, for a node scope. */
	const char *cgroup;
};

/* kind and how are static strings. */
struct workload_owner {
	const char *kind;
	const char *how;
	char name[WORKLOAD_OWNER_NAME_MAX + 1];
};

/* The owner of pod pod_name from what the node has: the pod's labels when
 * its runtime records them (CRI-O), else the names each controller gives
 * its pods. how says which:
 *   "label:pod-template-hash"      Deployment: pod <deploy>-<hash>-<suffix>
 *   "label:statefulset.kubernetes.io/pod-name"   StatefulSet: <sts>-<ordinal>
 *   "label:pod-template-generation"   DaemonSet: <ds>-<suffix>
 *   "label:job-name" (or "label:batch.kubernetes.io/job-name")   Job
 *   "label:job-name+name-pattern"  CronJob: a job named <cronjob>-<minutes>
 *   "name-pattern"                 no labels recorded: <deploy>-<hash>-<suffix> (a hash
 *                                  of the suffix alphabet), <cronjob>-<digits>-
 *                                  <suffix> (digits a hash cannot have), or
 *                                  <sts>-<ordinal>
 *   "none"                         a bare Pod (labels recorded, none of a
 *                                  controller's), or a DaemonSet or Job pod
 *                                  whose labels the runtime did not record
 *                                  (<name>-<suffix> fits both): the pod
 *                                  is its own workload.
 * A name past WORKLOAD_OWNER_NAME_MAX is cut. */
void workload_owner_of(const char *pod_name, const struct container_label *labels,
		       size_t n_labels, struct workload_owner *ret_owner);

/* The canonical WORKLOAD_OWNER_ name kind spells (case-insensitively, as
 * kubectl accepts kinds), NULL for none. */
const char *workload_owner_kind(const char *kind);

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
