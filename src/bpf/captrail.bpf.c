// SPDX-License-Identifier: GPL-2.0
/* captrail's kernel side: every capability check from the cap_capable
 * tracepoint, filtered before anything is copied, plus process lifecycle
 * records that feed user space's process cache through the same ring buffer
 * (so a process's exec record always precedes its checks). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "captrail.h"

#define PF_KTHREAD 0x00200000
#define NAME_READ_MAX 256 /* one dentry name per read (NAME_MAX + 1) */

char LICENSE[] SEC("license") = "GPL";

/* Filters, set by user space between open and load. Zero means "off". */
const volatile __u32 cfg_self_tgid = 0;
const volatile bool cfg_filter_pids = false;
const volatile __u32 cfg_uid = CT_ANY_UID;
const volatile __u64 cfg_cap_mask = 0;
const volatile bool cfg_denied_only = false;
const volatile __u64 cfg_cgroup_id = 0;
const volatile __u32 cfg_pidns_mode = CT_PIDNS_ANY;
const volatile bool cfg_unique = false;
const volatile char cfg_comm[CT_COMM_LEN] = {};
/* Wake the reader only once this much is queued; user space polls with a
 * timeout, so the latency of a quiet stream stays bounded anyway. */
const volatile __u64 cfg_wakeup_bytes = 256 * 1024;
/* Aggregation: only this cgroup (record), or every cgroup (agent: 0). */
const volatile __u64 cfg_agg_cgroup = 0;
/* Fork tracking instead of a cgroup, where no cgroup v2 is writable. */
const volatile bool cfg_agg_tracked = false;
/* Lifecycle records only from this cgroup (record), 0 for all. */
const volatile __u64 cfg_proc_cgroup = 0;
/* Kernel address ranges of the noaudit functions, from kallsyms. */
const volatile struct ct_noaudit_range cfg_noaudit[CT_NOAUDIT_RANGES] = {};
const volatile __u32 cfg_n_noaudit = 0;
/* Count through the per-CPU slots (record); the agent, which reads and
 * deletes keys while they are counted, uses the map alone. */
const volatile bool cfg_agg_slots = false;

/* Set by the exec program once the recorded command has exec'd: checks
 * made before that are the launcher's, not the command's. */
bool agg_armed = false;
/* Set by user space once the sys_exit program is attached. */
bool outcome_hook_active = false;
bool denial_noticed = false;
/* The address of the recorded cgroup's struct cgroup, learned from its first
 * task. captrail removes the cgroup only after detaching the programs, so
 * while this is set, equal addresses are the same cgroup. */
__u64 agg_cgroup_addr = 0;
/* Bumped whenever the task behind an address may now be in another cgroup:
 * a new task (its task_struct may be a freed one's) or a migration. A
 * per-CPU verdict taken under an older value is taken again. Sits beside
 * agg_armed, whose cache line every check reads anyway. */
__u64 task_gen = 0;
/* Whether the programs that bump task_gen are attached; without them every
 * check decides afresh. */
const volatile bool cfg_task_cache = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CT_RING_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

struct unique_key {
	__u32 tgid;
	__s32 cap;
	__u32 denied;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_UNIQUE_ENTRIES);
	__type(key, struct unique_key);
	__type(value, __u8);
} unique_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_AGG_ENTRIES);
	__type(key, struct ct_agg_key);
	__type(value, struct ct_agg_value);
} agg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_agg_cpu);
} agg_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_TRACKED_ENTRIES);
	__type(key, __u32);
	__type(value, __u8);
} tracked SEC(".maps");

/* The key of the last denied check of each thread, until its syscall
 * returns. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_PENDING_DENIALS);
	__type(key, __u32);
	__type(value, struct ct_agg_key);
} pending_denials SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_OUTCOME_ENTRIES);
	__type(key, struct ct_agg_key);
	__type(value, struct ct_outcome);
} outcomes SEC(".maps");

struct stack_frames {
	__u64 ip[CT_STACK_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_frames);
} stack_scratch SEC(".maps");

/* kernel_cap_t was two u32 words before 6.3. */
struct kernel_cap_struct___old {
	__u32 cap[2];
} __attribute__((preserve_access_index));

static __always_inline void count(__u32 stat)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &stat);

	if (value)
		*value += 1;
}

/* Wakes the reader when the queue crosses cfg_wakeup_bytes, not on every
 * record above it: a wake-up is an IPI (a VM exit under virtualisation),
 * and a reader behind the producer is awake and draining anyway. */
