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
/* A running workload's cgroup and every cgroup below it, those created
 * later included (record --container): the one entry of agg_subtree. */
const volatile bool cfg_agg_subtree = false;
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
/* The sys_exit program is attached from the start (record, agent
 * --watch-denials): a denial's syscall may return microseconds later. */
const volatile bool cfg_watch_denials = false;
/* Threads with denied keys pending: while none, the sys_exit program,
 * which runs for every syscall of the host, returns after one load. */
__u64 denials_pending = 0;
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
/* What the fourth argument of cap_capable() is (fexit, kprobe): a bit set
 * of CAP_OPT_* (since 5.1), an int audit flag (before), or not seen (the
 * tracepoint). User space reads the function's prototype in BTF. */
const volatile __u32 cfg_opts_style = CT_OPTS_NONE;
/* Kernels without bpf_task_pt_regs() (before 5.15): the registers are read
 * at THREAD_SIZE below the stack's top, 16 KiB on x86-64 and arm64 unless
 * the kernel was built with KASAN. */
const volatile __u32 cfg_thread_size = 16384;
/* Whether the aggregation program is loaded (its return probe, when the
 * hook is kprobes, is the one that marks the entry's arguments used). */
const volatile bool cfg_agg_loaded = false;

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

/* Without BTF for key and value: the kernel takes none for fd arrays. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} agg_subtree SEC(".maps");

static __always_inline bool in_agg_subtree(void)
{
	return bpf_current_task_under_cgroup(&agg_subtree, 0) == 1;
}

/* Lifecycle records of the recorded cgroup (or subtree) only, when record
 * says so. */
static __always_inline bool proc_recorded(void)
{
	if (cfg_proc_cgroup && bpf_get_current_cgroup_id() != cfg_proc_cgroup)
		return false;
	return !cfg_agg_subtree || in_agg_subtree();
}

/* The denied keys of each thread, until its syscall returns. LRU: an
 * entry whose syscall never returns is evicted in time; it only keeps
 * denials_pending above zero, which costs a lookup per syscall. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_PENDING_DENIALS);
	__type(key, __u32);
	__type(value, struct ct_pending_denials);
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

/* A kfunc the verifier turns into a plain move: reading through its result
 * costs no call. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Where a task's user registers sit from the base of its kernel stack: the
 * same for every task (task_pt_regs() on x86 and arm64), learned from the
 * first bpf_task_pt_regs() call. That helper call was 15-20 ns of what the
 * aggregation program added per check here (bench/aggtoggle). */
__u64 regs_offset = 0;
/* The registers' address, stored and read back as a number: verifiers
 * before 6.13 refuse arithmetic between a BTF pointer and an unbounded
 * value, and the volatile read keeps the compiler from reusing the pointer. */
__u64 regs_addr = 0;
/* Whether the kernel has bpf_rdonly_cast() (user space looks in its BTF). */
const volatile bool cfg_regs_cast = false;

/* The field of the saved user registers that holds the syscall number. */
#if defined(__TARGET_ARCH_x86)
#define REGS_SYSCALL orig_ax
#elif defined(__TARGET_ARCH_arm64)
#define REGS_SYSCALL syscallno
#endif

static __always_inline bool has_task_pt_regs(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs);
}

/* Before bpf_task_pt_regs() (5.15): at the fixed place task_pt_regs()
 * computes, read with a helper. */
static __always_inline int stack_syscall(void *stack)
{
#ifdef REGS_SYSCALL
	struct pt_regs *regs = stack + cfg_thread_size - bpf_core_type_size(struct pt_regs);

	return (int)BPF_CORE_READ(regs, REGS_SYSCALL);
#else
	return CT_NO_SYSCALL;
#endif
}

/* Typed task: the learned offset, else the helper (which teaches it). */
static __always_inline int user_syscall_typed(struct task_struct *task)
{
#ifdef REGS_SYSCALL
	struct pt_regs *regs;

	if (cfg_regs_cast && regs_offset) {
		regs = bpf_rdonly_cast(task->stack + regs_offset,
				       bpf_core_type_id_kernel(struct pt_regs));
		return (int)regs->REGS_SYSCALL;
	}
	if (!has_task_pt_regs())
		return stack_syscall(task->stack);
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (cfg_regs_cast) {
		regs_addr = (__u64)regs;
		regs_offset = *(volatile __u64 *)&regs_addr - (__u64)task->stack;
	}
	return (int)regs->REGS_SYSCALL;
#else
	return CT_NO_SYSCALL;
#endif
}

