/* Small helpers shared by every module. */
#ifndef CAPTRAIL_UTIL_H
#define CAPTRAIL_UTIL_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Whole-string decimal in [min, max]; one trailing newline allowed. */
int parse_long(const char *text, long min, long max, long *ret_value);

/* Reads up to size-1 bytes of a small file (procfs, sysfs), NUL-terminated. */
int read_small_file(const char *path, char *buf, size_t size);

#endif
