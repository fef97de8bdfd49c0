/* The agent's JSON-lines export file (--export FILE): mode 0600, rotated by
 * size (FILE.1 is the newest backup, FILE.N the oldest), with an optional
 * token-bucket rate limit. Events the limit drops are counted and reported
 * in the file itself as {"notice":"rate limit dropped N events","time":...}
 * once events pass again (and on close), so a reader sees the gap. */
#ifndef CAPTRAIL_EXPORT_H
#define CAPTRAIL_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#define EXPORT_BUFFER (64 * 1024) /* written when full and on export_flush() */

struct export_opts {
	const char *path;
	uint64_t max_size; /* bytes before rotating; 0: never rotate */
	unsigned max_backups; /* FILE.1 .. FILE.N; 0: the file restarts empty */
	double rate; /* events per second; 0: unlimited */
	double burst; /* bucket size in events; 0: max(rate, 1) */
	/* Monotonic clock in ns for the rate limit; NULL: CLOCK_MONOTONIC. */
	uint64_t (*now_ns)(void *ctx);
	void *clock_ctx;
};

struct export_stats {
	uint64_t events; /* written (or buffered) */
	uint64_t rate_dropped; /* dropped by the rate limit */
	uint64_t rotations;
	uint64_t write_errors; /* failed writes; their data is lost */
	uint64_t bytes; /* in the current file, buffer included */
};

struct export;

/* Opens (appends to) the file: created 0600, made 0600 if it was not; a
 * symbolic link is refused (-ELOOP). */
int export__new(const struct export_opts *opts, struct export **ret_export);
/* Flushes, writes the pending rate-limit notice, closes. */
void export__free(struct export *x);

/* One JSON document; a newline is added when line does not end with one.
 * 0 written or buffered; -ENOBUFS dropped by the rate limit; a negative
 * errno when writing or rotating failed. */
int export_write(struct export *x, const char *line, size_t len);
/* Writes the buffer out: the agent calls it when its loop goes idle. */
int export_flush(struct export *x);

void export_stats(const struct export *x, struct export_stats *ret_stats);

#endif
