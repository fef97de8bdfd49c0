/* The words every layer uses for an aggregated group of capability checks:
 * its verdict, audit class, credential flags, and what the syscalls that
 * made its denied checks returned. The kernel side maps its own bits onto
 * these (kernel/records.c pins them); the agent persists the numbers in its
 * store and sends them on its API, so they never change meaning. */
#ifndef CAPTRAIL_LIB_CHECK_H
#define CAPTRAIL_LIB_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#define CHECK_NO_SYSCALL (-1) /* the check was not made in a syscall */

enum check_audit {
	CHECK_AUDIT_UNKNOWN = 0, /* the hook could not tell */
	CHECK_AUDITED = 1, /* at least one check came through an audited path */
	CHECK_NOAUDIT = 2, /* every sampled check was a noaudit probe */
	CHECK_AUDIT_COUNT,
};

enum check_flag {
	CHECK_OVERRIDE_CRED = 1u << 1, /* checked cred is not the task's real one */
	CHECK_FOREIGN_USERNS = 1u << 2, /* target user ns is not the cred's own */
	CHECK_KTHREAD = 1u << 3, /* made by a kernel thread */
	CHECK_INSETID = 1u << 4, /* CAP_OPT_INSETID: deciding a set-id bit (fexit, kprobe) */
};

#define CHECK_FLAGS (CHECK_OVERRIDE_CRED | CHECK_FOREIGN_USERNS | CHECK_KTHREAD | CHECK_INSETID)

/* What the syscalls that made denied checks returned; zeros: unobserved. */
struct check_outcome {
	uint64_t eperm;
	uint64_t eacces;
	uint64_t success;
	uint64_t other;
};

/* Checks of one capability with one verdict, audit class, syscall and set
 * of flags. Times are CLOCK_BOOTTIME for a recording, unix time in the
 * agent's store (which outlives boots); 0 is unknown. */
struct check {
	int cap;
	bool denied;
	enum check_audit audit;
	int syscall;
	uint32_t flags; /* enum check_flag */
	uint64_t count;
	uint64_t first_ns;
	uint64_t last_ns;
	struct check_outcome outcome; /* denied checks only */
};

/* "unknown", "audited", "noaudit"; NULL out of range. */
const char *check_audit_name(enum check_audit audit);
/* The names above; -EINVAL for anything else. */
int check_audit_parse(const char *name, enum check_audit *ret_audit);

/* a + b, or UINT64_MAX when that does not fit: counts that come from a store
 * or a reply may be anything, and a sum of them must not wrap to a small
 * number. */
static inline uint64_t check_count_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The sum of two outcomes (saturating, as check_count_add()), and what was
 * added since an earlier reading of growing counters (each field at least
 * the earlier one's, or 0). */
void check_outcome_add(struct check_outcome *sum, const struct check_outcome *more);
void check_outcome_since(const struct check_outcome *now, const struct check_outcome *before,
			 struct check_outcome *ret_delta);

#endif
