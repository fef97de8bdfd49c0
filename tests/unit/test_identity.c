/* Who made a check: the /proc scan and the host's namespaces, lifecycle
 * records turned into the process and parent of a capability event, the
 * pod and container of its cgroup, and the workload the agent files it
 * under. /proc comes from tests/fixtures/proc and tests/fixtures/identity;
 * cgroups and runtime state from a copy of tests/fixtures/container (its
 * runtime state holds absolute bundle paths, written there as @ROOT@). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "identity/identity.h"
#include "identity/procfs.h"
#include "lib/syscalls.h"
#include "container_tree.h"
#include "proc_records.h"
#include "scratch.h"

#define NODE "kind-control-plane"
/* As in test_proc_cache.c: bash (73850) forks and execs dmesg (73860), the
 * reference document's process and parent, whose ids these are. */
#define REF_OFFSET 1688625571051039336ll
#define REF_PARENT_KTIME 12842127120972ull
#define REF_KTIME 12842783350684ull
#define REF_EXEC_ID "a2luZC1jb250cm9sLXBsYW5lOjEyODQyNzgzMzUwNjg0OjczODYw"
#define REF_PARENT_EXEC_ID "a2luZC1jb250cm9sLXBsYW5lOjEyODQyMTI3MTIwOTcyOjczODUw"
#define REF_START_TIME "2023-07-06T10:13:33.834390020Z"
#define UNKNOWN_PID 73841 /* in neither the cache nor any fixture tree */

#define ID_A "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"
#define ID_B "df7e70e5021544f4834bbee64a9e3789febc4be81470df629cad6ddb03320a5c"
#define ID_E "a9f51566bd6705f7ea6ad54bb9deb449f795582d6529a0e22207b8981233ec58"
#define ID_L "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID_A "0b6f4c1e-6a3c-4a8e-9d3b-1f2e3d4c5b6a"
#define UID_B "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define UID_L "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

#define CG_A "/kubepods/besteffort/pod" UID_A "/" ID_A
#define CG_B "/kubepods.slice/kubepods-burstable.slice/" \
	"kubepods-burstable-pod7d1c2b3a_4e5f_4a6b_8c7d_9e0f1a2b3c4d.slice/crio-" ID_B ".scope"
#define CG_E "/system.slice/docker-" ID_E ".scope"
#define CG_L "/kubepods/besteffort/pod" UID_L "/crio-" ID_L
#define CG_HOST "/user.slice/user-1000.slice/session-1.scope"
#define CG_UNIT "/system.slice/cron.service" /* made by group_setup */
#define N_MANY_LABELS 40 /* the pod of CG_L: more than IDENTITY_MAX_LABELS */

static char root[SCRATCH_DIR_LEN]; /* the container fixture's copy */
static struct container_tree tree; /* roots into it */
static char proc_fixture[PATH_MAX]; /* tests/fixtures/proc */
static char identity_fixture[PATH_MAX]; /* tests/fixtures/identity/proc */
static struct ct_proc_event rec;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* A CRI-O container whose pod has N_MANY_LABELS labels: crun's state, the
 * bundle it names, and the cgroup. */
static void make_labelled_container(void)
{
	static char text[16384];
	char path[PATH_MAX];
	size_t len;

	run("mkdir -p %s/cgroupfs/unified%s %s/run/crun/%s %s/bundles/crio-L", root, CG_L,
	    root, ID_L, root);
	fmt(path, sizeof(path), "%s/run/crun/%s/status", root, ID_L);
	fmt(text, sizeof(text), "{\"pid\": 4343, \"bundle\": \"%s/bundles/crio-L\", "
	    "\"created\": \"2024-05-03T00:00:00Z\"}", root);
	write_file(path, text);
	len = (size_t)snprintf(text, sizeof(text),
			       "{\"annotations\": {"
			       "\"io.kubernetes.pod.namespace\": \"many\", "
			       "\"io.kubernetes.pod.name\": \"labelled-0\", "
			       "\"io.kubernetes.container.name\": \"main\", "
			       "\"io.kubernetes.cri-o.Labels\": \"{");
	for (int i = 0; i < N_MANY_LABELS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"%s\\\"key%02d\\\": \\\"value%02d\\\"", i ? ", " : "",
					i, i);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "}\"}}");
	assert_true(len < sizeof(text));
	fmt(path, sizeof(path), "%s/bundles/crio-L/config.json", root);
	write_file(path, text);
}

