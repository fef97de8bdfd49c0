/* Profiles from the agent's store: rows (and the instances of their
 * workloads), as store_query()/store_instances() or the API hand them
 * over, collected per workload and turned into one profile each, or one
 * for every replica a container selection names. */
#ifndef CAPTRAIL_AGENT_WORKLOAD_PROFILES_H
#define CAPTRAIL_AGENT_WORKLOAD_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/store.h"
#include "profile/profile.h"

struct workload_profiles;

int workload_profiles__new(struct workload_profiles **ret_wp);
void workload_profiles__free(struct workload_profiles *wp);

/* Callbacks of store_query() and store_instances() (ctx: the collection);
 * strings are copied. */
int workload_profiles_add_row(void *wp, const struct store_row *row);
int workload_profiles_add_instance(void *wp, int64_t workload_id, const char *instance);

/* The profiles, in workload order: one per workload with checks, named as
 * workload_name() names it; with merged_name, one for them all, named so.
 * Free each with profile__free() and the array with free(). */
int workload_profiles_build(const struct workload_profiles *wp, const char *merged_name,
			    struct profile ***ret_profiles, size_t *ret_n);

#endif
