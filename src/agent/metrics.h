/* Prometheus text exposition over HTTP (libmicrohttpd, its own thread).
 *
 * GET /metrics:
 *   captrail_checks_total{capability="CAP_SYSLOG",verdict="denied",
 *                         workload="default/xwing/spaceship"}
 *   captrail_metrics_workloads_overflow_total, captrail_metrics_labels_cut_total
 *   captrail_events_lost_total, captrail_cache_entries{cache="process|container"},
 *   captrail_cache_evictions_total{cache=...}, captrail_store_flushes_total,
 *   captrail_store_flush_errors_total, and the values of enum metrics_value.
 * GET /healthz: "ok".
 *
 * Cardinality is bounded: the first max_workloads distinct workload label
 * values get series of their own, later ones are counted under
 * workload="other", each such update counting once in
 * captrail_metrics_workloads_overflow_total. A workload label value is
 * bounded and escaped as lib/text.h's TEXT_PROM says (valid UTF-8, cut to
 * TEXT_WORKLOAD_MAX bytes, each cut update counted in
 * captrail_metrics_labels_cut_total). The agent's loop updates the
 * values; a mutex keeps the HTTP thread's reads consistent.
 *
 * Profile-grade series, per replica, for a Prometheus to sum over nodes and
 * time (README "Metrics"; the contract of `profile --prometheus`):
 *   captrail_workload_capability_checks_total{node, namespace, workload_kind,
 *       workload, container, pod, capability, class, outcome}
 *   captrail_workload_instances{node, namespace, workload_kind, workload,
 *       container, pod} 1
 * class is profile_class_name() of the checks, or "runtime" for a container
 * runtime's start-up; outcome, for class "denied" only, profile_outcome_name().
 * A label whose value is empty is not written (Prometheus reads it as
 * ""): namespace and pod outside Kubernetes, outcome but for denied checks.
 * At most max_series series of both families exist; an update that would
 * make one more is not counted in them but in
 * captrail_workload_series_overflow_total. Series stay for the agent's
 * life: a counter that vanished would read as a reset. */
#ifndef CAPTRAIL_METRICS_H
#define CAPTRAIL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_DEFAULT_WORKLOADS 500
#define METRICS_DEFAULT_SERIES 20000
#define METRICS_OTHER "other"

/* Totals kept by their sources; the agent copies them in (metrics_set). */
enum metrics_value {
	METRICS_EVENTS_LOST, /* captrail_events_lost_total: ring buffer full */
	METRICS_STORE_FLUSHES, /* captrail_store_flushes_total */
	METRICS_STORE_FLUSH_ERRORS, /* captrail_store_flush_errors_total */
	METRICS_STORE_ROWS, /* captrail_store_rows (gauge) */
	METRICS_API_CLIENTS, /* captrail_api_clients (gauge) */
	METRICS_API_DROPPED, /* captrail_api_events_dropped_total: slow clients */
	METRICS_API_CLOSED, /* captrail_api_clients_closed_total: stalled, timed out */
	METRICS_API_FILTER_GAVE_UP, /* captrail_api_filter_regex_gave_up_total */
	METRICS_EVENT_STRINGS_CUT, /* captrail_event_strings_cut_total */
	METRICS_CONTAINER_CUT, /* captrail_container_metadata_cut_total */
	METRICS_CONTAINER_REFUSED, /* captrail_container_files_refused_total */
	METRICS_CONTAINER_LIVE_EVICTIONS, /* captrail_container_live_evictions_total */
	METRICS_EXPORT_RATE_DROPPED, /* captrail_export_rate_dropped_total */
	METRICS_EXPORT_WRITE_ERRORS, /* captrail_export_write_errors_total */
	METRICS_RUNTIME_CHECKS, /* captrail_runtime_checks_total: not in the profiles */
	METRICS_OUT_OF_SCOPE, /* captrail_out_of_scope_checks_total: --namespaces, --cgroup-scope */
	METRICS_VALUES,
};

enum metrics_cache {
	METRICS_CACHE_PROCESS,
	METRICS_CACHE_CONTAINER,
	METRICS_CACHES,
};

struct metrics;

struct metrics_opts {
	/* "HOST:PORT", ":PORT" (every IPv4 address) or "[IPV6]:PORT"; port 0
	 * picks a free one (see metrics_port) */
	const char *addr;
	size_t max_workloads; /* 0: METRICS_DEFAULT_WORKLOADS */
	size_t max_series; /* 0: METRICS_DEFAULT_SERIES */
	const char *node; /* the node label; NULL: "" */
};

/* -EINVAL: bad address; -EADDRINUSE and friends from bind(). */
int metrics__new(const struct metrics_opts *opts, struct metrics **ret_metrics);
void metrics__free(struct metrics *m);

uint16_t metrics_port(const struct metrics *m);

/* Adds n checks of cap with this verdict to workload (the label value:
 * "ns/pod/container", a container name, a binary or a unit). */
void metrics_add_checks(struct metrics *m, const char *workload, int cap, bool denied,
			uint64_t n);
/* One replica's labels; NULL or "" for none. */
struct metrics_replica {
	const char *namespace;
	const char *kind; /* workload_kind */
	const char *workload;
	const char *container;
	const char *pod;
};

/* n checks of cap of class cls ("required", ..., "runtime") by replica r;
 * outcome NULL but for class "denied". */
void metrics_add_replica_checks(struct metrics *m, const struct metrics_replica *r, int cap,
				const char *cls, const char *outcome, uint64_t n);
/* r was seen: its captrail_workload_instances series is 1. */
void metrics_add_replica(struct metrics *m, const struct metrics_replica *r);

void metrics_set(struct metrics *m, enum metrics_value which, uint64_t value);
void metrics_set_cache(struct metrics *m, enum metrics_cache which, uint64_t entries,
		       uint64_t evictions);

/* The exposition text as served (malloc'd, NUL-terminated), for tests and
 * for a final dump. */
int metrics_render(struct metrics *m, char **ret_text, size_t *ret_len);

#endif
