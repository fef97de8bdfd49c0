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

/* n digits at *p into ret, moving *p past them. */
static bool digits(const char **p, int n, int *ret)
{
	int value = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		value = value * 10 + (**p - '0');
	}
	*ret = value;
	return true;
}

static bool expect(const char **p, char c)
{
	return *(*p)++ == c;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

int clock_parse_rfc3339(const char *text, uint64_t *ret_wall_ns)
{
	struct tm tm = { 0 };
	const char *p = text;
	int year, mon, day, hour, min, sec, n = 0;
	uint64_t ns = 0;
	time_t secs;

	if (!text || !digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &mon) ||
	    !expect(&p, '-') || !digits(&p, 2, &day) || !expect(&p, 'T') ||
	    !digits(&p, 2, &hour) || !expect(&p, ':') || !digits(&p, 2, &min) ||
	    !expect(&p, ':') || !digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9)
				ns = ns * 10 + (uint64_t)(*p - '0');
		if (!n)
			return -EINVAL;
		for (; n < 9; n++)
			ns *= 10;
	}
	if (strcmp(p, "Z") || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
	    hour > 23 || min > 59 || sec > 59)
		return -EINVAL;
	tm = (struct tm){ .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
			  .tm_hour = hour, .tm_min = min, .tm_sec = sec };
	secs = timegm(&tm);
	/* Before 1970, or past what nanoseconds since then hold (2554). */
	if (secs < 0 || (uint64_t)secs > (UINT64_MAX - ns) / NSEC_PER_SEC)
		return -EINVAL;
	*ret_wall_ns = (uint64_t)secs * NSEC_PER_SEC + ns;
	return 0;
}
