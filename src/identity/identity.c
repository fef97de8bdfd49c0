#include "identity/identity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/images.h"
#include "identity/procfs.h"
#include "lib/syscalls.h"

#define DEFAULT_CONTAINERS 4096
/* A container's runtime makes its first checks (runc:[2:INIT]) before it
 * has written the state that names the pod: look again soon. */
#define METADATA_RETRY_NS (20 * 1000 * 1000ull)

struct identity {
	struct proc_cache *procs;
	struct container_cache *containers;
	const char *proc_root;
	uint32_t host_ns[CT_NS_COUNT];
	bool have_host_ns;
	/* libseccomp allocates on every lookup: names are resolved once. */
	char syscall_names[IDENTITY_SYSCALLS][SYSCALLS_NAME_LEN];
	char syscall_rare[SYSCALLS_NAME_LEN]; /* a number past the cache, this event's */
};

int identity__new(const struct identity_opts *opts, struct identity **ret_identity)
{
	struct proc_cache_opts popts = {
		.proc_root = opts->proc_root,
		.node_name = opts->node_name,
		.max_entries = opts->max_processes,
		.boot_offset_ns = opts->boot_offset_ns,
		.around_miss = opts->around_miss,
		.around_miss_ctx = opts->around_miss_ctx,
	};
	struct container_roots roots;
	struct identity *id;
	size_t n = 0;
	int err;

	id = calloc(1, sizeof(*id));
	if (!id)
		return -ENOMEM;
	id->proc_root = opts->proc_root ? opts->proc_root : "/proc";
	container_roots_default(&roots);
	roots.proc = id->proc_root;
	while (n < CONTAINER_STATE_ROOTS - 1 && roots.state[n])
		n++;
	/* Extra roots go first, in their order: they are what the user pointed at. */
	for (size_t i = 0; opts->state_roots && opts->state_roots[i]; i++) {
		if (n + 1 >= CONTAINER_STATE_ROOTS)
			break;
		memmove(&roots.state[i + 1], &roots.state[i], (n - i) * sizeof(roots.state[0]));
		roots.state[i] = opts->state_roots[i];
		roots.state[++n] = NULL;
	}
	err = proc_cache__new(&popts, &id->procs);
	if (err)
		goto fail;
	err = container_cache__new(opts->container_roots ? opts->container_roots : &roots,
				   opts->max_containers ? opts->max_containers : DEFAULT_CONTAINERS,
				   &id->containers);
	if (err)
		goto fail;
	container_cache__set_retry(id->containers, METADATA_RETRY_NS);
	*ret_identity = id;
	return 0;
fail:
	identity__free(id);
	return err;
}

void identity__free(struct identity *id)
{
	if (!id)
		return;
	proc_cache__free(id->procs);
	container_cache__free(id->containers);
	free(id);
}

/* The host's namespaces are PID 1's. Where PID 1's links cannot be read
 * (some sandboxes protect it even from root), kthreadd's (PID 2) stand in:
 * kernel threads always live in the initial namespaces. */
static int read_host_ns(struct identity *id)
{
	uint32_t kthreadd[CT_NS_COUNT];
	int err = procfs_read_ns(id->proc_root, 1, id->host_ns);
	bool complete = !err;

	for (int i = 0; complete && i < CT_NS_COUNT; i++)
		complete = id->host_ns[i] != 0;
	if (complete)
		return 0;
	if (procfs_read_ns(id->proc_root, 2, kthreadd))
		return err ? err : -EACCES;
	for (int i = 0; i < CT_NS_COUNT; i++)
		if (err || !id->host_ns[i])
			id->host_ns[i] = kthreadd[i];
	return 0;
}

int identity_scan(struct identity *id)
{
	int err = read_host_ns(id);

	id->have_host_ns = err == 0;
	if (err)
		return err;
	return proc_cache_scan(id->procs);
}

const uint32_t *identity_host_ns(const struct identity *id)
{
	return id->have_host_ns ? id->host_ns : NULL;
}

