#include "identity/workload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity/images.h"

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
		if (or_null(c->pod_namespace) && or_null(c->pod_name)) {
			w.kind = WORKLOAD_POD_CONTAINER;
			w.pod_namespace = c->pod_namespace;
			w.pod_name = c->pod_name;
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