static int group_setup(void **state)
{
	const char *src = getenv("CAPTRAIL_SRC");

	(void)state;
	if (!src)
		src = ".";
	snprintf(proc_fixture, sizeof(proc_fixture), "%s/tests/fixtures/proc", src);
	snprintf(identity_fixture, sizeof(identity_fixture), "%s/tests/fixtures/identity/proc",
		 src);
	if (container_tree_make(root, "identity"))
		return -1;
	run("mkdir -p %s/cgroupfs/unified%s", root, CG_UNIT);
	make_labelled_container();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_dir_remove(root);
}

static struct identity *new_identity(const char *proc_root)
{
	const struct identity_opts opts = {
		.proc_root = proc_root,
		.node_name = NODE,
		.boot_offset_ns = REF_OFFSET,
		.container_roots = container_tree_roots(&tree, root, "cgroupfs"),
	};
	struct identity *id = NULL;

	assert_int_equal(identity__new(&opts, &id), 0);
	assert_non_null(id);
	return id;
}

/* The cgroup id of a fixture cgroup: its inode, as on cgroupfs. */
static uint64_t cgid(const char *cgroup)
{
	return container_tree_cgid(root, "cgroupfs/unified", cgroup);
}

/* A lifecycle record with an empty binary, no arguments, cwd "/". */
static struct ct_proc_event *mk(uint32_t type, uint64_t ktime_ns, uint32_t pid, uint32_t ppid)
{
	return proc_record_at(&rec, type, ktime_ns, pid, ppid);
}

static void set_ns(uint32_t ns[CT_NS_COUNT], uint32_t base)
{
	for (int i = 0; i < CT_NS_COUNT; i++)
		ns[i] = base + (uint32_t)i;
}

static struct ct_cap_event mk_cap(uint64_t ktime_ns, uint32_t pid, uint32_t ppid,
				  uint64_t cgroup_id)
{
	struct ct_cap_event e = {
		.type = CT_REC_CAP,
		.ktime_ns = ktime_ns,
		.cgroup_id = cgroup_id,
		.pid = pid,
		.tid = pid,
		.ppid = ppid,
		.cap = 21,
		.ret = 0,
		.syscall = CT_NO_SYSCALL,
	};

	snprintf(e.comm, sizeof(e.comm), "p%u", pid);
	return e;
}

static const char *label(const struct identity_pod *pod, const char *key)
{
	for (size_t i = 0; i < pod->n_labels; i++)
		if (!strcmp(pod->labels[i].key, key))
			return pod->labels[i].value;
	return NULL;
}

/* PID 1's namespaces in tests/fixtures/proc. */
static const uint32_t init_ns[CT_NS_COUNT] = {
	[CT_NS_UTS] = 4026531838u,
	[CT_NS_IPC] = 4026531839u,
	[CT_NS_MNT] = 4026531841u,
	[CT_NS_PID] = 4026531836u,
	[CT_NS_PID_FOR_CHILDREN] = 4026531836u,
	[CT_NS_NET] = 4026531840u,
	[CT_NS_TIME] = 4026531834u,
	[CT_NS_TIME_FOR_CHILDREN] = 4026531834u,
	[CT_NS_CGROUP] = 4026531835u,
	[CT_NS_USER] = 4026531837u,
};

static void assert_ns(const uint32_t *got, const uint32_t *want)
{
	assert_non_null(got);
	for (int i = 0; i < CT_NS_COUNT; i++)
		assert_true(got[i] == want[i]);
}

static void test_new_rejects(void **state)
{
	struct identity_opts opts = { .proc_root = "/nonexistent" };
	struct identity *id = NULL;

	(void)state;
	/* The node name is what exec ids are made of. */
	assert_int_equal(identity__new(&opts, &id), -EINVAL);
	assert_null(id);
	identity__free(NULL);
}

/* The running processes and the host's namespaces, from the fixture tree;
 * a scanned process resolves with what /proc said of it and its parent. */
