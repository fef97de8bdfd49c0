#include "kernel/loader.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "captrail.skel.h"
#include "kernel/objects.h"
#include "lib/syscalls.h"
#include "lib/util.h"

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

/* The programs of one hook: the stream's, the aggregation's, and for
 * kprobes the entry probe both return probes read. */
struct hook_progs {
	struct bpf_program *stream, *agg, *entry;
	struct bpf_link **stream_link, **agg_link, **entry_link;
};

struct loader {
	struct captrail_bpf *skel;
	struct ring_buffer *ring;
	int ncpus;
	struct records_handlers handlers;
	enum hook hook;
	struct hook_progs progs;
	bool agg_loaded;
};

static struct hook_progs hook_progs(struct captrail_bpf *skel, enum hook hook,
				    const struct hook_features *f)
{
	switch (hook) {
	case HOOK_TRACEPOINT:
		return (struct hook_progs){ skel->progs.stream_tp, skel->progs.agg_tp, NULL,
					    &skel->links.stream_tp, &skel->links.agg_tp, NULL };
	case HOOK_FEXIT:
		/* Before bpf_get_current_task_btf() the task is read untyped. */
		if (!f->task_btf)
			return (struct hook_progs){ skel->progs.stream_fexit_core,
						    skel->progs.agg_fexit_core, NULL,
						    &skel->links.stream_fexit_core,
						    &skel->links.agg_fexit_core, NULL };
		return (struct hook_progs){ skel->progs.stream_fexit, skel->progs.agg_fexit, NULL,
					    &skel->links.stream_fexit, &skel->links.agg_fexit,
					    NULL };
	default:
		return (struct hook_progs){ skel->progs.stream_kret, skel->progs.agg_kret,
					    skel->progs.cap_entry, &skel->links.stream_kret,
					    &skel->links.agg_kret, &skel->links.cap_entry };
	}
}

static int configure(struct captrail_bpf *skel, const struct loader_opts *opts, enum hook hook,
		     const struct hook_features *features)
{
	const struct loader_filter *f = &opts->filter;
	struct captrail_bpf__rodata *cfg = skel->rodata;
	int nr_capset = -1, nr_prctl = -1;

	cfg->cfg_self_tgid = f->self_tgid;
	cfg->cfg_filter_pids = f->n_pids > 0;
	cfg->cfg_uid = f->uid;
	cfg->cfg_cap_mask = f->cap_mask;
	cfg->cfg_denied_only = f->denied_only;
	cfg->cfg_cgroup_id = f->cgroup_id;
	cfg->cfg_pidns_mode = f->pidns_mode;
	cfg->cfg_unique = f->unique;
	memcpy((char *)cfg->cfg_comm, f->comm, sizeof(cfg->cfg_comm));

	cfg->cfg_agg_cgroup = opts->aggregate.cgroup_id;
	cfg->cfg_agg_tracked = opts->aggregate.tracked_pid != 0;
	cfg->cfg_agg_subtree = opts->aggregate.subtree;
	cfg->cfg_proc_cgroup = opts->proc_cgroup_id;
	cfg->cfg_n_noaudit = (__u32)opts->aggregate.n_noaudit;
	if (opts->aggregate.n_noaudit)
		memcpy((void *)cfg->cfg_noaudit, opts->aggregate.noaudit,
		       opts->aggregate.n_noaudit * sizeof(cfg->cfg_noaudit[0]));
	cfg->cfg_agg_slots = opts->aggregate.slots;
	cfg->cfg_watch_denials = opts->aggregate.enabled && opts->aggregate.watch_denials &&
				 !opts->probe_only;
	skel->bss->agg_armed = opts->aggregate.armed;
	cfg->cfg_regs_cast = features->rdonly_cast;
	/* Without the hooks that say when a task's cgroup may have changed,
	 * each check decides afresh: slower, never wrong. */
	cfg->cfg_task_cache = opts->aggregate.enabled && features->task_cache;
	cfg->cfg_opts_style = hook == HOOK_TRACEPOINT ? CT_OPTS_NONE : features->opts_style;
	cfg->cfg_agg_loaded = opts->aggregate.enabled;
	cfg->cfg_watch_priv = opts->aggregate.enabled && opts->aggregate.privileges &&
			      !opts->probe_only;
	if (cfg->cfg_watch_priv &&
	    (syscalls_number("capset", &nr_capset) || syscalls_number("prctl", &nr_prctl)))
		return -EOPNOTSUPP;
	cfg->cfg_nr_capset = nr_capset;
	cfg->cfg_nr_prctl = nr_prctl;
	cfg->cfg_objects = opts->aggregate.enabled && opts->aggregate.objects && !opts->probe_only;

	/* The exec program also arms aggregation at the command's exec, and
	 * fork/exit keep the fork-tracking set. */
	bool procs = !opts->probe_only && (opts->track_procs || opts->aggregate.enabled);
	struct hook_progs mine = hook_progs(skel, hook, features);
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, skel->obj) {
		bool load = false;

		if (prog == mine.stream)
			load = opts->stream && !opts->probe_only;
		else if (prog == mine.agg)
			load = opts->aggregate.enabled || opts->probe_only;
		else if (prog == mine.entry)
			load = true;
		else if (prog == skel->progs.denial_outcome)
			load = cfg->cfg_watch_denials;
		else if (prog == skel->progs.priv_enter)
			load = cfg->cfg_watch_priv;
		else if (prog == skel->progs.task_gen_new || prog == skel->progs.task_gen_moved)
			load = cfg->cfg_task_cache && !opts->probe_only;
		else if (prog == skel->progs.proc_exec || prog == skel->progs.proc_fork ||
			 prog == skel->progs.proc_exit)
			load = procs;
		err = bpf_program__set_autoload(prog, load);
		if (err)
			return err;
	}
	if (!opts->stream)
		return bpf_map__set_max_entries(skel->maps.events, CT_RING_BYTES_LIFECYCLE);
	return 0;
}

