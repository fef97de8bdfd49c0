/* SPDX-License-Identifier: GPL-2.0 */
/* What one capability check costs: deciding whether it is wanted, and
 * counting it (aggregation) or copying it (stream). captrail.bpf.c includes
 * this twice, as two flavors of the same code:
 *
 *   typed  the task, the credentials and the user namespace are BTF
 *          pointers (tp_btf and fexit arguments, bpf_get_current_task_btf()),
 *          so every field is a direct load: the verifier makes each one a
 *          fault-safe plain load, still relocated by CO-RE (vmlinux.h marks
 *          every type preserve_access_index), where BPF_CORE_READ() costs
 *          a helper call per pointer hop, ~40 per streamed event;
 *   core   nothing is typed (kprobe registers; kernels before 5.11 have
 *          no bpf_get_current_task_btf()): every field through
 *          BPF_CORE_READ().
 *
 * The includer defines CT_FLAVOR (the suffix of every function here),
 * CT_RD(ptr, field, ...) (a read along a chain of fields) and
 * CT_CURRENT_TASK(). */

#define CT_CAT_(a, b) a##b
#define CT_CAT(a, b) CT_CAT_(a, b)
#define CT_FN(name) CT_CAT(name, CT_FLAVOR)

static __always_inline __u64 CT_FN(cap_set)(const kernel_cap_t *set)
{
	const struct kernel_cap_struct___old *old = (const void *)set;

	if (bpf_core_field_exists(set->val))
		return CT_RD(set, val);
	return BPF_CORE_READ(old, cap[0]) | ((__u64)BPF_CORE_READ(old, cap[1]) << 32);
}

static __always_inline bool CT_FN(in_host_pidns)(struct task_struct *task)
{
	return CT_RD(task, thread_pid, level) == 0;
}

static __always_inline int CT_FN(task_syscall)(struct task_struct *task)
{
	if (CT_RD(task, flags) & PF_KTHREAD)
		return CT_NO_SYSCALL;
	return CT_FN(user_syscall)(task);
}

/* Returns the task's pid as its own pid namespace numbers it. */
static __always_inline __u32 CT_FN(read_namespaces)(struct task_struct *task,
						    __u32 ns[CT_NS_COUNT])
{
	struct nsproxy *nsp = CT_RD(task, nsproxy);
	struct pid *pid = CT_RD(task, thread_pid);
	unsigned int level = CT_RD(pid, level);
	struct upid upid = {};

	/* The task's own pid namespace is the one at its pid's deepest level
	 * (a variable index into a flexible array: read with a helper). */
	bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level & 31]);
	ns[CT_NS_PID] = BPF_CORE_READ(upid.ns, ns.inum);
	ns[CT_NS_USER] = CT_RD(task, real_cred, user_ns, ns.inum);
	if (!nsp) /* exiting task */
		return upid.nr;
	ns[CT_NS_UTS] = CT_RD(nsp, uts_ns, ns.inum);
	ns[CT_NS_IPC] = CT_RD(nsp, ipc_ns, ns.inum);
	ns[CT_NS_MNT] = CT_RD(nsp, mnt_ns, ns.inum);
	ns[CT_NS_PID_FOR_CHILDREN] = CT_RD(nsp, pid_ns_for_children, ns.inum);
	ns[CT_NS_NET] = CT_RD(nsp, net_ns, ns.inum);
	if (bpf_core_field_exists(nsp->time_ns)) {
		ns[CT_NS_TIME] = CT_RD(nsp, time_ns, ns.inum);
		ns[CT_NS_TIME_FOR_CHILDREN] = CT_RD(nsp, time_ns_for_children, ns.inum);
	}
	ns[CT_NS_CGROUP] = CT_RD(nsp, cgroup_ns, ns.inum);
	return upid.nr;
}

/* The filters that need nothing but the hook's arguments and the current
 * task come first and cheapest, so a non-matching check costs almost
 * nothing. */