static void test_scan(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	struct ct_cap_event e = mk_cap(100000000000ull, 300, 200, 0);
	struct proc_cache_stats procs;
	struct container_cache_stats containers;
	struct identity_view v;
	char exec_id[PROC_EXEC_ID_LEN];

	(void)state;
	assert_null(identity_host_ns(id));
	assert_int_equal(identity_scan(id), 0);
	assert_ns(identity_host_ns(id), init_ns);
	identity_stats(id, &procs, &containers);
	assert_true(procs.entries == 4); /* 1, 200, 300, 500; 400 is a thread */

	e.euid = 1001;
	identity_resolve(id, &e, &v);
	assert_ptr_equal(v.ev.cap, &e);
	assert_int_equal(v.ev.process.pid, 300);
	assert_int_equal(v.ev.process.tid, 300);
	assert_int_equal(v.ev.process.uid, 1001);
	assert_int_equal(v.ev.process.auid, 1000);
	assert_string_equal(v.ev.process.binary, "/usr/bin/prog");
	assert_string_equal(v.ev.process.arguments, "-x  y");
	assert_string_equal(v.ev.process.cwd, "/tmp");
	assert_string_equal(v.ev.process.flags, "procFS");
	/* Started 6000 ticks after boot. */
	assert_int_equal(proc_exec_id(NODE, 6000 * procfs_tick_ns(), 300, exec_id), 0);
	assert_string_equal(v.ev.process.exec_id, exec_id);
	assert_string_equal(v.ev.process.start_time, "2023-07-06T06:40:31.051039336Z");
	assert_null(v.ev.process.pod);

	assert_ptr_equal(v.ev.parent, &v.parent);
	assert_int_equal(v.parent.pid, 200);
	assert_int_equal(v.parent.tid, 0);
	assert_string_equal(v.parent.binary, "/usr/bin/foo");
	assert_string_equal(v.parent.cwd, "/home/user");
	assert_string_equal(v.parent.flags, "procFS truncArgs");
	assert_string_equal(v.ev.process.parent_exec_id, v.parent.exec_id);
	/* The parent object has no namespaces of its own to show. */
	assert_null(v.parent.ns);
	assert_null(v.parent.pod);

	identity_stats(id, &procs, &containers);
	assert_true(procs.misses == 0);
	identity__free(id);
}

/* PID 1's links hidden (some sandboxes hide them even from root): kthreadd's
 * stand in for the ones that are, and only for those. PID 2's uts, ipc and
 * mnt in tests/fixtures/identity differ from PID 1's so that whose were
 * taken shows. */
static void test_host_ns_hidden_links(void **state)
{
	static const uint32_t want[CT_NS_COUNT] = {
		[CT_NS_UTS] = 4026531838u, /* PID 1's */
		[CT_NS_IPC] = 4026531839u,
		[CT_NS_MNT] = 4026531841u,
		[CT_NS_PID] = 4026531836u, /* PID 2's from here on */
		[CT_NS_PID_FOR_CHILDREN] = 4026531836u,
		[CT_NS_NET] = 4026531840u,
		[CT_NS_TIME] = 4026531834u,
		[CT_NS_TIME_FOR_CHILDREN] = 4026531834u,
		[CT_NS_CGROUP] = 4026531835u,
		[CT_NS_USER] = 4026531837u,
	};
	struct identity *id = new_identity(identity_fixture);
	struct proc_cache_stats procs;
	struct container_cache_stats containers;

	(void)state;
	assert_int_equal(identity_scan(id), 0);
	assert_ns(identity_host_ns(id), want);
	/* Both are still processes of the scan. */
	identity_stats(id, &procs, &containers);
	assert_true(procs.entries == 2);
	identity__free(id);
}

/* No PID 1 at all: every namespace is kthreadd's. */
static void test_host_ns_without_init(void **state)
{
	static const uint32_t want[CT_NS_COUNT] = {
		[CT_NS_UTS] = 4026539001u,
		[CT_NS_IPC] = 4026539002u,
		[CT_NS_MNT] = 4026539003u,
		[CT_NS_PID] = 4026531836u,
		[CT_NS_PID_FOR_CHILDREN] = 4026531836u,
		[CT_NS_NET] = 4026531840u,
		[CT_NS_TIME] = 4026531834u,
		[CT_NS_TIME_FOR_CHILDREN] = 4026531834u,
		[CT_NS_CGROUP] = 4026531835u,
		[CT_NS_USER] = 4026531837u,
	};
	struct identity *id;
	char proc[PATH_MAX];

	(void)state;
	fmt(proc, sizeof(proc), "%s/proc-kthreadd", root);
	run("mkdir %s && cp -a %s/2 %s/", proc, identity_fixture, proc);
	id = new_identity(proc);
	assert_int_equal(identity_scan(id), 0);
	assert_ns(identity_host_ns(id), want);
	identity__free(id);
}

/* Neither PID 1's links nor PID 2's: the host is not known, and the scan
 * says so rather than taking zeros for namespaces. */
