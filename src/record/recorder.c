#include "record/recorder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity/cgroup.h"
#include "identity/images.h"
#include "identity/procfs.h"
#include "kernel/kallsyms.h"
#include "kernel/objects.h"
#include "kernel/records.h"
#include "lib/clock.h"
#include "lib/hash.h"
#include "privilege/held.h"
#include "record/supervise.h"

#define POLL_MS 50
#define MAX_PROCESSES 65536 /* processes followed by fork tracking */
#define MAX_KEPT 4096 /* distinct (capability, how, image) kept */
#define MAX_OBJECT_KEYS CT_AGG_ENTRIES /* aggregation keys with objects */

struct process {
	uint32_t pid;
	bool live; /* fork tracking: still running */
	/* A running workload's process that was there before the recording
	 * (or forked by one before it exec'd): the program its image runs,
	 * read from /proc, as no exec record will name it. */
	bool before;
	char *binary; /* NULL: unreadable */
	uint32_t mntns; /* where it ran when last seen; 0 unknown */
	UT_hash_handle hh;
};

struct kept_key {
	int32_t cap;
	uint32_t how; /* enum ct_priv_kind */
	uint32_t pid;
	uint32_t exec_gen;
	uint64_t cgroup_id; /* where it asked: a running workload's runtime rule */
};

struct kept {
	struct kept_key key;
	uint64_t count;
	UT_hash_handle hh;
};

/* The objects of one aggregation key. */
struct objects {
	struct ct_agg_key key;
	char *texts[RECORDER_OBJECTS];
	unsigned int n;
	UT_hash_handle hh;
};

struct recorder {
	struct recorder_opts opts;
	struct held held;
	struct rings *rings;
	struct supervise sv; /* the command's cgroup, stop and probe */
	uint64_t cgroup_id; /* of sv's cgroup; 0: fork tracking */
	bool held_gone; /* fork tracking: the forked command's exit counted */
	struct loader *loader;
	struct process *processes;
	size_t n_processes;
	struct images *images;
	uint64_t untracked; /* processes past the bound */
	size_t n_live;
	struct kept *kept;
	bool keep_caps;
	bool exec_gain;
	struct objects *objects;
	uint64_t objects_dropped;
	int cgroup_fd; /* opts.cgroup, open; -1 when recording a command */
	uint32_t host_mntns; /* for the runtime rule; 0 unknown */
	uint64_t runtime; /* checks of a runtime's start-up, left out */
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
	if (p) {
		p->pid = pid;
		HASH_ADD(hh, r->processes, pid, sizeof(p->pid), p);
		if (hash_add_failed()) {
			free(p);
			p = NULL;
		}
	}
	if (!p) { /* out of memory: as past the bound, followed no further */
		r->untracked++;
		return NULL;
	}
	r->n_processes++;
	return p;
}

/* Fork tracking only: the kernel's tracked set decides what is counted;
 * this mirror tells when the last descendant is gone. */
static void on_fork_exit(struct recorder *r, const struct ct_proc_event *e)
{
	struct process *p;

	if (r->cgroup_id || r->cgroup_fd >= 0)
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

/* A running workload's child forked before it exec'd runs its parent's
 * program, which the parent had before the recording. */
static int on_attached_fork(struct recorder *r, const struct ct_proc_event *e)
{
	struct process *parent, *child;

	HASH_FIND(hh, r->processes, &e->ppid, sizeof(e->ppid), parent);
	if (!parent || !parent->before)
		return 0;
	child = process_get(r, e->pid);
	if (!child || child->before)
		return 0;
	child->before = true;
	child->mntns = parent->mntns;
	if (parent->binary) {
		child->binary = strdup(parent->binary);
		if (!child->binary)
			return -ENOMEM;
	}
	return 0;
}

static int on_proc(void *ctx, const struct ct_proc_event *e)
{
	struct recorder *r = ctx;
	int err;

	if (r->cgroup_fd >= 0 && e->type == CT_REC_FORK) {
		err = on_attached_fork(r, e);
		if (err)
			return err;
	}
	if (e->type == CT_REC_FORK || e->type == CT_REC_EXIT)
		on_fork_exit(r, e);
	return images_apply(r->images, e);
}

static bool others_alive(void *ctx)
{
	const struct recorder *r = ctx;

	return r->n_live > 0;
}

static int kept_add(struct recorder *r, const struct ct_priv_event *e, int cap)
{
	struct kept_key key = { cap, e->kind, e->pid, e->exec_gen, e->cgroup_id };
	struct kept *k;

	HASH_FIND(hh, r->kept, &key, sizeof(key), k);
	if (!k && HASH_COUNT(r->kept) >= MAX_KEPT) {
		r->untracked++;
		return 0;
	}
	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return -ENOMEM;
		k->key = key;
		HASH_ADD(hh, r->kept, key, sizeof(k->key), k);
		if (hash_add_failed()) {
			free(k);
			return -ENOMEM;
		}
	}
	k->count++;
	return 0;
}