/* Untyped task: the helper wants a typed one, which kernels since 5.11 give. */
static __always_inline int user_syscall_core(struct task_struct *task)
{
#ifdef REGS_SYSCALL
	struct pt_regs *regs;

	if (has_task_pt_regs() &&
	    bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		return (int)regs->REGS_SYSCALL;
	}
	return stack_syscall(BPF_CORE_READ(task, stack));
#else
	return CT_NO_SYSCALL;
#endif
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

/* Hooks that see cap_capable's opts put the audit class in the key; only
 * the tracepoint, which does not, needs the call chain. */
static __always_inline bool chain_sampled(void)
{
	return cfg_opts_style == CT_OPTS_NONE;
}

static __always_inline void sample_chain(void *ctx, struct ct_agg_value *value)
{
	if (!chain_sampled())
		return;
	if (chain_is_noaudit(ctx))
		__sync_fetch_and_add(&value->noaudit_samples, 1);
	else
		__sync_fetch_and_add(&value->audit_samples, 1);
}

/* Counts one check in the map; returns the key's count after it, or 0 when
 * the map is full. With stamp, a key already there takes the time as its
 * last_ns: record's per-CPU slots call it only when a key takes a slot, the
 * agent (every check here, no slots) stamps its own flush time instead. */
static __always_inline __u64 agg_map_count(void *ctx, const struct ct_agg_key *key, bool stamp)
{
	struct ct_agg_value *value = bpf_map_lookup_elem(&agg, key);
	struct ct_agg_value init = { .count = 1 };
	__u64 n;

	/* Add, then read: an atomic add that returns the old value needs
	 * BPF_FETCH (5.12); the count read back after a concurrent add is
	 * only used to decide when to sample. */
	if (value) {
		__sync_fetch_and_add(&value->count, 1);
		n = value->count;
		if (stamp)
			value->last_ns = bpf_ktime_get_boot_ns();
		if (is_power_of_two(n))
			sample_chain(ctx, value);
		return n;
	}
	init.first_ns = bpf_ktime_get_boot_ns();
	init.last_ns = init.first_ns;
	if (chain_sampled() && chain_is_noaudit(ctx))
		init.noaudit_samples = 1;
	else if (chain_sampled())
		init.audit_samples = 1;
	if (!bpf_map_update_elem(&agg, key, &init, BPF_NOEXIST))
		return 1;
	/* Two CPUs may insert the same new key; the loser adds to it. */
	value = bpf_map_lookup_elem(&agg, key);
	if (value) {
		__sync_fetch_and_add(&value->count, 1);
		return value->count;
	}
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
 * increments are safe. Returns the key's count after this check (0: the
 * map is full). */
static __always_inline __u64 agg_count(void *ctx, struct ct_agg_cpu *cpu,
					const struct ct_agg_key *key)
{
	__u32 index = ((__u32)key->cap ^ (__u32)key->syscall) % CT_AGG_SLOTS;
	struct ct_agg_slot *slot = &cpu->slots[index];
	__u64 n;

	if (!cfg_agg_slots)
		return agg_map_count(ctx, key, false);
	if (slot->base && agg_keys_equal(&slot->key, key)) {
		n = slot->base + ++slot->pending;
		if (chain_sampled() && is_power_of_two(n)) {
			if (chain_is_noaudit(ctx))
				slot->noaudit_pending++;
			else
				slot->audit_pending++;
		}
		return n;
	}
	agg_slot_flush(slot);
	slot->key = *key;
	slot->base = agg_map_count(ctx, key, true);
	slot->pending = 0;
	slot->noaudit_pending = 0;
	slot->audit_pending = 0;
	return slot->base;
}

static __always_inline bool same_key(const struct ct_agg_key *a, const struct ct_agg_key *b)
{
	return a->cgroup_id == b->cgroup_id && a->pid == b->pid && a->exec_gen == b->exec_gen &&
	       a->cap == b->cap && a->syscall == b->syscall && a->flags == b->flags;
}

/* Keeps the denied key until its syscall returns (denial_outcome). */
static __always_inline void notice_denial(const struct ct_agg_key *key)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ct_pending_denials *p, first = { .n = 1, .checks = { 1 } };

	if (!cfg_watch_denials)
		return;
	p = bpf_map_lookup_elem(&pending_denials, &tid);
	if (!p) {
		first.keys[0] = *key;
		if (!bpf_map_update_elem(&pending_denials, &tid, &first, BPF_NOEXIST))
			__sync_fetch_and_add(&denials_pending, 1);
		return;
	}
	for (__u32 i = 0; i < CT_DENIALS_PER_SYSCALL; i++) {
		if (i == p->n) {
			p->keys[i] = *key;
			p->checks[i] = 1;
			p->n++;
			return;
		}
		if (same_key(&p->keys[i], key)) {
			p->checks[i]++;
			return;
		}
	}
}

