/* The agent's books on fixture trees: lifecycle records and aggregation
 * entries in, store rows out. Workloads are named by an identity over
 * tests/fixtures/proc (PID 1's namespaces are the host's) and a copy of
 * tests/fixtures/container (runtime state holds absolute bundle paths,
 * written there as @ROOT@); the store lives in a scratch directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "agent/ledger.h"
#include "container_tree.h"
#include "proc_records.h"
#include "scratch.h"

#define ID_A "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"
#define ID_E "a9f51566bd6705f7ea6ad54bb9deb449f795582d6529a0e22207b8981233ec58"
#define UID_A "0b6f4c1e-6a3c-4a8e-9d3b-1f2e3d4c5b6a"
/* A pod's container: payments/api-6d4cf56db6-x2x7q, container "api". */
#define CG_A "/kubepods/besteffort/pod" UID_A "/" ID_A
#define POD_A "payments/api-6d4cf56db6-x2x7q/api"
#define IMAGE_A "registry.example/payments/api:1.4.2"
/* A docker container without pod or name. */
#define CG_E "/system.slice/docker-" ID_E ".scope"
#define CG_HOST "/user.slice/user-1000.slice/session-1.scope"
#define CG_UNIT "/system.slice/cron.service" /* made in the copy */
#define CG_GONE (1ull << 60) /* no such cgroup */

#define MNT_HOST 4026531841u /* tests/fixtures/proc/1/ns/mnt */
#define MNT_POD 4026532700u
#define OFFSET 1700000000000000000ll /* wall clock - boot clock */

#define PID_RUNC 4242 /* runc:[2:INIT], then the container's command */
#define PID_WORK 4244 /* another process of the workload */

static char root[SCRATCH_DIR_LEN]; /* the container fixture's copy */
static char proc_root[PATH_MAX];

struct fixture {
	char dir[SCRATCH_DIR_LEN];
	struct container_tree tree;
	struct identity *id;
	struct store *store;
	struct ledger *ledger;
};

static int group_setup(void **state)
{
	const char *src = getenv("CAPTRAIL_SRC");

	(void)state;
	snprintf(proc_root, sizeof(proc_root), "%s/tests/fixtures/proc", src ? src : ".");
	if (container_tree_make(root, "ledger"))
		return -1;
	run("mkdir -p %s/cgroupfs/unified%s", root, CG_UNIT);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_dir_remove(root);
}

/* The cgroup id of a fixture cgroup: its inode, as on cgroupfs. */
static uint64_t cgid(const char *cgroup)
{
	return container_tree_cgid(root, "cgroupfs/unified", cgroup);
}

/* The books as the agent keeps them; scan false leaves the host's mount
 * namespace unknown. */
static struct fixture *fixture_new(size_t max_images, bool scan)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct identity_opts iopts = { .proc_root = proc_root, .node_name = "node-1",
				       .boot_offset_ns = OFFSET };
	struct ledger_opts lopts = { .boot_offset_ns = OFFSET, .max_images = max_images };
	char path[PATH_MAX];

	assert_non_null(f);
	assert_int_equal(scratch_dir_make(f->dir, "ledger-db"), 0);
	iopts.container_roots = container_tree_roots(&f->tree, root, "cgroupfs");
	assert_int_equal(identity__new(&iopts, &f->id), 0);
	if (scan) {
		assert_int_equal(identity_scan(f->id), 0);
		assert_non_null(identity_host_ns(f->id));
		assert_int_equal(identity_host_ns(f->id)[CT_NS_MNT], MNT_HOST);
	}
	fmt(path, sizeof(path), "%s/captrail.db", f->dir);
	assert_int_equal(store__new(path, 0, &f->store), 0);
	lopts.identity = f->id;
	lopts.store = f->store;
	assert_int_equal(ledger__new(&lopts, &f->ledger), 0);
	return f;
}

static int setup(void **state)
{
	*state = fixture_new(0, true);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int err;

	if (!f) /* the test failed before it made its books */
		return 0;
	ledger__free(f->ledger);
	store__free(f->store);
	identity__free(f->id);
	err = scratch_dir_remove(f->dir);
	free(f);
	return err;
}

/* ---- records in ---- */

static void proc_rec(struct fixture *f, uint32_t type, uint32_t pid, uint32_t ppid,
		     uint32_t exec_gen, uint64_t cgroup, uint32_t mntns, const char *binary)
{
	struct ct_proc_event rec;

	proc_record_image(&rec, type, pid, ppid, exec_gen, cgroup, mntns);
	if (binary)
		set_binary(&rec, binary);
	assert_int_equal(ledger_proc(f->ledger, &rec), 0);
}

static void exec_rec(struct fixture *f, uint32_t pid, uint32_t exec_gen, uint64_t cgroup,
		     uint32_t mntns, const char *binary)
{
	proc_rec(f, CT_REC_EXEC, pid, 0, exec_gen, cgroup, mntns, binary);
}

static void exit_rec(struct fixture *f, uint32_t pid)
{
	proc_rec(f, CT_REC_EXIT, pid, 0, 0, 0, 0, NULL);
}

