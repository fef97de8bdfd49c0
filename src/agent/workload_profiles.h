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
 * strings are copied. A row store_row_valid() refuses (an agent's reply is
 * outside input too) is skipped and counted with the gaps' invalid rows. */
int workload_profiles_add_row(void *wp, const struct store_row *row);
int workload_profiles_add_instance(void *wp, int64_t workload_id, const char *instance);
/* The reader's gaps (api_profile_handler.gaps, or store_gaps() of a store
 * read directly), added to those already known; the last flush error given
 * wins. */
int workload_profiles_add_gaps(void *wp, const struct store_gaps *gaps);
/* What the profiles cannot show: the gaps added, and the rows skipped here. */
void workload_profiles_gaps(const struct workload_profiles *wp, struct store_gaps *ret_gaps);

/* The profiles, in workload order: one per workload with checks, named as
 * workload_name() names it (workloads of the same name, from several
 * stores, are one); with merged_name, one for them all, named so.
 * Free each with profile__free() and the array with free(). */
int workload_profiles_build(const struct workload_profiles *wp, const char *merged_name,
			    struct profile ***ret_profiles, size_t *ret_n);
/* The replicas of one owner (a workload selection: its rows only), one
 * profile per container name, named "NAME/CONTAINER": every pod's
 * container of that name merged, each pod one instance (a replica, however
 * often its container restarted; the same pod read from two stores once),
 * a plain container's ids its instances; coverage in replicas. */
int workload_profiles_build_replicas(const struct workload_profiles *wp, const char *name,
				     struct profile ***ret_profiles, size_t *ret_n);

#endif