/* What a running workload's check was made by: the image its exec record
 * named, or what it ran before the recording; NULL when neither is known,
 * a process that came into the cgroup from outside and has not exec'd
 * there (a runtime's init joining: runc exec, a new container's init and
 * the children it forks to enter namespaces, which never exec). A process
 * that was there at the start but exited before either look at the
 * cgroup's processes passes for one too. *ret_runtime: the check is the
 * runtime's start-up, not the workload's. */
static const char *attached_binary(struct recorder *r, uint64_t cgroup_id, uint32_t pid,
				   uint32_t exec_gen, bool *ret_runtime)
{
	const struct image *img = images_find(r->images, pid, exec_gen);
	struct process *p;
	struct image before;

	if (img) {
		*ret_runtime = r->opts.runtime_rule &&
			       image_is_runtime_start(img, cgroup_id, r->host_mntns);
		return img->binary;
	}
	HASH_FIND(hh, r->processes, &pid, sizeof(pid), p);
	if (!p || !p->before) {
		*ret_runtime = r->opts.runtime_rule;
		return NULL;
	}
	before = (struct image){ .exec_cgroup = cgroup_id, .exec_mntns = p->mntns };
	*ret_runtime = r->opts.runtime_rule &&
		       image_is_runtime_start(&before, cgroup_id, r->host_mntns);
	return p->binary;
}

static int on_priv(void *ctx, const struct ct_priv_event *e)
{
	struct recorder *r = ctx;
	struct records_priv priv;
	bool runtime = false;
	int err = 0;

	/* The runtime's init sets the workload's capabilities up: its
	 * requests are no more the workload's than its checks. */
	if (r->cgroup_fd >= 0)
		(void)attached_binary(r, e->cgroup_id, e->pid, e->exec_gen, &runtime);
	if (runtime)
		return 0;
	records_priv(e, &priv);
	r->keep_caps = r->keep_caps || priv.keep_caps;
	r->exec_gain = r->exec_gain || priv.exec_gain;
	for (int cap = 0; cap < 64 && !err; cap++)
		if (priv.kept & (1ull << cap))
			err = kept_add(r, e, cap);
	return err;
}

static int on_object(void *ctx, const struct ct_object_event *e)
{
	struct recorder *r = ctx;
	char text[OBJECTS_TEXT_LEN];
	struct objects *o;

	if (objects_render(e, text))
		return 0; /* nothing to show for this syscall */
	HASH_FIND(hh, r->objects, &e->key, sizeof(e->key), o);
	if (!o && HASH_COUNT(r->objects) >= MAX_OBJECT_KEYS) {
		r->objects_dropped++;
		return 0;
	}
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o)
			return -ENOMEM;
		o->key = e->key;
		HASH_ADD(hh, r->objects, key, sizeof(o->key), o);
		if (hash_add_failed()) {
			free(o);
			return -ENOMEM;
		}
	}
	for (unsigned int i = 0; i < o->n; i++)
		if (!strcmp(o->texts[i], text))
			return 0;
	if (o->n == RECORDER_OBJECTS) {
		r->objects_dropped++;
		return 0;
	}
	o->texts[o->n] = strdup(text);
	if (!o->texts[o->n])
		return -ENOMEM;
	o->n++;
	return 0;
}

