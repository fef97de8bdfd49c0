/* aggtoggle: the per-check cost of captrail's aggregation program, loaded
 * and configured by captrail's own loader as `record` does, against the
 * floor and against no program, all on one running workload. A thread
 * loops sethostname() in chunks and notes when each chunk ends; the main
 * thread cycles every PERIOD ms through no program, the floor and
 * captrail's program. The loop is a process of its own, in a cgroup of its
 * own, like the command under `record`. The shared machine's drifts (tens of ns per check,
 * lasting seconds) then fall on the three alike, which separate runs
 * cannot promise.
 *
 * usage: aggtoggle [-d SECS] [-p PERIOD_MS] [-o FILE]
 * writes key=value lines: per state (none, floor, record) the median ns
 * per op over the chunks wholly inside one of its periods and how many
 * chunks that was; record_counted, the loop's checks captrail's program
 * counted (a program that matched nothing would look free). */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common.h"
#include "floor.skel.h"
#include "identity/cgroup.h"
#include "kernel/kallsyms.h"
#include "kernel/loader.h"

#define CHUNK_OPS 64
#define STATES 3

static const char *const state_names[STATES] = { "none", "floor", "record" };

/* Shared with the loop's process. */
struct workload {
	volatile int stop;
	int cpu;
	pid_t pid;
	size_t n_chunks, max_chunks;
	uint64_t chunk_end[]; /* CLOCK_MONOTONIC ns at the end of each chunk */
};

struct phase {
	uint64_t start, end;
	int state;
};

static void loop(struct workload *w)
{
	static const char name[] = "captrail-bench";
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!w->stop && w->n_chunks < w->max_chunks) {
		for (int i = 0; i < CHUNK_OPS; i++)
			sethostname(name, sizeof(name) - 1);
		w->chunk_end[w->n_chunks++] = now_ns();
	}
}

static int start_loop(struct workload *w)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		loop(w);
		_exit(0);
	}
	w->pid = pid;
	return 0;
}

/* Like record, runs the workload in a cgroup v2 of its own; ret_home is
 * where this process was, to go back to before removing it. */
static int enter_own_cgroup(char *ret_path, char *ret_home, size_t size, uint64_t *ret_id)
{
	char line[4096], mount[4096], name[64];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			err = 0;
			break;
		}
	fclose(f);
	if (!err)
		err = cgroup_v2_root(CGROUP_DEFAULT_ROOT, mount, sizeof(mount), NULL);
	if (err)
		return err;
	line[strcspn(line, "\n")] = '\0';
	if ((size_t)snprintf(ret_home, size, "%s%s", mount, line + 3) >= size)
		return -ENAMETOOLONG;
	snprintf(name, sizeof(name), "captrail-aggtoggle-%d", (int)getpid());
	err = cgroup_create(mount, name, ret_path, size);
	if (!err)
		err = cgroup_attach(ret_path, getpid());
	if (!err)
		err = cgroup_id(ret_path, ret_id);
	return err;
}

/* Keeps the switching off the workload's CPU where there is another. */
static void pin_away(int workload_cpu)
{
	cpu_set_t set;

	if (workload_cpu == 0)
		return;
	CPU_ZERO(&set);
	for (int cpu = 0; cpu < workload_cpu; cpu++)
		CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

struct loop_count {
	pid_t pid;
	uint64_t checks;
};

static int count_loop(void *ctx, const struct ct_agg_key *key, const struct ct_agg_value *value)
{
	struct loop_count *count = ctx;

	if (key->pid == (uint32_t)count->pid && key->syscall == SYS_sethostname)
		count->checks += value->count;
	return 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), compare_double);
	return v[n / 2];
}

/* Median ns per op of the chunks that lie wholly inside each phase; 0 for a
 * phase no chunk fits in. scratch holds n_chunks values. */
static void phase_medians(const struct workload *w, const struct phase *phases, size_t n_phases,
			  double *scratch, double *ret_medians)
{
	size_t c = 1;

	for (size_t p = 0; p < n_phases; p++) {
		size_t n = 0;

		while (c < w->n_chunks && w->chunk_end[c - 1] < phases[p].start)
			c++;
		for (; c < w->n_chunks && w->chunk_end[c] <= phases[p].end; c++)
			scratch[n++] = (double)(w->chunk_end[c] - w->chunk_end[c - 1]) / CHUNK_OPS;
		ret_medians[p] = median(scratch, n);
	}
}

/* Each cycle's floor and record phases against the mean of the untraced
 * phases on either side, then the median over cycles. */
static void summarise(const double *medians, size_t n_phases, double *scratch,
		      double ret_added[STATES], double *ret_none, size_t *ret_cycles)
{
	size_t cycles = n_phases >= STATES + 1 ? (n_phases - 1) / STATES : 0;
	double *none = scratch;

	for (size_t k = 0; k < cycles; k++)
		none[k] = medians[k * STATES];
	*ret_none = median(none, cycles);
	ret_added[0] = 0;
	for (int state = 1; state < STATES; state++) {
		size_t n = 0;

		for (size_t k = 0; k < cycles; k++) {
			const double *m = medians + k * STATES;

			if (m[0] > 0 && m[state] > 0 && m[STATES] > 0)
				scratch[n++] = m[state] - (m[0] + m[STATES]) / 2;
		}
		ret_added[state] = median(scratch, n);
	}
	*ret_cycles = cycles;
}

static int attach(struct floor_bpf *floor, struct loader *loader, int state)
{
	if (state == 1)
		return floor_bpf__attach(floor);
	if (state == 2)
		return loader_set_aggregate(loader, true);
	return 0;
}