/* The workload's command is exec'd inside its container's mount namespace
 * (identity/images.h): execs in the host's are no container's first. */
static bool may_start_container(const struct identity *id, const struct ct_proc_event *rec)
{
	return !id->have_host_ns || rec->ns[CT_NS_MNT] != id->host_ns[CT_NS_MNT];
}

int identity_apply(struct identity *id, const struct ct_proc_event *rec)
{
	int err = proc_cache_apply(id->procs, rec);

	if (!err && rec->type == CT_REC_EXEC && may_start_container(id, rec))
		err = container_cache__exec(id->containers, rec->cgroup_id);
	return err;
}

static const char *syscall_name(struct identity *id, int nr)
{
	char *name;

	if (nr < 0)
		return NULL;
	if (nr >= IDENTITY_SYSCALLS) /* rare: named afresh each time */
		return syscalls_name(nr, id->syscall_rare);
	name = id->syscall_names[nr];
	if (!name[0])
		syscalls_name(nr, name);
	return name;
}

static const char *or_null(const char *s)
{
	return s && *s ? s : NULL;
}

static void fill_process(struct identity_process *out, const struct proc_entry *p)
{
	out->pid = p->pid;
	out->uid = p->uid;
	out->auid = p->auid;
	out->exec_id = or_null(p->exec_id);
	out->parent_exec_id = or_null(p->parent_exec_id);
	out->binary = or_null(p->binary);
	out->arguments = p->arguments;
	out->cwd = or_null(p->cwd);
	out->flags = or_null(p->flags_text);
	out->start_time = or_null(p->start_time);
}

/* The pod of a cgroup, or NULL on the host. */
static const struct identity_pod *resolve_pod(struct identity *id, uint64_t cgroup_id,
					       uint32_t ns_pid, struct identity_pod_buf *v)
{
	const struct container_info *c = NULL;
	struct identity_pod *pod = &v->pod;
	size_t n;

	if (!cgroup_id || container_cache__lookup(id->containers, cgroup_id, 0, &c) || !c->id[0])
		return NULL;
	n = c->n_labels < IDENTITY_MAX_LABELS ? c->n_labels : IDENTITY_MAX_LABELS;
	snprintf(v->container_id, sizeof(v->container_id), "%s://%s", c->runtime, c->id);
	snprintf(v->docker, sizeof(v->docker), "%.31s", c->id);
	v->init_pid = c->init_pid > 0 ? (uint32_t)c->init_pid : 0;
	for (size_t i = 0; i < n; i++)
		v->labels[i] = (struct identity_label){ c->labels[i].key, c->labels[i].value };
	*pod = (struct identity_pod){
		.namespace_ = or_null(c->pod_namespace),
		.name = or_null(c->pod_name),
		.uid = or_null(c->pod_uid),
		.container_id = v->container_id,
		.container_name = or_null(c->name),
		.image = or_null(c->image),
		.container_start_time = or_null(c->start_time),
		.container_pid = ns_pid,
		.labels = v->labels,
		.n_labels = n,
		.docker = v->docker,
		.workload = or_null(c->owner_name),
		.workload_kind = or_null(c->owner_kind),
	};
	return pod;
}

/* Ancestors looked at for in_init_tree: a container's process tree is
 * rarely deeper, and one that is goes unknown rather than costing more. */
#define INIT_TREE_DEPTH 32

/* Tetragon marks pid 1 of a pid namespace and every process forked below it;
 * here, a process whose ancestry reaches the container's init before it
 * leaves the process's pid namespace (pidns; 0 unknown). ns_pid: the
 * process's own pid in it, 0 unknown. */
