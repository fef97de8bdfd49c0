#include "kernel/loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "captrail.skel.h"

#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

struct loader {
	struct captrail_bpf *skel;
	struct ring_buffer *ring;
	int ncpus;
	struct records_handlers handlers;
};

/* Feature probe: a tracepoint exists when its BTF typedef does. */
static bool has_tracepoint(const struct btf *vmlinux, const char *name)
{
	char type_name[128];

	snprintf(type_name, sizeof(type_name), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux, type_name, BTF_KIND_TYPEDEF) >= 0;
}

static int configure(struct captrail_bpf *skel, const struct loader_opts *opts,
		     const struct btf *vmlinux)
{
	const struct loader_filter *f = &opts->filter;
	struct captrail_bpf__rodata *cfg = skel->rodata;

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
	cfg->cfg_proc_cgroup = opts->proc_cgroup_id;
	cfg->cfg_n_noaudit = (__u32)opts->aggregate.n_noaudit;
	if (opts->aggregate.n_noaudit)
		memcpy((void *)cfg->cfg_noaudit, opts->aggregate.noaudit,
		       opts->aggregate.n_noaudit * sizeof(cfg->cfg_noaudit[0]));
	cfg->cfg_agg_slots = opts->aggregate.slots;
	skel->bss->agg_armed = opts->aggregate.armed;
	cfg->cfg_regs_cast = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0;
	/* Without the hooks that say when a task's cgroup may have changed,
	 * each check decides afresh: slower, never wrong. */
	cfg->cfg_task_cache = opts->aggregate.enabled && has_tracepoint(vmlinux, "task_newtask") &&
			      has_tracepoint(vmlinux, "cgroup_attach_task");

	/* The exec program also arms aggregation at the command's exec, and
	 * fork/exit keep the fork-tracking set. */
	bool procs = opts->track_procs || opts->aggregate.enabled;
	const struct {
		struct bpf_program *prog;
		bool load;
	} programs[] = {
		{ skel->progs.stream_cap_capable, opts->stream },
		{ skel->progs.agg_cap_capable, opts->aggregate.enabled },
		{ skel->progs.denial_outcome, opts->aggregate.enabled },
		{ skel->progs.task_gen_new, cfg->cfg_task_cache },
		{ skel->progs.task_gen_moved, cfg->cfg_task_cache },
		{ skel->progs.proc_exec, procs },
		{ skel->progs.proc_fork, procs },
		{ skel->progs.proc_exit, procs },
	};
	int err;

	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		err = bpf_program__set_autoload(programs[i].prog, programs[i].load);
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

static int ring_callback(void *ctx, void *data, size_t size)
{
	struct loader *loader = ctx;

	return records_dispatch(&loader->handlers, data, size);
}

int loader__new(const struct loader_opts *opts, struct loader **ret_loader)
{
	struct btf *vmlinux = NULL;
	struct loader *loader;
	int err;

	if (opts->filter.n_pids > CT_MAX_PIDS)
		return -E2BIG;
	loader = calloc(1, sizeof(*loader));
	if (!loader)
		return -ENOMEM;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux || !has_tracepoint(vmlinux, "cap_capable")) {
		err = -EOPNOTSUPP;
		goto cleanup;
	}
	loader->handlers = opts->handlers;
	loader->ncpus = libbpf_num_possible_cpus();
	if (loader->ncpus < 0) {
		err = loader->ncpus;
		goto cleanup;
	}

	/* Naming vmlinux's BTF keeps libbpf from enumerating kernel-module BTF
	 * for CO-RE candidates (our programs touch vmlinux types only), which
	 * would need CAP_SYS_ADMIN on top of CAP_BPF and CAP_PERFMON. */
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = VMLINUX_BTF_PATH);
	loader->skel = captrail_bpf__open_opts(&open_opts);
	if (!loader->skel) {
		err = -errno;
		goto cleanup;
	}
	err = configure(loader->skel, opts, vmlinux);
	btf__free(vmlinux);
	vmlinux = NULL;
	if (!err)
		err = captrail_bpf__load(loader->skel);
	if (err)
		goto cleanup;
	err = fill_pid_filter(loader->skel, &opts->filter);
	if (err)
		goto cleanup;
	err = seed_tracked(loader->skel, opts->aggregate.tracked_pid);
	if (err)
		goto cleanup;
	loader->ring = ring_buffer__new(bpf_map__fd(loader->skel->maps.events), ring_callback,
					loader, NULL);
	if (!loader->ring) {
		err = -errno;
		goto cleanup;
	}
	/* The denial-outcome program costs every syscall of the traced
	 * processes: it is attached only once a denial has been seen. */
	bpf_program__set_autoattach(loader->skel->progs.denial_outcome, false);
	if (opts->stream_on_demand)
		bpf_program__set_autoattach(loader->skel->progs.stream_cap_capable, false);
	err = captrail_bpf__attach(loader->skel);
	if (err)
		goto cleanup;
	*ret_loader = loader;
	return 0;

cleanup:
	btf__free(vmlinux);
	loader__free(loader);
	return err;
}

void loader__free(struct loader *loader)
{
	if (!loader)
		return;
	ring_buffer__free(loader->ring);
	captrail_bpf__destroy(loader->skel);
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

	stats.missed = recursion_misses(loader->skel->progs.stream_cap_capable) +
		       recursion_misses(loader->skel->progs.agg_cap_capable);

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

int loader_set_stream(struct loader *loader, bool active)
{
	return set_attached(loader->skel->progs.stream_cap_capable,
			    &loader->skel->links.stream_cap_capable, active);
}

int loader_set_aggregate(struct loader *loader, bool active)
{
	return set_attached(loader->skel->progs.agg_cap_capable,
			    &loader->skel->links.agg_cap_capable, active);
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

int loader_watch_denials(struct loader *loader)
{
	struct bpf_link *link;

	if (loader->skel->links.denial_outcome)
		return 0;
	link = bpf_program__attach(loader->skel->progs.denial_outcome);
	if (!link)
		return -errno;
	loader->skel->links.denial_outcome = link;
	loader->skel->bss->outcome_hook_active = true;
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
