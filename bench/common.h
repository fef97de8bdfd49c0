/* Shared by the bench workloads: timing, and a report of the parent's CPU
 * time and peak RSS (the parent is the tracer when run as
 * `captrail record -- WORKLOAD`, which the harness cannot sample itself). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static inline double now_s(void)
{
	return now_ns() / 1e9;
}

struct parent_sample {
	char comm[64];
	double cpu_s; /* utime + stime */
	long hwm_kb;  /* VmHWM */
	int ok;
};

static inline void parent_sample(struct parent_sample *s)
{
	char path[64], buf[4096], *p;
	unsigned long utime, stime;
	pid_t ppid = getppid();
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->hwm_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/comm", ppid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(s->comm, sizeof(s->comm), f))
		s->comm[strcspn(s->comm, "\n")] = 0;
	fclose(f);

	snprintf(path, sizeof(path), "/proc/%d/stat", ppid);
	f = fopen(path, "re");
	if (!f)
		return;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return;
	s->cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/status", ppid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "VmHWM: %ld", &s->hwm_kb) == 1)
			break;
	fclose(f);
	s->ok = 1;
}

/* key=value lines, read by bench.py. */
static inline int write_result(const char *path, const char *workload, unsigned long long ops,
			       double secs, const struct parent_sample *before,
			       const struct parent_sample *after)
{
	FILE *f = stdout;

	if (path && !(f = fopen(path, "we"))) {
		perror(path);
		return -1;
	}
	fprintf(f, "workload=%s\nops=%llu\nsecs=%.9f\nns_per_op=%.3f\n", workload, ops, secs,
		ops ? secs * 1e9 / (double)ops : 0.0);
	if (before && after && before->ok && after->ok) {
		fprintf(f, "parent_comm=%s\nparent_cpu_s=%.3f\nparent_hwm_kb=%ld\n", after->comm,
			after->cpu_s - before->cpu_s, after->hwm_kb);
	}
	if (f != stdout)
		fclose(f);
	return 0;
}

#endif