static __always_inline __u64 wakeup_flags(__u64 record_size)
{
	__u64 queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	if (queued >= cfg_wakeup_bytes && queued < cfg_wakeup_bytes + 2 * record_size)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline __u64 cap_set(const kernel_cap_t *set)
{
	const struct kernel_cap_struct___old *old = (const void *)set;

	if (bpf_core_field_exists(set->val))
		return set->val;
	return BPF_CORE_READ(old, cap[0]) | ((__u64)BPF_CORE_READ(old, cap[1]) << 32);
}

/* A kfunc the verifier turns into a plain move: reading through its result
 * costs no call. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Where a task's user registers sit from the base of its kernel stack: the
 * same for every task (task_pt_regs() on x86 and arm64), learned from the
 * first bpf_task_pt_regs() call. That helper call was 15-20 ns of what the
 * aggregation program added per check here (bench/aggtoggle). */
__u64 regs_offset = 0;
/* Whether the kernel has bpf_rdonly_cast() (user space looks in its BTF). */
const volatile bool cfg_regs_cast = false;

static __always_inline struct pt_regs *task_regs(struct task_struct *task)
{
	struct pt_regs *regs;

	if (cfg_regs_cast && regs_offset)
		return bpf_rdonly_cast(task->stack + regs_offset,
				       bpf_core_type_id_kernel(struct pt_regs));
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (cfg_regs_cast)
		regs_offset = (__u64)regs - (__u64)task->stack;
	return regs;
}

static __always_inline int task_syscall(struct task_struct *task)
{
	struct pt_regs *regs;

	if (task->flags & PF_KTHREAD)
		return CT_NO_SYSCALL;
	regs = task_regs(task);
#if defined(__TARGET_ARCH_x86)
	return (int)regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	return (int)regs->syscallno;
#else
	return CT_NO_SYSCALL;
#endif
}

static __always_inline bool in_host_pidns(struct task_struct *task)
{
	return task->thread_pid->level == 0;
}

static __always_inline bool comm_matches(void)
{
	char comm[CT_COMM_LEN];

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < CT_COMM_LEN; i++) {
		if (comm[i] != cfg_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* Returns the task's pid as its own pid namespace numbers it.
 *
 * Here and in the capability hook, fields are read by direct loads, not
 * BPF_CORE_READ(): the pointers come from tp_btf arguments or
 * bpf_get_current_task_btf(), so the verifier turns each load into a
 * fault-safe plain load, still relocated by CO-RE (vmlinux.h marks every
 * type preserve_access_index), where BPF_CORE_READ() costs a helper call
 * per pointer hop: ~40 of them per streamed event. */
static __always_inline __u32 read_namespaces(struct task_struct *task, __u32 ns[CT_NS_COUNT])
{
	struct nsproxy *nsp = task->nsproxy;
	struct pid *pid = task->thread_pid;
	unsigned int level = pid->level;
	struct upid upid = {};

	/* The task's own pid namespace is the one at its pid's deepest level
	 * (a variable index into a flexible array: read with a helper). */
	bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level & 31]);
	ns[CT_NS_PID] = BPF_CORE_READ(upid.ns, ns.inum);
	ns[CT_NS_USER] = task->real_cred->user_ns->ns.inum;
	if (!nsp) /* exiting task */
		return upid.nr;
	ns[CT_NS_UTS] = nsp->uts_ns->ns.inum;
	ns[CT_NS_IPC] = nsp->ipc_ns->ns.inum;
	ns[CT_NS_MNT] = nsp->mnt_ns->ns.inum;
	ns[CT_NS_PID_FOR_CHILDREN] = nsp->pid_ns_for_children->ns.inum;
	ns[CT_NS_NET] = nsp->net_ns->ns.inum;
	if (bpf_core_field_exists(nsp->time_ns)) {
		ns[CT_NS_TIME] = nsp->time_ns->ns.inum;
		ns[CT_NS_TIME_FOR_CHILDREN] = nsp->time_ns_for_children->ns.inum;
	}
	ns[CT_NS_CGROUP] = nsp->cgroup_ns->ns.inum;
	return upid.nr;
}

/* The filters that need nothing but the tracepoint's arguments and the
 * current task come first and cheapest, so a non-matching check costs
 * almost nothing. */
static __always_inline bool check_wanted(const struct cred *cred, int cap, int ret, __u32 tgid,
					 struct task_struct *task)
{
	if (cfg_cap_mask && (cap < 0 || cap >= 64 || !(cfg_cap_mask & (1ull << cap))))
		return false;
	if (cfg_denied_only && ret == 0)
		return false;
	if (cfg_self_tgid && tgid == cfg_self_tgid)
		return false;
	if (cfg_filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	if (cfg_uid != CT_ANY_UID && cred->euid.val != cfg_uid)
		return false;
	if (cfg_cgroup_id && bpf_get_current_cgroup_id() != cfg_cgroup_id)
		return false;
	if (cfg_pidns_mode != CT_PIDNS_ANY &&
	    in_host_pidns(task) != (cfg_pidns_mode == CT_PIDNS_HOST))
		return false;
	if (cfg_comm[0] && !comm_matches())
		return false;
	if (cfg_unique) {
		struct unique_key key = { .tgid = tgid, .cap = cap, .denied = ret != 0 };
		__u8 one = 1;

		if (bpf_map_lookup_elem(&unique_seen, &key))
			return false;
		bpf_map_update_elem(&unique_seen, &key, &one, BPF_ANY);
	}
	return true;
}

SEC("tp_btf/cap_capable")
int BPF_PROG(stream_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ct_cap_event *e;
	__u32 flags = 0;

	if (!check_wanted(cred, cap, ret, pid_tgid >> 32, task))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CT_STAT_LOST);
		return 0;
	}
	e->type = CT_REC_CAP;
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->ppid = task->real_parent->tgid;
	e->euid = cred->euid.val;
	e->cap = cap;
	e->ret = ret;
	e->syscall = task_syscall(task);
	e->target_ns_level = target_ns->level;
	e->target_ns_uid = target_ns->owner.val;
	e->target_ns_gid = target_ns->group.val;
	e->target_ns_inum = target_ns->ns.inum;
	e->cap_permitted = cap_set(&cred->cap_permitted);
	e->cap_effective = cap_set(&cred->cap_effective);
	e->cap_inheritable = cap_set(&cred->cap_inheritable);
	__builtin_memset(e->ns, 0, sizeof(e->ns));
	e->ns_pid = read_namespaces(task, e->ns);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if ((const void *)cred == (const void *)task->real_cred)
		flags |= CT_CAP_REAL_CRED;
	e->flags = flags;
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	return 0;
}

