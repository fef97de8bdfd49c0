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

#include "identity/workload.h"
#include "lib/check.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_MAX_PENDING 65536 /* buffered rows before store_add() flushes */

/* One observation: checks of a workload, times in unix ns. */
struct store_obs {
	struct workload workload;
	struct check check;
};

/* One profile row as stored; strings valid during the callback only.
 * workload.container_id is not kept with the row (see instances). */
struct store_row {
	int64_t workload_id;
	struct workload workload;
	uint64_t instances; /* distinct container ids seen; 0 outside containers */
	struct check check;
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
int store__new(const char *path, unsigned flags, struct store **ret_store);
/* Does not flush: the caller decides (the agent flushes before closing). */
void store__free(struct store *store);

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

/* "pod/container" selection text "NS/NAME" into a filter; -EINVAL. The
 * filter points into text. */
int store_filter_pod(const char *text, struct store_filter *ret_filter, char *buf, size_t size);

#endif
