#include "agent/workload_profiles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"

/* One workload's rows, kept until its instances are known. */
struct workload_rows {
	UT_hash_handle hh;
	int64_t id;
	char name[WORKLOAD_NAME_MAX];
	char *first_instance; /* the checks are attributed to it: rows are per workload */
	char **instances;
	size_t n_instances;
	struct check *checks;
	char *binary; /* host binaries: their path, which the profile keeps per check */
	size_t n_checks;
	char *pod; /* a pod's container: its pod, the replica */
	char *container; /* a pod's container or a container: its name, else its id */
};

struct workload_profiles {
	struct workload_rows *workloads; /* by id, in arrival (workload id) order */
	struct store_gaps gaps;
};

int workload_profiles__new(struct workload_profiles **ret_wp)
{
	struct workload_profiles *wp = calloc(1, sizeof(*wp));

	if (!wp)
		return -ENOMEM;
	*ret_wp = wp;
	return 0;
}

static void rows_free(struct workload_rows *w)
{
	for (size_t i = 0; i < w->n_instances; i++)
		free(w->instances[i]);
	free(w->instances);
	free(w->checks);
	free(w->binary);
	free(w->pod);
	free(w->container);
	free(w);
}

void workload_profiles__free(struct workload_profiles *wp)
{
	struct workload_rows *w, *tmp;

	if (!wp)
		return;
	HASH_ITER(hh, wp->workloads, w, tmp) {
		HASH_DEL(wp->workloads, w);
		rows_free(w);
	}
	free(wp);
}

static struct workload_rows *rows_get(struct workload_profiles *wp, int64_t id)
{
	struct workload_rows *w;

	HASH_FIND(hh, wp->workloads, &id, sizeof(id), w);
	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->id = id;
	HASH_ADD(hh, wp->workloads, id, sizeof(w->id), w);
	if (hash_add_failed()) {
		free(w);
		return NULL;
	}
	return w;
}

/* Room for element n of an array whose capacity doubles at each power of
 * two. */
static int grow(void *arrayp, size_t n, size_t size)
{
	void **array = arrayp;
	void *bigger;

	if (n && (n & (n - 1)))
		return 0;
	bigger = realloc(*array, (n ? n * 2 : 1) * size);
	if (!bigger)
		return -ENOMEM;
	*array = bigger;
	return 0;
}

int workload_profiles_add_row(void *ctx, const struct store_row *row)
{
	struct workload_profiles *wp = ctx;
	struct workload_rows *w;

	if (!store_row_valid(row)) {
		wp->gaps.invalid = check_count_add(wp->gaps.invalid, 1);
		return 0;
	}
	w = rows_get(wp, row->workload_id);
	if (!w || grow(&w->checks, w->n_checks, sizeof(*w->checks)))
		return -ENOMEM;
	if (!w->name[0])
		workload_name(&row->workload, w->name, sizeof(w->name));
	if (row->workload.kind == WORKLOAD_HOST_BINARY && !w->binary &&
	    !(w->binary = strdup(row->workload.binary ? row->workload.binary : "")))
		return -ENOMEM;
	if (row->workload.kind == WORKLOAD_POD_CONTAINER && !w->pod &&
	    !(w->pod = strdup(row->workload.pod_name ? row->workload.pod_name : "")))
		return -ENOMEM;
	if ((row->workload.kind == WORKLOAD_POD_CONTAINER ||
	     row->workload.kind == WORKLOAD_CONTAINER) && !w->container &&
	    !(w->container = strdup(workload_container(&row->workload))))
		return -ENOMEM;
	w->checks[w->n_checks++] = row->check;
	return 0;
}

int workload_profiles_add_instance(void *ctx, int64_t workload_id, const char *instance)
{
	struct workload_rows *w = rows_get(ctx, workload_id);
	char *copy;

	if (!w || grow(&w->instances, w->n_instances, sizeof(*w->instances)))
		return -ENOMEM;
	copy = strdup(instance);
	if (!copy)
		return -ENOMEM;
	w->instances[w->n_instances++] = copy;
	if (!w->first_instance)
		w->first_instance = copy;
	return 0;
}

