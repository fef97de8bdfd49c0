#include "record/recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "identity/cgroup.h"
#include "identity/proc_cache.h"
#include "kernel/kallsyms.h"
#include "privilege/held.h"

#define POLL_MS 50
#define MAX_PROCESSES 65536 /* binaries remembered per recording */

struct process {
	uint32_t pid;
	bool live; /* fork tracking: still running */
	UT_hash_handle hh;
};

/* One program image a process ran: pid and the task's exec count, as the
 * aggregation keys name it, so checks made before an exec are not blamed
 * on the program exec'd next. */
struct image {
	uint64_t id; /* pid << 32 | exec_gen */
	char *binary;
	UT_hash_handle hh;
};

struct recorder {
	struct recorder_opts opts;
	struct held held;
	struct rings *rings;
	char cgroup[PATH_MAX];
	uint64_t cgroup_id;
	struct loader *loader;
	struct process *processes;
	size_t n_processes;
	struct image *images;
	size_t n_images;
	uint64_t untracked; /* processes and images past the bound */
	size_t n_live;
	bool denial_hook_late;
	int hook_err;
};

static struct process *process_get(struct recorder *r, uint32_t pid)
{
	struct process *p;

	HASH_FIND(hh, r->processes, &pid, sizeof(pid), p);
	if (p)
		return p;
	if (r->n_processes >= MAX_PROCESSES) {
		r->untracked++;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	HASH_ADD(hh, r->processes, pid, sizeof(p->pid), p);
	r->n_processes++;
	return p;
}

static uint64_t image_id(uint32_t pid, uint32_t exec_gen)
{
	return (uint64_t)pid << 32 | exec_gen;
}

static struct image *image_find(struct recorder *r, uint32_t pid, uint32_t exec_gen)
{
	uint64_t id = image_id(pid, exec_gen);
	struct image *img;

