/* Puts the current process into a user and a capability set just before
 * it execs a command: record's --user/--grant, record --verify, and
 * `captrail run --profile`. Runs in the forked child only. */
#ifndef CAPTRAIL_CONFINE_H
#define CAPTRAIL_CONFINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct confine_spec {
	bool set_user;
	uid_t uid;
	bool set_group; /* default: the user's primary group */
	gid_t gid;
	bool set_caps; /* limit the command to caps (else keep what it has) */
	uint64_t caps;
	int last_cap; /* /proc/sys/kernel/cap_last_cap */
};

/* "nobody" or "65534" into a uid (and that user's primary group). */
int confine_lookup_user(const char *text, uid_t *ret_uid, gid_t *ret_gid);
int confine_lookup_group(const char *text, gid_t *ret_gid);

/* With set_user, the command also gets that user's environment (HOME,
 * USER, LOGNAME, SHELL, a non-root PATH); the rest is kept.
 * For root, the command gets caps through the bounding set (root's exec
 * raises permitted to it); for another user, caps become ambient so they
 * survive exec. Returns a negative errno naming no step: the caller
 * reports "cannot confine the command". */
int confine_apply(const struct confine_spec *spec);

#endif
