#include "event/output.h"

#include <errno.h>
#include <string.h>

#include "identity/procfs.h"
#include "lib/caps.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/text.h"
#include "lib/util.h"

/* Anything the kernel cut is cut again, visibly, by lib/text. */
_Static_assert(TEXT_PATH_MAX < CT_PATH_MAX - 1, "a path the kernel cut must exceed the bound");
_Static_assert(TEXT_ARGS_MAX < CT_ARGS_MAX - 1, "arguments the kernel cut must exceed the bound");

int output_format_parse(const char *name, enum output_format *ret_format)
{
	static const char *const names[] = { "compact", "table", "json" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*ret_format = (enum output_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

void output_init(struct output *o, FILE *out, const struct output_opts *opts)
{
	memset(o, 0, sizeof(*o));
	o->out = out;
	o->opts = *opts;
	snprintf(o->node_name, sizeof(o->node_name), "%s", opts->node_name ? opts->node_name : "");
	o->opts.node_name = o->node_name;
	if (opts->host_ns) {
		memcpy(o->host_ns, opts->host_ns, sizeof(o->host_ns));
		o->have_host_ns = true;
	}
	jsonw_init(&o->json, out);
}

static const char *verdict(const struct ct_cap_event *e)
{
	return e->ret == 0 ? "granted" : "denied";
}

/* captrail's own string, when known and not empty (protojson omits those). */
static void json_optional(struct jsonw *w, const char *key, const char *value)
{
	if (value && *value)
		jsonw_string(w, key, value);
}

/* A string the workload controls, when known. protojson omits empty
 * strings, and strict consumers compare against that. */
static void json_text(struct output *o, const char *key, const char *value, size_t max,
		      bool upstream_cut)
{
	if (value && *value && jsonw_text(&o->json, key, value, max, upstream_cut))
		o->cut++;
}

/* Tetragon sets "pod" only for a Kubernetes pod; a container of any other
 * engine has only "docker". */
static bool is_kubernetes_pod(const struct identity_pod *pod)
{
	return pod->namespace_ || pod->name || pod->uid;
}

static void json_pod(struct output *o, const struct identity_pod *pod)
{
	struct jsonw *w = &o->json;

	jsonw_object(w, "pod");
	json_text(o, "namespace", pod->namespace_, TEXT_NAME_MAX, false);
	json_text(o, "name", pod->name, TEXT_NAME_MAX, false);
	json_text(o, "uid", pod->uid, TEXT_NAME_MAX, false);
	jsonw_object(w, "container");
	json_text(o, "id", pod->container_id, TEXT_NAME_MAX, false);
	json_text(o, "name", pod->container_name, TEXT_NAME_MAX, false);
	/* No image id is known: Image.id is omitted, as protojson does. */
	if (pod->image && *pod->image) {
		jsonw_object(w, "image");
		json_text(o, "name", pod->image, TEXT_IMAGE_MAX, false);
		jsonw_end(w, '}');
	}
	json_text(o, "start_time", pod->container_start_time, TEXT_NAME_MAX, false);
	if (pod->container_pid)
		jsonw_uint(w, "pid", pod->container_pid);
	jsonw_end(w, '}');
	if (pod->n_labels) {
		jsonw_object(w, "pod_labels");
		for (size_t i = 0; i < pod->n_labels; i++)
			o->cut += jsonw_text_pair(w, pod->labels[i].key, pod->labels[i].value,
						  TEXT_LABEL_MAX);
		jsonw_end(w, '}');
	}
	/* Tetragon's owner comes from the cluster API; this one from what the
	 * node has (workload_owner_of()). */
	json_text(o, "workload", pod->workload, TEXT_NAME_MAX, false);
	json_text(o, "workload_kind", pod->workload_kind, TEXT_NAME_MAX, false);
	jsonw_end(w, '}');
}

/* Ten inode numbers, each with its is_host verdict, are the largest part of
 * an event; a process's namespaces rarely change, so the rendered object is
 * kept. */
static const struct output_ns_json *ns_json(struct output *o, const uint32_t *ns)
{
	struct output_ns_json *slot;
	size_t len = 0;

	for (int i = 0; i < OUTPUT_NS_CACHE; i++)
		if (o->ns_json[i].len && !memcmp(o->ns_json[i].inums, ns, sizeof(slot->inums)))
			return &o->ns_json[i];
	slot = &o->ns_json[o->next_ns_json++ % OUTPUT_NS_CACHE];
	slot->json[len++] = '{';
	for (int i = 0; i < CT_NS_COUNT; i++) {
		len += (size_t)snprintf(slot->json + len, sizeof(slot->json) - len,
					"%s\"%s\":{\"inum\":%u", i ? "," : "", procfs_ns_name(i), ns[i]);
		if (o->have_host_ns && ns[i] == o->host_ns[i])
			len += (size_t)snprintf(slot->json + len, sizeof(slot->json) - len,
						",\"is_host\":true");
		slot->json[len++] = '}';
	}
	slot->json[len++] = '}';
	slot->len = len;
	memcpy(slot->inums, ns, sizeof(slot->inums));
	return slot;
}

static void json_namespaces(struct output *o, const uint32_t *ns)
{
	const struct output_ns_json *rendered = ns_json(o, ns);

	jsonw_raw(&o->json, "ns", rendered->json, rendered->len);
}

/* Tetragon's names for capabilities, its CapabilitiesType enum and its
 * capability_arg name table alike: the kernel's, except value 1, which it
 * spells without the prefix. Numbers past its last value have no name. */
static const char *const tetragon_caps[] = {
	"CAP_CHOWN", "DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static const char *tetragon_cap_name(int cap)
{
	if (cap < 0 || cap >= (int)(sizeof(tetragon_caps) / sizeof(tetragon_caps[0])))
		return NULL;
	return tetragon_caps[cap];
}

static const struct output_capset *capset_json(struct output *o, uint64_t mask)
{
	struct output_capset *slot;
	size_t len = 0;

	for (int i = 0; i < OUTPUT_CAPSET_CACHE; i++)
		if (o->capsets[i].len && o->capsets[i].mask == mask)
			return &o->capsets[i];
	slot = &o->capsets[o->next_capset++ % OUTPUT_CAPSET_CACHE];
	slot->json[len++] = '[';
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		const char *name = tetragon_cap_name(cap);

		if (!(mask & (1ull << cap)))
			continue;
		if (len > 1)
			slot->json[len++] = ',';
		/* protojson writes a value its enum lacks as the number. Names
		 * need no escaping. */
		if (name)
			len += (size_t)snprintf(slot->json + len, sizeof(slot->json) - len,
						"\"%s\"", name);
		else
			len += (size_t)snprintf(slot->json + len, sizeof(slot->json) - len, "%d",
						cap);
	}
	slot->json[len++] = ']';
	slot->len = len;
	slot->mask = mask;
	return slot;
}

static void json_cap_list(struct output *o, const char *key, uint64_t mask)
{
	const struct output_capset *set;

	if (!mask)
		return;
	set = capset_json(o, mask);
	jsonw_raw(&o->json, key, set->json, set->len);
}

/* Tetragon's SecureBitsType values are the kernel's SECBIT_* bits. */
static const char *const securebits[] = {
	"SecBitNoRoot", "SecBitNoRootLocked", "SecBitNoSetUidFixup", "SecBitNoSetUidFixupLocked",
	"SecBitKeepCaps", "SecBitKeepCapsLocked", "SecBitNoCapAmbientRaise",
	"SecBitNoCapAmbientRaiseLocked",
};

/* The ids are wrappers, written even when 0, as Tetragon sets them all;
 * securebits names only the bits set, and bits it has no name for are not
 * written (its list holds names only). */
static void json_credentials(struct jsonw *w, const struct ct_cap_event *e)
{
	jsonw_object(w, "process_credentials");
	jsonw_uint(w, "uid", e->uid);
	jsonw_uint(w, "gid", e->gid);
	jsonw_uint(w, "euid", e->euid);
	jsonw_uint(w, "egid", e->egid);
	jsonw_uint(w, "suid", e->suid);
	jsonw_uint(w, "sgid", e->sgid);
	jsonw_uint(w, "fsuid", e->fsuid);
	jsonw_uint(w, "fsgid", e->fsgid);
	if (e->securebits & ((1u << ARRAY_SIZE(securebits)) - 1)) {
		jsonw_array(w, "securebits");
		for (size_t i = 0; i < ARRAY_SIZE(securebits); i++)
			if (e->securebits & (1u << i))
				jsonw_string(w, NULL, securebits[i]);
		jsonw_end(w, ']');
	}
	jsonw_end(w, '}');
}

static void json_process(struct output *o, const char *key, const struct identity_process *p,
			 const struct ct_cap_event *creds)
{
	struct jsonw *w = &o->json;

	jsonw_object(w, key);
	json_optional(w, "exec_id", p->exec_id);
	jsonw_uint(w, "pid", p->pid);
	jsonw_uint(w, "uid", p->uid);
	json_text(o, "cwd", p->cwd, TEXT_PATH_MAX, false);
	json_text(o, "binary", p->binary, TEXT_PATH_MAX, false);
	/* Arguments the reader already cut (truncArgs) end with the mark too. */
	json_text(o, "arguments", p->arguments, TEXT_ARGS_MAX,
		  p->flags && strstr(p->flags, "truncArgs"));
	json_optional(w, "flags", p->flags);
	json_optional(w, "start_time", p->start_time);
	jsonw_uint(w, "auid", p->auid);
	if (p->pod) {
		if (is_kubernetes_pod(p->pod))
			json_pod(o, p->pod);
		json_text(o, "docker", p->pod->docker, TEXT_NAME_MAX, false);
	}
	json_optional(w, "parent_exec_id", p->parent_exec_id);
	/* The parent is known from its exec, when its thread group leader was
	 * the only thread: Tetragon gives it that tid, the pid. */
	jsonw_uint(w, "tid", p->tid ? p->tid : p->pid);
	if (p->ns)
		json_namespaces(o, p->ns);
	if (p->init_tree != IDENTITY_INIT_UNKNOWN)
		jsonw_bool(w, "in_init_tree", p->init_tree == IDENTITY_INIT_IN);
	if (creds) {
		jsonw_object(w, "cap");
		json_cap_list(o, "permitted", creds->cap_permitted);
		json_cap_list(o, "effective", creds->cap_effective);
		json_cap_list(o, "inheritable", creds->cap_inheritable);
		jsonw_end(w, '}');
		json_credentials(w, creds);
	}
	jsonw_end(w, '}');
}

/* Facts the reference format has no field for travel as tags, so strict
 * parsers of that format still accept the event. */
static void json_tags(struct jsonw *w, const struct identity_event *ev)
{
	const struct ct_cap_event *e = ev->cap;
	char tag[64];

	jsonw_array(w, "tags");
	jsonw_string(w, NULL, e->ret == 0 ? "granted" : "denied");
	if (e->flags & CT_CAP_AUDIT_KNOWN)
		jsonw_string(w, NULL, e->flags & CT_CAP_NOAUDIT ? "noaudit" : "audit");
	if (e->flags & CT_CAP_INSETID)
		jsonw_string(w, NULL, "insetid");
	if (!(e->flags & CT_CAP_REAL_CRED))
		jsonw_string(w, NULL, "override_creds");
	if (ev->runtime)
		jsonw_string(w, NULL, "runtime");
	if (ev->syscall) {
		snprintf(tag, sizeof(tag), "syscall:%s", ev->syscall);
		jsonw_string(w, NULL, tag);
	}
	jsonw_end(w, ']');
}

static void json_event(struct output *o, const struct identity_event *ev)
{
	const struct ct_cap_event *e = ev->cap;
	struct jsonw *w = &o->json;
	char time[RFC3339_LEN];

	jsonw_object(w, NULL);
	jsonw_object(w, "process_kprobe");
	json_process(o, "process", &ev->process, e);
	if (ev->parent)
		json_process(o, "parent", ev->parent, NULL);
	jsonw_string(w, "function_name", "cap_capable");
	jsonw_array(w, "args");
	jsonw_object(w, NULL);
	jsonw_object(w, "user_ns_arg");
	jsonw_uint(w, "level", e->target_ns_level);
	jsonw_uint(w, "uid", e->target_ns_uid);
	jsonw_uint(w, "gid", e->target_ns_gid);
	jsonw_object(w, "ns");
	if (e->target_ns_inum)
		jsonw_uint(w, "inum", e->target_ns_inum);
	if (e->target_ns_level == 0)
		jsonw_bool(w, "is_host", true);
	jsonw_end(w, '}');
	jsonw_end(w, '}');
	jsonw_end(w, '}');
	jsonw_object(w, NULL);
	jsonw_object(w, "capability_arg");
	jsonw_int(w, "value", e->cap);
	json_optional(w, "name", tetragon_cap_name(e->cap));
	jsonw_end(w, '}');
	jsonw_end(w, '}');
	jsonw_end(w, ']');
	jsonw_object(w, "return");
	jsonw_int(w, "int_arg", e->ret);
	jsonw_end(w, '}');
	jsonw_string(w, "action", "KPROBE_ACTION_POST");
	jsonw_string(w, "policy_name", "captrail");
	jsonw_string(w, "return_action", "KPROBE_ACTION_POST");
	json_tags(w, ev);
	jsonw_end(w, '}');
	if (o->node_name[0])
		jsonw_string(w, "node_name", o->node_name);
	clock_rfc3339(e->ktime_ns + o->opts.boot_offset_ns, time);
	jsonw_string(w, "time", time);
	jsonw_end(w, '}');
	jsonw_line_end(w);
}

/* Workload strings in a line are escaped (TEXT_LINE): one event is one
 * line, and nothing in it reaches the terminal as a control. NULL is "?". */
static unsigned int put_line_text(FILE *out, const char *s, size_t max)
{
	return text_fput(out, s ? s : "?", max, TEXT_LINE);
}

/* "default/xwing spaceship /bin/dmesg" in a pod, the binary elsewhere. */
static unsigned int put_who(FILE *out, const struct output_line *l)
{
	unsigned int cut = 0;

	if (l->has_pod) {
		cut += put_line_text(out, l->pod_namespace, TEXT_NAME_MAX);
		fputc_unlocked('/', out);
		cut += put_line_text(out, l->pod_name, TEXT_NAME_MAX);
		fputc_unlocked(' ', out);
		cut += put_line_text(out, l->container, TEXT_NAME_MAX);
		fputc_unlocked(' ', out);
	}
	return cut + put_line_text(out, l->binary, TEXT_PATH_MAX);
}

/* The capability and syscall columns: captrail's own names, but events
 * reads them from JSON lines. */
#define COLUMN_MAX 64

unsigned int output_compact_line(FILE *out, const struct output_line *l)
{
	char time[RFC3339_LEN] = "-", cap[TEXT_BUF(COLUMN_MAX)];
	unsigned int cut;
	bool cap_cut;

	if (l->wall_ns)
		clock_hms_us(l->wall_ns, time);
	text_render(cap, sizeof(cap), l->capability, COLUMN_MAX, TEXT_LINE, &cap_cut);
	fprintf(out, "%s %-7s %-22s pid=%u uid=%u ", time, l->verdict, cap, l->pid, l->uid);
	cut = cap_cut + put_who(out, l);
	if (l->syscall) {
		fputs_unlocked(" syscall=", out);
		cut += put_line_text(out, l->syscall, COLUMN_MAX);
	}
	fputc_unlocked('\n', out);
	return cut;
}

/* The command name stands in while the binary is unknown. */
static void event_line(const struct output *o, const struct identity_event *ev,
		       char name[CAPS_NAME_LEN], struct output_line *ret_line)
{
	const struct ct_cap_event *e = ev->cap;
	const struct identity_pod *pod = ev->process.pod;

	caps_name(e->cap, name);
	*ret_line = (struct output_line){
		.wall_ns = e->ktime_ns + o->opts.boot_offset_ns,
		.verdict = verdict(e),
		.capability = name,
		.pid = e->pid,
		.uid = e->euid,
		.has_pod = pod != NULL,
		.pod_namespace = pod ? pod->namespace_ : NULL,
		.pod_name = pod ? pod->name : NULL,
		.container = pod ? pod->container_name : NULL,
		.binary = ev->process.binary ? ev->process.binary : e->comm,
		.syscall = ev->syscall,
	};
}

static void table_event(struct output *o, const struct identity_event *ev)
{
	char name[CAPS_NAME_LEN], time[RFC3339_LEN], syscall[TEXT_BUF(COLUMN_MAX)];
	struct output_line l;
	bool cut;

	if (!o->header_done) {
		fprintf(o->out, "%-15s %-7s %-22s %7s %10s %-16s %s\n", "TIME", "VERDICT",
			"CAPABILITY", "PID", "UID", "SYSCALL", "PROCESS");
		o->header_done = true;
	}
	event_line(o, ev, name, &l);
	clock_hms_us(l.wall_ns, time);
	text_render(syscall, sizeof(syscall), l.syscall ? l.syscall : "-", COLUMN_MAX, TEXT_LINE,
		    &cut);
	fprintf(o->out, "%-15s %-7s %-22s %7u %10u %-16s ", time, l.verdict, l.capability, l.pid,
		l.uid, syscall);
	o->cut += cut + put_who(o->out, &l);
	fputc_unlocked('\n', o->out);
}

static json_object *member(json_object *obj, const char *key)
{
	return json_member(obj, key, json_type_object);
}

/* The capability_arg among the arguments, by captrail's name of its value:
 * the event's name is Tetragon's spelling, absent for a number it lacks. */
static const char *json_capability(json_object *args)
{
	const char *found = NULL;

	for (size_t i = 0; args && i < json_object_array_length(args); i++) {
		json_object *cap = member(json_object_array_get_idx(args, i), "capability_arg");
		json_object *value = json_member(cap, "value", json_type_int);
		const char *name = value ? caps_name_static(json_object_get_int(value)) : NULL;

		if (!name)
			name = json_member_string(cap, "name");
		if (name)
			found = name;
	}
	return found;
}

void output_line_from_json(json_object *event, struct output_line *ret_line)
{
	json_object *kprobe = member(event, "process_kprobe");
	json_object *process = member(kprobe, "process"), *pod = member(process, "pod");
	json_object *tags = json_member(kprobe, "tags", json_type_array);
	json_object *ret = json_member(member(kprobe, "return"), "int_arg", json_type_int);
	struct output_line l = {
		.capability = json_capability(json_member(kprobe, "args", json_type_array)),
		.has_pod = pod != NULL,
		.pod_namespace = json_member_string(pod, "namespace"),
		.pod_name = json_member_string(pod, "name"),
		.container = json_member_string(member(pod, "container"), "name"),
		.binary = json_member_string(process, "binary"),
	};
	uint64_t value = 0;

	if (clock_parse_rfc3339(json_member_string(event, "time"), &l.wall_ns))
		l.wall_ns = 0;
	if (!json_read_u64(process, "pid", &value))
		l.pid = (uint32_t)value;
	if (!json_read_u64(process, "uid", &value))
		l.uid = (uint32_t)value;
	for (size_t i = 0; tags && i < json_object_array_length(tags); i++) {
		const char *tag = json_object_get_string(json_object_array_get_idx(tags, i));

		if (!tag)
			continue;
		if (!strcmp(tag, "denied") || !strcmp(tag, "granted"))
			l.verdict = tag;
		else if (!strncmp(tag, "syscall:", 8))
			l.syscall = tag + 8;
	}
	if (!l.verdict)
		l.verdict = ret && json_object_get_int(ret) == 0 ? "granted" : "denied";
	if (!l.capability)
		l.capability = "?";
	*ret_line = l;
}

void output_event(struct output *o, const struct identity_event *ev)
{
	switch (o->opts.format) {
	case OUTPUT_JSON: json_event(o, ev); break;
	case OUTPUT_TABLE: table_event(o, ev); break;
	case OUTPUT_COMPACT: {
		char name[CAPS_NAME_LEN];
		struct output_line l;

		event_line(o, ev, name, &l);
		o->cut += output_compact_line(o->out, &l);
		break;
	}
	}
}
