#include "lib/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "identity/procfs.h"

#define NSEC_PER_SEC 1000000000ull

int64_t clock_boot_offset_ns(void)
{
	struct timespec real, boot;
	uint64_t btime;

	if (clock_gettime(CLOCK_REALTIME, &real) == 0 &&
	    clock_gettime(CLOCK_BOOTTIME, &boot) == 0)
		return ((int64_t)real.tv_sec - boot.tv_sec) * (int64_t)NSEC_PER_SEC +
		       (real.tv_nsec - boot.tv_nsec);
	/* Boot time to the second: better than dates in 1970. */
	if (procfs_read_btime("/proc", &btime) == 0)
		return (int64_t)btime * (int64_t)NSEC_PER_SEC;
	return 0;
}

/* Events come in bursts within the same second: formatting the date part
 * once per second keeps gmtime_r()/strftime() off the per-event path. */
struct second_cache {
	time_t second;
	char text[24]; /* "2023-07-06T10:13:33" */
};

void clock_rfc3339(uint64_t wall_ns, char ret_text[RFC3339_LEN])
{
	static __thread struct second_cache cache = { .second = -1 };
	time_t second = (time_t)(wall_ns / NSEC_PER_SEC);

	if (second != cache.second) {
		struct tm tm;

		gmtime_r(&second, &tm);
		strftime(cache.text, sizeof(cache.text), "%Y-%m-%dT%H:%M:%S", &tm);
		cache.second = second;
	}
	snprintf(ret_text, RFC3339_LEN, "%s.%09lluZ", cache.text,
		 (unsigned long long)(wall_ns % NSEC_PER_SEC));
}

void clock_hms_us(uint64_t wall_ns, char ret_text[RFC3339_LEN])
{
	static __thread struct second_cache cache = { .second = -1 };
	time_t second = (time_t)(wall_ns / NSEC_PER_SEC);

	if (second != cache.second) {
		struct tm tm;

		localtime_r(&second, &tm);
		strftime(cache.text, sizeof(cache.text), "%H:%M:%S", &tm);
		cache.second = second;
	}
	snprintf(ret_text, RFC3339_LEN, "%s.%06llu", cache.text,
		 (unsigned long long)(wall_ns % NSEC_PER_SEC / 1000));
}