static __always_inline bool CT_FN(check_wanted)(const struct cred *cred, int cap, int ret,
						__u32 tgid, struct task_struct *task)
{
	if (cfg_cap_mask && (cap < 0 || cap >= 64 || !(cfg_cap_mask & (1ull << cap))))
		return false;
	if (cfg_denied_only && ret == 0)
		return false;
	if (cfg_self_tgid && tgid == cfg_self_tgid)
		return false;
	if (cfg_filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	if (cfg_uid != CT_ANY_UID && CT_RD(cred, euid.val) != cfg_uid)
		return false;
	if (cfg_cgroup_id && bpf_get_current_cgroup_id() != cfg_cgroup_id)
		return false;
	if (cfg_pidns_mode != CT_PIDNS_ANY &&
	    CT_FN(in_host_pidns)(task) != (cfg_pidns_mode == CT_PIDNS_HOST))
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

static __always_inline int CT_FN(stream_check)(const struct cred *cred,
					       struct user_namespace *target_ns, int cap, int ret,
					       __u32 opts_flags)
{
	struct task_struct *task = CT_CURRENT_TASK();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ct_cap_event *e;
	__u32 flags = opts_flags;

	if (!CT_FN(check_wanted)(cred, cap, ret, pid_tgid >> 32, task))
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
	e->ppid = CT_RD(task, real_parent, tgid);
	e->euid = CT_RD(cred, euid.val);
	e->uid = CT_RD(cred, uid.val);
	e->gid = CT_RD(cred, gid.val);
	e->egid = CT_RD(cred, egid.val);
	e->suid = CT_RD(cred, suid.val);
	e->sgid = CT_RD(cred, sgid.val);
	e->fsuid = CT_RD(cred, fsuid.val);
	e->fsgid = CT_RD(cred, fsgid.val);
	e->securebits = CT_RD(cred, securebits);
	e->cap = cap;
	e->ret = ret;
	e->syscall = CT_FN(task_syscall)(task);
	e->target_ns_level = CT_RD(target_ns, level);
	e->target_ns_uid = CT_RD(target_ns, owner.val);
	e->target_ns_gid = CT_RD(target_ns, group.val);
	e->target_ns_inum = CT_RD(target_ns, ns.inum);
	e->cap_permitted = CT_FN(cap_set)(&cred->cap_permitted);
	e->cap_effective = CT_FN(cap_set)(&cred->cap_effective);
	e->cap_inheritable = CT_FN(cap_set)(&cred->cap_inheritable);
	__builtin_memset(e->ns, 0, sizeof(e->ns));
	e->ns_pid = CT_FN(read_namespaces)(task, e->ns);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if ((const void *)cred == (const void *)CT_RD(task, real_cred))
		flags |= CT_CAP_REAL_CRED;
	e->flags = flags;
	bpf_ringbuf_submit(e, wakeup_flags(sizeof(*e)));
	return 0;
}

/* The cgroup id is three pointer hops away (css_set, cgroup, kernfs_node),
 * each a likely cache and TLB miss when the task is not using its cgroup:
 * bpf_get_current_cgroup_id() or the same loads cost ~60 ns per check here
 * (bpf_stats run_time_ns over a capcheck loop: 142 ns per call up to this
 * test, 76 ns without the id). Once the recorded cgroup's address is known,
 * one hop and a compare decide, for every process on the node. */
static __always_inline bool CT_FN(in_agg_cgroup)(struct task_struct *task)
{
	struct cgroup *cgrp = CT_RD(task, cgroups, dfl_cgrp);

	if (agg_cgroup_addr)
		return (__u64)cgrp == agg_cgroup_addr;
	if (CT_RD(cgrp, kn, id) != cfg_agg_cgroup)
		return false;
	agg_cgroup_addr = (__u64)cgrp;
	return true;
}

/* The cgroup the task's checks count under, or 0 when it is not recorded. */
static __always_inline __u64 CT_FN(recorded_cgroup)(struct task_struct *task)
{
	__u32 tgid;

	if (cfg_agg_cgroup)
		return CT_FN(in_agg_cgroup)(task) ? cfg_agg_cgroup : 0;
	/* task is current here: the helper answers for current alone. Each
	 * check counts under the task's own cgroup, which the runtime rule
	 * compares with where its image was exec'd. */
	if (cfg_agg_subtree)
		return in_agg_subtree() ? bpf_get_current_cgroup_id() : 0;
	tgid = CT_RD(task, tgid);
	if (cfg_agg_tracked && !bpf_map_lookup_elem(&tracked, &tgid))
		return 0;
	return bpf_get_current_cgroup_id();
}

/* Deciding whether a task is recorded reads its css_set, a cache line that
 * nothing else on a capability check touches: that load alone was ~20 ns of
 * the ~35 ns the program added over the floor here (links toggled every
 * 20 ms under a sethostname loop, tools in bench/README.md). The CPU's
 * last verdict answers instead while the same task keeps checking. */
static __always_inline struct ct_agg_cpu *CT_FN(recording_cpu)(struct task_struct *task)
{
	__u32 zero = 0;
	struct ct_agg_cpu *cpu = bpf_map_lookup_elem(&agg_cpu, &zero);
	__u64 gen = task_gen; /* before the verdict: a bump meanwhile retakes it */

	if (!cpu)
		return NULL;
	if (!cfg_task_cache || cpu->task != (__u64)task || cpu->task_gen != gen) {
		cpu->cgroup_id = CT_FN(recorded_cgroup)(task);
		cpu->task = (__u64)task;
		cpu->task_gen = gen;
	}
	return cpu->cgroup_id ? cpu : NULL;
}

static __always_inline int CT_FN(agg_check)(void *ctx, const struct cred *cred,
					    struct user_namespace *target_ns, int cap, int ret,
					    __u32 opts_flags)
{
	struct task_struct *task;
	struct ct_agg_cpu *cpu;
	struct ct_agg_key key;
	__u64 n;

	if (!agg_armed)
		return 0;
	task = CT_CURRENT_TASK();
	cpu = CT_FN(recording_cpu)(task);
	if (!cpu)
		return 0;
	key.cgroup_id = cpu->cgroup_id;
	key.pid = CT_RD(task, tgid);
	key.exec_gen = (__u32)CT_RD(task, self_exec_id);
	key.pad = 0;
	key.cap = cap;
	key.syscall = CT_FN(task_syscall)(task);
	key.flags = agg_opts_flags(opts_flags) | (ret ? CT_AGG_DENIED : 0);
	if ((const void *)cred != (const void *)CT_RD(task, real_cred))
		key.flags |= CT_AGG_OVERRIDE_CRED;
	if ((const void *)target_ns != (const void *)CT_RD(cred, user_ns))
		key.flags |= CT_AGG_FOREIGN_USERNS;
	if (CT_RD(task, flags) & PF_KTHREAD)
		key.flags |= CT_AGG_KTHREAD;

	n = agg_count(ctx, cpu, &key);
	if (cfg_objects && n && n <= CT_OBJECT_SAMPLES)
		send_object(&key);
	if (ret)
		notice_denial(&key);
	return 0;
}

#undef CT_FN
#undef CT_CAT
#undef CT_CAT_