int workload_profiles_add_gaps(void *ctx, const struct store_gaps *gaps)
{
	struct store_gaps *g = &((struct workload_profiles *)ctx)->gaps;

	g->unstored = check_count_add(g->unstored, gaps->unstored);
	g->lost = check_count_add(g->lost, gaps->lost);
	g->invalid = check_count_add(g->invalid, gaps->invalid);
	if (gaps->flush_err)
		g->flush_err = gaps->flush_err;
	return 0;
}

void workload_profiles_gaps(const struct workload_profiles *wp, struct store_gaps *ret_gaps)
{
	*ret_gaps = wp->gaps;
}

/* replica: the instance the workload's checks and instances count as
 * (its pod), NULL for its own instances. */
static int add_workload(struct profile *p, const struct workload_rows *w, const char *replica)
{
	const char *instance = replica ? replica : w->first_instance;
	int err = 0;

	for (size_t i = 0; !err && i < w->n_checks; i++)
		err = profile_add_check(p, &w->checks[i], w->binary, instance);
	if (replica)
		return err ? err : profile_add_instance(p, replica);
	for (size_t i = 0; !err && i < w->n_instances; i++)
		err = profile_add_instance(p, w->instances[i]);
	if (!err && !w->n_instances)
		err = profile_add_instance(p, NULL); /* a host program: one unnamed instance */
	return err;
}

static struct profile *find_profile(struct profile **profiles, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(profile_workload(profiles[i]), name))
			return profiles[i];
	return NULL;
}

/* Each workload's rows into the profile of name (made when new); by
 * name, so the same workload read from several stores is one profile. */
static int build(const struct workload_profiles *wp, const char *merged_name, bool replicas,
		 struct profile ***ret_profiles, size_t *ret_n)
{
	size_t max = HASH_COUNT(wp->workloads), n = 0;
	struct profile **profiles = calloc(max ? max : 1, sizeof(*profiles));
	struct workload_rows *w, *tmp;
	char name[WORKLOAD_NAME_MAX + PROFILE_STR_MAX];
	struct profile *p;
	int err = 0;

	if (!profiles)
		return -ENOMEM;
	HASH_ITER(hh, wp->workloads, w, tmp) {
		if (!w->n_checks)
			continue; /* instances of a workload without checks */
		if (replicas)
			snprintf(name, sizeof(name), "%s/%s", merged_name,
				 w->container ? w->container : "");
		else
			snprintf(name, sizeof(name), "%s", merged_name ? merged_name : w->name);
		p = find_profile(profiles, n, name);
		if (!p) {
			err = profile__new(&profiles[n]);
			p = profiles[n];
			if (!err)
				err = profile_set_workload(p, name);
			if (err)
				break;
			profile_set_replicas(p, replicas);
			n++;
		}
		/* A pod is one replica whatever its containers' restarts; a
		 * plain container's instances are its replicas. */
		err = add_workload(p, w, replicas ? w->pod : NULL);
		if (err)
			break;
	}
	if (err) {
		for (size_t i = 0; i < max; i++)
			profile__free(profiles[i]);
		free(profiles);
		return err;
	}
	*ret_profiles = profiles;
	*ret_n = n;
	return 0;
}

int workload_profiles_build(const struct workload_profiles *wp, const char *merged_name,
			    struct profile ***ret_profiles, size_t *ret_n)
{
	return build(wp, merged_name, false, ret_profiles, ret_n);
}

int workload_profiles_build_replicas(const struct workload_profiles *wp, const char *name,
				     struct profile ***ret_profiles, size_t *ret_n)
{
	return build(wp, name, true, ret_profiles, ret_n);
}