/* Aggregation. */

/* The cgroup id is three pointer hops away (css_set, cgroup, kernfs_node),
 * each a likely cache and TLB miss when the task is not using its cgroup:
 * bpf_get_current_cgroup_id() or the same loads cost ~60 ns per check here
 * (bpf_stats run_time_ns over a capcheck loop: 142 ns per call up to this
 * test, 76 ns without the id). Once the recorded cgroup's address is known,
 * one hop and a compare decide, for every process on the node. */
static __always_inline bool in_agg_cgroup(struct task_struct *task)
{
	struct cgroup *cgrp = task->cgroups->dfl_cgrp;

	if (agg_cgroup_addr)
		return (__u64)cgrp == agg_cgroup_addr;
	if (cgrp->kn->id != cfg_agg_cgroup)
		return false;
	agg_cgroup_addr = (__u64)cgrp;
	return true;
}

/* The cgroup the current task's checks count under, or 0 when it is not
 * recorded. */
static __always_inline __u64 recorded_cgroup(struct task_struct *task)
{
	__u32 tgid;

	if (cfg_agg_cgroup)
		return in_agg_cgroup(task) ? cfg_agg_cgroup : 0;
	tgid = task->tgid;
	if (cfg_agg_tracked && !bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	return bpf_get_current_cgroup_id();
}

/* Deciding whether a task is recorded reads its css_set, a cache line that
 * nothing else on a capability check touches: that load alone was ~20 ns of
 * the ~35 ns the program added over the floor here (links toggled every
 * 20 ms under a sethostname loop, tools in bench/README.md). The CPU's
 * last verdict answers instead while the same task keeps checking. */
static __always_inline struct ct_agg_cpu *recording_cpu(struct task_struct *task)
{
	__u32 zero = 0;
	struct ct_agg_cpu *cpu = bpf_map_lookup_elem(&agg_cpu, &zero);
	__u64 gen = task_gen; /* before the verdict: a bump meanwhile retakes it */

	if (!cpu)
		return NULL;
	if (!cfg_task_cache || cpu->task != (__u64)task || cpu->task_gen != gen) {
		cpu->cgroup_id = recorded_cgroup(task);
		cpu->task = (__u64)task;
		cpu->task_gen = gen;
	}
	return cpu->cgroup_id ? cpu : NULL;
}

/* Whether the call chain of this check passes through a function that
 * asks without auditing (CAP_OPT_NOAUDIT). */
static __always_inline bool chain_is_noaudit(void *ctx)
{
	__u32 zero = 0;
	struct stack_frames *frames = bpf_map_lookup_elem(&stack_scratch, &zero);
	long size;

	if (!frames)
		return false;
	size = bpf_get_stack(ctx, frames->ip, sizeof(frames->ip), 0);
	if (size <= 0)
		return false;
	for (int i = 0; i < CT_STACK_DEPTH; i++) {
		if (i * 8 >= size)
			break;
		for (__u32 r = 0; r < CT_NOAUDIT_RANGES; r++) {
			if (r >= cfg_n_noaudit)
				break;
			if (frames->ip[i] >= cfg_noaudit[r].start && frames->ip[i] < cfg_noaudit[r].end)
				return true;
		}
	}
	return false;
}

static __always_inline bool is_power_of_two(__u64 n)
{
	return (n & (n - 1)) == 0;
}

static __always_inline void sample_chain(void *ctx, struct ct_agg_value *value)
{
	if (chain_is_noaudit(ctx))
		__sync_fetch_and_add(&value->noaudit_samples, 1);
	else
		__sync_fetch_and_add(&value->audit_samples, 1);
}

/* Counts one check in the map; returns the key's count after it, or 0 when
 * the map is full. */
static __always_inline __u64 agg_map_count(void *ctx, const struct ct_agg_key *key)
{
	struct ct_agg_value *value = bpf_map_lookup_elem(&agg, key);
	struct ct_agg_value init = { .count = 1 };
	__u64 n;

	if (value) {
		n = __sync_fetch_and_add(&value->count, 1) + 1;
		if (is_power_of_two(n))
			sample_chain(ctx, value);
		return n;
	}
	init.first_ns = bpf_ktime_get_boot_ns();
	if (chain_is_noaudit(ctx))
		init.noaudit_samples = 1;
	else
		init.audit_samples = 1;
	if (!bpf_map_update_elem(&agg, key, &init, BPF_NOEXIST))
		return 1;
	/* Two CPUs may insert the same new key; the loser adds to it. */
	value = bpf_map_lookup_elem(&agg, key);
	if (value)
		return __sync_fetch_and_add(&value->count, 1) + 1;
	count(CT_STAT_AGG_FULL);
	return 0;
}

_Static_assert(sizeof(struct ct_agg_key) == 4 * sizeof(__u64),
	       "agg_keys_equal() compares four words");

static __always_inline bool agg_keys_equal(const struct ct_agg_key *a, const struct ct_agg_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static __always_inline void agg_slot_flush(struct ct_agg_slot *slot)
{
	struct ct_agg_value *value;

	if (!slot->base || !slot->pending)
		return;
	value = bpf_map_lookup_elem(&agg, &slot->key);
	if (!value) { /* only user space deletes keys, and not in record */
		count(CT_STAT_AGG_FULL);
		return;
	}
	__sync_fetch_and_add(&value->count, slot->pending);
	__sync_fetch_and_add(&value->noaudit_samples, slot->noaudit_pending);
	__sync_fetch_and_add(&value->audit_samples, slot->audit_pending);
}

/* A hash lookup of the 32-byte key was ~50 ns of the ~110 ns the program
 * added per check here (bpf_stats run_time_ns over a capcheck loop);
 * a per-CPU slot hit is an inlined array lookup and four compares. Slots are
 * per CPU and the trampoline never nests a program on one CPU, so plain
 * increments are safe. */
static __always_inline void agg_count(void *ctx, struct ct_agg_cpu *cpu,
				      const struct ct_agg_key *key)
{
	__u32 index = ((__u32)key->cap ^ (__u32)key->syscall) % CT_AGG_SLOTS;
	struct ct_agg_slot *slot = &cpu->slots[index];
	__u64 n;

	if (!cfg_agg_slots) {
		agg_map_count(ctx, key);
		return;
	}
	if (slot->base && agg_keys_equal(&slot->key, key)) {
		n = slot->base + ++slot->pending;
		if (is_power_of_two(n)) {
			if (chain_is_noaudit(ctx))
				slot->noaudit_pending++;
			else
				slot->audit_pending++;
		}
		return;
	}
	agg_slot_flush(slot);
	slot->key = *key;
	slot->base = agg_map_count(ctx, key);
	slot->pending = 0;
	slot->noaudit_pending = 0;
	slot->audit_pending = 0;
}

static __always_inline void notice_denial(const struct ct_agg_key *key)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ct_notice *n;

	if (outcome_hook_active) {
		bpf_map_update_elem(&pending_denials, &tid, key, BPF_ANY);
		return;
	}
	if (denial_noticed)
		return;
	denial_noticed = true;
	n = bpf_ringbuf_reserve(&events, sizeof(*n), 0);
	if (!n) {
		count(CT_STAT_LOST);
		return;
	}
	n->type = CT_REC_DENIAL_SEEN;
	n->reserved = 0;
	bpf_ringbuf_submit(n, BPF_RB_FORCE_WAKEUP);
}

SEC("tp_btf/cap_capable")
int BPF_PROG(agg_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ct_agg_cpu *cpu;
	struct ct_agg_key key;

	if (!agg_armed)
		return 0;
	cpu = recording_cpu(task);
	if (!cpu)
		return 0;
	key.cgroup_id = cpu->cgroup_id;
	key.pid = task->tgid;
	key.exec_gen = (__u32)task->self_exec_id;
	key.pad = 0;
	key.cap = cap;
	key.syscall = task_syscall(task);
	key.flags = ret ? CT_AGG_DENIED : 0;
	if ((const void *)cred != (const void *)task->real_cred)
		key.flags |= CT_AGG_OVERRIDE_CRED;
	if ((const void *)target_ns != (const void *)cred->user_ns)
		key.flags |= CT_AGG_FOREIGN_USERNS;
	if (task->flags & PF_KTHREAD)
		key.flags |= CT_AGG_KTHREAD;

	agg_count(ctx, cpu, &key);
	if (ret)
		notice_denial(&key);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(denial_outcome, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ct_agg_key *key = bpf_map_lookup_elem(&pending_denials, &tid);
	struct ct_outcome *outcome, zero = {};

	if (!key)
		return 0;
	outcome = bpf_map_lookup_elem(&outcomes, key);
	if (!outcome) {
		bpf_map_update_elem(&outcomes, key, &zero, BPF_NOEXIST);
		outcome = bpf_map_lookup_elem(&outcomes, key);
	}
	if (!outcome)
		count(CT_STAT_OUTCOME_FULL);
	else if (ret == -CT_EPERM)
		__sync_fetch_and_add(&outcome->eperm, 1);
	else if (ret == -CT_EACCES)
		__sync_fetch_and_add(&outcome->eacces, 1);
	else if (ret >= 0)
		__sync_fetch_and_add(&outcome->success, 1);
	else
		__sync_fetch_and_add(&outcome->other, 1);
	bpf_map_delete_elem(&pending_denials, &tid);
	return 0;
}

/* Process lifecycle. */

static __always_inline struct ct_proc_event *proc_event_reserve(__u32 type,
								 struct task_struct *task)
{
	struct ct_proc_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CT_STAT_PROC_LOST);
		return NULL;
	}
	e->type = type;
	e->flags = 0;
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = BPF_CORE_READ(task, real_cred, euid.val);
	e->auid = 0xffffffffu;
	if (bpf_core_field_exists(task->loginuid))
		e->auid = BPF_CORE_READ(task, loginuid.val);
	e->exec_gen = (__u32)BPF_CORE_READ(task, self_exec_id);
	__builtin_memset(e->ns, 0, sizeof(e->ns));
	e->binary_len = 0;
	e->args_len = 0;
	e->cwd_len = 0;
	e->cwd_parts = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	return e;
}