/* The opts of a hook that sees them, as event flags. */
static __always_inline __u32 opts_flags(int opts)
{
	__u32 flags = CT_CAP_AUDIT_KNOWN;

	if (cfg_opts_style == CT_OPTS_AUDIT_INT)
		return opts ? flags : flags | CT_CAP_NOAUDIT; /* 0: SECURITY_CAP_NOAUDIT */
	if (opts & CT_CAP_OPT_NOAUDIT)
		flags |= CT_CAP_NOAUDIT;
	if (opts & CT_CAP_OPT_INSETID)
		flags |= CT_CAP_INSETID;
	return flags;
}

/* Event flags as aggregation key flags: the audit class and insetid
 * become part of what is counted. */
static __always_inline __u32 agg_opts_flags(__u32 flags)
{
	__u32 key = 0;

	if (flags & CT_CAP_AUDIT_KNOWN)
		key |= CT_AGG_AUDIT_KNOWN;
	if (flags & CT_CAP_NOAUDIT)
		key |= CT_AGG_NOAUDIT;
	if (flags & CT_CAP_INSETID)
		key |= CT_AGG_INSETID;
	return key;
}

/* The object of a check (record only): for a key's first
 * CT_OBJECT_SAMPLES checks, the syscall's arguments and what the one its
 * spec names points to. The user registers are read with a helper: this
 * runs a few times per key, never on a key's steady state. */
const volatile bool cfg_objects = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_OBJECT_SYSCALLS);
	__type(key, __u32);
	__type(value, struct ct_object_spec);
} object_specs SEC(".maps");

/* Into scratch (data[], which is larger): where task_pt_regs() puts them. */
static __always_inline long read_user_regs(void *scratch)
{
	__u32 size = bpf_core_type_size(struct pt_regs);
	void *src;

	if (size > CT_OBJECT_DATA)
		return -1;
	if (has_task_pt_regs() &&
	    bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		src = (void *)bpf_task_pt_regs(bpf_get_current_task_btf());
	else
		src = (void *)BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), stack) +
		      cfg_thread_size - size;
	return bpf_probe_read_kernel(scratch, size, src);
}

static __always_inline __u64 object_arg(const struct ct_object_event *e, __u8 arg)
{
	switch (arg) {
	case 0: return e->args[0];
	case 1: return e->args[1];
	case 2: return e->args[2];
	case 3: return e->args[3];
	case 4: return e->args[4];
	default: return 0;
	}
}

/* struct sockaddr_in6, else struct sockaddr_in (bind's address may end at
 * a page's end). */
#define SOCKADDR_IN6_LEN 28
#define SOCKADDR_IN_LEN 16

