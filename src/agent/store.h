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

/* 2 added the workloads' owners; a version 1 file is upgraded when the
 * agent opens it, and read as it is (owners unknown) by a reader. */
#define STORE_SCHEMA_VERSION 2
#define STORE_MAX_PENDING 65536 /* buffered rows before store_add() flushes */
/* A stored count saturates here (SQLite integers are signed 64-bit). */
#define STORE_COUNT_MAX ((uint64_t)INT64_MAX)

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
	/* pod_namespace, owner_kind and owner_name, exact: every pod's
	 * container (or container) of one owner */
	STORE_SELECT_WORKLOAD,
};

struct store_filter {
	enum store_select select;
	const char *pod_namespace;
	const char *pod_name;
	const char *container; /* may carry a "<runtime>://" prefix */
	const char *binary;
	const char *unit;
	const char *owner_kind;
	const char *owner_name;
};

struct store_stats {
	uint64_t flushes; /* transactions committed */
	uint64_t flush_errors;
	int flush_err; /* the last flush's error (-errno), 0 when it succeeded */
	uint64_t rows; /* profile rows in the database after the last flush */
	uint64_t pending; /* rows buffered, not yet flushed */
	uint64_t dropped; /* observations lost: buffer full and flushing failed */
	uint64_t invalid; /* rows queries skipped: values the store never writes */
};

/* What a profile read from a store cannot show, which its reader must be
 * told: rows its writer holds but could not store (and why), observations
 * lost, rows skipped as invalid. */
struct store_gaps {
	uint64_t unstored;
	uint64_t lost;
	uint64_t invalid;
	int flush_err; /* -errno of the writer's last flush; 0 when it succeeded */
};

enum store_open_flag {
	STORE_RDONLY = 1u << 0, /* read a store the agent writes (captrail profile) */
};

struct store;

/* Creates the file (mode 0600) and its parent directory (0700) unless
 * STORE_RDONLY, and the schema. An existing file is checked first (PRAGMA
 * quick_check, before anything is written to it). -EUCLEAN: corrupt (a
 * page fails the check); -EBADMSG: not a SQLite database, or not a store;
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
 * is returned. Flushed rows only; a row whose values the store never writes
 * (store_row_valid(), or a value of the wrong type: the file was edited or
 * damaged) is skipped and counted in store_stats.invalid. */
int store_query(struct store *store, const struct store_filter *filter,
		int (*fn)(void *ctx, const struct store_row *row), void *ctx);

/* The instances (container ids) of the workloads filter selects, ordered
 * by workload then id; the same stop rule as store_query(), and an id that
 * is not text is skipped and counted as invalid. */
int store_instances(struct store *store, const struct store_filter *filter,
		    int (*fn)(void *ctx, int64_t workload_id, const char *instance), void *ctx);

/* Whether a row holds what the store writes: a known workload kind and
 * audit class, a capability below CAPS_MAX, a verdict of 0 or 1, a syscall
 * number or CHECK_NO_SYSCALL, check flags only, counts and times at most
 * STORE_COUNT_MAX. Rows that come over the API are held to it too. */
bool store_row_valid(const struct store_row *row);

void store_stats(const struct store *store, struct store_stats *ret_stats);
/* The gaps of what this store holds: its pending and dropped observations,
 * its last flush's error, and invalid rows skipped since invalid_before (a
 * store_stats.invalid read before the queries). */
void store_gaps(const struct store *store, uint64_t invalid_before, struct store_gaps *ret_gaps);

/* "pod/container" selection text "NS/NAME" into a filter; -EINVAL. The
 * filter points into text. */
int store_filter_pod(const char *text, struct store_filter *ret_filter, char *buf, size_t size);
/* "NS/KIND/NAME" (KIND as workload_owner_kind() reads it; NS empty for a
 * plain Container) into a filter; -EINVAL. The filter points into buf. */
int store_filter_workload(const char *text, struct store_filter *ret_filter, char *buf,
			  size_t size);

#endif
