/* A workload's profile from Prometheus (profile --prometheus): the PromQL
 * that asks for its series of the agents' metrics (the families the
 * README's "Metrics" section names), and Prometheus's answers turned into
 * one profile across every node and replica.
 *
 * The counts are exact, not increase()'s: increase() extrapolates to the
 * window's edges (fractions of checks) and never counts the first value
 * of a counter that appears inside the window (a replica started then,
 * or an agent restarted). So the window's raw samples are read (an
 * instant query of a range selector) and summed here, a drop being a
 * reset (the agent restarted: the new value counts whole), from each
 * counter's last value before the window (0 when it had none: created
 * inside it, its first value counts whole). */
#ifndef CAPTRAIL_PROFILE_PROMETHEUS_H
#define CAPTRAIL_PROFILE_PROMETHEUS_H

#include <stddef.h>
#include <stdint.h>

#include "profile/profile.h"

#define PROM_WINDOW_MAX (3660ull * 86400) /* --since: ten years */
#define PROM_SERIES_MAX 131072 /* counter series, and replicas, read; more are counted */
#define PROM_WORKLOAD_MAX 1024 /* bytes of NS/KIND/NAME */
#define PROM_WHY_LEN 256

/* Series names and labels: the agent's contract. */
#define PROM_CHECKS_METRIC "captrail_workload_capability_checks_total"
#define PROM_INSTANCES_METRIC "captrail_workload_instances"

struct prom_workload {
	char ns[PROM_WORKLOAD_MAX]; /* "": outside Kubernetes (kind Container) */
	char kind[16]; /* as spelt in the list below */
	char name[PROM_WORKLOAD_MAX];
};

/* "NS/KIND/NAME", KIND one of Deployment, DaemonSet, StatefulSet, Job,
 * CronJob, Pod, Container (case-insensitive, kept as spelt there); NAME
 * may hold '/'. -EINVAL otherwise. */
int prom_workload_parse(const char *text, struct prom_workload *ret_workload);
/* "NS/KIND/NAME" again, for messages. */
void prom_workload_name(const struct prom_workload *w, char *buf, size_t size);

/* A window as Prometheus writes durations, one unit: "14d", "36h", "90m",
 * "600s", "2w". -EINVAL, or -ERANGE past PROM_WINDOW_MAX or at 0. */
int prom_duration_parse(const char *text, uint64_t *ret_seconds);

enum prom_query {
	PROM_QUERY_INSTANCES, /* the replicas seen in the window, and their nodes */
	PROM_QUERY_BASELINE, /* each counter's last value before the window */
	PROM_QUERY_CHECKS, /* every sample of every counter in the window */
	PROM_QUERY_COUNT,
};

/* The PromQL of query q for workload w over the window (seconds), at one
 * evaluation time that all three share. Workload names are bounded and
 * escaped as the agent's labels are (lib/text.h TEXT_PROM), whose escapes
 * PromQL string literals read the same. Free *ret_promql. */
int prom_query_text(const struct prom_workload *w, enum prom_query q, uint64_t window,
		    char **ret_promql);

struct prom_profile;

int prom_profile__new(struct prom_profile **ret_pp);
void prom_profile__free(struct prom_profile *pp);

/* One answer of Prometheus's /api/v1/query to query q, body[0..len) with
 * its HTTP status. -EPROTO: Prometheus refused the query (status "error":
 * its type and message in why, one line) or answered an HTTP error
 * without its JSON; -EBADMSG: not the answer's shape (why says where). */
int prom_profile_add(struct prom_profile *pp, enum prom_query q, long http_status,
		     const char *body, size_t len, char why[PROM_WHY_LEN]);

/* What the answers were not read for. */
struct prom_stats {
	uint64_t series; /* counter series of the workload read */
	uint64_t series_dropped; /* counters or replicas past PROM_SERIES_MAX */
	uint64_t series_invalid; /* labels no check of the agent's has (class "kept") */
	uint64_t runtime_checks; /* a runtime's start-up: never the workload's */
	uint64_t samples_invalid; /* NaN, infinite or negative: skipped */
};
void prom_profile_stats(const struct prom_profile *pp, struct prom_stats *ret_stats);

/* The profile of every answer added, named name: each replica an instance
 * (its pod; a plain container's name "@" its node), and the nodes they
 * ran on. -ENODATA when no answer held a series of the workload. */
int prom_profile_build(const struct prom_profile *pp, const char *name,
		       struct profile **ret_profile);

#endif
