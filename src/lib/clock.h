/* Turning the kernel's boot-time clock into wall-clock strings. */
#ifndef CAPTRAIL_CLOCK_H
#define CAPTRAIL_CLOCK_H

#include <stdint.h>

#define RFC3339_LEN 40

/* CLOCK_REALTIME - CLOCK_BOOTTIME, in ns: add it to a bpf_ktime_get_boot_ns()
 * value to get wall-clock time. When the clocks cannot be read, /proc/stat's
 * btime; 0 when neither can. */
int64_t clock_boot_offset_ns(void);

/* "2023-07-06T10:13:33.834882128Z" (UTC, nanoseconds). */
void clock_rfc3339(uint64_t wall_ns, char ret_text[RFC3339_LEN]);

/* "10:13:33.834882" in local time, for human-readable output. */
void clock_hms_us(uint64_t wall_ns, char ret_text[RFC3339_LEN]);

#endif
