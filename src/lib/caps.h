/* Capability names and sets: libcap's table, upper-cased and bounded. */
#ifndef CAPTRAIL_CAPS_H
#define CAPTRAIL_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPS_MAX 64 /* capability numbers 0..63 fit one u64 mask */
#define CAPS_NAME_LEN 32

/* "CAP_SYSLOG"; a number libcap does not know becomes "CAP_<n>". */
void caps_name(int cap, char ret_name[CAPS_NAME_LEN]);

/* The same for 0..CAPS_MAX-1 without copying; NULL outside. */
const char *caps_name_static(int cap);

/* Accepts "syslog", "CAP_SYSLOG", "cap_Syslog", "34", or "CAP_34" as caps_name()
 * calls a capability libcap does not know. */
int caps_parse(const char *text, int *ret_cap);

/* Comma-separated caps_parse() items into a mask. On -EINVAL, *ret_bad
 * (if given) points at the first unknown item in a thread-local copy, or
 * is NULL when an item is empty ("", ",", "a,,b"). */
int caps_parse_list(const char *list, uint64_t *ret_mask, const char **ret_bad);

/* The known name closest to a misspelt one, for error messages. */
void caps_closest(const char *text, char ret_name[CAPS_NAME_LEN]);

/* /proc/sys/kernel/cap_last_cap under procfs_root, clamped to CAPS_MAX - 1. */
int caps_last_cap(const char *procfs_root, int *ret_last);

/* Names of the set bits, joined by sep, into buf (truncated safely). */
void caps_mask_names(uint64_t mask, const char *sep, char *buf, size_t size);

#endif
