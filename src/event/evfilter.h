/* Event filters with the reference client's semantics: --namespaces
 * (exact pod namespace), --pods (regex on the pod name), --containers
 * (regex on the container name), --processes (regex on the binary),
 * --host (events with no pod). Several fields AND, several values of one
 * field OR. Regexes are POSIX extended and unanchored: "xwing" matches
 * "xwing-7d9f"; write "^xwing$" for the exact name.
 *
 * Used by trace, by the agent for each API client, and by `captrail events`. */
#ifndef CAPTRAIL_EVFILTER_H
#define CAPTRAIL_EVFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "identity/identity.h"

#define EVFILTER_MAX_VALUES 64 /* per field */

enum evfilter_field {
	EVFILTER_NAMESPACES,
	EVFILTER_PODS,
	EVFILTER_CONTAINERS,
	EVFILTER_PROCESSES,
	EVFILTER_FIELDS,
};

/* What one event says about who asked; NULL strings are unknown. */
struct evfilter_subject {
	const char *namespace_;
	const char *pod;
	const char *container; /* container name within the pod */
	const char *binary;
	bool has_pod;
};

struct evfilter;

int evfilter__new(struct evfilter **ret_filter);
void evfilter__free(struct evfilter *f);

/* One value, taken as is (the API's arrays: a regex may hold a comma).
 * -EINVAL with a message in err (if given) for an empty value, a regex
 * that does not compile, too many values, or a pod field combined with
 * --host (which selects events with no pod: the two never match). */
int evfilter_add(struct evfilter *f, enum evfilter_field field, const char *value, char *err,
		 size_t err_size);
/* Comma-separated values, as the command line gives them. */
int evfilter_add_list(struct evfilter *f, enum evfilter_field field, const char *list, char *err,
		      size_t err_size);
int evfilter_set_host(struct evfilter *f, bool host, char *err, size_t err_size);

/* True when no field is set: everything matches. A NULL filter is empty. */
bool evfilter_empty(const struct evfilter *f);

bool evfilter_match(const struct evfilter *f, const struct evfilter_subject *s);

/* What a resolved event says about who asked. */
void evfilter_subject_of(const struct identity_event *ev, struct evfilter_subject *ret_subject);

/* Matches a process_kprobe JSON event (process.pod.namespace,
 * process.pod.name, process.pod.container.name, process.binary). An object
 * that is no such event matches only the empty filter. */
bool evfilter_match_json(const struct evfilter *f, json_object *event);

/* The API's "filter" object: {"namespaces":[...],"pods":[...],
 * "containers":[...],"processes":[...],"host":false}; unknown keys and
 * wrong types are -EINVAL with a message. NULL filter: match everything. */
int evfilter_from_json(json_object *filter, struct evfilter **ret_filter, char *err,
		       size_t err_size);
/* The same object back, for a client's request. */
int evfilter_to_json(const struct evfilter *f, json_object **ret_filter);

const char *evfilter_field_name(enum evfilter_field field); /* "namespaces", ... */

#endif
