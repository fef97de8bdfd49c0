/* Small helpers shared by every module. */
#ifndef CAPTRAIL_UTIL_H
#define CAPTRAIL_UTIL_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Whole-string decimal in [min, max]; one trailing newline allowed. */
int parse_long(const char *text, long min, long max, long *ret_value);

/* Writes the message into err (when err is not NULL) and returns -EINVAL:
 * for parsers that tell their caller what was wrong with the input. */
int invalid_input(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Creates the directory path is in (one level, mode 0700) unless it exists. */
int make_parent_dir(const char *path);

/* Reads up to size-1 bytes of a small file (procfs, sysfs), NUL-terminated. */
int read_small_file(const char *path, char *buf, size_t size);

#endif