static enum identity_init_tree init_tree(struct identity *id, const struct proc_entry *p,
					 uint32_t pidns, uint32_t ns_pid, uint32_t init_pid)
{
	if (ns_pid == 1)
		return IDENTITY_INIT_IN;
	if (!init_pid || !pidns)
		return IDENTITY_INIT_UNKNOWN;
	for (int depth = 0; p && depth < INIT_TREE_DEPTH; depth++) {
		if (p->pid == init_pid)
			return IDENTITY_INIT_IN;
		if (!p->ns[CT_NS_PID])
			return IDENTITY_INIT_UNKNOWN;
		if (p->ns[CT_NS_PID] != pidns)
			return IDENTITY_INIT_OUT;
		p = proc_cache_parent(id->procs, p);
	}
	return IDENTITY_INIT_UNKNOWN;
}

/* The agent's rule (agent/ledger.c) on the process cache's image: an
 * image exec'd where it is not known (a procFS entry) is the workload's. */
static bool runtime_start(const struct identity *id, const struct proc_entry *proc,
			  uint64_t cgroup_id)
{
	const uint32_t *host_ns = identity_host_ns(id);
	struct image img;

	if (!proc || !proc->image_cgroup)
		return false;
	img = (struct image){ .binary = proc->binary, .exec_cgroup = proc->image_cgroup,
			      .exec_mntns = proc->image_mntns };
	return image_is_runtime_start(&img, cgroup_id, host_ns ? host_ns[CT_NS_MNT] : 0);
}

void identity_resolve(struct identity *id, const struct ct_cap_event *e,
		      struct identity_view *ret_view)
{
	struct identity_view *v = ret_view;
	const struct proc_entry *proc = NULL, *parent = NULL;

	memset(&v->ev, 0, sizeof(v->ev));
	v->ev.cap = e;
	v->ev.syscall = syscall_name(id, e->syscall);
	v->ev.process.pid = e->pid;
	v->ev.process.tid = e->tid;
	v->ev.process.uid = e->euid;
	v->ev.process.auid = PROCFS_AUID_UNSET;
	if (proc_cache_lookup_cap(id->procs, e, &proc) == 0) {
		fill_process(&v->ev.process, proc);
		parent = proc_cache_parent(id->procs, proc);
		if (parent) {
			memset(&v->parent, 0, sizeof(v->parent));
			fill_process(&v->parent, parent);
			v->ev.parent = &v->parent;
		}
	}
	/* The event's own view, not the one at exec: credentials and
	 * namespaces can change without an exec. */
	v->ev.process.tid = e->tid;
	v->ev.process.uid = e->euid;
	v->ev.process.ns = e->ns;
	v->ev.process.pod = resolve_pod(id, e->cgroup_id, e->ns_pid, &v->pod);
	v->ev.runtime = v->ev.process.pod && runtime_start(id, proc, e->cgroup_id);
	if (v->ev.process.pod)
		v->ev.process.init_tree = init_tree(id, proc, e->ns[CT_NS_PID], e->ns_pid,
						    v->pod.init_pid);
	/* The parent's own cgroup: a container's first process has a
	 * parent on the host (the runtime). Its in-namespace pid is not
	 * known here. */
	if (parent)
		v->parent.pod = resolve_pod(id, parent->cgroup_id, 0, &v->parent_pod);
	if (parent && v->parent.pod)
		v->parent.init_tree = init_tree(id, parent, parent->ns[CT_NS_PID], 0,
						v->parent_pod.init_pid);
}

void identity_workload(struct identity *id, uint64_t cgroup_id, uint32_t pid, const char *binary,
		       struct workload *ret_workload)
{
	const struct container_info *c = NULL;
	const struct proc_entry *proc = NULL;

	if (container_cache__lookup(id->containers, cgroup_id, 0, &c))
		c = NULL;
	workload_of(c, binary, ret_workload);
	if (ret_workload->kind == WORKLOAD_HOST_BINARY && !(binary && *binary) &&
	    proc_cache_lookup(id->procs, pid, 0, NULL, &proc) == 0 && proc->binary[0])
		workload_of(c, proc->binary, ret_workload);
}

void identity_stats(const struct identity *id, struct proc_cache_stats *ret_procs,
		    struct container_cache_stats *ret_containers)
{
	proc_cache_stats(id->procs, ret_procs);
	container_cache__stats(id->containers, ret_containers);
}