static struct ct_agg_key key_of(uint64_t cgroup, uint32_t pid, uint32_t exec_gen, int cap,
				uint32_t flags)
{
	return (struct ct_agg_key){
		.cgroup_id = cgroup,
		.pid = pid,
		.exec_gen = exec_gen,
		.cap = cap,
		.syscall = SYS_socket,
		.flags = flags,
	};
}

/* One drain's reading of key: count so far, first seen at boot time 100. */
static void entry(struct fixture *f, const struct ct_agg_key *key, uint64_t count,
		  const struct ct_outcome *outcome, uint64_t now_ns)
{
	const struct ct_agg_value value = { .count = count, .audit_samples = 1, .first_ns = 100 };

	assert_int_equal(ledger_entry(f->ledger, key, &value, outcome, now_ns), 0);
}

static uint64_t pending(struct fixture *f);

/* A key whose image is not known (a process that ran before the agent, or
 * whose exec record is not consumed yet): the first drain that meets it
 * leaves it to the next. */
static void entry_late(struct fixture *f, const struct ct_agg_key *key, uint64_t count,
		       const struct ct_outcome *outcome, uint64_t now_ns)
{
	uint64_t before = pending(f);

	entry(f, key, count, outcome, now_ns);
	assert_int_equal(pending(f), before);
	entry(f, key, count, outcome, now_ns);
}

static struct ledger_stats books(struct fixture *f)
{
	struct ledger_stats st;

	ledger_stats(f->ledger, &st);
	return st;
}

static uint64_t pending(struct fixture *f)
{
	struct store_stats st;

	store_stats(f->store, &st);
	return st.pending;
}

/* ---- rows out ---- */

struct row {
	struct store_row r; /* its strings die with the callback: kind only */
	char name[WORKLOAD_NAME_MAX];
	char image[128];
};

struct rows {
	struct row row[16];
	size_t n;
};

static int collect(void *ctx, const struct store_row *r)
{
	struct rows *c = ctx;
	struct row *out;

	if (c->n == 16)
		return -E2BIG;
	out = &c->row[c->n++];
	out->r = *r;
	workload_name(&r->workload, out->name, sizeof(out->name));
	snprintf(out->image, sizeof(out->image), "%s", r->workload.image ? r->workload.image : "");
	memset(&out->r.workload, 0, sizeof(out->r.workload));
	out->r.workload.kind = r->workload.kind;
	return 0;
}

/* Flushes, then every stored row. */
static struct rows stored(struct fixture *f)
{
	static const struct store_filter all = { .select = STORE_SELECT_ALL };
	struct rows c = { .n = 0 };

	assert_int_equal(store_flush(f->store), 0);
	assert_int_equal(store_query(f->store, &all, collect, &c), 0);
	return c;
}

/* The row of workload name with cap and verdict; fails when there is none. */
static const struct row *find(const struct rows *c, const char *name, int cap, bool denied)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->row[i].name, name) && c->row[i].r.check.cap == cap &&
		    c->row[i].r.check.denied == denied)
			return &c->row[i];
	fail_msg("no row %s cap %d %s among %zu", name, cap, denied ? "denied" : "granted", c->n);
	return NULL;
}

/* Flushes; the store must hold one row, name's with cap and verdict, of
 * count checks. */
static void assert_only_row(struct fixture *f, const char *name, int cap, bool denied,
			    uint64_t count)
{
	struct rows c = stored(f);

	assert_int_equal(c.n, 1);
	assert_int_equal(find(&c, name, cap, denied)->r.check.count, count);
}

/* ---- tests ---- */

/* Each reading stores what grew since the last one, never the whole
 * count again. */
static void test_growth_stored_once(void **state)
{
	struct fixture *f = *state;
	struct ct_agg_key k = key_of(cgid(CG_A), PID_RUNC, 2, CAP_NET_RAW, 0);
	const struct row *r;
	struct rows c;

	exec_rec(f, PID_RUNC, 2, cgid(CG_A), MNT_POD, "/usr/bin/api");
	entry(f, &k, 3, NULL, 5000);
	assert_int_equal(pending(f), 2); /* the check row and the container instance */
	c = stored(f);
	assert_int_equal(c.n, 1);
	r = find(&c, POD_A, CAP_NET_RAW, false);
	assert_int_equal(r->r.workload.kind, WORKLOAD_POD_CONTAINER);
	assert_string_equal(r->image, IMAGE_A);
	assert_int_equal(r->r.check.count, 3);
	assert_int_equal(r->r.check.first_ns, 100 + OFFSET); /* boot clock to wall clock */
	assert_int_equal(r->r.check.last_ns, 5000);
	assert_int_equal(r->r.check.audit, CHECK_AUDITED);
	assert_int_equal(r->r.check.syscall, SYS_socket);
	assert_int_equal(r->r.instances, 1);

	entry(f, &k, 7, NULL, 6000);
	c = stored(f);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.row[0].r.check.count, 7);
	assert_int_equal(c.row[0].r.check.first_ns, 100 + OFFSET);
	assert_int_equal(c.row[0].r.check.last_ns, 6000);

	/* unchanged: nothing to store, not even a later last-seen time */
	entry(f, &k, 7, NULL, 9000);
	assert_int_equal(pending(f), 0);
	c = stored(f);
	assert_int_equal(c.row[0].r.check.count, 7);
	assert_int_equal(c.row[0].r.check.last_ns, 6000);

	assert_int_equal(books(f).checks, 7);
	assert_int_equal(books(f).denied, 0);
	assert_int_equal(books(f).runtime, 0);
	assert_int_equal(books(f).images_untracked, 0);
}