	HASH_FIND(hh, r->images, &id, sizeof(id), img);
	return img;
}

static void image_add(struct recorder *r, uint32_t pid, uint32_t exec_gen, const char *binary)
{
	struct image *img;

	if (image_find(r, pid, exec_gen))
		return;
	if (r->n_images >= MAX_PROCESSES) {
		r->untracked++;
		return;
	}
	img = calloc(1, sizeof(*img));
	if (!img)
		return;
	img->id = image_id(pid, exec_gen);
	img->binary = strdup(binary);
	HASH_ADD(hh, r->images, id, sizeof(img->id), img);
	r->n_images++;
}

static void on_exec(struct recorder *r, const struct ct_proc_event *e)
{
	char binary[PROC_BINARY_LEN];

	if (!e->binary_len)
		return;
	proc_exec_binary(e, binary);
	image_add(r, e->pid, e->exec_gen, binary);
}

/* A forked child runs its parent's image (with the parent's exec count)
 * until it execs. */
static void on_fork(struct recorder *r, const struct ct_proc_event *e)
{
	struct image *parent = image_find(r, e->ppid, e->exec_gen);

	if (parent && parent->binary)
		image_add(r, e->pid, e->exec_gen, parent->binary);
}

/* Fork tracking only: the kernel's tracked set decides what is counted;
 * this mirror tells when the last descendant is gone. */
static void on_fork_exit(struct recorder *r, const struct ct_proc_event *e)
{
	struct process *p;

	if (r->cgroup_id)
		return;
	if (e->type == CT_REC_FORK) {
		HASH_FIND(hh, r->processes, &e->ppid, sizeof(e->ppid), p);
		if (!p || !p->live)
			return;
		p = process_get(r, e->pid);
		if (p && !p->live) {
			p->live = true;
			r->n_live++;
		}
		return;
	}
	HASH_FIND(hh, r->processes, &e->pid, sizeof(e->pid), p);
	if (p && p->live) {
		p->live = false;
		r->n_live--;
	}
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct recorder *r = ctx;
	__u32 type = *(const __u32 *)data;

	if (type == CT_REC_DENIAL_SEEN) {
		/* The denial that woke us made its syscall before the hook
		 * existed: its outcome is unknown, and we say so. */
		r->denial_hook_late = true;
		rings_enter(r->rings, RING_EBPF, "attach the denial-outcome program");
		r->hook_err = loader_watch_denials(r->loader);
		rings_leave(r->rings);
		return 0;
	}
	if (size < sizeof(struct ct_proc_event))
		return 0;
	if (type == CT_REC_EXEC)
		on_exec(r, data);
	if (type == CT_REC_FORK)
		on_fork(r, data);
	if (type == CT_REC_FORK || type == CT_REC_EXIT)
		on_fork_exit(r, data);
	return 0;
}

/* A cgroup of the recording's own; without one, fork tracking. */
static void place_in_cgroup(struct recorder *r)
{
	char mount[PATH_MAX], name[64];

	if (cgroup_v2_mount(r->opts.procfs_root, mount, sizeof(mount)))
		return;
	snprintf(name, sizeof(name), "captrail-record-%d", (int)getpid());
	if (cgroup_create(mount, name, r->cgroup, sizeof(r->cgroup)))
		return;
	if (cgroup_attach(r->cgroup, r->held.pid) || cgroup_id(r->cgroup, &r->cgroup_id)) {
		cgroup_remove(r->cgroup);
		r->cgroup[0] = '\0';
		r->cgroup_id = 0;
	}
}

int recorder__new(const struct recorder_opts *opts, struct recorder **ret_recorder)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->opts = *opts;
	err = held_spawn(opts->argv, &r->held);
	if (err) {
		free(r);
		return err;
	}
	place_in_cgroup(r);
	*ret_recorder = r;
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int attach(struct recorder *r)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];
	struct loader_opts lopts = {};
	size_t n_ranges = 0;

	int err;

	/* Without kallsyms every check counts as audited: the profile may
	 * then recommend more than needed, never less. */
	rings_enter_specific(r->rings, RINGS_NEED_KALLSYMS, "read kernel symbol addresses");
	if (kallsyms_noaudit_ranges(r->opts.procfs_root, ranges, CT_NOAUDIT_RANGES, &n_ranges))
		n_ranges = 0;
	rings_leave(r->rings);
	lopts.filter.uid = CT_ANY_UID;
	lopts.aggregate.enabled = true;
	lopts.aggregate.slots = true;
	lopts.aggregate.cgroup_id = r->cgroup_id;
	lopts.aggregate.tracked_pid = r->cgroup_id ? 0 : (uint32_t)r->held.pid;
	lopts.aggregate.noaudit = ranges;
	lopts.aggregate.n_noaudit = n_ranges;
	lopts.track_procs = true;
	lopts.proc_cgroup_id = r->cgroup_id;
	lopts.on_record = on_record;
	lopts.ctx = r;
	if (!r->cgroup_id) {
		struct process *p = process_get(r, (uint32_t)r->held.pid);

		if (p) {
			p->live = true;
			r->n_live = 1;
		}
	}
	rings_enter(r->rings, RING_EBPF, "load and attach BPF programs");
	err = loader__new(&lopts, &r->loader);
	rings_leave(r->rings);
	return err;
}

static bool descendants_left(struct recorder *r)
{
	bool populated = false;

	if (!r->cgroup_id)
		return r->n_live > 0;
	return cgroup_populated(r->cgroup, &populated) == 0 && populated;
}

