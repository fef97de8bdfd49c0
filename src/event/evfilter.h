/* Event filters with the reference client's semantics: --namespaces
 * (exact pod namespace), --pods (regex on the pod name), --containers
 * (regex on the container name), --processes (regex on the binary),
 * --host (events with no pod). Several fields AND, several values of one
 * field OR. Regexes are unanchored: "xwing" matches "xwing-7d9f"; write
 * "^xwing$" for the exact name.
 *
 * Regexes are PCRE2 (a superset of POSIX extended for these names; '.'
 * matches a newline and '$' only the very end, as in POSIX), on bytes, never
 * UTF. A client may send any pattern, so each is bounded: its length, its
 * nesting and its compiled size when it is added; the work, stack and heap
 * of each match when it runs. A match that reaches a limit is a non-match,
 * counted (evfilter_stats()); it never takes long.
 *
 * Used by trace, by the agent for each API client, and by `captrail events`. */
#ifndef CAPTRAIL_EVFILTER_H
#define CAPTRAIL_EVFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "identity/identity.h"

#define EVFILTER_MAX_VALUES 64 /* per field */
/* A pod name is at most 253 bytes and a container name 63, so one name
 * anchored fits; several names are several values. */
#define EVFILTER_MAX_PATTERN 256

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
 * longer than EVFILTER_MAX_PATTERN or that does not compile (nested too
 * deep or too large compiled included), too many values, or a pod field
 * combined with --host (which selects events with no pod: the two never
 * match). */
int evfilter_add(struct evfilter *f, enum evfilter_field field, const char *value, char *err,
		 size_t err_size);
/* Comma-separated values, as the command line gives them. */
int evfilter_add_list(struct evfilter *f, enum evfilter_field field, const char *list, char *err,
		      size_t err_size);
int evfilter_set_host(struct evfilter *f, bool host, char *err, size_t err_size);

/* True when no field is set: everything matches. A NULL filter is empty. */
bool evfilter_empty(const struct evfilter *f);

/* Not const: a match uses the filter's match data and counts what gave up. */
bool evfilter_match(struct evfilter *f, const struct evfilter_subject *s);

/* What a resolved event says about who asked. */
void evfilter_subject_of(const struct identity_event *ev, struct evfilter_subject *ret_subject);

/* Matches a process_kprobe JSON event (process.pod.namespace,
 * process.pod.name, process.pod.container.name, process.binary; for a
 * container outside Kubernetes, which has no "pod", --containers matches
 * process.docker, its id). An object that is no such event matches only
 * the empty filter. */
bool evfilter_match_json(struct evfilter *f, json_object *event);

/* Regex matches that reached a limit (counted as non-matches), and values
 * not tried at all because the event had already used up its give-ups. */
struct evfilter_stats {
	unsigned long long gave_up;
	unsigned long long skipped;
	enum evfilter_field worst_field; /* with worst_value: gave up most often */
	const char *worst_value; /* NULL when nothing gave up; owned by the filter */
};

void evfilter_stats(const struct evfilter *f, struct evfilter_stats *ret_stats);
/* The same as one sentence, for a summary line or a client's notice; false,
 * with buf untouched, when nothing gave up. */
bool evfilter_describe_give_ups(const struct evfilter *f, char *buf, size_t size);

/* The API's "filter" object: {"namespaces":[...],"pods":[...],
 * "containers":[...],"processes":[...],"host":false}; unknown keys and
 * wrong types are -EINVAL with a message. NULL filter: match everything. */
int evfilter_from_json(json_object *filter, struct evfilter **ret_filter, char *err,
		       size_t err_size);
/* The same object back, for a client's request. */
int evfilter_to_json(const struct evfilter *f, json_object **ret_filter);

const char *evfilter_field_name(enum evfilter_field field); /* "namespaces", ... */

#endif