static __always_inline void send_object(const struct ct_agg_key *key)
{
	__u32 nr = (__u32)key->syscall;
	struct ct_object_spec *spec;
	struct ct_object_event *e;
	struct pt_regs *regs;
	void *ptr;
	long n;

	if (key->syscall < 0)
		return;
	spec = bpf_map_lookup_elem(&object_specs, &nr);
	if (!spec || spec->read == CT_OBJECT_NONE)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(CT_STAT_PROC_LOST);
		return;
	}
	regs = (struct pt_regs *)e->data;
	if (read_user_regs(regs)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return;
	}
	e->args[0] = PT_REGS_PARM1_SYSCALL(regs);
	e->args[1] = PT_REGS_PARM2_SYSCALL(regs);
	e->args[2] = PT_REGS_PARM3_SYSCALL(regs);
	e->args[3] = PT_REGS_PARM4_SYSCALL(regs);
	e->args[4] = PT_REGS_PARM5_SYSCALL(regs);
	e->type = CT_REC_OBJECT;
	e->flags = 0;
	e->key = *key;
	e->data_len = 0;
	e->pad = 0;
	ptr = (void *)object_arg(e, spec->arg);
	if (spec->read == CT_OBJECT_STRING) {
		n = bpf_probe_read_user_str(e->data, sizeof(e->data), ptr);
		if (n > 0)
			e->data_len = n;
	} else if (spec->read == CT_OBJECT_SOCKADDR) {
		if (!bpf_probe_read_user(e->data, SOCKADDR_IN6_LEN, ptr))
			e->data_len = SOCKADDR_IN6_LEN;
		else if (!bpf_probe_read_user(e->data, SOCKADDR_IN_LEN, ptr))
			e->data_len = SOCKADDR_IN_LEN;
	}
	if (spec->read != CT_OBJECT_ARGS_ONLY)
		e->flags |= e->data_len ? CT_OBJECT_DATA_READ : CT_OBJECT_DATA_FAILED;
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
}

#define CT_FLAVOR _typed
#define CT_RD(...) ___arrow(__VA_ARGS__)
#define CT_CURRENT_TASK() bpf_get_current_task_btf()
#include "check.bpf.h"
#undef CT_FLAVOR
#undef CT_RD
#undef CT_CURRENT_TASK

#define CT_FLAVOR _core
#define CT_RD(...) BPF_CORE_READ(__VA_ARGS__)
#define CT_CURRENT_TASK() ((struct task_struct *)bpf_get_current_task())
#include "check.bpf.h"
#undef CT_FLAVOR
#undef CT_RD
#undef CT_CURRENT_TASK

/* The hooks. One set is loaded: user space tries the tracepoint, then
 * fexit, then kprobes (kernel/loader.c). Each calls the same code. */

SEC("tp_btf/cap_capable")
int BPF_PROG(stream_tp, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return stream_check_typed(cred, target_ns, cap, ret, 0);
}

SEC("tp_btf/cap_capable")
int BPF_PROG(agg_tp, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return agg_check_typed(ctx, cred, target_ns, cap, ret, 0);
}

SEC("fexit/cap_capable")
int BPF_PROG(stream_fexit, const struct cred *cred, struct user_namespace *target_ns, int cap,
	     int opts, int ret)
{
	return stream_check_typed(cred, target_ns, cap, ret, opts_flags(opts));
}

SEC("fexit/cap_capable")
int BPF_PROG(agg_fexit, const struct cred *cred, struct user_namespace *target_ns, int cap,
	     int opts, int ret)
{
	return agg_check_typed(ctx, cred, target_ns, cap, ret, opts_flags(opts));
}

/* fexit before bpf_get_current_task_btf() (5.11): the task is untyped. */
SEC("fexit/cap_capable")
int BPF_PROG(stream_fexit_core, const struct cred *cred, struct user_namespace *target_ns,
	     int cap, int opts, int ret)
{
	return stream_check_core(cred, target_ns, cap, ret, opts_flags(opts));
}

SEC("fexit/cap_capable")
int BPF_PROG(agg_fexit_core, const struct cred *cred, struct user_namespace *target_ns, int cap,
	     int opts, int ret)
{
	return agg_check_core(ctx, cred, target_ns, cap, ret, opts_flags(opts));
}

/* kprobes: the arguments at entry, kept per thread for the return probes,
 * which may run on another CPU. An entry that finds its thread's slot
 * still unused saw a return probe missed (kretprobe's instances run out):
 * counted, as a check lost. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_KPROBE_INFLIGHT);
	__type(key, __u32);
	__type(value, struct ct_cap_args);
} cap_args SEC(".maps");

SEC("kprobe/cap_capable")
int BPF_KPROBE(cap_entry, const struct cred *cred, struct user_namespace *target_ns, int cap,
	       int opts)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ct_cap_args args = {
		.cred = (__u64)cred,
		.target_ns = (__u64)target_ns,
		.cap = cap,
		.opts = opts,
		.pending = 1,
	};
	struct ct_cap_args *old = bpf_map_lookup_elem(&cap_args, &tid);

	if (old && old->pending)
		count(CT_STAT_KRETPROBE_MISSED);
	bpf_map_update_elem(&cap_args, &tid, &args, BPF_ANY);
	return 0;
}

/* The one return probe that marks the arguments used: aggregation's when
 * it is loaded (it stays attached), else the stream's. */