/* Two keys of one workload (two processes, two images) are one row. */
static void test_keys_fold_into_workload(void **state)
{
	struct fixture *f = *state;
	struct ct_agg_key a = key_of(cgid(CG_A), PID_RUNC, 2, CAP_NET_RAW, 0);
	struct ct_agg_key b = key_of(cgid(CG_A), PID_WORK, 1, CAP_NET_RAW, 0);
	struct rows c;

	exec_rec(f, PID_RUNC, 2, cgid(CG_A), MNT_POD, "/usr/bin/api");
	exec_rec(f, PID_WORK, 1, cgid(CG_A), MNT_POD, "/usr/bin/worker");
	entry(f, &a, 2, NULL, 5000);
	entry(f, &b, 5, NULL, 5000);
	assert_only_row(f, POD_A, CAP_NET_RAW, false, 7);
	entry(f, &a, 3, NULL, 6000);
	entry(f, &b, 5, NULL, 6000);
	c = stored(f);
	assert_int_equal(find(&c, POD_A, CAP_NET_RAW, false)->r.check.count, 8);
}

/* Kernel threads working for a cgroup are not its workload. */
static void test_kthread_never_stored(void **state)
{
	struct fixture *f = *state;
	struct ct_agg_key granted = key_of(cgid(CG_A), 777, 0, CAP_SYS_ADMIN, CT_AGG_KTHREAD);
	struct ct_agg_key denied = key_of(cgid(CG_A), 777, 0, CAP_SYS_RESOURCE,
					  CT_AGG_KTHREAD | CT_AGG_DENIED);
	struct ct_agg_key host = key_of(cgid(CG_HOST), 300, 0, CAP_SYS_ADMIN, CT_AGG_KTHREAD);
	struct ct_agg_key user = key_of(cgid(CG_A), PID_RUNC, 2, CAP_NET_RAW, 0);

	exec_rec(f, PID_RUNC, 2, cgid(CG_A), MNT_POD, "/usr/bin/api");
	entry(f, &granted, 5, NULL, 5000);
	entry(f, &denied, 2, NULL, 5000);
	entry(f, &host, 4, NULL, 5000);
	assert_int_equal(pending(f), 0);
	entry(f, &granted, 9, NULL, 6000);
	entry(f, &user, 1, NULL, 6000); /* the workload's own, next to them */
	assert_only_row(f, POD_A, CAP_NET_RAW, false, 1);
	assert_int_equal(books(f).checks, 1);
	assert_int_equal(books(f).denied, 0);
}

/* A container runtime's start-up is counted under the container's cgroup
 * but is not the workload: counted apart, never stored. */
static void test_runtime_start_apart(void **state)
{
	struct fixture *f = *state;
	uint64_t pod = cgid(CG_A), host = cgid(CG_HOST);
	struct ct_agg_key init = key_of(pod, PID_RUNC, 1, CAP_SYS_ADMIN, 0);
	struct ct_agg_key child = key_of(pod, 4243, 1, CAP_SETUID, 0);
	struct ct_agg_key outside = key_of(pod, 4250, 1, CAP_DAC_OVERRIDE, 0);
	struct ct_agg_key workload = key_of(pod, PID_RUNC, 2, CAP_NET_RAW, 0);
	struct ct_agg_key early = key_of(pod, 4300, 5, CAP_CHOWN, 0);
	struct ct_agg_key host_proc = key_of(host, 300, 1, CAP_KILL, 0);
	struct rows c;

	/* runc:[2:INIT] is exec'd in the cgroup, in the host's mount ns */
	exec_rec(f, PID_RUNC, 1, pod, MNT_HOST, "/usr/bin/runc");
	proc_rec(f, CT_REC_FORK, 4243, PID_RUNC, 1, pod, MNT_POD, NULL);
	/* exec'd outside the cgroup, then moved in */
	exec_rec(f, 4250, 1, host, MNT_POD, "/usr/bin/runc");
	/* the container's command */
	exec_rec(f, PID_RUNC, 2, pod, MNT_POD, "/usr/bin/api");
	/* a host program exec'd in the host's mount ns is the host's workload */
	exec_rec(f, 300, 1, host, MNT_HOST, "/usr/bin/prog");

	entry(f, &init, 4, NULL, 5000);
	entry(f, &child, 2, NULL, 5000);
	entry(f, &outside, 3, NULL, 5000);
	entry(f, &workload, 1, NULL, 5000);
	entry_late(f, &early, 6, NULL, 5000); /* image unknown (before the agent): kept */
	entry(f, &host_proc, 2, NULL, 5000);
	assert_int_equal(books(f).runtime, 9);
	assert_int_equal(books(f).checks, 18);
	c = stored(f);
	assert_int_equal(c.n, 3);
	assert_int_equal(find(&c, POD_A, CAP_NET_RAW, false)->r.check.count, 1);
	assert_int_equal(find(&c, POD_A, CAP_CHOWN, false)->r.check.count, 6);
	assert_int_equal(find(&c, "/usr/bin/prog", CAP_KILL, false)->r.check.count, 2);

	/* the runtime's keys grow: still its own */
	entry(f, &init, 10, NULL, 6000);
	assert_int_equal(books(f).runtime, 15);
	assert_int_equal(pending(f), 0);
	c = stored(f);
	assert_int_equal(c.n, 3);
}

