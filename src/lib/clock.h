/* Clocks: now, in nanoseconds; the kernel's boot-time clock turned into
 * wall-clock time; RFC 3339 text and back. */
#ifndef CAPTRAIL_LIB_CLOCK_H
#define CAPTRAIL_LIB_CLOCK_H

#include <stdint.h>

#define RFC3339_LEN 40
#define NSEC_PER_SEC 1000000000ull

uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);

/* CLOCK_REALTIME - CLOCK_BOOTTIME, in ns: add it to a bpf_ktime_get_boot_ns()
 * value to get wall-clock time. When the clocks cannot be read, the boot
 * time of /proc/stat; 0 when neither can. */
int64_t clock_boot_offset_ns(void);

/* "btime" of <procfs_root>/stat: boot time in seconds since the epoch. */
int clock_read_btime(const char *procfs_root, uint64_t *ret_btime);

/* "2023-07-06T10:13:33.834882128Z" (UTC, nanoseconds). */
void clock_rfc3339(uint64_t wall_ns, char ret_text[RFC3339_LEN]);
/* The reverse, for UTC times ("Z") with 0 to 9 fraction digits (more are
 * cut); -EINVAL for anything else, a time before 1970 or past 2554. */
int clock_parse_rfc3339(const char *text, uint64_t *ret_wall_ns);

/* "10:13:33.834882" in local time, for human-readable output. */
void clock_hms_us(uint64_t wall_ns, char ret_text[RFC3339_LEN]);

#endif
