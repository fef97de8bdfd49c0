/* The agent's store: per-workload capability profiles in SQLite (WAL).
 *
 * One row per workload x capability x verdict x audit class x syscall x
 * credential flags, with a count, first and last seen (unix ns) and, for
 * denied checks, what the syscall returned; plus the instances (container
 * ids) that contributed to each workload. store_add() only buffers; the
 * agent calls store_flush() every few seconds and on exit, which adds the
 * buffer to the rows in one transaction: a SIGKILL loses only what was not
 * flushed, and counts continue after a restart. */
#ifndef CAPTRAIL_STORE_H
#define CAPTRAIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/captrail.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_MAX_PENDING 65536 /* buffered rows before store_add() flushes */

enum store_kind {
	STORE_POD_CONTAINER = 1, /* identity: pod namespace, pod name, container name */
	STORE_CONTAINER = 2, /* identity: container name, else its id */
	STORE_HOST_BINARY = 3, /* identity: binary */
	STORE_UNIT = 4, /* identity: systemd unit */
};

enum store_audit {
	STORE_AUDIT_UNKNOWN = 0, /* the hook could not tell */
	STORE_AUDIT = 1, /* some checks were audited */
	STORE_NOAUDIT = 2, /* every sampled check came through a noaudit path */
};

/* Strings NULL or "" when unknown. Only the identity fields of the kind
 * (above) name the workload; the others are kept as its latest attributes
 * (image) or as an instance (container_id). */
struct store_workload {
	enum store_kind kind;
	const char *pod_namespace;
	const char *pod_name;
	const char *container_name;
	const char *container_id; /* bare id, no "<runtime>://" */
	const char *image;
	const char *binary;
	const char *unit;
};

struct store_obs {
	struct store_workload workload;
	int cap;
	bool denied;
	enum store_audit audit;
	int syscall; /* CT_NO_SYSCALL when not in a syscall */
	uint32_t flags; /* enum ct_agg_flag bits other than CT_AGG_DENIED */
	uint64_t count;
	uint64_t first_seen; /* unix ns */
	uint64_t last_seen;
	struct ct_outcome outcome; /* denied: what the syscall returned; zeros if unknown */
};

/* One profile row as stored; strings valid during the callback only. */
struct store_row {
	int64_t workload_id;
	enum store_kind kind;
	const char *pod_namespace;
	const char *pod_name;
	const char *container_name;
	const char *image;
	const char *binary;
	const char *unit;
	uint64_t instances; /* distinct container ids seen; 0 outside containers */
	int cap;
	bool denied;
	enum store_audit audit;
	int syscall;
	uint32_t flags;
	uint64_t count;
	uint64_t first_seen;
	uint64_t last_seen;
	struct ct_outcome outcome;
};

enum store_select {
	STORE_SELECT_ALL,
	STORE_SELECT_POD, /* pod_namespace and pod_name, exact */
	STORE_SELECT_CONTAINER, /* container: a name, an id or an id prefix of 12+ */
	STORE_SELECT_BINARY, /* binary path, exact (host binaries) */
	STORE_SELECT_UNIT,
};

struct store_filter {
	enum store_select select;
	const char *pod_namespace;
	const char *pod_name;
	const char *container; /* may carry a "<runtime>://" prefix */
	const char *binary;
	const char *unit;
};

struct store_stats {
	uint64_t flushes; /* transactions committed */
	uint64_t flush_errors;
	uint64_t rows; /* profile rows in the database after the last flush */
	uint64_t pending; /* rows buffered, not yet flushed */
	uint64_t dropped; /* observations lost: buffer full and flushing failed */
};

enum store_open_flag {
	STORE_RDONLY = 1u << 0, /* read a store the agent writes (captrail profile) */
};

struct store;

/* Creates the file (mode 0600) and its parent directory (0700) unless
 * STORE_RDONLY, and the schema. -EBADMSG: not a SQLite database, or corrupt;
 * -EPROTO: written by a newer captrail (schema version); -ENOENT (read only):
 * no such store; -EIO: any other SQLite failure. */
int store_open(const char *path, unsigned flags, struct store **ret_store);
/* Does not flush: the caller decides (the agent flushes before closing). */
void store_close(struct store *store);

/* Copies what it needs; merges with a buffered row of the same key. */
int store_add(struct store *store, const struct store_obs *obs);
/* Upserts the buffer in one transaction: counts add up, first_seen is the
 * minimum, last_seen the maximum. On failure the buffer is kept for the
 * next try. -EROFS on a read-only store with pending rows. */
int store_flush(struct store *store);

/* Calls fn for each matching row, ordered by workload, then capability,
 * verdict, audit class, syscall. fn returning non-zero stops the query and
 * is returned. Flushed rows only. */
int store_query(struct store *store, const struct store_filter *filter,
		int (*fn)(void *ctx, const struct store_row *row), void *ctx);

/* The instances (container ids) of the workloads filter selects, ordered
 * by workload then id; the same stop rule as store_query(). */
int store_instances(struct store *store, const struct store_filter *filter,
		    int (*fn)(void *ctx, int64_t workload_id, const char *instance), void *ctx);

void store_stats(const struct store *store, struct store_stats *ret_stats);

/* "pod-container", "container", "host-binary", "unit"; and back (-EINVAL). */
const char *store_kind_name(enum store_kind kind);
int store_kind_parse(const char *name, enum store_kind *ret_kind);
const char *store_audit_name(enum store_audit audit); /* "unknown", "audit", "noaudit" */
int store_audit_parse(const char *name, enum store_audit *ret_audit);

/* "pod/container" selection text "NS/NAME" into a filter; -EINVAL. The
 * filter points into text. */
int store_filter_pod(const char *text, struct store_filter *ret_filter, char *buf, size_t size);

#endif