/* The same rule for a plain container; none for a systemd unit, whose
 * programs all run in the host's mount ns. */
static void test_container_and_unit(void **state)
{
	struct fixture *f = *state;
	uint64_t docker = cgid(CG_E), unit = cgid(CG_UNIT);
	struct ct_agg_key init = key_of(docker, 5151, 1, CAP_SYS_ADMIN, 0);
	struct ct_agg_key sh = key_of(docker, 5151, 2, CAP_CHOWN, 0);
	struct ct_agg_key cron = key_of(unit, 600, 1, CAP_SETGID, 0);
	const struct row *r;
	struct rows c;

	exec_rec(f, 5151, 1, docker, MNT_HOST, "/usr/bin/runc");
	exec_rec(f, 5151, 2, docker, MNT_POD, "/bin/sh");
	exec_rec(f, 600, 1, unit, MNT_HOST, "/usr/sbin/cron");
	entry(f, &init, 2, NULL, 5000);
	entry(f, &sh, 3, NULL, 5000);
	entry(f, &cron, 4, NULL, 5000);
	assert_int_equal(books(f).runtime, 2);
	c = stored(f);
	assert_int_equal(c.n, 2);
	r = find(&c, ID_E, CAP_CHOWN, false); /* no name: named by its id */
	assert_int_equal(r->r.workload.kind, WORKLOAD_CONTAINER);
	assert_int_equal(r->r.check.count, 3);
	assert_int_equal(r->r.instances, 1);
	r = find(&c, "cron.service", CAP_SETGID, false);
	assert_int_equal(r->r.workload.kind, WORKLOAD_UNIT);
	assert_int_equal(r->r.check.count, 4);
	assert_int_equal(r->r.instances, 0);
}

/* What denied checks' syscalls returned grows like the count: stored as
 * differences too. */
static void test_outcome_delta(void **state)
{
	/* The denied key read four times: its count, what its syscalls have
	 * returned so far (unless not observed), and what its row must show. */
	static const struct {
		uint64_t count, now;
		bool observed;
		struct ct_outcome outcome, want;
	} readings[] = {
		{ 2, 5000, true, { .eperm = 2 }, { .eperm = 2 } },
		{ 5, 6000, true, { .eperm = 3, .eacces = 1, .success = 1 },
		  { .eperm = 3, .eacces = 1, .success = 1 } },
		/* not observed this time: the count grows, the outcomes stay */
		{ 6, 7000, false, { 0 }, { .eperm = 3, .eacces = 1, .success = 1 } },
		/* and the next reading is against the last one observed */
		{ 8, 8000, true, { .eperm = 4, .eacces = 1, .success = 1, .other = 1 },
		  { .eperm = 4, .eacces = 1, .success = 1, .other = 1 } },
	};
	struct fixture *f = *state;
	struct ct_agg_key k = key_of(cgid(CG_A), PID_RUNC, 2, CAP_SYS_ADMIN, CT_AGG_DENIED);
	struct ct_agg_key ok = key_of(cgid(CG_A), PID_RUNC, 2, CAP_SYS_ADMIN, 0);
	const struct row *r;
	struct rows c;

	exec_rec(f, PID_RUNC, 2, cgid(CG_A), MNT_POD, "/usr/bin/api");
	k.syscall = SYS_mount;
	for (size_t i = 0; i < sizeof(readings) / sizeof(readings[0]); i++) {
		entry(f, &k, readings[i].count, readings[i].observed ? &readings[i].outcome : NULL,
		      readings[i].now);
		c = stored(f);
		r = find(&c, POD_A, CAP_SYS_ADMIN, true);
		assert_int_equal(r->r.check.count, readings[i].count);
		assert_int_equal(r->r.check.syscall, SYS_mount);
		assert_int_equal(r->r.check.outcome.eperm, readings[i].want.eperm);
		assert_int_equal(r->r.check.outcome.eacces, readings[i].want.eacces);
		assert_int_equal(r->r.check.outcome.success, readings[i].want.success);
		assert_int_equal(r->r.check.outcome.other, readings[i].want.other);
	}

	entry(f, &ok, 1, NULL, 8000); /* granted: a row of its own */
	c = stored(f);
	assert_int_equal(c.n, 2);
	r = find(&c, POD_A, CAP_SYS_ADMIN, false);
	assert_int_equal(r->r.check.count, 1);
	assert_int_equal(r->r.check.outcome.eperm, 0);
	assert_int_equal(books(f).denied, 8);
	assert_int_equal(books(f).checks, 9);
}

struct deleted {
	struct ct_agg_key keys[8];
	size_t n;
	int err; /* returned by the callback */
};

static int delete_key(void *ctx, const struct ct_agg_key *key)
{
	struct deleted *d = ctx;

	if (d->n == 8)
		return -E2BIG;
	d->keys[d->n++] = *key;
	return d->err;
}

