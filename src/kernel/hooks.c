#include "kernel/hooks.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const names[HOOK_COUNT] = {
	[HOOK_AUTO] = "auto",
	[HOOK_TRACEPOINT] = "tracepoint",
	[HOOK_FEXIT] = "fexit",
	[HOOK_KPROBE] = "kprobe",
};

const char *hook_name(enum hook hook)
{
	return (unsigned int)hook < HOOK_COUNT ? names[hook] : "?";
}

int hook_parse(const char *name, enum hook *ret_hook)
{
	for (int h = 0; h < HOOK_COUNT; h++) {
		if (!strcmp(name, names[h])) {
			*ret_hook = (enum hook)h;
			return 0;
		}
	}
	return -EINVAL;
}

static bool has_typedef(const struct btf *btf, const char *prefix, const char *name)
{
	char type_name[128];

	snprintf(type_name, sizeof(type_name), "%s%s", prefix, name);
	return btf__find_by_name_kind(btf, type_name, BTF_KIND_TYPEDEF) >= 0;
}

/* A helper exists when the kernel's enum bpf_func_id names it. */
static bool has_helper(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, "bpf_func_id", BTF_KIND_ENUM);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, id);
	const struct btf_enum *e = t ? btf_enum(t) : NULL;

	for (int i = 0; e && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name))
			return true;
	return false;
}

/* cap_capable(cred, ns, cap, opts) since 5.1; (cred, ns, cap, audit) before,
 * where some 4.18 and 4.19 kernels backported opts. */
static enum ct_opts_style opts_style(const struct btf *btf, bool *ret_found)
{
	int id = btf__find_by_name_kind(btf, "cap_capable", BTF_KIND_FUNC);
	const struct btf_type *proto = id < 0 ? NULL : btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	const struct btf_param *p;

	*ret_found = proto && btf_is_func_proto(proto) && btf_vlen(proto) == 4;
	if (!*ret_found)
		return CT_OPTS_NONE;
	p = btf_params(proto);
	return strcmp(btf__name_by_offset(btf, p[3].name_off), "audit") ? CT_OPTS_BITS
									 : CT_OPTS_AUDIT_INT;
}

void hook_features_read(const struct btf *vmlinux, const char *sysfs_root,
			struct hook_features *ret_features)
{
	struct hook_features f = {};
	char path[PATH_MAX];

	f.tracepoint = has_typedef(vmlinux, "btf_trace_", "cap_capable");
	f.opts_style = opts_style(vmlinux, &f.cap_capable);
	snprintf(path, sizeof(path), "%s/bus/event_source/devices/kprobe/type", sysfs_root);
	f.kprobes = access(path, F_OK) == 0;
	f.task_btf = has_helper(vmlinux, "BPF_FUNC_get_current_task_btf");
	f.rdonly_cast = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0;
	f.task_cache = has_typedef(vmlinux, "btf_trace_", "task_newtask") &&
		       has_typedef(vmlinux, "btf_trace_", "cgroup_attach_task");
	*ret_features = f;
}

const char *hook_unavailable(const struct hook_features *f, enum hook hook)
{
	switch (hook) {
	case HOOK_TRACEPOINT:
		return f->tracepoint ? NULL : "this kernel has no capability:cap_capable tracepoint "
					      "(Linux 6.14 and later)";
	case HOOK_FEXIT:
	case HOOK_KPROBE:
		if (!f->cap_capable)
			return "cap_capable() is not in the kernel's BTF with the arguments captrail "
			       "knows";
		if (hook == HOOK_KPROBE && !f->kprobes)
			return "this kernel has no kprobes (CONFIG_KPROBES)";
		return NULL;
	default:
		return "not a hook";
	}
}