static void detach(struct floor_bpf *floor, struct loader *loader)
{
	floor_bpf__detach(floor);
	loader_set_aggregate(loader, false);
}

static void usage(void)
{
	fprintf(stderr, "usage: aggtoggle [-d SECS] [-p PERIOD_MS] [-o FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct loader_opts opts = { .aggregate = { .enabled = true, .armed = true, .slots = true } };
	double secs = 20, period_ms = 20;
	struct workload *w = MAP_FAILED;
	struct floor_bpf *floor = NULL;
	struct loader *loader = NULL;
	struct phase *phases = NULL;
	size_t n_phases = 0, max_phases, cycles;
	double *medians = NULL, *scratch = NULL, added[STATES], none;
	struct ct_noaudit_range noaudit[CT_NOAUDIT_RANGES];
	char cgroup[4096] = "", home[4096] = "";
	const char *out = NULL;
	struct loop_count counted = { 0 };
	size_t max_chunks, w_size = 0;
	uint64_t end;
	int opt, err;
	FILE *f;

	while ((opt = getopt(argc, argv, "d:p:o:")) != -1) {
		switch (opt) {
		case 'd': secs = strtod(optarg, NULL); break;
		case 'p': period_ms = strtod(optarg, NULL); break;
		case 'o': out = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || secs <= 0 || period_ms < 1)
		usage();
	if (unshare(CLONE_NEWUTS)) {
		perror("aggtoggle: unshare(CLONE_NEWUTS)");
		return 1;
	}
	err = enter_own_cgroup(cgroup, home, sizeof(cgroup), &opts.aggregate.cgroup_id);
	if (err) {
		fprintf(stderr, "aggtoggle: cannot run in a cgroup v2 of its own: %s\n",
			strerror(-err));
		goto cleanup;
	}
	/* As record does, though a loop's steady state never walks a chain. */
	kallsyms_noaudit_ranges("/proc", noaudit, CT_NOAUDIT_RANGES, &opts.aggregate.n_noaudit);
	opts.aggregate.noaudit = noaudit;
	floor = floor_bpf__open_and_load();
	err = floor ? loader__new(&opts, &loader, NULL) : -errno;
	if (!err)
		err = loader_set_aggregate(loader, false);
	if (err) {
		fprintf(stderr, "aggtoggle: cannot load the programs: %s\n", strerror(-err));
		goto cleanup;
	}

	max_phases = (size_t)(secs * 1000 / period_ms) * 2 + 8;
	max_chunks = (size_t)(secs * 1e9 / (CHUNK_OPS * 100.0)) + 1024; /* ops >= 100 ns */
	w_size = sizeof(*w) + max_chunks * sizeof(w->chunk_end[0]);
	w = mmap(NULL, w_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	phases = malloc(max_phases * sizeof(*phases));
	if (w == MAP_FAILED || !phases) {
		err = -ENOMEM;
		fprintf(stderr, "aggtoggle: out of memory\n");
		goto cleanup;
	}
	w->max_chunks = max_chunks;
	w->cpu = libbpf_num_possible_cpus() - 1;
	err = start_loop(w);
	if (err) {
		fprintf(stderr, "aggtoggle: cannot start the loop: %s\n", strerror(-err));
		goto cleanup;
	}
	counted.pid = w->pid;
	pin_away(w->cpu);
	end = now_ns() + (uint64_t)(secs * 1e9);
	for (int state = 0; now_ns() < end && n_phases < max_phases; state = (state + 1) % STATES) {
		err = attach(floor, loader, state);
		if (err)
			break;
		phases[n_phases].state = state;
		phases[n_phases].start = now_ns();
		usleep((useconds_t)(period_ms * 1000));
		phases[n_phases++].end = now_ns();
		detach(floor, loader);
	}
	w->stop = 1;
	waitpid(w->pid, NULL, 0);
	if (err) {
		fprintf(stderr, "aggtoggle: cannot attach: %s\n", strerror(-err));
		goto cleanup;
	}

	medians = malloc(n_phases * sizeof(*medians));
	scratch = malloc((w->n_chunks + n_phases) * sizeof(*scratch));
	if (!medians || !scratch) {
		err = -ENOMEM;
		fprintf(stderr, "aggtoggle: out of memory\n");
		goto cleanup;
	}
	phase_medians(w, phases, n_phases, scratch, medians);
	summarise(medians, n_phases, scratch, added, &none, &cycles);

	err = loader_agg_stop(loader);
	if (!err)
		err = loader_agg_drain(loader, count_loop, &counted);
	if (err) {
		fprintf(stderr, "aggtoggle: cannot read the counts: %s\n", strerror(-err));
		goto cleanup;
	}
	f = out ? fopen(out, "we") : stdout;
	if (!f) {
		err = -errno;
		perror("aggtoggle: open output");
		goto cleanup;
	}
	fprintf(f, "none_ns_per_op=%.1f\ncycles=%zu\n", none, cycles);
	for (int state = 1; state < STATES; state++)
		fprintf(f, "%s_added_ns=%.1f\n", state_names[state], added[state]);
	fprintf(f, "chunk_ops=%d\nperiod_ms=%g\nrecord_counted=%" PRIu64 "\n", CHUNK_OPS, period_ms,
		counted.checks);
	if (f != stdout)
		fclose(f);
cleanup:
	free(scratch);
	free(medians);
	free(phases);
	if (w != MAP_FAILED)
		munmap(w, w_size);
	loader__free(loader);
	floor_bpf__destroy(floor);
	if (cgroup[0] && !cgroup_attach(home, getpid()))
		cgroup_remove(cgroup);
	return err ? 1 : 0;
}