static void test_host_ns_unknown(void **state)
{
	struct identity *id;
	char proc[PATH_MAX];

	(void)state;
	fmt(proc, sizeof(proc), "%s/proc-empty", root);
	run("mkdir %s", proc);
	id = new_identity(proc);
	assert_int_equal(identity_scan(id), -ENOENT);
	assert_null(identity_host_ns(id));
	identity__free(id);

	/* PID 1 there, some of its links hidden, and no kthreadd to fill in. */
	fmt(proc, sizeof(proc), "%s/proc-init", root);
	run("mkdir %s && cp -a %s/1 %s/", proc, identity_fixture, proc);
	id = new_identity(proc);
	assert_int_equal(identity_scan(id), -EACCES);
	assert_null(identity_host_ns(id));
	identity__free(id);
}

/* bash (73850) forks; the child execs dmesg by a relative path. */
static void apply_reference(struct identity *id, uint64_t bash_cgroup, uint64_t dmesg_cgroup)
{
	static const char *const args[] = { "-T", "--level", "err" };
	struct ct_proc_event *r;

	r = mk(CT_REC_EXEC, REF_PARENT_KTIME, 73850, UNKNOWN_PID);
	set_binary(r, "/bin/bash");
	set_cwd(r, "/root");
	r->cgroup_id = bash_cgroup;
	r->auid = 1000;
	assert_int_equal(identity_apply(id, r), 0);
	r = mk(CT_REC_FORK, 12842783000000ull, 73860, 73850);
	r->cgroup_id = bash_cgroup;
	assert_int_equal(identity_apply(id, r), 0);
	r = mk(CT_REC_EXEC, REF_KTIME, 73860, 73850);
	set_binary(r, "./bin/dmesg");
	set_cwd(r, "/usr/local");
	set_args(r, args, 3);
	r->uid = 1000;
	r->auid = 1000;
	r->cgroup_id = dmesg_cgroup;
	set_ns(r->ns, 4026534600u);
	assert_int_equal(identity_apply(id, r), 0);
}

static void test_exec_fork_resolve(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	uint64_t host = cgid(CG_HOST);
	struct ct_cap_event e = mk_cap(REF_KTIME + 50000, 73860, 73850, host);
	struct identity_view v;

	(void)state;
	apply_reference(id, host, host);
	/* Another thread, after a setuid and a setns since the exec. */
	e.tid = 73863;
	e.euid = 0;
	set_ns(e.ns, 4026537700u);
	e.syscall = SYS_syslog;
	identity_resolve(id, &e, &v);

	assert_ptr_equal(v.ev.cap, &e);
	assert_string_equal(v.ev.syscall, "syslog");
	assert_int_equal(v.ev.process.pid, 73860);
	assert_int_equal(v.ev.process.tid, 73863);
	assert_int_equal(v.ev.process.uid, 0);
	assert_int_equal(v.ev.process.auid, 1000);
	assert_ptr_equal(v.ev.process.ns, e.ns);
	assert_true(v.ev.process.ns[CT_NS_NET] == 4026537700u + CT_NS_NET);
	assert_string_equal(v.ev.process.exec_id, REF_EXEC_ID);
	assert_string_equal(v.ev.process.parent_exec_id, REF_PARENT_EXEC_ID);
	assert_string_equal(v.ev.process.binary, "/usr/local/bin/dmesg");
	assert_string_equal(v.ev.process.arguments, "-T --level err");
	assert_string_equal(v.ev.process.cwd, "/usr/local");
	assert_string_equal(v.ev.process.flags, "execve clone");
	assert_string_equal(v.ev.process.start_time, REF_START_TIME);
	assert_null(v.ev.process.pod);

	assert_ptr_equal(v.ev.parent, &v.parent);
	assert_int_equal(v.parent.pid, 73850);
	assert_int_equal(v.parent.tid, 0);
	assert_int_equal(v.parent.uid, 0);
	assert_int_equal(v.parent.auid, 1000);
	assert_string_equal(v.parent.exec_id, REF_PARENT_EXEC_ID);
	assert_string_equal(v.parent.binary, "/bin/bash");
	assert_string_equal(v.parent.cwd, "/root");
	assert_string_equal(v.parent.flags, "execve");
	/* Unknown strings are NULL, not "": its own parent was never seen. */
	assert_null(v.parent.parent_exec_id);
	assert_null(v.parent.ns);
	assert_null(v.parent.pod);

	/* A forked child that has not exec'd runs its parent's image. */
	assert_int_equal(identity_apply(id, mk(CT_REC_FORK, REF_KTIME + 60000, 73870, 73860)), 0);
	e = mk_cap(REF_KTIME + 70000, 73870, 73860, host);
	e.euid = 1000;
	identity_resolve(id, &e, &v);
	assert_int_equal(v.ev.process.pid, 73870);
	assert_int_equal(v.ev.process.uid, 1000);
	assert_string_equal(v.ev.process.binary, "/usr/local/bin/dmesg");
	assert_string_equal(v.ev.process.arguments, "-T --level err");
	assert_string_equal(v.ev.process.flags, "clone");
	assert_string_equal(v.ev.process.parent_exec_id, REF_EXEC_ID);
	assert_non_null(v.ev.parent);
	assert_string_equal(v.parent.exec_id, REF_EXEC_ID);
	assert_string_equal(v.parent.binary, "/usr/local/bin/dmesg");
	assert_null(v.ev.syscall);
	identity__free(id);
}