static bool deleted_has(const struct deleted *d, const struct ct_agg_key *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!memcmp(&d->keys[i], key, sizeof(*key)))
			return true;
	return false;
}

/* An exited process's keys are read one last time, then deleted and
 * forgotten: the same key later counts from zero. */
static void test_forget_gone(void **state)
{
	struct fixture *f = *state;
	uint64_t pod = cgid(CG_A);
	struct ct_agg_key stays = key_of(pod, PID_RUNC, 2, CAP_NET_RAW, 0);
	struct ct_agg_key gone1 = key_of(pod, PID_WORK, 1, CAP_CHOWN, 0);
	struct ct_agg_key gone2 = key_of(pod, PID_WORK, 1, CAP_SYS_ADMIN, CT_AGG_DENIED);
	struct deleted d = { .n = 0 };
	struct rows c;

	exec_rec(f, PID_RUNC, 2, pod, MNT_POD, "/usr/bin/api");
	exec_rec(f, PID_WORK, 1, pod, MNT_POD, "/usr/bin/worker");
	entry(f, &stays, 1, NULL, 5000);
	entry(f, &gone1, 2, NULL, 5000);
	entry(f, &gone2, 1, NULL, 5000);
	assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), 0);
	assert_int_equal(d.n, 0); /* nobody exited */

	exit_rec(f, PID_WORK);
	entry(f, &gone1, 3, NULL, 6000); /* the last reading after the exit still counts */
	assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), 0);
	assert_int_equal(d.n, 2);
	assert_true(deleted_has(&d, &gone1));
	assert_true(deleted_has(&d, &gone2));
	d.n = 0;
	assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), 0);
	assert_int_equal(d.n, 0); /* forgotten */

	/* The kernel's entry was deleted: a new one (a new process of that
	 * pid, whose exec was not seen) counts from zero. */
	entry_late(f, &gone1, 2, NULL, 7000);
	entry(f, &stays, 1, NULL, 7000); /* remembered: nothing new */
	c = stored(f);
	assert_int_equal(find(&c, POD_A, CAP_CHOWN, false)->r.check.count, 5);
	assert_int_equal(find(&c, POD_A, CAP_SYS_ADMIN, true)->r.check.count, 1);
	assert_int_equal(find(&c, POD_A, CAP_NET_RAW, false)->r.check.count, 1);
	assert_int_equal(books(f).checks, 7);
}

/* A delete that fails stops the pass; the key is deleted on the next. */
static void test_forget_gone_error(void **state)
{
	struct fixture *f = *state;
	struct ct_agg_key k = key_of(cgid(CG_A), PID_RUNC, 2, CAP_NET_RAW, 0);
	struct deleted d = { .n = 0, .err = -EIO };

	exec_rec(f, PID_RUNC, 2, cgid(CG_A), MNT_POD, "/usr/bin/api");
	entry(f, &k, 4, NULL, 5000);
	exit_rec(f, PID_RUNC);
	assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), -EIO);
	assert_int_equal(d.n, 1);
	d = (struct deleted){ .n = 0 };
	assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), 0);
	assert_int_equal(d.n, 1);
	assert_true(deleted_has(&d, &k));
	/* still counted once */
	entry_late(f, &k, 4, NULL, 6000);
	assert_int_equal(stored(f).row[0].r.check.count, 8);
}

/* The images of an exited process go with its keys: a runtime start-up
 * image does not outlive it to misfile a later process of that pid. */
static void test_forget_drops_images(void **state)
{
	struct fixture *f = *state;
	struct ct_agg_key k = key_of(cgid(CG_A), PID_RUNC, 1, CAP_SYS_ADMIN, 0);
	struct deleted d = { .n = 0 };

	exec_rec(f, PID_RUNC, 1, cgid(CG_A), MNT_HOST, "/usr/bin/runc");
	entry(f, &k, 2, NULL, 5000);
	assert_int_equal(books(f).runtime, 2);
	exit_rec(f, PID_RUNC);
	assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), 0);
	assert_int_equal(d.n, 1);
	/* the pid reused by a process started before its exec was seen */
	entry_late(f, &k, 1, NULL, 6000);
	assert_int_equal(books(f).runtime, 2);
	assert_only_row(f, POD_A, CAP_SYS_ADMIN, false, 1);
}

/* Processes that exit without a check leave no image behind either: the
 * table holds the node's running processes, not every one it ever ran. */
static void test_images_of_quiet_processes_go(void **state)
{
	struct fixture *f = fixture_new(2, true);
	struct ct_agg_key k = key_of(cgid(CG_A), 4300, 1, CAP_SYS_ADMIN, 0);
	struct deleted d = { .n = 0 };

	*state = f; /* freed by teardown, whatever happens next */
	for (uint32_t pid = 4300; pid < 4310; pid++) {
		exec_rec(f, pid, 1, cgid(CG_A), MNT_HOST, "/usr/bin/runc");
		exit_rec(f, pid);
		if (pid % 2)
			assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), 0);
	}
	assert_int_equal(books(f).images_untracked, 0);
	assert_int_equal(d.n, 0);
	exec_rec(f, 4300, 1, cgid(CG_A), MNT_HOST, "/usr/bin/runc");
	entry(f, &k, 2, NULL, 5000);
	assert_int_equal(books(f).runtime, 2); /* its image is known */
}