static int wait_until_done(struct recorder *r, struct recorder_result *res)
{
	double deadline = r->opts.duration > 0 ? now_seconds() + r->opts.duration : 0;
	bool child_done = false;

	for (;;) {
		int n = loader_poll(r->loader, POLL_MS);

		if (n < 0 && n != -EINTR)
			return n;
		if (r->hook_err)
			return r->hook_err;
		if (!child_done && waitpid(r->held.pid, &res->wait_status, WNOHANG) == r->held.pid) {
			child_done = true;
			if (!r->cgroup_id && r->n_live > 0) {
				struct process *p;

				HASH_FIND(hh, r->processes, &(uint32_t){ (uint32_t)r->held.pid },
					  sizeof(uint32_t), p);
				if (p && p->live) {
					p->live = false;
					r->n_live--;
				}
			}
		}
		if (child_done && !descendants_left(r))
			break;
		if (*r->opts.stop || (deadline && now_seconds() >= deadline)) {
			res->stopped = true;
			break;
		}
	}
	if (res->stopped) {
		if (r->cgroup_id)
			cgroup_kill(r->cgroup);
		else
			kill(r->held.pid, SIGKILL);
		if (!child_done)
			waitpid(r->held.pid, &res->wait_status, 0);
	}
	return loader_poll(r->loader, 0) < 0 ? -EIO : 0;
}

struct collect {
	struct recorder *r;
	struct recorder_result *res;
	size_t cap;
};

static int collect_entry(void *ctx, const struct ct_agg_key *key, const struct ct_agg_value *value)
{
	struct collect *c = ctx;
	struct recorder_entry *e;
	struct image *img;

	if (c->res->n_entries == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct recorder_entry *grown = realloc(c->res->entries, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->res->entries = grown;
		c->cap = cap;
	}
	e = &c->res->entries[c->res->n_entries++];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->value = *value;
	img = image_find(c->r, key->pid, key->exec_gen);
	e->binary = img ? img->binary : NULL;
	if (key->flags & CT_AGG_DENIED)
		e->outcome_known = loader_outcome(c->r->loader, key, &e->outcome) == 0;
	return 0;
}

int recorder_run(struct recorder *r, struct rings *rings, struct recorder_result *ret_result,
		 bool *ret_exec_failed)
{
	struct recorder_result res = { .used_cgroup = r->cgroup_id != 0 };
	struct collect collect = { .r = r, .res = &res };
	int err;

	*ret_exec_failed = false;
	r->rings = rings;
	err = attach(r);
	if (err)
		return err;
	if (r->opts.on_ready && !r->opts.on_ready(r->opts.ctx))
		return -ECANCELED;
	err = held_release(&r->held, &r->opts.confine);
	if (err) {
		*ret_exec_failed = true;
		waitpid(r->held.pid, &res.wait_status, 0);
		return err;
	}
	err = wait_until_done(r, &res);
	rings_enter(r->rings, RING_EBPF, "read the aggregation maps");
	if (!err)
		err = loader_agg_stop(r->loader);
	if (!err)
		err = loader_stats(r->loader, &res.stats);
	if (!err)
		err = loader_agg_drain(r->loader, collect_entry, &collect);
	rings_leave(r->rings);
	if (err) {
		recorder_result_free(&res);
		return err;
	}
	res.denial_hook_late = r->denial_hook_late;
	res.untracked = r->untracked;
	*ret_result = res;
	return 0;
}

void recorder_result_free(struct recorder_result *result)
{
	if (!result)
		return;
	free(result->entries);
	result->entries = NULL;
	result->n_entries = 0;
}

void recorder__free(struct recorder *r)
{
	struct process *p, *tmp;
	struct image *img, *img_tmp;

	if (!r)
		return;
	if (r->held.go_fd >= 0)
		held_abandon(&r->held); /* never released: it exits 127 */
	loader__free(r->loader);
	if (r->cgroup[0]) {
		if (r->rings)
			rings_enter_specific(r->rings, RINGS_NEED_CGROUP, "remove the recording's cgroup");
		cgroup_kill(r->cgroup);
		/* rmdir succeeds once the killed processes are reaped. */
		for (int i = 0; i < 100 && cgroup_remove(r->cgroup) == -EBUSY; i++)
			usleep(10000);
		if (r->rings)
			rings_leave(r->rings);
	}
	HASH_ITER(hh, r->processes, p, tmp) {
		HASH_DEL(r->processes, p);
		free(p);
	}
	HASH_ITER(hh, r->images, img, img_tmp) {
		HASH_DEL(r->images, img);
		free(img->binary);
		free(img);
	}
	free(r);
}
