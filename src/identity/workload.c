#include "identity/workload.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "identity/images.h"
#include "lib/util.h"

static const char *const kind_names[] = {
	[WORKLOAD_POD_CONTAINER] = "pod-container",
	[WORKLOAD_CONTAINER] = "container",
	[WORKLOAD_HOST_BINARY] = "host-binary",
	[WORKLOAD_UNIT] = "unit",
};

const char *workload_kind_name(enum workload_kind kind)
{
	if (kind < WORKLOAD_POD_CONTAINER || kind > WORKLOAD_UNIT)
		return NULL;
	return kind_names[kind];
}

int workload_kind_parse(const char *name, enum workload_kind *ret_kind)
{
	for (int k = WORKLOAD_POD_CONTAINER; k <= WORKLOAD_UNIT; k++) {
		if (!strcmp(name, kind_names[k])) {
			*ret_kind = (enum workload_kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *str(const char *s)
{
	return s ? s : "";
}

const char *workload_container(const struct workload *w)
{
	return *str(w->container_name) ? w->container_name : str(w->container_id);
}

void workload_name(const struct workload *w, char *buf, size_t size)
{
	switch (w->kind) {
	case WORKLOAD_POD_CONTAINER:
		snprintf(buf, size, "%s/%s/%s", str(w->pod_namespace), str(w->pod_name),
			 workload_container(w));
		return;
	case WORKLOAD_CONTAINER: snprintf(buf, size, "%s", workload_container(w)); return;
	case WORKLOAD_UNIT: snprintf(buf, size, "%s", str(w->unit)); return;
	case WORKLOAD_HOST_BINARY: snprintf(buf, size, "%s", str(w->binary)); return;
	}
	snprintf(buf, size, "?");
}

static const char *or_null(const char *s)
{
	return s && *s ? s : NULL;
}

/* "/system.slice/cron.service" names the unit cron.service. */
static const char *unit_of(const char *cgroup)
{
	const char *leaf = cgroup ? strrchr(cgroup, '/') : NULL;
	size_t len;

	if (!leaf)
		return NULL;
	leaf++;
	len = strlen(leaf);
	return len > 8 && !strcmp(leaf + len - 8, ".service") ? leaf : NULL;
}

void workload_of(const struct container_info *c, const char *binary, struct workload *ret_w)
{
	struct workload w = { .kind = WORKLOAD_HOST_BINARY };

	if (c && c->id[0]) {
		w.kind = WORKLOAD_CONTAINER;
		w.container_id = c->id;
		w.container_name = or_null(c->name);
		w.image = or_null(c->image);
		w.owner_kind = WORKLOAD_OWNER_CONTAINER;
		w.owner_name = workload_container(&w);
		w.owner_how = w.container_name ? "container-name" : "container-id";
		w.cgroup = or_null(c->cgroup);
		if (or_null(c->pod_namespace) && or_null(c->pod_name)) {
			w.kind = WORKLOAD_POD_CONTAINER;
			w.pod_namespace = c->pod_namespace;
			w.pod_name = c->pod_name;
			w.owner_kind = or_null(c->owner_kind);
			w.owner_name = or_null(c->owner_name);
			w.owner_how = or_null(c->owner_how);
		}
	} else if (c && (w.unit = unit_of(c->cgroup))) {
		w.kind = WORKLOAD_UNIT;
	} else if (or_null(binary) && image_exec_name(binary, 0) == IMAGE_EXEC_PATH) {
		w.binary = binary;
	} else {
		/* A runtime's re-exec of itself names no program: its checks
		 * would be every container start-up's under one false name. */
		w.binary = "unknown";
	}
	*ret_w = w;
}

/* ---- owners ---- */

/* What Kubernetes' generated names and hashes are made of
 * (k8s.io/apimachinery rand.SafeEncodeString): no vowels, no 0, 1, 3. */
static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static bool all_of(const char *s, size_t len, const char *set)
{
	return len && strspn(s, set) >= len;
}

static bool is_suffix(const char *s, size_t len)
{
	return len == 5 && all_of(s, len, safe_alphabet);
}

static bool is_ordinal(const char *s, size_t len)
{
	return all_of(s, len, "0123456789") && (len == 1 || s[0] != '0');
}

/* The minutes since the epoch (seconds before Kubernetes 1.21) that a
 * CronJob's controller appends to the Job's name. */
static bool is_schedule_time(const char *s, size_t len)
{
	return len >= 8 && len <= 10 && all_of(s, len, "0123456789");
}

/* What follows a labelled pod's last dash: the labels say which controller
 * made it, so the suffix's alphabet is not checked. */
static bool is_any(const char *s, size_t len)
{
	(void)s;
	return len > 0;
}

static const char *label_of(const struct container_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(labels[i].key, key))
			return labels[i].value;
	return NULL;
}

static void set_owner(struct workload_owner *o, const char *kind, const char *how,
		      const char *name, size_t len)
{
	if (len > WORKLOAD_OWNER_NAME_MAX)
		len = WORKLOAD_OWNER_NAME_MAX;
	o->kind = kind;
	o->how = how;
	memcpy(o->name, name, len);
	o->name[len] = '\0';
}

/* The length of name without its last "-<segment>" when that segment
 * passes ok, else 0. */
static size_t strip_last(const char *name, size_t len, bool (*ok)(const char *, size_t))
{
	const char *dash = memrchr(name, '-', len);

	if (!dash || dash == name || !ok(dash + 1, (size_t)(name + len - dash - 1)))
		return 0;
	return (size_t)(dash - name);
}

static bool owner_by_labels(const char *pod, const struct container_label *labels, size_t n,
			    struct workload_owner *o)
{
	static const char *const job_keys[] = { "batch.kubernetes.io/job-name", "job-name" };
	size_t len = strlen(pod), base, hash_len;
	const char *v;

	v = label_of(labels, n, "pod-template-hash");
	hash_len = v ? strlen(v) : 0;
	base = strip_last(pod, len, is_any);
	/* A ReplicaSet is <deploy>-<hash>, its pods <replicaset>-<suffix>. */
	if (hash_len && base > hash_len + 1 && !memcmp(pod + base - hash_len, v, hash_len) &&
	    pod[base - hash_len - 1] == '-') {
		set_owner(o, WORKLOAD_OWNER_DEPLOYMENT, "label:pod-template-hash", pod,
			  base - hash_len - 1);
		return true;
	}
	v = label_of(labels, n, "statefulset.kubernetes.io/pod-name");
	if (v && !strcmp(v, pod) && (base = strip_last(pod, len, is_ordinal))) {
		set_owner(o, WORKLOAD_OWNER_STATEFULSET, "label:statefulset.kubernetes.io/pod-name",
			  pod, base);
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(job_keys); i++) {
		v = label_of(labels, n, job_keys[i]);
		if (!v || !*v)
			continue;
		len = strlen(v);
		base = strip_last(v, len, is_schedule_time);
		if (base)
			set_owner(o, WORKLOAD_OWNER_CRONJOB, "label:job-name+name-pattern", v, base);
		else
			set_owner(o, WORKLOAD_OWNER_JOB, i ? "label:job-name" :
					"label:batch.kubernetes.io/job-name", v, len);
		return true;
	}
	base = strip_last(pod, strlen(pod), is_any);
	if (label_of(labels, n, "pod-template-generation") &&
	    label_of(labels, n, "controller-revision-hash") && base) {
		set_owner(o, WORKLOAD_OWNER_DAEMONSET, "label:pod-template-generation", pod, base);
		return true;
	}
	return false;
}

/* Whether the labels say a controller made the pod (a label that does not
 * fit the pod's name leaves the name to decide). */
static bool has_controller_label(const struct container_label *labels, size_t n)
{
	static const char *const keys[] = {
		"pod-template-hash", "statefulset.kubernetes.io/pod-name", "job-name",
		"batch.kubernetes.io/job-name", "controller-revision-hash",
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (label_of(labels, n, keys[i]))
			return true;
	return false;
}

static bool is_template_hash(const char *s, size_t len)
{
	return len >= 6 && len <= 10 && all_of(s, len, safe_alphabet);
}

static bool is_job_time(const char *s, size_t len)
{
	/* A digit a hash never has: not a pod-template-hash. */
	return is_schedule_time(s, len) &&
	       (memchr(s, '0', len) || memchr(s, '1', len) || memchr(s, '3', len));
}

static bool owner_by_name(const char *pod, struct workload_owner *o)
{
	size_t len = strlen(pod), rs, base;

	rs = strip_last(pod, len, is_suffix);
	if (rs && (base = strip_last(pod, rs, is_job_time))) {
		set_owner(o, WORKLOAD_OWNER_CRONJOB, "name-pattern", pod, base);
		return true;
	}
	if (rs && (base = strip_last(pod, rs, is_template_hash))) {
		set_owner(o, WORKLOAD_OWNER_DEPLOYMENT, "name-pattern", pod, base);
		return true;
	}
	base = strip_last(pod, len, is_ordinal);
	if (base) {
		set_owner(o, WORKLOAD_OWNER_STATEFULSET, "name-pattern", pod, base);
		return true;
	}
	return false;
}

void workload_owner_of(const char *pod_name, const struct container_label *labels,
		       size_t n_labels, struct workload_owner *ret_owner)
{
	const char *pod = pod_name ? pod_name : "";

	/* Where the runtime recorded the pod's labels, a pod no controller's
	 * label marks has no controller: its name proves nothing. */
	if (owner_by_labels(pod, labels, n_labels, ret_owner) ||
	    ((!n_labels || has_controller_label(labels, n_labels)) &&
	     owner_by_name(pod, ret_owner)))
		return;
	set_owner(ret_owner, WORKLOAD_OWNER_POD, "none", pod, strlen(pod));
}

const char *workload_owner_kind(const char *kind)
{
	static const char *const kinds[] = {
		WORKLOAD_OWNER_DEPLOYMENT, WORKLOAD_OWNER_DAEMONSET, WORKLOAD_OWNER_STATEFULSET,
		WORKLOAD_OWNER_JOB, WORKLOAD_OWNER_CRONJOB, WORKLOAD_OWNER_POD,
		WORKLOAD_OWNER_CONTAINER,
	};

	for (size_t i = 0; kind && i < ARRAY_SIZE(kinds); i++)
		if (!strcasecmp(kind, kinds[i]))
			return kinds[i];
	return NULL;
}