/* Outside containers a process is named by its binary: from /proc when
 * the proc root has it, else "unknown". */
static void test_host_binaries(void **state)
{
	struct fixture *f = *state;
	uint64_t host = cgid(CG_HOST);
	struct ct_agg_key prog = key_of(host, 300, 1, CAP_NET_BIND_SERVICE, 0);
	struct ct_agg_key prog_gone_cg = key_of(CG_GONE, 300, 1, CAP_NET_BIND_SERVICE, 0);
	struct ct_agg_key init = key_of(host, 1, 1, CAP_SYS_ADMIN, 0);
	struct ct_agg_key deleted = key_of(host, 200, 1, CAP_KILL, 0);
	struct ct_agg_key nobody = key_of(host, 999999, 1, CAP_SYS_PTRACE, 0);
	static const struct store_filter by_binary = { .select = STORE_SELECT_BINARY,
						       .binary = "/usr/bin/prog" };
	const struct row *r;
	struct rows c = { .n = 0 };

	entry_late(f, &prog, 2, NULL, 5000);
	entry_late(f, &prog_gone_cg, 3, NULL, 5000); /* a cgroup already gone: still the host */
	entry_late(f, &init, 1, NULL, 5000);
	entry_late(f, &deleted, 1, NULL, 5000);
	entry_late(f, &nobody, 4, NULL, 5000);
	assert_int_equal(store_flush(f->store), 0);
	assert_int_equal(store_query(f->store, &by_binary, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.row[0].r.workload.kind, WORKLOAD_HOST_BINARY);
	assert_int_equal(c.row[0].r.check.count, 5);
	assert_int_equal(c.row[0].r.instances, 0);

	c = stored(f);
	assert_int_equal(c.n, 4);
	find(&c, "/usr/lib/systemd/systemd", CAP_SYS_ADMIN, false);
	find(&c, "/usr/bin/foo", CAP_KILL, false); /* exe's " (deleted)" is not the name */
	r = find(&c, "unknown", CAP_SYS_PTRACE, false);
	assert_int_equal(r->r.workload.kind, WORKLOAD_HOST_BINARY);
	assert_int_equal(r->r.check.count, 4);
}

/* Past the image bound an image is unknown and its checks are kept: a
 * profile may show a runtime's check, never lose a workload's. */
static void test_image_bound(void **state)
{
	struct fixture *f = fixture_new(1, true);
	struct ct_agg_key tracked = key_of(cgid(CG_A), PID_RUNC, 1, CAP_SYS_ADMIN, 0);
	struct ct_agg_key untracked = key_of(cgid(CG_A), 4245, 1, CAP_SETPCAP, 0);

	*state = f; /* freed by teardown, whatever happens next */
	exec_rec(f, PID_RUNC, 1, cgid(CG_A), MNT_HOST, "/usr/bin/runc");
	exec_rec(f, 4245, 1, cgid(CG_A), MNT_HOST, "/usr/bin/runc");
	entry(f, &tracked, 2, NULL, 5000);
	entry_late(f, &untracked, 3, NULL, 5000);
	assert_int_equal(books(f).runtime, 2);
	assert_int_equal(books(f).images_untracked, 1);
	assert_only_row(f, POD_A, CAP_SETPCAP, false, 3);
}

/* Without a scan the host's mount namespace is unknown: only an exec
 * outside the container's cgroup marks the runtime then. */
static void test_host_ns_unknown(void **state)
{
	struct fixture *f = fixture_new(0, false);
	struct ct_agg_key in_host_ns = key_of(cgid(CG_A), PID_RUNC, 1, CAP_SYS_ADMIN, 0);
	struct ct_agg_key outside = key_of(cgid(CG_A), 4250, 1, CAP_SETUID, 0);

	*state = f; /* freed by teardown, whatever happens next */
	assert_null(identity_host_ns(f->id));
	exec_rec(f, PID_RUNC, 1, cgid(CG_A), MNT_HOST, "/usr/bin/runc");
	exec_rec(f, 4250, 1, cgid(CG_HOST), MNT_HOST, "/usr/bin/runc");
	entry(f, &in_host_ns, 2, NULL, 5000);
	entry(f, &outside, 3, NULL, 5000);
	assert_int_equal(books(f).runtime, 3);
	assert_only_row(f, POD_A, CAP_SYS_ADMIN, false, 2);
}

/* A process that execs, checks and exits between two drains (any short
 * one): its exit record is consumed before the drain first reads its keys,
 * which must still be deleted from the kernel's map once read. */
static void test_exit_before_first_read(void **state)
{
	struct fixture *f = *state;
	struct ct_agg_key k = key_of(cgid(CG_A), PID_WORK, 1, CAP_CHOWN, 0);
	struct deleted d = { .n = 0 };

	exec_rec(f, PID_WORK, 1, cgid(CG_A), MNT_POD, "/usr/bin/worker");
	exit_rec(f, PID_WORK);
	entry(f, &k, 2, NULL, 5000);
	assert_int_equal(stored(f).row[0].r.check.count, 2);
	assert_int_equal(ledger_forget_gone(f->ledger, delete_key, &d), 0);
	assert_int_equal(d.n, 1);
}

/* A denied check's outcome is counted when its syscall returns, after the
 * count: a drain in between reads the count without it, and the next one
 * must store the outcome although the count did not grow. */
static void test_outcome_after_count(void **state)
{
	struct fixture *f = *state;
	struct ct_agg_key k = key_of(cgid(CG_A), PID_RUNC, 2, CAP_SYS_ADMIN, CT_AGG_DENIED);
	const struct ct_outcome o = { .eperm = 1 };
	struct rows c;

	exec_rec(f, PID_RUNC, 2, cgid(CG_A), MNT_POD, "/usr/bin/api");
	entry(f, &k, 1, NULL, 5000);
	entry(f, &k, 1, &o, 6000);
	c = stored(f);
	assert_int_equal(find(&c, POD_A, CAP_SYS_ADMIN, true)->r.check.outcome.eperm, 1);
	assert_int_equal(find(&c, POD_A, CAP_SYS_ADMIN, true)->r.check.count, 1);
}

/* A record as the agent handles it: the identity first, then the books. */
static void observe(struct fixture *f, uint32_t type, uint32_t pid, uint32_t exec_gen,
		    uint64_t ktime_ns, uint64_t cgroup, uint32_t mntns, const char *binary)
{
	struct ct_proc_event rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = type;
	rec.ktime_ns = ktime_ns;
	rec.pid = rec.tid = pid;
	rec.ppid = 1;
	rec.exec_gen = exec_gen;
	rec.cgroup_id = cgroup;
	rec.ns[CT_NS_MNT] = mntns;
	if (binary) {
		snprintf(rec.binary, sizeof(rec.binary), "%s", binary);
		rec.binary_len = (uint16_t)(strlen(binary) + 1);
	}
	assert_int_equal(identity_apply(f->id, &rec), 0);
	assert_int_equal(ledger_proc(f->ledger, &rec), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *out = fopen(path, "w");

	assert_non_null(out);
	assert_true(fputs(text, out) >= 0);
	assert_int_equal(fclose(out), 0);
}

/* A pod that lives a fraction of a second between two flushes: runc runs
 * itself again through /proc/self/exe on the host, and its sealed copy
 * through /dev/fd/6 once moved into the container's cgroup, writes the
 * state, execs the command, which checks and exits; runc deletes state,
 * bundle and cgroup. The flush after that names every check. */
static void test_short_lived_pod(void **state)
{
	static const char uid[] = "0f0f0f0f-0000-4000-8000-00000000c0de";
	static const char id[] = "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de";
	struct fixture *f = *state;
	char cg[PATH_MAX], text[3 * PATH_MAX], path[PATH_MAX];
	uint64_t host = cgid(CG_HOST), pod;
	struct ct_agg_key runc = key_of(host, 900, 2, CAP_SYS_ADMIN, 0);
	struct ct_agg_key init, work;
	struct rows c;

	fmt(cg, sizeof(cg), "/kubepods/besteffort/pod%s/%s", uid, id);
	run("mkdir -p %s/cgroupfs/unified%s %s/bundles/short %s/run/runc/%s",
			     root, cg, root, root, id);
	pod = cgid(cg);
	init = key_of(pod, 900, 3, CAP_SETPCAP, 0);
	work = key_of(pod, 900, 4, CAP_CHOWN, 0);

	observe(f, CT_REC_EXEC, 900, 1, 1000, host, MNT_HOST, "/usr/sbin/runc");
	observe(f, CT_REC_EXEC, 900, 2, 2000, host, MNT_HOST, "/proc/self/exe");
	observe(f, CT_REC_EXEC, 900, 3, 3000, pod, MNT_HOST, "/dev/fd/6");
	fmt(path, sizeof(path), "%s/bundles/short/config.json", root);
	write_text(path, "{\"annotations\": {"
		   "\"io.kubernetes.cri.sandbox-namespace\": \"churn\", "
		   "\"io.kubernetes.cri.sandbox-name\": \"short\", "
		   "\"io.kubernetes.cri.container-name\": \"c\"}}");
	fmt(path, sizeof(path), "%s/run/runc/%s/state.json", root, id);
	fmt(text, sizeof(text), "{\"bundle\": \"%s/bundles/short\", \"pid\": 900}", root);
	write_text(path, text);
	observe(f, CT_REC_EXEC, 900, 4, 4000, pod, MNT_POD, "/bin/sh");
	observe(f, CT_REC_EXIT, 900, 4, 5000, pod, MNT_POD, NULL);
	run("rm -rf %s/bundles/short %s/run/runc/%s", root, root, id);
	run("rmdir %s/cgroupfs/unified%s", root, cg);

	entry(f, &runc, 5, NULL, 6000);
	entry(f, &init, 7, NULL, 6000);
	entry(f, &work, 1, NULL, 6000);
	assert_int_equal(books(f).runtime, 7);
	c = stored(f);
	assert_int_equal(c.n, 2);
	assert_int_equal(find(&c, "churn/short/c", CAP_CHOWN, false)->r.check.count, 1);
	/* runc's own work on the host is runc's, not /proc/self/exe's or /bin/sh's */
	assert_int_equal(find(&c, "/usr/sbin/runc", CAP_SYS_ADMIN, false)->r.check.count, 5);
}

/* The drain meets the key of a container's command before the command's
 * exec record is consumed (the runtime wrote the state and exec'd it
 * while the kernel's map was read): the key waits for the next drain,
 * which names its pod rather than a bare container id. */
static void test_key_before_its_exec(void **state)
{
	static const char uid[] = "0f0f0f0f-0000-4000-8000-00000000feed";
	static const char id[] = "feedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeed";
	struct fixture *f = *state;
	char cg[PATH_MAX], text[3 * PATH_MAX], path[PATH_MAX];
	struct ct_agg_key work;
	uint64_t pod;
	struct rows c;

	fmt(cg, sizeof(cg), "/kubepods/besteffort/pod%s/%s", uid, id);
	run("mkdir -p %s/cgroupfs/unified%s %s/bundles/early %s/run/runc/%s",
			     root, cg, root, root, id);
	pod = cgid(cg);
	work = key_of(pod, 910, 4, CAP_CHOWN, 0);
	/* runc's init, in the cgroup before the state exists */
	observe(f, CT_REC_EXEC, 910, 3, 3000, pod, MNT_HOST, "/usr/sbin/runc");
	fmt(path, sizeof(path), "%s/bundles/early/config.json", root);
	write_text(path, "{\"annotations\": {"
		   "\"io.kubernetes.cri.sandbox-namespace\": \"churn\", "
		   "\"io.kubernetes.cri.sandbox-name\": \"early\", "
		   "\"io.kubernetes.cri.container-name\": \"c\"}}");
	fmt(path, sizeof(path), "%s/run/runc/%s/state.json", root, id);
	fmt(text, sizeof(text), "{\"bundle\": \"%s/bundles/early\", \"pid\": 910}", root);
	write_text(path, text);
	entry(f, &work, 1, NULL, 5000);
	assert_int_equal(pending(f), 0);
	observe(f, CT_REC_EXEC, 910, 4, 4000, pod, MNT_POD, "/bin/sh");
	entry(f, &work, 1, NULL, 6000);
	c = stored(f);
	assert_int_equal(c.n, 1);
	assert_int_equal(find(&c, "churn/early/c", CAP_CHOWN, false)->r.check.count, 1);
	run("rm -rf %s/bundles/early %s/run/runc/%s", root, root, id);
	run("rmdir %s/cgroupfs/unified%s", root, cg);
}

/* A host program is named by the image that made the checks; a re-exec
 * whose program is not known is "unknown", never a name of /proc. */
static void test_host_named_by_image(void **state)
{
	struct fixture *f = *state;
	uint64_t host = cgid(CG_HOST);
	struct ct_agg_key before = key_of(host, 300, 1, CAP_KILL, 0);
	struct ct_agg_key after = key_of(host, 300, 2, CAP_SETUID, 0);
	struct ct_agg_key unknown = key_of(host, 999999, 7, CAP_SYS_ADMIN, 0);
	struct rows c;

	observe(f, CT_REC_EXEC, 300, 1, 1000, host, MNT_HOST, "/usr/bin/first");
	observe(f, CT_REC_EXEC, 300, 2, 2000, host, MNT_HOST, "/usr/bin/second");
	observe(f, CT_REC_EXEC, 999999, 7, 3000, host, MNT_HOST, "/proc/self/exe");
	entry(f, &before, 1, NULL, 5000);
	entry(f, &after, 2, NULL, 5000);
	entry(f, &unknown, 3, NULL, 5000);
	c = stored(f);
	assert_int_equal(c.n, 3);
	find(&c, "/usr/bin/first", CAP_KILL, false);
	find(&c, "/usr/bin/second", CAP_SETUID, false);
	find(&c, "unknown", CAP_SYS_ADMIN, false);
}

/* A node's scope is a subtree: a sibling that shares its prefix is not in it. */
static void test_cgroup_in(void **state)
{
	(void)state;
	assert_true(ledger_cgroup_in(NULL, NULL));
	assert_true(ledger_cgroup_in("/t/node-a", "/t/node-a/kubepods/besteffort/pod1/c"));
	assert_true(ledger_cgroup_in("/t/node-a", "/t/node-a"));
	assert_true(ledger_cgroup_in("/", "/kubepods/pod1/c"));
	assert_false(ledger_cgroup_in("/t/node-a", "/t/node-ab/kubepods/pod1/c"));
	assert_false(ledger_cgroup_in("/t/node-a", "/t/node-b/kubepods/pod1/c"));
	assert_false(ledger_cgroup_in("/t/node-a", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_growth_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_fold_into_workload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kthread_never_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtime_start_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_and_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outcome_delta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_gone_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_drops_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_binaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_before_first_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outcome_after_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_lived_pod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_named_by_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_before_its_exec, setup, teardown),
		cmocka_unit_test_teardown(test_image_bound, teardown),
		cmocka_unit_test_teardown(test_images_of_quiet_processes_go, teardown),
		cmocka_unit_test_teardown(test_host_ns_unknown, teardown),
		cmocka_unit_test(test_cgroup_in),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