static int fill_pid_filter(struct captrail_bpf *skel, const struct loader_filter *f)
{
	int fd = bpf_map__fd(skel->maps.pid_filter);
	__u8 one = 1;

	for (size_t i = 0; i < f->n_pids; i++)
		if (bpf_map_update_elem(fd, &f->pids[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

static int seed_tracked(struct captrail_bpf *skel, uint32_t pid)
{
	__u8 one = 1;

	if (!pid)
		return 0;
	if (bpf_map__update_elem(skel->maps.tracked, &pid, sizeof(pid), &one, sizeof(one), 0))
		return -errno;
	return 0;
}

static int fill_subtree(struct captrail_bpf *skel, const struct loader_aggregate *agg)
{
	__u32 key = 0, fd = (__u32)agg->subtree_fd;

	if (!agg->subtree)
		return 0;
	if (bpf_map__update_elem(skel->maps.agg_subtree, &key, sizeof(key), &fd, sizeof(fd),
				 BPF_ANY))
		return -errno;
	return 0;
}

static int put_object_spec(void *ctx, int nr, const struct ct_object_spec *spec)
{
	struct captrail_bpf *skel = ctx;
	__u32 key = (__u32)nr;

	if (bpf_map__update_elem(skel->maps.object_specs, &key, sizeof(key), spec, sizeof(*spec),
				 BPF_ANY))
		return -errno;
	return 0;
}

static int ring_callback(void *ctx, void *data, size_t size)
{
	struct loader *loader = ctx;

	return records_dispatch(&loader->handlers, data, size);
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* Open, configure, load, attach: one hook. On failure why says which step
 * and the loader is left for loader__free(). */
static int try_hook(struct loader *loader, const struct loader_opts *opts, enum hook hook,
		    const struct hook_features *features, char why[HOOK_WHY_LEN])
{
	const char *step = "open the BPF object";
	int err;

	/* Naming vmlinux's BTF keeps libbpf from enumerating kernel-module BTF
	 * for CO-RE candidates (our programs touch vmlinux types only), which
	 * would need CAP_SYS_ADMIN on top of CAP_BPF and CAP_PERFMON. */
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = VMLINUX_BTF_PATH);
	loader->skel = captrail_bpf__open_opts(&open_opts);
	if (!loader->skel) {
		err = -errno;
		goto fail;
	}
	loader->hook = hook;
	loader->progs = hook_progs(loader->skel, hook, features);
	loader->agg_loaded = opts->aggregate.enabled || opts->probe_only;
	step = "configure";
	err = configure(loader->skel, opts, hook, features);
	if (err)
		goto fail;
	step = "load";
	err = captrail_bpf__load(loader->skel);
	if (err)
		goto fail;
	step = "fill the filters";
	err = fill_pid_filter(loader->skel, &opts->filter);
	if (!err)
		err = seed_tracked(loader->skel, opts->aggregate.tracked_pid);
	if (!err)
		err = fill_subtree(loader->skel, &opts->aggregate);
	if (!err && loader->skel->rodata->cfg_objects)
		err = objects_specs(put_object_spec, loader->skel);
	if (err)
		goto fail;
	step = "make the ring buffer reader";
	loader->ring = ring_buffer__new(bpf_map__fd(loader->skel->maps.events), ring_callback,
					loader, NULL);
	if (!loader->ring) {
		err = -errno;
		goto fail;
	}
	if (opts->stream_on_demand)
		bpf_program__set_autoattach(loader->progs.stream, false);
	step = "attach";
	err = captrail_bpf__attach(loader->skel);
	if (!err)
		return 0;
fail:
	snprintf(why, HOOK_WHY_LEN, "cannot %s: %s", step, strerror(-err));
	return err;
}

static void unload(struct loader *loader)
{
	ring_buffer__free(loader->ring);
	captrail_bpf__destroy(loader->skel);
	loader->ring = NULL;
	loader->skel = NULL;
}

/* The kernel's features do not change while captrail runs, and parsing
 * its BTF costs 5-15 ms here (btf__load_vmlinux_btf timed in a loop):
 * read once per sysfs root (the commands ask loader_extra_caps() first,
 * then load). */
static struct {
	bool valid;
	char sysfs_root[PATH_MAX];
	struct hook_features features;
} features_seen;

static int read_features(const char *sysfs_root, struct hook_features *ret_features)
{
	struct btf *vmlinux;

	if (!sysfs_root)
		sysfs_root = "/sys";
	if (features_seen.valid && !strcmp(features_seen.sysfs_root, sysfs_root)) {
		*ret_features = features_seen.features;
		return 0;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return -errno;
	hook_features_read(vmlinux, sysfs_root, &features_seen.features);
	btf__free(vmlinux);
	features_seen.valid = strlen(sysfs_root) < sizeof(features_seen.sysfs_root);
	snprintf(features_seen.sysfs_root, sizeof(features_seen.sysfs_root), "%s", sysfs_root);
	*ret_features = features_seen.features;
	return 0;
}

int loader__new(const struct loader_opts *opts, struct loader **ret_loader,
		struct loader_report *ret_report)
{
	struct loader_report report = { .used = HOOK_AUTO };
	enum hook first = opts->hook == HOOK_AUTO ? HOOK_TRACEPOINT : opts->hook;
	enum hook last = opts->hook == HOOK_AUTO ? HOOK_KPROBE : opts->hook;
	struct loader *loader;
	int err = -EOPNOTSUPP;

	if (opts->filter.n_pids > CT_MAX_PIDS)
		return -E2BIG;
	loader = calloc(1, sizeof(*loader));
	if (!loader)
		return -ENOMEM;
	loader->handlers = opts->handlers;
	loader->ncpus = libbpf_num_possible_cpus();
	err = loader->ncpus < 0 ? loader->ncpus : read_features(opts->sysfs_root, &report.features);
	if (err)
		goto out;
	err = -EOPNOTSUPP;
	for (enum hook hook = first; hook <= last; hook++) {
		struct loader_attempt *t = &report.tried[report.n_tried++];
		const char *unavailable = hook_unavailable(&report.features, hook);
		libbpf_print_fn_t print = NULL;

		t->hook = hook;
		if (unavailable) {
			t->err = -EOPNOTSUPP;
			snprintf(t->why, sizeof(t->why), "%s", unavailable);
			continue;
		}
		/* A failure that a later hook may make good, or that a probe looks
		 * for, is the report's to tell. */
		bool quiet = !opts->verbose && (hook != last || opts->probe_only);

		if (quiet)
			print = libbpf_set_print(silent);
		err = try_hook(loader, opts, hook, &report.features, t->why);
		if (quiet)
			libbpf_set_print(print);
		t->err = err;
		if (!err) {
			report.used = hook;
			break;
		}
		unload(loader);
	}
	for (size_t i = 1; report.used == HOOK_AUTO && i < report.n_tried; i++)
		if (report.tried[i].err != report.tried[0].err)
			err = -EOPNOTSUPP;
out:
	if (ret_report)
		*ret_report = report;
	if (err) {
		loader__free(loader);
		return err;
	}
	*ret_loader = loader;
	return 0;
}

enum hook loader_hook(const struct loader *loader)
{
	return loader->hook;
}

void loader__free(struct loader *loader)
{
	if (!loader)
		return;
	unload(loader);
	free(loader);
}

int loader_poll(struct loader *loader, int timeout_ms)
{
	int n, drained;

	n = ring_buffer__poll(loader->ring, timeout_ms);
	if (n < 0)
		return n;
	drained = ring_buffer__consume(loader->ring);
	if (drained < 0)
		return drained;
	return n + drained;
}

static int sum_stat(struct loader *loader, __u32 stat, uint64_t *ret_sum)
{
	__u64 values[loader->ncpus];
	uint64_t sum = 0;

	if (bpf_map__lookup_elem(loader->skel->maps.stats, &stat, sizeof(stat), values,
				 sizeof(values), 0))
		return -errno;
	for (int cpu = 0; cpu < loader->ncpus; cpu++)
		sum += values[cpu];
	*ret_sum = sum;
	return 0;
}

/* Checks the trampoline skipped because the program was already running on
 * that CPU (a preempted run, or a check made from inside one). */
static uint64_t recursion_misses(const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(prog);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

int loader_stats(struct loader *loader, struct loader_stats *ret_stats)
{
	struct loader_stats stats;
	int err;

	uint64_t kret_missed = 0;

	stats.missed = recursion_misses(loader->progs.stream) + recursion_misses(loader->progs.agg);
	if (loader->progs.entry)
		stats.missed += recursion_misses(loader->progs.entry);
	err = sum_stat(loader, CT_STAT_KRETPROBE_MISSED, &kret_missed);
	stats.missed += kret_missed;
	if (!err)
		err = sum_stat(loader, CT_STAT_LOST, &stats.lost);
	if (!err)
		err = sum_stat(loader, CT_STAT_PROC_LOST, &stats.proc_lost);
	if (!err)
		err = sum_stat(loader, CT_STAT_AGG_FULL, &stats.agg_full);
	if (!err)
		err = sum_stat(loader, CT_STAT_TRACK_FULL, &stats.track_full);
	if (!err)
		err = sum_stat(loader, CT_STAT_OUTCOME_FULL, &stats.outcome_full);
	if (!err)
		*ret_stats = stats;
	return err;
}

int loader_ring_fd(struct loader *loader)
{
	return ring_buffer__epoll_fd(loader->ring);
}

int loader_consume(struct loader *loader)
{
	return ring_buffer__consume(loader->ring);
}

/* Attached on demand rather than gated by a flag the program tests: an
 * attached program costs every check on the node the trampoline's price
 * (the floor of the bench, 70-150 ns here) even when it returns at once. */
static int set_attached(struct bpf_program *prog, struct bpf_link **link, bool active)
{
	if (active == (*link != NULL))
		return 0;
	if (!active) {
		bpf_link__destroy(*link);
		*link = NULL;
		return 0;
	}
	*link = bpf_program__attach(prog);
	if (!*link)
		return -errno;
	return 0;
}

/* The kprobe at entry feeds both return probes: attached while either is. */
static int set_entry(struct loader *loader, bool stream, bool agg)
{
	if (!loader->progs.entry)
		return 0;
	return set_attached(loader->progs.entry, loader->progs.entry_link, stream || agg);
}

int loader_set_stream(struct loader *loader, bool active)
{
	int err = set_entry(loader, active, *loader->progs.agg_link != NULL);

	return err ? err : set_attached(loader->progs.stream, loader->progs.stream_link, active);
}

int loader_set_aggregate(struct loader *loader, bool active)
{
	int err = set_attached(loader->progs.agg, loader->progs.agg_link, active);

	return err ? err : set_entry(loader, *loader->progs.stream_link != NULL, active);
}

int loader_agg_delete(struct loader *loader, const struct ct_agg_key *key)
{
	if (bpf_map__delete_elem(loader->skel->maps.agg, key, sizeof(*key), 0))
		return -errno;
	/* A denied key has an outcome only if its syscall's return was seen. */
	if (key->flags & CT_AGG_DENIED &&
	    bpf_map__delete_elem(loader->skel->maps.outcomes, key, sizeof(*key), 0) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

static int fold_slot(struct loader *loader, const struct ct_agg_slot *slot)
{
	struct bpf_map *agg = loader->skel->maps.agg;
	struct ct_agg_value value;

	if (!slot->base || !slot->pending)
		return 0;
	if (bpf_map__lookup_elem(agg, &slot->key, sizeof(slot->key), &value, sizeof(value), 0))
		return -errno;
	value.count += slot->pending;
	value.noaudit_samples += slot->noaudit_pending;
	value.audit_samples += slot->audit_pending;
	if (bpf_map__update_elem(agg, &slot->key, sizeof(slot->key), &value, sizeof(value),
				 BPF_EXIST))
		return -errno;
	return 0;
}

int loader_agg_stop(struct loader *loader)
{
	size_t size = loader->ncpus * sizeof(struct ct_agg_cpu);
	struct ct_agg_cpu *cpus;
	__u32 zero = 0;
	int err = loader_set_aggregate(loader, false);

	if (err || !loader->skel->rodata->cfg_agg_slots)
		return err;
	cpus = malloc(size);
	if (!cpus)
		return -ENOMEM;
	if (bpf_map__lookup_elem(loader->skel->maps.agg_cpu, &zero, sizeof(zero), cpus, size, 0)) {
		err = -errno;
		goto cleanup;
	}
	for (int cpu = 0; cpu < loader->ncpus && !err; cpu++)
		for (int i = 0; i < CT_AGG_SLOTS && !err; i++)
			err = fold_slot(loader, &cpus[cpu].slots[i]);
cleanup:
	free(cpus);
	return err;
}

int loader_agg_drain(struct loader *loader,
		     int (*fn)(void *ctx, const struct ct_agg_key *key,
			       const struct ct_agg_value *value),
		     void *ctx)
{
	struct bpf_map *map = loader->skel->maps.agg;
	struct ct_agg_key key, next;
	struct ct_agg_value value;
	void *prev = NULL;
	int err;

	while (bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(map, &key, sizeof(key), &value, sizeof(value), 0))
			continue; /* deleted meanwhile */
		err = fn(ctx, &key, &value);
		if (err)
			return err;
	}
	return 0;
}

int loader_outcome(struct loader *loader, const struct ct_agg_key *key,
		   struct ct_outcome *ret_outcome)
{
	if (bpf_map__lookup_elem(loader->skel->maps.outcomes, key, sizeof(*key), ret_outcome,
				 sizeof(*ret_outcome), 0))
		return -errno;
	return 0;
}

uint64_t loader_extra_caps(const char *sysfs_root, const char *procfs_root, enum hook hook)
{
	bool kprobe_tried;
	struct hook_features f;
	char path[PATH_MAX], paranoid[16] = "";
	uint64_t extra = 0;

	if (read_features(sysfs_root, &f))
		return 0;
	if (!f.rdonly_cast)
		extra |= 1ull << CAP_SYS_ADMIN;
	/* auto reaches the kprobe only where there is no tracepoint */
	kprobe_tried = hook == HOOK_KPROBE || (hook == HOOK_AUTO && !f.tracepoint);
	snprintf(path, sizeof(path), "%s/sys/kernel/perf_event_paranoid",
		 procfs_root ? procfs_root : "/proc");
	if (kprobe_tried && f.kprobes && !read_small_file(path, paranoid, sizeof(paranoid)) &&
	    atoi(paranoid) > 2)
		extra |= 1ull << CAP_SYS_ADMIN;
	return extra;
}

int loader_raise_memlock(void)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	return setrlimit(RLIMIT_MEMLOCK, &unlimited) ? -errno : 0;
}