static __always_inline void read_args(struct task_struct *task, struct ct_proc_event *e)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	unsigned long size;
	long argv0;

	/* argv[0] is dropped, as in the reference format: read it only to
	 * learn its length, into the buffer the arguments overwrite next. */
	argv0 = bpf_probe_read_user_str(e->args, sizeof(e->args), (void *)start);
	if (argv0 < 0) {
		e->flags |= CT_PROC_ERR_ARGS;
		return;
	}
	start += argv0;
	size = end > start ? end - start : 0;
	if (size > CT_ARGS_MAX) {
		size = CT_ARGS_MAX;
		e->flags |= CT_PROC_TRUNC_ARGS;
	}
	if (size && bpf_probe_read_user(e->args, size, (void *)start) < 0) {
		e->flags |= CT_PROC_ERR_ARGS;
		return;
	}
	e->args_len = size;
}

struct cwd_walk {
	struct ct_proc_event *e;
	struct dentry *dentry;
	struct dentry *root;
	struct vfsmount *vfsmnt;
	struct vfsmount *root_mnt;
	struct mount *mnt;
	__u32 off;
	bool reached_root;
};

static long cwd_step(__u32 index, void *ctx)
{
	/* Locals, not w->...: CO-RE must relocate kernel types only. */
	struct cwd_walk *w = ctx;
	struct ct_proc_event *e = w->e;
	struct dentry *dentry = w->dentry, *parent;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	const unsigned char *name;
	__u32 off = w->off;
	long n;

	if (dentry == w->root && vfsmnt == w->root_mnt)
		goto root;
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt)
			goto root;
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = (void *)up + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry)
		goto root;
	if (off > CT_PATH_MAX - NAME_READ_MAX)
		return 1; /* out of room: truncated */
	name = BPF_CORE_READ(dentry, d_name.name);
	n = bpf_probe_read_kernel_str(&e->cwd[off], NAME_READ_MAX, name);
	if (n <= 0) {
		e->flags |= CT_PROC_ERR_CWD;
		goto root;
	}
	w->off = off + n;
	e->cwd_parts++;
	w->dentry = parent;
	return 0;