/* A process that neither a record nor /proc knows: what the event says. */
static void test_unknown_process(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	struct ct_cap_event e = mk_cap(5000000000ull, UNKNOWN_PID, UNKNOWN_PID + 1, 0);
	struct identity_view v;

	(void)state;
	e.tid = UNKNOWN_PID + 2;
	e.euid = 65534;
	set_ns(e.ns, 4026530000u);
	identity_resolve(id, &e, &v);
	assert_int_equal(v.ev.process.pid, UNKNOWN_PID);
	assert_int_equal(v.ev.process.tid, UNKNOWN_PID + 2);
	assert_int_equal(v.ev.process.uid, 65534);
	assert_true(v.ev.process.auid == PROCFS_AUID_UNSET);
	assert_string_equal(v.ev.process.flags, "miss nocwd");
	assert_null(v.ev.process.binary);
	assert_null(v.ev.process.cwd);
	assert_null(v.ev.process.parent_exec_id);
	assert_non_null(v.ev.process.exec_id);
	assert_ptr_equal(v.ev.process.ns, e.ns);
	assert_null(v.ev.parent);
	assert_null(v.ev.process.pod);
	assert_null(v.ev.syscall);
	identity__free(id);
}

static void test_syscall_names(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	struct ct_cap_event e = mk_cap(1000, UNKNOWN_PID, 0, 0);
	struct identity_view v;

	(void)state;
	e.syscall = CT_NO_SYSCALL;
	identity_resolve(id, &e, &v);
	assert_null(v.ev.syscall);
	e.syscall = SYS_syslog;
	identity_resolve(id, &e, &v);
	assert_string_equal(v.ev.syscall, "syslog");
	e.syscall = SYS_capset;
	identity_resolve(id, &e, &v);
	assert_string_equal(v.ev.syscall, "capset");
	/* Named once, then from the cache: the same answer. */
	e.syscall = SYS_syslog;
	identity_resolve(id, &e, &v);
	assert_string_equal(v.ev.syscall, "syslog");
	/* A number no architecture has yet: named by number, not omitted. */
	e.syscall = IDENTITY_SYSCALLS - 1;
	identity_resolve(id, &e, &v);
	assert_string_equal(v.ev.syscall, "syscall_511");
	identity__free(id);
}

/* Past the cache's IDENTITY_SYSCALLS the name used to be NULL, as if the
 * check had been made outside a syscall: each is named as lib/syscalls
 * names it, the last number the cache holds and the first it does not
 * alike. */
static void test_syscall_names_past_cache(void **state)
{
	static const int numbers[] = { IDENTITY_SYSCALLS - 1, IDENTITY_SYSCALLS, 600, 511, 600 };
	struct identity *id = new_identity(proc_fixture);
	struct ct_cap_event e = mk_cap(1000, UNKNOWN_PID, 0, 0);
	char want[SYSCALLS_NAME_LEN];
	struct identity_view v;

	(void)state;
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		e.syscall = numbers[i];
		identity_resolve(id, &e, &v);
		assert_non_null(syscalls_name(numbers[i], want));
		assert_non_null(v.ev.syscall);
		assert_string_equal(v.ev.syscall, want);
	}
	/* No architecture has a syscall 600 yet: named by number. */
	assert_string_equal(v.ev.syscall, "syscall_600");
	identity__free(id);
}

static void assert_docker(const struct identity_pod *pod, const char *id)
{
	assert_int_equal(strlen(pod->docker), 31);
	assert_memory_equal(pod->docker, id, 31);
}

/* The pod of a check an unknown process made in a container's cgroup,
 * ns_pid in its pid namespace; the event is static, as v points into it. */
static const struct identity_pod *pod_of(struct identity *id, const char *cgroup,
					 uint32_t ns_pid, struct identity_view *v)
{
	static struct ct_cap_event e;

	e = mk_cap(1000, UNKNOWN_PID, 0, cgid(cgroup));
	e.ns_pid = ns_pid;
	identity_resolve(id, &e, v);
	assert_non_null(v->ev.process.pod);
	return v->ev.process.pod;
}