/* A cgroup of the recording's own; without one, fork tracking. */
static void place_in_cgroup(struct recorder *r)
{
	const struct supervise_opts sopts = {
		.cgroupfs_root = r->opts.cgroupfs_root,
		.name = "record",
		.duration = r->opts.duration,
		.stop_timeout = r->opts.stop_timeout,
		.probe = r->opts.probe,
		.stop_on_probe = r->opts.stop_on_probe,
		.others_alive = others_alive,
		.ctx = r,
	};

	supervise_attach(&r->sv, &sopts, r->held.pid, NULL);
	r->cgroup_id = r->sv.cgroup_id;
}

#define SEED_DEPTH 32 /* cgroup levels below the recorded one */

static void seed_pid(struct recorder *r, uint32_t pid)
{
	uint32_t ns[CT_NS_COUNT];
	char exe[PATH_MAX];
	struct process *p = process_get(r, pid);
	bool deleted;

	if (!p)
		return;
	p->before = true;
	/* Unreadable (it exited meanwhile): what an earlier look read, else
	 * its checks count without a binary. Read again, it is what an exec
	 * between the two looks ran. */
	if (!procfs_read_exe(r->opts.procfs_root, pid, exe, sizeof(exe), &deleted)) {
		free(p->binary);
		p->binary = strdup(exe);
	}
	if (!procfs_read_ns(r->opts.procfs_root, pid, ns))
		p->mntns = ns[CT_NS_MNT];
}

/* Every process of the cgroup at path and below. Once the programs are
 * attached, one forked meanwhile has its fork record or is listed. */
static void seed_cgroup(struct recorder *r, char *path, size_t len, int depth)
{
	struct dirent *d;
	unsigned int pid;
	FILE *f;
	DIR *dir;

	snprintf(path + len, PATH_MAX - len, "/cgroup.procs");
	f = fopen(path, "re");
	path[len] = '\0';
	if (f) {
		while (fscanf(f, "%u", &pid) == 1)
			seed_pid(r, pid);
		fclose(f);
	}
	if (depth >= SEED_DEPTH)
		return;
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		size_t n;

		if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		n = (size_t)snprintf(path + len, PATH_MAX - len, "/%s", d->d_name);
		if (len + n < PATH_MAX)
			seed_cgroup(r, path, len + n, depth + 1);
		path[len] = '\0';
	}
	closedir(dir);
}

/* The running workload's cgroup, and the host's mount namespace, read
 * while captrail may still read pid 1's. */
static int open_cgroup(struct recorder *r)
{
	uint32_t ns[CT_NS_COUNT];
	char path[PATH_MAX];

	r->cgroup_fd = open(r->opts.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->cgroup_fd < 0)
		return -errno;
	if (!procfs_read_ns(r->opts.procfs_root, 1, ns))
		r->host_mntns = ns[CT_NS_MNT];
	/* Once now, and again once attached (seed()): a process there now
	 * may make a check once attached and exit before that second look,
	 * and would then pass for one that came in from outside. */
	snprintf(path, sizeof(path), "%s", r->opts.cgroup);
	seed_cgroup(r, path, strlen(path), 0);
	return 0;
}

int recorder__new(const struct recorder_opts *opts, struct recorder **ret_recorder)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->opts = *opts;
	r->cgroup_fd = -1;
	r->held.go_fd = -1;
	err = images__new(0, &r->images);
	if (err) {
		free(r);
		return err;
	}
	if (opts->cgroup) {
		err = open_cgroup(r);
		if (err) {
			images__free(r->images);
			free(r);
			return err;
		}
		*ret_recorder = r;
		return 0;
	}
	err = held_spawn(opts->argv, &r->held);
	if (err) {
		images__free(r->images);
		free(r);
		return err;
	}
	place_in_cgroup(r);
	*ret_recorder = r;
	return 0;
}