root:
	w->reached_root = true;
	return 1;
}

/* The cwd as its dentry names, leaf first, crossing mount points up to the
 * task's root; user space reverses them. bpf_d_path() is not allowed from
 * this program type, and bpf_loop() keeps the walk verifiable. */
static __always_inline void read_cwd(struct task_struct *task, struct ct_proc_event *e)
{
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct cwd_walk w = {
		.e = e,
		.root = BPF_CORE_READ(fs, root.dentry),
		.root_mnt = BPF_CORE_READ(fs, root.mnt),
		.dentry = BPF_CORE_READ(fs, pwd.dentry),
		.vfsmnt = BPF_CORE_READ(fs, pwd.mnt),
	};

	w.mnt = (void *)w.vfsmnt - bpf_core_field_offset(struct mount, mnt);
	bpf_loop(CT_PATH_DEPTH, cwd_step, &w, 0);
	if (!w.reached_root)
		e->flags |= CT_PROC_TRUNC_CWD;
	e->cwd_len = w.off;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ct_proc_event *e;
	long n;

	if (!recorded_cgroup(task))
		return 0;
	agg_armed = true;
	if (cfg_proc_cgroup && bpf_get_current_cgroup_id() != cfg_proc_cgroup)
		return 0;
	e = proc_event_reserve(CT_REC_EXEC, task);
	if (!e)
		return 0;
	read_namespaces(task, e->ns);
	n = bpf_probe_read_kernel_str(e->binary, sizeof(e->binary), BPF_CORE_READ(bprm, filename));
	if (n > 0)
		e->binary_len = n;
	else
		e->flags |= CT_PROC_ERR_FILENAME;
	read_args(task, e);
	read_cwd(task, e);
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ct_proc_event *e;
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	/* New threads share their process's identity: nothing to record. */
	if (BPF_CORE_READ(child, pid) != child_tgid)
		return 0;
	if (cfg_agg_tracked && bpf_map_lookup_elem(&tracked, &parent_tgid) &&
	    bpf_map_update_elem(&tracked, &child_tgid, &one, BPF_ANY))
		count(CT_STAT_TRACK_FULL);
	if (cfg_proc_cgroup && bpf_get_current_cgroup_id() != cfg_proc_cgroup)
		return 0;
	e = proc_event_reserve(CT_REC_FORK, child);
	if (!e)
		return 0;
	e->ppid = parent_tgid;
	read_namespaces(child, e->ns);
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *task)
{
	struct ct_proc_event *e;
	__u32 tgid = BPF_CORE_READ(task, tgid);

	/* Only the last thread of the group ends the process. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (cfg_agg_tracked)
		bpf_map_delete_elem(&tracked, &tgid);
	if (cfg_proc_cgroup && bpf_get_current_cgroup_id() != cfg_proc_cgroup)
		return 0;
	e = proc_event_reserve(CT_REC_EXIT, task);
	if (!e)
		return 0;
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(task_gen_new)
{
	__sync_fetch_and_add(&task_gen, 1);
	return 0;
}

/* Fires once the tasks have moved. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(task_gen_moved)
{
	__sync_fetch_and_add(&task_gen, 1);
	return 0;
}
