/* Where captrail can hook cap_capable() on the running kernel, found by
 * probing it (its BTF, its sysfs), never by its version:
 *
 *   tracepoint  capability:cap_capable (Linux 6.14 and later): no opts,
 *               so noaudit checks are told by their call chain;
 *   fexit       cap_capable's arguments and return value in one program
 *               (5.5 and later, where the architecture has trampolines);
 *   kprobe      kprobe + kretprobe, the arguments kept per thread from one
 *               to the other; a return probe that never ran is a check lost.
 *
 * The loader tries them in this order and keeps the first that loads and
 * attaches; the report says why the others did not. */
#ifndef CAPTRAIL_KERNEL_HOOKS_H
#define CAPTRAIL_KERNEL_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/btf.h>

#include "bpf/captrail.h"

enum hook {
	HOOK_AUTO, /* the first of the others that works */
	HOOK_TRACEPOINT,
	HOOK_FEXIT,
	HOOK_KPROBE,
	HOOK_COUNT,
};

#define HOOK_WHY_LEN 160

/* "auto", "tracepoint", "fexit", "kprobe"; and back (-EINVAL). */
const char *hook_name(enum hook hook);
int hook_parse(const char *name, enum hook *ret_hook);

/* What the kernel offers. */
struct hook_features {
	bool tracepoint; /* the BTF typedef btf_trace_cap_capable */
	bool cap_capable; /* the function in BTF: fexit can try */
	enum ct_opts_style opts_style; /* its fourth parameter */
	bool kprobes; /* the kprobe PMU */
	bool task_btf; /* bpf_get_current_task_btf() (5.11) */
	bool rdonly_cast; /* the bpf_rdonly_cast() kfunc (6.2) */
	bool task_cache; /* task_newtask and cgroup_attach_task tracepoints */
};

/* From the kernel's BTF and <sysfs_root>/bus/event_source/devices/kprobe. */
void hook_features_read(const struct btf *vmlinux, const char *sysfs_root,
			struct hook_features *ret_features);

/* Why hook cannot work on this kernel, found without trying it; NULL when
 * only a load and attach can tell. */
const char *hook_unavailable(const struct hook_features *f, enum hook hook);

#endif