static int attach(struct recorder *r, struct recorder_result *res,
		  struct loader_report *ret_hooks)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];
	struct loader_opts lopts = {};
	size_t n_ranges = 0;
	int err;

	/* Without kallsyms every check counts as audited: the profile may
	 * then recommend more than needed, never less; the result says so. */
	rings_enter_specific(r->rings, RINGS_NEED_KALLSYMS, "read kernel symbol addresses");
	res->noaudit_unknown =
		kallsyms_noaudit_ranges(r->opts.procfs_root, ranges, CT_NOAUDIT_RANGES, &n_ranges);
	rings_leave(r->rings);
	if (res->noaudit_unknown)
		n_ranges = 0;
	lopts.hook = r->opts.hook;
	lopts.verbose = r->opts.verbose;
	lopts.filter.uid = CT_ANY_UID;
	lopts.aggregate.enabled = true;
	lopts.aggregate.slots = true;
	lopts.aggregate.cgroup_id = r->cgroup_id;
	lopts.aggregate.tracked_pid = r->cgroup_id || r->cgroup_fd >= 0 ? 0 : (uint32_t)r->held.pid;
	/* A running workload exec'd long ago: there is no exec to wait for. */
	lopts.aggregate.subtree = r->cgroup_fd >= 0;
	lopts.aggregate.subtree_fd = r->cgroup_fd;
	lopts.aggregate.armed = r->cgroup_fd >= 0;
	lopts.aggregate.noaudit = ranges;
	lopts.aggregate.n_noaudit = n_ranges;
	lopts.aggregate.watch_denials = true;
	lopts.aggregate.privileges = true;
	lopts.aggregate.objects = true;
	lopts.track_procs = true;
	lopts.proc_cgroup_id = r->cgroup_id;
	lopts.handlers = (struct records_handlers){
		.on_proc = on_proc,
		.on_priv = on_priv,
		.on_object = on_object,
		.ctx = r,
	};
	if (!r->cgroup_id && r->cgroup_fd < 0) {
		struct process *p = process_get(r, (uint32_t)r->held.pid);

		if (p) {
			p->live = true;
			r->n_live = 1;
		}
	}
	rings_enter(r->rings, RING_EBPF, "load and attach BPF programs");
	err = loader__new(&lopts, &r->loader, ret_hooks);
	rings_leave(r->rings);
	return err;
}

/* Fork tracking: the forked command's own exit may come before its exit
 * record; once reaped it is not live whatever the records say. */
static void held_exited(struct recorder *r)
{
	struct process *p;

	r->held_gone = true;
	if (r->cgroup_id || r->n_live == 0)
		return;
	HASH_FIND(hh, r->processes, &(uint32_t){ (uint32_t)r->held.pid }, sizeof(uint32_t), p);
	if (p && p->live) {
		p->live = false;
		r->n_live--;
	}
}

/* Until the command and its descendants are gone, or stopped: at the
 * deadline or on a stop request, SIGTERM and a grace period in which
 * checks are still recorded (a daemon's shutdown), then SIGKILL. */
static int wait_until_done(struct recorder *r, struct recorder_result *res)
{
	bool done = false;
	int err;

	supervise_begin(&r->sv);
	while (!done) {
		int n = loader_poll(r->loader, POLL_MS);

		if (n < 0 && n != -EINTR)
			return n;
		err = rings_failure(r->rings, NULL);
		if (err)
			return err;
		if (r->opts.stop && *r->opts.stop)
			supervise_stop(&r->sv, SIGTERM);
		err = supervise_poll(&r->sv, &done);
		if (err)
			return err;
		if (r->sv.exited && !r->held_gone)
			held_exited(r);
	}
	res->wait_status = r->sv.wait_status;
	res->stopped = r->sv.stopping;
	res->stopped_cleanly = supervise_stopped_cleanly(&r->sv);
	res->killed = r->sv.killed;
	res->stopped_after = supervise_stopped_after(&r->sv);
	res->probe_ok = supervise_probe_ok(&r->sv);
	res->signal_error = r->sv.signal_errors;
	err = loader_poll(r->loader, 0);
	return err < 0 ? err : 0;
}

