#include "lib/clock.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	/* Cannot fail for these clocks with a valid pointer. */
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t clock_monotonic_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

uint64_t clock_realtime_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}

int clock_read_btime(const char *procfs_root, uint64_t *ret_btime)
{
	char path[PATH_MAX], line[512];
	unsigned long long btime;
	int err = -ENODATA;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/stat", procfs_root) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "btime %llu", &btime) == 1) {
			*ret_btime = btime;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int64_t clock_boot_offset_ns(void)
{
	struct timespec real, boot;
	uint64_t btime;

	if (clock_gettime(CLOCK_REALTIME, &real) == 0 &&
	    clock_gettime(CLOCK_BOOTTIME, &boot) == 0)
		return ((int64_t)real.tv_sec - boot.tv_sec) * (int64_t)NSEC_PER_SEC +
		       (real.tv_nsec - boot.tv_nsec);
	/* Boot time to the second: better than dates in 1970. */
	if (clock_read_btime("/proc", &btime) == 0)
		return (int64_t)btime * (int64_t)NSEC_PER_SEC;
	return 0;
}

/* Events come in bursts within the same second: formatting the date part
 * once per second keeps gmtime_r()/strftime() off the per-event path. */
struct second_cache {
	time_t second;
	char text[24]; /* "2023-07-06T10:13:33" */
};

static const char *second_text(struct second_cache *cache, time_t second, bool utc,
			       const char *format)
{
	struct tm tm;

	if (second != cache->second) {
		if (utc)
			gmtime_r(&second, &tm);
		else
			localtime_r(&second, &tm);
		strftime(cache->text, sizeof(cache->text), format, &tm);
		cache->second = second;
	}
	return cache->text;
}

void clock_rfc3339(uint64_t wall_ns, char ret_text[RFC3339_LEN])
{
	static __thread struct second_cache cache = { .second = -1 };
	time_t second = (time_t)(wall_ns / NSEC_PER_SEC);

	snprintf(ret_text, RFC3339_LEN, "%s.%09lluZ",
		 second_text(&cache, second, true, "%Y-%m-%dT%H:%M:%S"),
		 (unsigned long long)(wall_ns % NSEC_PER_SEC));
}

void clock_hms_us(uint64_t wall_ns, char ret_text[RFC3339_LEN])
{
	static __thread struct second_cache cache = { .second = -1 };
	time_t second = (time_t)(wall_ns / NSEC_PER_SEC);

	snprintf(ret_text, RFC3339_LEN, "%s.%06llu",
		 second_text(&cache, second, false, "%H:%M:%S"),
		 (unsigned long long)(wall_ns % NSEC_PER_SEC / 1000));
}

int clock_parse_rfc3339(const char *text, uint64_t *ret_wall_ns)
{
	struct tm tm = { 0 };
	const char *rest;
	uint64_t ns = 0;
	int digits = 0;
	time_t secs;

	if (!text)
		return -EINVAL;
	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -EINVAL;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			if (digits++ < 9)
				ns = ns * 10 + (uint64_t)(*rest - '0');
	for (; digits < 9; digits++)
		ns *= 10;
	if (strcmp(rest, "Z"))
		return -EINVAL;
	secs = timegm(&tm);
	if (secs < 0)
		return -EINVAL;
	*ret_wall_ns = (uint64_t)secs * NSEC_PER_SEC + ns;
	return 0;
}