/* A container's pod as each runtime and cgroup layout gives it. */
static void test_pod_by_runtime(void **state)
{
	static const struct pod_case {
		const char *cgroup, *id;
		uint32_t ns_pid;
		const char *namespace_, *name, *uid, *container_id, *container_name, *image;
		const char *start_time;
		size_t n_labels;
		const char *labels[3][2];
	} cases[] = {
		/* containerd on cgroupfs, the pod named by the bundle's annotations */
		{ .cgroup = CG_A, .id = ID_A, .ns_pid = 7,
		  .namespace_ = "payments", .name = "api-6d4cf56db6-x2x7q", .uid = UID_A,
		  .container_id = "containerd://" ID_A, .container_name = "api",
		  .image = "registry.example/payments/api:1.4.2",
		  .start_time = "2024-05-01T10:00:00.123456789Z" },
		/* CRI-O on systemd cgroups, with the pod's labels */
		{ .cgroup = CG_B, .id = ID_B, .ns_pid = 1,
		  .namespace_ = "kube-system", .name = "coredns-5d78c9869d-abcde", .uid = UID_B,
		  .container_id = "cri-o://" ID_B, .container_name = "coredns",
		  .image = "registry.k8s.io/coredns/coredns:v1.10.1",
		  .start_time = "2024-05-02T08:30:00Z",
		  .n_labels = 3,
		  .labels = { { "k8s-app", "kube-dns" }, { "pod-template-hash", "5d78c9869d" },
			      { "io.kubernetes.container.name", "coredns" } } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pod_case *c = &cases[i];
		struct identity *id = new_identity(proc_fixture);
		struct identity_view v;
		const struct identity_pod *pod = pod_of(id, c->cgroup, c->ns_pid, &v);

		assert_string_equal(pod->namespace_, c->namespace_);
		assert_string_equal(pod->name, c->name);
		assert_string_equal(pod->uid, c->uid);
		assert_string_equal(pod->container_id, c->container_id);
		assert_string_equal(pod->container_name, c->container_name);
		assert_string_equal(pod->image, c->image);
		assert_string_equal(pod->container_start_time, c->start_time);
		assert_int_equal(pod->container_pid, c->ns_pid);
		assert_docker(pod, c->id);
		assert_int_equal(pod->n_labels, c->n_labels);
		for (size_t j = 0; j < c->n_labels; j++)
			assert_string_equal(label(pod, c->labels[j][0]), c->labels[j][1]);
		identity__free(id);
	}
}

/* A pod with more labels than the view holds: the first ones, and a count
 * that stays within the array. */
static void test_pod_labels_bounded(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	struct identity_view v;
	const struct identity_pod *pod = pod_of(id, CG_L, 0, &v);
	char key[16], value[16];

	(void)state;
	assert_string_equal(pod->container_id, "cri-o://" ID_L);
	assert_string_equal(pod->uid, UID_L);
	assert_string_equal(pod->name, "labelled-0");
	assert_int_equal(pod->n_labels, IDENTITY_MAX_LABELS);
	assert_ptr_equal(pod->labels, v.pod.labels);
	for (size_t i = 0; i < pod->n_labels; i++) {
		assert_non_null(pod->labels[i].key);
		assert_non_null(pod->labels[i].value);
		assert_int_equal(sscanf(pod->labels[i].key, "key%15s", key), 1);
		fmt(value, sizeof(value), "value%s", key);
		assert_string_equal(pod->labels[i].value, value);
	}
	identity__free(id);
}

/* Docker without Kubernetes: a container, but no pod to name. */
static void test_container_without_pod(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	struct identity_view v;
	const struct identity_pod *pod = pod_of(id, CG_E, 0, &v);

	(void)state;
	assert_string_equal(pod->container_id, "docker://" ID_E);
	assert_docker(pod, ID_E);
	assert_null(pod->namespace_);
	assert_null(pod->name);
	assert_null(pod->uid);
	assert_null(pod->container_name);
	assert_null(pod->image);
	assert_int_equal(pod->n_labels, 0);
	identity__free(id);
}

static void test_host_has_no_pod(void **state)
{
	const uint64_t cgroups[] = { cgid(CG_HOST), cgid(""), cgid(CG_UNIT), 0, 1ull << 60 };
	struct identity *id = new_identity(proc_fixture);
	struct identity_view v;

	(void)state;
	for (size_t i = 0; i < sizeof(cgroups) / sizeof(cgroups[0]); i++) {
		struct ct_cap_event e = mk_cap(1000, UNKNOWN_PID, 0, cgroups[i]);

		identity_resolve(id, &e, &v);
		assert_null(v.ev.process.pod);
	}
	identity__free(id);
}

/* The container runtime (on the host) starts the container's init, which
 * starts a worker: each process's pod is its own cgroup's, and so is its
 * parent's. */
static void test_parent_pod(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	uint64_t host = cgid(CG_HOST), pod_cg = cgid(CG_A);
	struct ct_cap_event e = mk_cap(REF_KTIME + 1000, 73860, 73850, pod_cg);
	struct identity_view v;
	struct ct_proc_event *r;

	(void)state;
	apply_reference(id, host, pod_cg);
	e.ns_pid = 1;
	identity_resolve(id, &e, &v);
	assert_non_null(v.ev.process.pod);
	assert_string_equal(v.ev.process.pod->container_id, "containerd://" ID_A);
	assert_int_equal(v.ev.process.pod->container_pid, 1);
	assert_non_null(v.ev.parent);
	assert_string_equal(v.parent.binary, "/bin/bash");
	assert_null(v.parent.pod);

	r = mk(CT_REC_FORK, REF_KTIME + 2000, 73900, 73860);
	r->cgroup_id = pod_cg;
	assert_int_equal(identity_apply(id, r), 0);
	r = mk(CT_REC_EXEC, REF_KTIME + 3000, 73900, 73860);
	set_binary(r, "/usr/bin/worker");
	r->cgroup_id = pod_cg;
	assert_int_equal(identity_apply(id, r), 0);
	e = mk_cap(REF_KTIME + 4000, 73900, 73860, pod_cg);
	e.ns_pid = 12;
	identity_resolve(id, &e, &v);
	assert_string_equal(v.ev.process.binary, "/usr/bin/worker");
	assert_non_null(v.ev.process.pod);
	assert_int_equal(v.ev.process.pod->container_pid, 12);
	assert_non_null(v.ev.parent);
	assert_string_equal(v.parent.binary, "/usr/local/bin/dmesg");
	assert_non_null(v.parent.pod);
	/* Two pods at once, each in its own buffer. */
	assert_ptr_not_equal(v.parent.pod, v.ev.process.pod);
	assert_string_equal(v.parent.pod->container_id, "containerd://" ID_A);
	assert_string_equal(v.parent.pod->name, "api-6d4cf56db6-x2x7q");
	/* Its pid in the container is not known. */
	assert_int_equal(v.parent.pod->container_pid, 0);
	identity__free(id);
}

/* A runtime's init (runc init, exec'd on the host through /proc/self/exe)
 * joins the pod's cgroup, forks, and execs the workload inside the pod's
 * mount namespace: its checks, and its children's before their exec, are
 * the runtime's; the workload's and an unknown image's are not. */
static void test_runtime_start(void **state)
{
	static const char *const init_args[] = { "init" };
	struct identity *id = new_identity(proc_fixture);
	uint64_t host = cgid(CG_HOST), pod_cg = cgid(CG_A);
	struct ct_cap_event e;
	struct identity_view v;
	struct ct_proc_event *r;

	(void)state;
	assert_int_equal(identity_scan(id), 0);
	r = mk(CT_REC_EXEC, REF_KTIME, 74000, UNKNOWN_PID);
	set_binary(r, "/usr/sbin/runc");
	r->cgroup_id = host;
	memcpy(r->ns, init_ns, sizeof(r->ns));
	assert_int_equal(identity_apply(id, r), 0);
	r = mk(CT_REC_EXEC, REF_KTIME + 1000, 74000, UNKNOWN_PID);
	r->exec_gen = 1;
	set_binary(r, "/proc/self/exe");
	set_args(r, init_args, 1);
	r->cgroup_id = host;
	memcpy(r->ns, init_ns, sizeof(r->ns));
	assert_int_equal(identity_apply(id, r), 0);

	/* Moved into the pod's cgroup by runc create: the pod, runc's file. */
	e = mk_cap(REF_KTIME + 2000, 74000, 0, pod_cg);
	identity_resolve(id, &e, &v);
	assert_non_null(v.ev.process.pod);
	assert_string_equal(v.ev.process.binary, "/usr/sbin/runc");
	assert_string_equal(v.ev.process.arguments, "init");
	assert_true(v.ev.runtime);

	/* Its child, forked in the pod's cgroup and mount namespace, still
	 * runs runc's image. */
	r = mk(CT_REC_FORK, REF_KTIME + 3000, 74001, 74000);
	r->cgroup_id = pod_cg;
	set_ns(r->ns, 4026534600u);
	assert_int_equal(identity_apply(id, r), 0);
	e = mk_cap(REF_KTIME + 4000, 74001, 74000, pod_cg);
	identity_resolve(id, &e, &v);
	assert_string_equal(v.ev.process.binary, "/usr/sbin/runc");
	assert_true(v.ev.runtime);

	/* The workload, exec'd inside the pod's namespaces. */
	r = mk(CT_REC_EXEC, REF_KTIME + 5000, 74001, 74000);
	set_binary(r, "/bin/sh");
	r->cgroup_id = pod_cg;
	set_ns(r->ns, 4026534600u);
	assert_int_equal(identity_apply(id, r), 0);
	e = mk_cap(REF_KTIME + 6000, 74001, 74000, pod_cg);
	identity_resolve(id, &e, &v);
	assert_string_equal(v.ev.process.binary, "/bin/sh");
	assert_non_null(v.ev.process.pod);
	assert_false(v.ev.runtime);

	/* runc itself on the host: no pod, no runtime tag. */
	e = mk_cap(REF_KTIME + 7000, 74000, 0, host);
	identity_resolve(id, &e, &v);
	assert_null(v.ev.process.pod);
	assert_false(v.ev.runtime);

	/* A process of the pod that no exec record named: the workload's. */
	e = mk_cap(REF_KTIME + 8000, UNKNOWN_PID, 0, pod_cg);
	identity_resolve(id, &e, &v);
	assert_non_null(v.ev.process.pod);
	assert_false(v.ev.runtime);
	identity__free(id);
}

static void test_workload(void **state)
{
	struct identity *id = new_identity(proc_fixture);
	char name[WORKLOAD_NAME_MAX];
	struct ct_proc_event *r;
	struct workload w;

	(void)state;
	r = mk(CT_REC_EXEC, 1000000, 6000, UNKNOWN_PID);
	set_binary(r, "/usr/sbin/sshd");
	assert_int_equal(identity_apply(id, r), 0);

	identity_workload(id, cgid(CG_B), 6000, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_POD_CONTAINER);
	assert_string_equal(w.pod_namespace, "kube-system");
	assert_string_equal(w.pod_name, "coredns-5d78c9869d-abcde");
	assert_string_equal(w.container_name, "coredns");
	assert_string_equal(w.container_id, ID_B); /* bare, no "cri-o://" */
	assert_string_equal(w.image, "registry.k8s.io/coredns/coredns:v1.10.1");
	assert_null(w.binary);
	workload_name(&w, name, sizeof(name));
	assert_string_equal(name, "kube-system/coredns-5d78c9869d-abcde/coredns");

	identity_workload(id, cgid(CG_E), 6000, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_CONTAINER);
	assert_string_equal(w.container_id, ID_E);
	assert_null(w.container_name);
	assert_null(w.pod_name);
	workload_name(&w, name, sizeof(name));
	assert_string_equal(name, ID_E);

	identity_workload(id, cgid(CG_UNIT), 6000, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_UNIT);
	assert_string_equal(w.unit, "cron.service");
	assert_null(w.binary);

	/* On the host: the binary the process cache knows for the pid. */
	identity_workload(id, cgid(CG_HOST), 6000, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "/usr/sbin/sshd");
	/* A slice is not a unit. */
	identity_workload(id, cgid("/system.slice"), 6000, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "/usr/sbin/sshd");
	/* Cgroup unknown or gone: the process still names it. */
	identity_workload(id, 0, 6000, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "/usr/sbin/sshd");
	identity_workload(id, 1ull << 60, 6000, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "/usr/sbin/sshd");
	/* A process nobody knows. */
	identity_workload(id, cgid(CG_HOST), UNKNOWN_PID, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "unknown");
	identity__free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_host_ns_hidden_links),
		cmocka_unit_test(test_host_ns_without_init),
		cmocka_unit_test(test_host_ns_unknown),
		cmocka_unit_test(test_exec_fork_resolve),
		cmocka_unit_test(test_unknown_process),
		cmocka_unit_test(test_syscall_names),
		cmocka_unit_test(test_syscall_names_past_cache),
		cmocka_unit_test(test_pod_by_runtime),
		cmocka_unit_test(test_pod_labels_bounded),
		cmocka_unit_test(test_container_without_pod),
		cmocka_unit_test(test_host_has_no_pod),
		cmocka_unit_test(test_parent_pod),
		cmocka_unit_test(test_runtime_start),
		cmocka_unit_test(test_workload),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