static void seed(struct recorder *r)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", r->opts.cgroup);
	rings_enter_specific(r->rings, RINGS_NEED_PROC, "read the workload's programs");
	seed_cgroup(r, path, strlen(path), 0);
	rings_leave(r->rings);
}

/* A running workload ends when its cgroup has no process left or is gone. */
static bool workload_ended(struct recorder *r)
{
	bool populated = false;
	int err = cgroup_populated(r->opts.cgroup, &populated);

	return err == -ENOENT || err == -ENODEV || (!err && !populated);
}

/* Until the deadline, a stop request or the workload's end; it is never
 * signalled. */
static int wait_attached(struct recorder *r, struct recorder_result *res)
{
	uint64_t start = clock_monotonic_ns();
	uint64_t deadline = r->opts.duration > 0 ?
				    start + (uint64_t)(r->opts.duration * NSEC_PER_SEC) : 0;
	int err;

	for (;;) {
		int n = loader_poll(r->loader, POLL_MS);

		if (n < 0 && n != -EINTR)
			return n;
		err = rings_failure(r->rings, NULL);
		if (err)
			return err;
		if (r->opts.stop && *r->opts.stop) {
			res->stopped = true;
			break;
		}
		if (deadline && clock_monotonic_ns() >= deadline)
			break;
		if (workload_ended(r)) {
			res->workload_ended = true;
			break;
		}
	}
	res->stopped_after = (double)(clock_monotonic_ns() - start) / NSEC_PER_SEC;
	err = loader_poll(r->loader, 0);
	return err < 0 ? err : 0;
}

struct collect {
	struct recorder *r;
	struct recorder_result *res;
	size_t cap;
};