static __always_inline struct ct_cap_args *kret_args(bool consume)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ct_cap_args *args = bpf_map_lookup_elem(&cap_args, &tid);

	if (args && consume)
		args->pending = 0;
	return args;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(stream_kret, int ret)
{
	struct ct_cap_args *args = kret_args(!cfg_agg_loaded);

	if (!args)
		return 0;
	return stream_check_core((const struct cred *)args->cred,
				 (struct user_namespace *)args->target_ns, args->cap, ret,
				 opts_flags(args->opts));
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(agg_kret, int ret)
{
	struct ct_cap_args *args = kret_args(true);

	if (!args)
		return 0;
	return agg_check_core(ctx, (const struct cred *)args->cred,
			      (struct user_namespace *)args->target_ns, args->cap, ret,
			      opts_flags(args->opts));
}

static __always_inline void count_outcome(const struct ct_agg_key *key, __u32 checks, long ret)
{
	struct ct_outcome *outcome, zero = {};

	outcome = bpf_map_lookup_elem(&outcomes, key);
	if (!outcome) {
		bpf_map_update_elem(&outcomes, key, &zero, BPF_NOEXIST);
		outcome = bpf_map_lookup_elem(&outcomes, key);
	}
	if (!outcome)
		count(CT_STAT_OUTCOME_FULL);
	else if (ret == -CT_EPERM)
		__sync_fetch_and_add(&outcome->eperm, checks);
	else if (ret == -CT_EACCES)
		__sync_fetch_and_add(&outcome->eacces, checks);
	else if (ret >= 0)
		__sync_fetch_and_add(&outcome->success, checks);
	else
		__sync_fetch_and_add(&outcome->other, checks);
}

/* Ends what a thread had pending (its syscall returned, or it exited in
 * one); true when it had something. */
static __always_inline bool forget_denials(__u32 tid)
{
	if (bpf_map_delete_elem(&pending_denials, &tid))
		return false;
	__sync_fetch_and_add(&denials_pending, -1);
	return true;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(denial_outcome, struct pt_regs *regs, long ret)
{
	__u32 tid;
	struct ct_pending_denials *p;

	if (!*(volatile __u64 *)&denials_pending)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(&pending_denials, &tid);
	if (!p)
		return 0;
	for (__u32 i = 0; i < CT_DENIALS_PER_SYSCALL && i < p->n; i++)
		count_outcome(&p->keys[i], p->checks[i], ret);
	forget_denials(tid);
	return 0;
}

/* How a recorded process comes to hold capabilities (record only): none
 * of these passes through cap_capable(). The syscalls are watched at entry
 * for what they ask, whether they then succeed or not: a request the
 * granted set cannot satisfy fails, which is what the profile must
 * prevent. */
const volatile bool cfg_watch_priv = false;
const volatile __s32 cfg_nr_capset = -1;
const volatile __s32 cfg_nr_prctl = -1;

/* The user-space layout of capset()'s arguments (linux/capability.h). */
struct ct_cap_user_header {
	__u32 version;
	__s32 pid;
};

struct ct_cap_user_data {
	__u32 effective;
	__u32 permitted;
	__u32 inheritable;
};

/* Counted with the lifecycle records when the ring is full: both carry
 * what the profile is built from beside the checks. */
static __always_inline struct ct_priv_event *priv_reserve(__u32 kind, struct task_struct *task)
{
	struct ct_priv_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	const struct cred *cred;

	if (!e) {
		count(CT_STAT_PROC_LOST);
		return NULL;
	}
	cred = BPF_CORE_READ(task, cred);
	__builtin_memset(e, 0, sizeof(*e));
	e->type = CT_REC_PRIV;
	e->kind = kind;
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = BPF_CORE_READ(task, tgid);
	e->exec_gen = (__u32)BPF_CORE_READ(task, self_exec_id);
	e->uid = BPF_CORE_READ(cred, uid.val);
	e->euid = BPF_CORE_READ(cred, euid.val);
	e->held_effective = cap_set_core(&cred->cap_effective);
	e->held_permitted = cap_set_core(&cred->cap_permitted);
	return e;
}

static __always_inline void capset_request(struct pt_regs *regs, struct task_struct *task)
{
	struct ct_cap_user_header hdr = {};
	struct ct_cap_user_data data[2] = {};
	void *datap = (void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	struct ct_priv_event *e = priv_reserve(CT_PRIV_CAPSET, task);

	if (!e)
		return;
	/* Version 1 has one 32-bit word per set, 2 and 3 two. */
	if (bpf_probe_read_user(&hdr, sizeof(hdr), (void *)PT_REGS_PARM1_CORE_SYSCALL(regs)) ||
	    bpf_probe_read_user(&data[0], sizeof(data[0]), datap) ||
	    (hdr.version != CT_CAPSET_V1 &&
	     bpf_probe_read_user(&data[1], sizeof(data[1]), datap + sizeof(data[0]))))
		e->flags |= CT_PRIV_UNREAD;
	e->asked_effective = data[0].effective | (__u64)data[1].effective << 32;
	e->asked_permitted = data[0].permitted | (__u64)data[1].permitted << 32;
	e->asked_inheritable = data[0].inheritable | (__u64)data[1].inheritable << 32;
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
}

/* Every syscall of the host passes here while record runs: two compares
 * against the two numbers come first. The task is read untyped, as kernels
 * before 5.11 have no bpf_get_current_task_btf(). */
SEC("tp_btf/sys_enter")
int BPF_PROG(priv_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	struct ct_priv_event *e;
	__u64 option, arg2, arg = 0;
	__u32 kind;

	if (id != cfg_nr_capset && id != cfg_nr_prctl)
		return 0;
	if (!agg_armed) /* the launcher's own confining, before the command's exec */
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (!recorded_cgroup_core(task))
		return 0;
	if (id == cfg_nr_capset) {
		capset_request(regs, task);
		return 0;
	}
	option = PT_REGS_PARM1_CORE_SYSCALL(regs);
	arg2 = PT_REGS_PARM2_CORE_SYSCALL(regs);
	if (option == CT_PR_CAP_AMBIENT && arg2 == CT_PR_CAP_AMBIENT_RAISE) {
		kind = CT_PRIV_AMBIENT_RAISE;
		arg = PT_REGS_PARM3_CORE_SYSCALL(regs);
	} else if (option == CT_PR_SET_KEEPCAPS) {
		kind = CT_PRIV_KEEPCAPS;
		arg = arg2;
	} else if (option == CT_PR_SET_SECUREBITS) {
		kind = CT_PRIV_SECUREBITS;
		arg = arg2;
	} else {
		return 0;
	}
	e = priv_reserve(kind, task);
	if (!e)
		return 0;
	e->arg = arg;
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	return 0;
}

/* The kernel marks an exec secure (AT_SECURE) when it changed ids or
 * raised capabilities from the file; a root user gains nothing by it. */
static __always_inline void exec_privilege(struct task_struct *task, struct linux_binprm *bprm)
{
	struct ct_priv_event *e;

	if (!BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec) ||
	    BPF_CORE_READ(task, cred, uid.val) == 0)
		return;
	e = priv_reserve(CT_PRIV_EXEC, task);
	if (e)
		bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
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

/* An argument may be MAX_ARG_STRLEN (32 pages, NUL included) long; each
 * read of argv[0] covers CT_ARGS_MAX - 1 of its bytes. */
#define ARG_STRLEN_MAX (32 * 4096)
#define ARGV0_READS ((ARG_STRLEN_MAX - 1) / (CT_ARGS_MAX - 1) + 1)

struct argv0_scan {
	struct ct_proc_event *e;
	unsigned long pos;
	unsigned long end;
	bool found;
	bool failed;
};

/* A read that fills the buffer (it returns its size) may have cut the
 * string or ended exactly at its NUL: the next read starts on the byte the
 * terminator replaced and tells which. True once the scan is over. */
static __noinline bool argv0_step(struct argv0_scan *s)
{
	long n;

	if (s->pos >= s->end)
		return true;
	n = bpf_probe_read_user_str(s->e->args, CT_ARGS_MAX, (void *)s->pos);
	if (n <= 0) {
		s->failed = true;
		return true;
	}
	if (n < CT_ARGS_MAX) {
		s->pos += n;
		s->found = true;
		return true;
	}
	s->pos += CT_ARGS_MAX - 1;
	return false;
}

static __always_inline void read_args(struct task_struct *task, struct ct_proc_event *e)
{
	struct argv0_scan s = {
		.e = e,
		.pos = BPF_CORE_READ(task, mm, arg_start),
		.end = BPF_CORE_READ(task, mm, arg_end),
	};
	unsigned long size;

	if (s.pos >= s.end)
		return; /* an empty argv (execve with none, before 5.18) */
	/* argv[0] is dropped, as in the reference format, but its whole length
	 * must be skipped: it is read only to find its NUL, into the buffer the
	 * arguments overwrite next. A bounded loop over a function (bpf_loop()
	 * is 5.17) keeps it verifiable on every kernel captrail loads on. */
	for (__u32 i = 0; i < ARGV0_READS; i++)
		if (argv0_step(&s))
			break;
	if (s.failed) {
		e->flags |= CT_PROC_ERR_ARGS;
		return;
	}
	/* No NUL inside the arguments' area where exec put one: nothing after
	 * it is known to be an argument, so none is sent. */
	if (!s.found || s.pos > s.end) {
		e->flags |= CT_PROC_TRUNC_ARGS;
		return;
	}
	size = s.end > s.pos ? s.end - s.pos : 0;
	if (size > CT_ARGS_MAX) {
		size = CT_ARGS_MAX;
		e->flags |= CT_PROC_TRUNC_ARGS;
	}
	if (size && bpf_probe_read_user(e->args, size, (void *)s.pos) < 0) {
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

static __noinline long cwd_step(__u32 index, void *ctx)
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
 * this program type; a bounded loop over a function (not bpf_loop(), which
 * kernels before 5.17 lack) keeps the walk verifiable. */
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
	for (__u32 i = 0; i < CT_PATH_DEPTH; i++)
		if (cwd_step(i, &w))
			break;
	if (!w.reached_root)
		e->flags |= CT_PROC_TRUNC_CWD;
	e->cwd_len = w.off;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ct_proc_event *e;
	long n;

	if (!recorded_cgroup_typed(task))
		return 0;
	agg_armed = true;
	if (!proc_recorded())
		return 0;
	e = proc_event_reserve(CT_REC_EXEC, task);
	if (!e)
		return 0;
	read_namespaces_typed(task, e->ns);
	/* Which file, not only which name: /dev/fd/N or /proc/self/exe
	 * name no program, and user space tells a runtime's re-exec of its
	 * own file by it (identity/proc_cache.c). */
	e->exe_ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	e->exe_dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	n = bpf_probe_read_kernel_str(e->binary, sizeof(e->binary), BPF_CORE_READ(bprm, filename));
	if (n > 0)
		e->binary_len = n;
	else
		e->flags |= CT_PROC_ERR_FILENAME;
	read_args(task, e);
	read_cwd(task, e);
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	/* After its exec record, which names the image. */
	if (cfg_watch_priv)
		exec_privilege(task, bprm);
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
	if (!proc_recorded())
		return 0;
	e = proc_event_reserve(CT_REC_FORK, child);
	if (!e)
		return 0;
	e->ppid = parent_tgid;
	read_namespaces_typed(child, e->ns);
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *task)
{
	struct ct_proc_event *e;
	__u32 tgid = BPF_CORE_READ(task, tgid);

	/* A thread that exits in a denied syscall never returns from it. */
	if (cfg_watch_denials && *(volatile __u64 *)&denials_pending)
		forget_denials(BPF_CORE_READ(task, pid));
	/* Only the last thread of the group ends the process. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (cfg_agg_tracked)
		bpf_map_delete_elem(&tracked, &tgid);
	if (!proc_recorded())
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