static int collect_entry(void *ctx, const struct ct_agg_key *key, const struct ct_agg_value *value)
{
	struct collect *c = ctx;
	struct ct_outcome outcome;
	bool outcome_known = false;
	struct recorder_entry *e;
	const struct image *img;
	const char *binary;
	bool runtime = false;
	struct objects *o;

	img = images_find(c->r->images, key->pid, key->exec_gen);
	binary = img ? img->binary : NULL;
	if (c->r->cgroup_fd >= 0)
		binary = attached_binary(c->r, key->cgroup_id, key->pid, key->exec_gen, &runtime);
	if (runtime) {
		c->r->runtime += value->count;
		return 0;
	}
	if (c->res->n_entries == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct recorder_entry *grown = realloc(c->res->entries, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->res->entries = grown;
		c->cap = cap;
	}
	if (key->flags & CT_AGG_DENIED)
		outcome_known = loader_outcome(c->r->loader, key, &outcome) == 0;
	e = &c->res->entries[c->res->n_entries++];
	records_check(key, value, outcome_known ? &outcome : NULL, &e->check);
	e->binary = binary;
	HASH_FIND(hh, c->r->objects, key, sizeof(*key), o);
	e->n_objects = o ? o->n : 0;
	for (unsigned int i = 0; i < e->n_objects; i++)
		e->objects[i] = o->texts[i];
	return 0;
}

static int collect_kept(struct recorder *r, struct recorder_result *res)
{
	size_t n = HASH_COUNT(r->kept), i = 0;
	const struct image *img;
	struct kept *k, *tmp;
	const char *binary;
	bool runtime;

	res->kept = calloc(n + 1, sizeof(*res->kept));
	if (!res->kept)
		return -ENOMEM;
	HASH_ITER(hh, r->kept, k, tmp) {
		img = images_find(r->images, k->key.pid, k->key.exec_gen);
		binary = img ? img->binary : NULL;
		if (r->cgroup_fd >= 0) /* never the runtime's: on_priv() left those out */
			binary = attached_binary(r, k->key.cgroup_id, k->key.pid, k->key.exec_gen,
						 &runtime);
		res->kept[i++] = (struct recorder_kept){
			.cap = k->key.cap,
			.how = (enum ct_priv_kind)k->key.how,
			.binary = binary,
			.count = k->count,
		};
	}
	res->n_kept = n;
	res->keep_caps = r->keep_caps;
	res->objects_dropped = r->objects_dropped;
	res->exec_gain = r->exec_gain;
	res->runtime = r->runtime;
	return 0;
}

static int failed(struct recorder_error *ret_error, const char *step, int err)
{
	if (ret_error)
		ret_error->step = step;
	return err;
}

int recorder_run(struct recorder *r, struct rings *rings, struct recorder_result *ret_result,
		 struct recorder_error *ret_error)
{
	struct recorder_result res = { .used_cgroup = r->cgroup_id != 0 || r->cgroup_fd >= 0 };
	struct collect collect = { .r = r, .res = &res };
	struct loader_report hooks;
	int err;

	if (ret_error)
		*ret_error = (struct recorder_error){};
	r->rings = rings;
	r->sv.rings = rings;
	err = attach(r, &res, &hooks);
	if (err) {
		if (ret_error) {
			ret_error->loading = true;
			ret_error->hooks = hooks;
		}
		return failed(ret_error, "load the BPF programs", err);
	}
	if (r->opts.on_ready && !r->opts.on_ready(r->opts.ctx, &hooks))
		return failed(ret_error, "start recording", -ECANCELED);
	if (r->cgroup_fd >= 0) {
		seed(r);
		err = wait_attached(r, &res);
		if (err)
			return failed(ret_error, "follow the workload", err);
		goto drain;
	}
	err = held_release(&r->held, &r->opts.confine);
	if (err) {
		if (ret_error)
			ret_error->exec_failed = true;
		/* It exited: reaped so that it leaves no zombie; its errno is the news. */
		if (waitpid(r->held.pid, &res.wait_status, 0) == r->held.pid)
			r->sv.exited = true;
		return failed(ret_error, "run the command", err);
	}
	err = wait_until_done(r, &res);
	if (err)
		return failed(ret_error, "follow the command", err);
drain:
	rings_enter(r->rings, RING_EBPF, "read the aggregation maps");
	err = loader_agg_stop(r->loader);
	if (!err)
		err = loader_stats(r->loader, &res.stats);
	if (!err)
		err = loader_agg_drain(r->loader, collect_entry, &collect);
	rings_leave(r->rings);
	if (!err)
		err = collect_kept(r, &res);
	if (err) {
		recorder_result_free(&res);
		return failed(ret_error, "read the aggregation maps", err);
	}
	res.untracked = r->untracked + images_untracked(r->images);
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
	free(result->kept);
	result->kept = NULL;
	result->n_kept = 0;
}

void recorder__free(struct recorder *r)
{
	struct process *p, *tmp;
	struct kept *k, *ktmp;
	struct objects *o, *otmp;

	if (!r)
		return;
	if (r->held.go_fd >= 0) {
		held_abandon(&r->held); /* never released: it exits 127 */
		r->sv.exited = true;
	}
	loader__free(r->loader);
	supervise_end(&r->sv);
	HASH_ITER(hh, r->processes, p, tmp) {
		HASH_DEL(r->processes, p);
		free(p->binary);
		free(p);
	}
	HASH_ITER(hh, r->kept, k, ktmp) {
		HASH_DEL(r->kept, k);
		free(k);
	}
	HASH_ITER(hh, r->objects, o, otmp) {
		HASH_DEL(r->objects, o);
		for (unsigned int i = 0; i < o->n; i++)
			free(o->texts[i]);
		free(o);
	}
	images__free(r->images);
	if (r->cgroup_fd >= 0)
		close(r->cgroup_fd);
	free(r);
}
