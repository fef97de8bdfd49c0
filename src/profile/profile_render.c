/* Renderings of a profile. YAML is written by hand: every scalar in it is a
 * capability name or a fixed word, so plain scalars suffice. JSON goes
 * through json-c. What a workload named (binaries, instances, the
 * workload's and user's names, the command) is bounded and escaped as
 * lib/text.h says: TEXT_LINE in text, well-formed UTF-8 in JSON. */
#include "profile/profile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "lib/syscalls.h"
#include "lib/text.h"

static const char *const format_names[PROFILE_FORMAT_COUNT] = {
	[PROFILE_FORMAT_TEXT] = "text",
	[PROFILE_FORMAT_JSON] = "json",
	[PROFILE_FORMAT_K8S] = "k8s",
	[PROFILE_FORMAT_DOCKER] = "docker",
	[PROFILE_FORMAT_COMPOSE] = "compose",
	[PROFILE_FORMAT_SYSTEMD] = "systemd",
	[PROFILE_FORMAT_OCI] = "oci",
};

int profile_format_parse(const char *name, enum profile_format *ret_format)
{
	for (int i = 0; i < PROFILE_FORMAT_COUNT; i++) {
		if (name && strcmp(name, format_names[i]) == 0) {
			*ret_format = (enum profile_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *profile_format_name(enum profile_format format)
{
	return (unsigned int)format < PROFILE_FORMAT_COUNT ? format_names[format] : "?";
}

/* "CHOWN": Kubernetes, docker and compose name capabilities without CAP_. */
static void short_name(int cap, char ret_name[CAPS_NAME_LEN])
{
	char name[CAPS_NAME_LEN];

	caps_name(cap, name);
	snprintf(ret_name, CAPS_NAME_LEN, "%s", name + (strncmp(name, "CAP_", 4) ? 0 : 4));
}

static bool is_root(const struct profile *p)
{
	uid_t uid;

	return !profile_user(p, &uid, NULL) || uid == 0;
}

/* A capability libcap does not name would come out as a bare number,
 * which YAML reads as an integer: quote anything not starting with a
 * letter. */
static void yaml_cap(FILE *out, int cap)
{
	char name[CAPS_NAME_LEN];

	short_name(cap, name);
	fprintf(out, isalpha((unsigned char)name[0]) ? "%s" : "\"%s\"", name);
}

static void render_k8s(const struct profile *p, FILE *out)
{
	uint64_t grant = profile_grant_mask(p);
	const char *sep = "";
	uid_t uid;

	fputs("securityContext:\n", out);
	if (profile_no_escalation(p))
		fputs("  allowPrivilegeEscalation: false\n", out);
	if (grant && !is_root(p) && profile_user(p, &uid, NULL))
		fprintf(out,
			"  # uid %u: Kubernetes gives a non-root container these only through\n"
			"  # file capabilities (setcap) on its binary\n",
			(unsigned int)uid);
	fputs("  capabilities:\n    drop: [ALL]\n    add: [", out);
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (grant & (1ull << cap)) {
			fputs(sep, out);
			yaml_cap(out, cap);
			sep = ", ";
		}
	}
	fputs("]\n", out);
}

static void render_docker(const struct profile *p, FILE *out)
{
	uint64_t grant = profile_grant_mask(p);
	char name[CAPS_NAME_LEN];

	fputs("--cap-drop=ALL", out);
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (grant & (1ull << cap)) {
			short_name(cap, name);
			fprintf(out, " --cap-add=%s", name);
		}
	}
	fputc('\n', out);
}

static void render_compose(const struct profile *p, FILE *out)
{
	uint64_t grant = profile_grant_mask(p);

	fputs("cap_drop:\n  - ALL\ncap_add:", out);
	if (!grant)
		fputs(" []", out);
	fputc('\n', out);
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (grant & (1ull << cap)) {
			fputs("  - ", out);
			yaml_cap(out, cap);
			fputc('\n', out);
		}
	}
}

/* systemd's User= takes a name or a number; a name that needs quoting is
 * replaced by the number rather than escaped. */
static bool unit_name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 64 || name[0] == '-' ||
	    isdigit((unsigned char)name[0]))
		return false;
	for (const char *c = name; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("_.-", *c))
			return false;
	}
	return true;
}

static void cap_list(FILE *out, uint64_t mask)
{
	char name[CAPS_NAME_LEN];
	const char *sep = "";

	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (mask & (1ull << cap)) {
			caps_name(cap, name);
			fprintf(out, "%s%s", sep, name);
			sep = " ";
		}
	}
}

/* An empty CapabilityBoundingSet= is the empty set (not "unchanged"). */
static void render_systemd(const struct profile *p, FILE *out)
{
	uint64_t grant = profile_grant_mask(p);
	const char *name;
	uid_t uid;

	fputs("[Service]\n", out);
	if (!is_root(p) && profile_user(p, &uid, &name)) {
		if (unit_name_ok(name))
			fprintf(out, "User=%s\n", name);
		else
			fprintf(out, "User=%u\n", (unsigned int)uid);
	}
	fputs("CapabilityBoundingSet=", out);
	cap_list(out, grant);
	fputc('\n', out);
	/* A non-root process loses its capabilities at exec unless ambient. */
	if (grant && !is_root(p)) {
		fputs("AmbientCapabilities=", out);
		cap_list(out, grant);
		fputc('\n', out);
	}
}

static struct json_object *json_cap_array(uint64_t mask)
{
	struct json_object *array = json_object_new_array();
	char name[CAPS_NAME_LEN];

	for (int cap = 0; array && cap < CAPS_MAX; cap++) {
		if (mask & (1ull << cap)) {
			caps_name(cap, name);
			json_object_array_add(array, json_object_new_string(name));
		}
	}
	return array;
}

static int json_print(struct json_object *root, FILE *out)
{
	const char *text;

	if (!root)
		return -ENOMEM;
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text)
		fprintf(out, "%s\n", text);
	json_object_put(root);
	return text ? 0 : -ENOMEM;
}

/* Root gets the set through bounding (exec raises permitted to it); any
 * other user keeps it across exec only as inheritable + ambient. */
static struct json_object *oci_object(const struct profile *p)
{
	uint64_t grant = profile_grant_mask(p), amb = is_root(p) ? 0 : grant;
	struct json_object *root = json_object_new_object();
	struct json_object *process = json_object_new_object();
	struct json_object *caps = json_object_new_object();

	if (!root || !process || !caps) {
		json_object_put(root);
		json_object_put(process);
		json_object_put(caps);
		return NULL;
	}
	json_object_object_add(caps, "bounding", json_cap_array(grant));
	json_object_object_add(caps, "effective", json_cap_array(grant));
	json_object_object_add(caps, "permitted", json_cap_array(grant));
	json_object_object_add(caps, "inheritable", json_cap_array(amb));
	json_object_object_add(caps, "ambient", json_cap_array(amb));
	json_object_object_add(process, "capabilities", caps);
	json_object_object_add(root, "process", process);
	return root;
}

static void json_add_str(struct json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, value ? json_object_new_string(value) : NULL);
}

static void json_add_text(struct json_object *obj, const char *key, const char *value,
			  size_t max)
{
	json_object_object_add(obj, key, value ? text_json_string(value, max, NULL) : NULL);
}

static struct json_object *json_syscall(int nr)
{
	char name[SYSCALLS_NAME_LEN];
	const char *text = syscalls_name(nr, name);

	return text ? json_object_new_string(text) : NULL;
}

/* "objects": what the checks were made on; absent when none is known. */
static void json_objects(struct json_object *c, const struct profile_obs *o)
{
	struct json_object *array;

	if (!o->n_objects || !(array = json_object_new_array()))
		return;
	for (unsigned int i = 0; i < o->n_objects; i++)
		json_object_array_add(array, text_json_string(o->objects[i], TEXT_PATH_MAX, NULL));
	json_object_object_add(c, "objects", array);
}

static struct json_object *json_check(const struct profile_obs *o)
{
	struct json_object *c = json_object_new_object();

	if (!c)
		return NULL;
	json_add_str(c, "verdict", o->granted ? "granted" : "denied");
	json_add_str(c, "class", profile_class_name(profile_obs_class(o)));
	json_add_str(c, "audit", check_audit_name(o->audit));
	json_object_object_add(c, "override_cred", json_object_new_boolean(o->override_cred));
	json_object_object_add(c, "foreign_userns", json_object_new_boolean(o->foreign_userns));
	json_object_object_add(c, "capset", json_object_new_boolean(o->via_capset));
	json_object_object_add(c, "syscall", json_syscall(o->syscall));
	json_object_object_add(c, "syscall_nr", json_object_new_int(o->syscall));
	if (!o->granted)
		json_add_str(c, "outcome", profile_outcome_name(o->outcome));
	json_object_object_add(c, "count", json_object_new_uint64(o->count));
	json_object_object_add(c, "first_ns", json_object_new_uint64(o->first_ns));
	json_object_object_add(c, "last_ns", json_object_new_uint64(o->last_ns));
	if (o->binary)
		json_add_text(c, "binary", o->binary, TEXT_PATH_MAX);
	if (o->instance)
		json_add_text(c, "instance", o->instance, TEXT_NAME_MAX);
	json_objects(c, o);
	return c;
}

static struct json_object *json_capability(const struct profile_cap *s,
					   const struct profile_obs *obs, size_t n)
{
	struct json_object *c = json_object_new_object(), *checks = json_object_new_array();
	char name[CAPS_NAME_LEN];

	if (!c || !checks) {
		json_object_put(c);
		json_object_put(checks);
		return NULL;
	}
	caps_name(s->cap, name);
	json_add_str(c, "name", name);
	json_object_object_add(c, "number", json_object_new_int(s->cap));
	json_add_str(c, "class", profile_class_name(s->cls));
	json_object_object_add(c, "granted", json_object_new_uint64(s->granted));
	json_object_object_add(c, "denied", json_object_new_uint64(s->denied));
	json_object_object_add(c, "unclassified", json_object_new_uint64(s->unclassified));
	json_object_object_add(c, "instances", json_object_new_uint64(s->instances));
	json_object_object_add(c, "first_ns", json_object_new_uint64(s->first_ns));
	json_object_object_add(c, "last_ns", json_object_new_uint64(s->last_ns));
	for (size_t i = 0; i < n; i++) {
		if (obs[i].cap == s->cap)
			json_object_array_add(checks, json_check(&obs[i]));
	}
	json_object_object_add(c, "checks", checks);
	return c;
}

static struct json_object *json_denials(const struct profile *p)
{
	struct json_object *array = json_object_new_array(), *d;
	struct profile_denial *denials;
	char name[CAPS_NAME_LEN];
	size_t n;

	if (!array || profile_denials(p, &denials, &n) != 0) {
		json_object_put(array);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		d = json_object_new_object();
		if (!d)
			break;
		caps_name(denials[i].cap, name);
		json_add_str(d, "capability", name);
		json_object_object_add(d, "syscall", json_syscall(denials[i].syscall));
		for (int o = PROFILE_OUTCOME_MATTERED; o < PROFILE_OUTCOME_COUNT; o++)
			json_object_object_add(d, profile_outcome_name((enum profile_outcome)o),
					       json_object_new_uint64(denials[i].outcomes[o]));
		json_object_object_add(
			d, "unobserved",
			json_object_new_uint64(denials[i].outcomes[PROFILE_OUTCOME_UNOBSERVED]));
		if (denials[i].binary)
			json_add_text(d, "binary", denials[i].binary, TEXT_PATH_MAX);
		json_object_array_add(array, d);
	}
	free(denials);
	return array;
}

static void json_meta(const struct profile *p, struct json_object *root)
{
	char *const *argv = profile_command(p);
	struct json_object *obj;
	const char *name;
	int status;
	uid_t uid;

	if (profile_workload(p))
		json_add_text(root, "workload", profile_workload(p), TEXT_WORKLOAD_MAX);
	if (profile_user(p, &uid, &name) && (obj = json_object_new_object())) {
		json_object_object_add(obj, "uid", json_object_new_int64(uid));
		json_add_text(obj, "name", name, TEXT_NAME_MAX);
		json_object_object_add(root, "user", obj);
	}
	/* The command as typed: not cut, only made well-formed. */
	if (argv && (obj = json_object_new_array())) {
		for (size_t i = 0; argv[i]; i++)
			json_object_array_add(obj, text_json_string(argv[i], SIZE_MAX, NULL));
		json_object_object_add(root, "command", obj);
	}
	if (profile_exit(p, &status) && (WIFEXITED(status) || WIFSIGNALED(status)) &&
	    (obj = json_object_new_object())) {
		if (WIFEXITED(status))
			json_object_object_add(obj, "code",
					       json_object_new_int(WEXITSTATUS(status)));
		else
			json_object_object_add(obj, "signal",
					       json_object_new_int(WTERMSIG(status)));
		json_object_object_add(root, "exit", obj);
	}
	json_object_object_add(root, "exec_gained_privilege",
			       json_object_new_boolean(profile_exec_gain(p)));
}

/* "not_needed" and "minimize", only when --minimize or kernel knowledge
 * moved something out of the grant set. */
static void json_not_needed(const struct profile *p, struct json_object *root)
{
	uint64_t mask = profile_not_needed_mask(p);
	struct json_object *arr, *o;
	const char *probe;
	unsigned int runs;
	bool minimized = profile_minimize(p, &runs, &probe);

	if (!mask && !minimized)
		return;
	if ((arr = json_object_new_array())) {
		for (int cap = 0; cap < CAPS_MAX; cap++) {
			if (!(mask & (1ull << cap)) || !(o = json_object_new_object()))
				continue;
			json_object_object_add(o, "capability",
					       json_object_new_string(caps_name_static(cap)));
			json_add_text(o, "reason", profile_not_needed_reason(p, cap), SIZE_MAX);
			json_object_array_add(arr, o);
		}
		json_object_object_add(root, "not_needed", arr);
	}
	if (minimized && (o = json_object_new_object())) {
		json_object_object_add(o, "runs", json_object_new_int64(runs));
		if (probe)
			json_add_text(o, "probe", probe, SIZE_MAX);
		json_object_object_add(root, "minimize", o);
	}
}

/* "kept": [{capability, how, binary, count}] and "keep_caps". */
static void json_kept(const struct profile *p, struct json_object *root)
{
	struct json_object *array = json_object_new_array(), *k;
	struct profile_kept *kept;
	char name[CAPS_NAME_LEN];
	size_t n;

	json_object_object_add(root, "keep_caps", json_object_new_boolean(profile_keep_caps(p)));
	if (!array || profile_kept(p, &kept, &n) != 0) {
		json_object_put(array);
		return;
	}
	for (size_t i = 0; i < n && (k = json_object_new_object()); i++) {
		caps_name(kept[i].cap, name);
		json_add_str(k, "capability", name);
		json_add_str(k, "how", profile_kept_how_name(kept[i].how));
		if (kept[i].binary)
			json_add_text(k, "binary", kept[i].binary, TEXT_PATH_MAX);
		json_object_object_add(k, "count", json_object_new_uint64(kept[i].count));
		json_object_array_add(array, k);
	}
	free(kept);
	json_object_object_add(root, "kept", array);
}

static int render_json(const struct profile *p, FILE *out)
{
	struct json_object *root = json_object_new_object(), *obj;
	struct profile_cap caps[CAPS_MAX];
	struct profile_obs *obs = NULL;
	const char **ids = NULL;
	uint64_t present;
	size_t n_obs, n_ids;
	int err;

	if (!root)
		return -ENOMEM;
	err = profile_summary(p, caps, &present);
	if (!err)
		err = profile_entries(p, &obs, &n_obs);
	if (!err)
		err = profile_instances(p, &ids, &n_ids);
	if (err)
		goto out;
	json_object_object_add(root, "captrail_profile", json_object_new_int(PROFILE_VERSION));
	json_meta(p, root);
	json_object_object_add(root, "grant", json_cap_array(profile_grant_mask(p)));
	json_object_object_add(root, "grant_edited",
			       json_object_new_boolean(profile_grant_edited(p)));
	json_object_object_add(root, "allow_privilege_escalation",
			       json_object_new_boolean(!profile_no_escalation(p)));
	json_object_object_add(root, "coverage", json_object_new_int64(profile_coverage(p)));
	json_add_str(root, "coverage_of", profile_replicas(p) ? "replicas" : "instances");
	if ((obj = json_object_new_array())) {
		for (size_t i = 0; i < n_ids; i++)
			json_object_array_add(obj, text_json_string(ids[i], TEXT_NAME_MAX, NULL));
		json_object_object_add(root, "instances", obj);
	}
	json_object_object_add(root, "unnamed_instance",
			       json_object_new_boolean(profile_unnamed_instance(p)));
	json_object_object_add(root, "folded", json_object_new_uint64(profile_folded(p)));
	if ((obj = json_object_new_object())) {
		for (int c = 0; c < PROFILE_CLASS_COUNT; c++)
			json_object_object_add(
				obj, profile_class_name((enum profile_class)c),
				json_cap_array(profile_mask(p, (enum profile_class)c)));
		json_object_object_add(obj, "not_needed",
				       json_cap_array(profile_not_needed_mask(p)));
		json_object_object_add(root, "classes", obj);
	}
	json_not_needed(p, root);
	json_object_object_add(root, "denials", json_denials(p));
	if (profile_runs(p))
		json_object_object_add(root, "runs", json_object_new_uint64(profile_runs(p)));
	if (profile_nodes(p))
		json_object_object_add(root, "nodes", json_object_new_uint64(profile_nodes(p)));
	json_kept(p, root);
	if ((obj = json_object_new_array())) {
		for (int cap = 0; cap < CAPS_MAX; cap++) {
			struct json_object *c;

			if (!(present & (1ull << cap)))
				continue;
			c = json_capability(&caps[cap], obs, n_obs);
			if (c && profile_runs(p))
				json_object_object_add(
					c, "runs", json_object_new_uint64(profile_cap_runs(p, cap)));
			if (c && profile_nodes(p))
				json_object_object_add(c, "nodes",
						       json_object_new_uint64(
							       profile_cap_nodes(p, cap)));
			json_object_array_add(obj, c);
		}
		json_object_object_add(root, "capabilities", obj);
	}
	err = json_print(root, out);
	root = NULL;
out:
	json_object_put(root);
	free(obs);
	free(ids);
	return err;
}

/* Text: one table per capability, then the recommendation in every form. */

struct text_row {
	const struct profile_obs *obs; /* the first of the row's entries */
	uint64_t count;
	unsigned int instances;
	size_t order;
};

static const char *check_kind(const struct profile_obs *o)
{
	switch (profile_obs_class(o)) {
	case PROFILE_CLASS_CAPSET:
		return "capset";
	case PROFILE_CLASS_OVERRIDE_CRED:
		return "override-cred";
	case PROFILE_CLASS_FOREIGN_USERNS:
		return "foreign-userns";
	case PROFILE_CLASS_NOAUDIT:
		return "noaudit";
	default:
		return o->audit == CHECK_AUDIT_UNKNOWN ? "unclassified" : "audited";
	}
}

static const char *outcome_text(const struct profile_obs *o)
{
	static const char *const names[PROFILE_OUTCOME_COUNT] = {
		[PROFILE_OUTCOME_UNOBSERVED] = "unobserved",
		[PROFILE_OUTCOME_MATTERED] = "mattered",
		[PROFILE_OUTCOME_FALLBACK] = "fallback",
		[PROFILE_OUTCOME_OTHER_ERROR] = "other-error",
	};

	return o->granted ? "-" : names[o->outcome];
}

/* Workload-controlled strings reach a terminal: one line, no controls. */
static void put_clean(FILE *out, const char *s, size_t max)
{
	text_fput(out, s, max, TEXT_LINE);
}

/* An argument as a shell would need it, so the command line reads right:
 * bare, in '...' when it is printable ASCII, else in bash's $'...', which
 * reads TEXT_LINE's escapes back (and \' for a quote). */
static void put_arg(FILE *out, const char *arg)
{
	size_t len = strlen(arg);
	const char *quote;

	if (*arg && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				"_@%+=:,./-") == len) {
		fputs(arg, out);
		return;
	}
	if (text_plain_len(arg, TEXT_LINE) == len) {
		fputc('\'', out);
		for (; *arg; arg++) {
			if (*arg == '\'')
				fputs("'\\''", out);
			else
				fputc(*arg, out);
		}
		fputc('\'', out);
		return;
	}
	fputs("$'", out);
	while ((quote = strchr(arg, '\''))) {
		text_fput_len(out, arg, (size_t)(quote - arg), SIZE_MAX, TEXT_LINE);
		fputs("\\'", out);
		arg = quote + 1;
	}
	text_fput(out, arg, SIZE_MAX, TEXT_LINE);
	fputc('\'', out);
}

/* Entries that differ only by instance make one row. */
static bool same_row(const struct profile_obs *a, const struct profile_obs *b)
{
	return a->cap == b->cap && a->granted == b->granted && a->audit == b->audit &&
	       a->override_cred == b->override_cred && a->foreign_userns == b->foreign_userns &&
	       a->via_capset == b->via_capset && a->syscall == b->syscall &&
	       a->outcome == b->outcome && a->binary == b->binary;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct text_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int num_width(uint64_t v)
{
	return snprintf(NULL, 0, "%" PRIu64, v);
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static void text_table(FILE *out, struct text_row *rows, size_t n, bool show_instances)
{
	int w_kind = 5, w_sys = 7, w_out = 7, w_count = 5, w_inst = 9;
	char sys[SYSCALLS_NAME_LEN];

	qsort(rows, n, sizeof(*rows), cmp_rows);
	for (size_t i = 0; i < n; i++) {
		const char *name = syscalls_name(rows[i].obs->syscall, sys);

		w_kind = max_int(w_kind, (int)strlen(check_kind(rows[i].obs)));
		w_sys = max_int(w_sys, (int)strlen(name ? name : "none"));
		w_out = max_int(w_out, (int)strlen(outcome_text(rows[i].obs)));
		w_count = max_int(w_count, num_width(rows[i].count));
	}
	fprintf(out, "  VERDICT  %-*s  %-*s  %-*s  %*s  ", w_kind, "CHECK", w_sys, "SYSCALL", w_out,
		"OUTCOME", w_count, "COUNT");
	if (show_instances)
		fprintf(out, "%*s  ", w_inst, "INSTANCES");
	fputs("BINARY\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct profile_obs *o = rows[i].obs;
		const char *name = syscalls_name(o->syscall, sys);

		fprintf(out, "  %-7s  %-*s  %-*s  %-*s  %*" PRIu64 "  ",
			o->granted ? "granted" : "denied", w_kind, check_kind(o), w_sys,
			name ? name : "none", w_out, outcome_text(o), w_count, rows[i].count);
		if (show_instances)
			fprintf(out, "%*u  ", w_inst, rows[i].instances);
		put_clean(out, o->binary ? o->binary : "-", TEXT_PATH_MAX);
		fputc('\n', out);
	}
}

/* "  CAP_CHOWN: chown /var/lib/nginx/body -> 33:33": each row's first
 * object after its syscall, so the reader sees what it was used on. */
static void text_objects(FILE *out, const struct text_row *rows, size_t n)
{
	char cap[CAPS_NAME_LEN], sys[SYSCALLS_NAME_LEN];

	for (size_t i = 0; i < n; i++) {
		const struct profile_obs *o = rows[i].obs;
		const char *name = syscalls_name(o->syscall, sys);

		if (!o->n_objects)
			continue;
		caps_name(o->cap, cap);
		fprintf(out, "  %s: %s ", cap, name ? name : "none");
		put_clean(out, o->objects[0], TEXT_PATH_MAX);
		if (o->n_objects > 1)
			fprintf(out, " (and %u more)", o->n_objects - 1);
		fputc('\n', out);
	}
}

static void denied_phrase(FILE *out, const struct profile_obs *obs, size_t n, int cap)
{
	static const char *const words[PROFILE_OUTCOME_COUNT] = {
		[PROFILE_OUTCOME_UNOBSERVED] = "outcome unobserved",
		[PROFILE_OUTCOME_MATTERED] = "mattered",
		[PROFILE_OUTCOME_FALLBACK] = "fallback worked",
		[PROFILE_OUTCOME_OTHER_ERROR] = "other error",
	};
	uint64_t sums[PROFILE_OUTCOME_COUNT] = { 0 };
	const char *sep = "";
	int kinds = 0;

	for (size_t i = 0; i < n; i++) {
		if (obs[i].cap == cap && profile_obs_class(&obs[i]) == PROFILE_CLASS_DENIED)
			sums[obs[i].outcome] = check_count_add(sums[obs[i].outcome], obs[i].count);
	}
	for (int o = 0; o < PROFILE_OUTCOME_COUNT; o++)
		kinds += sums[o] != 0;
	if (kinds == 1 && sums[PROFILE_OUTCOME_MATTERED]) {
		fputs("; the denial mattered (the syscall failed with EPERM/EACCES)", out);
	} else if (kinds == 1 && sums[PROFILE_OUTCOME_FALLBACK]) {
		fputs("; a fallback worked (the syscall succeeded)", out);
	} else if (kinds == 1 && sums[PROFILE_OUTCOME_UNOBSERVED]) {
		fputs("; what the syscall returned was not observed", out);
	} else {
		fputs("; syscall outcomes: ", out);
		for (int o = PROFILE_OUTCOME_MATTERED; o <= PROFILE_OUTCOME_COUNT; o++) {
			int k = o % PROFILE_OUTCOME_COUNT; /* unobserved last */

			if (sums[k]) {
				fprintf(out, "%s%s %" PRIu64, sep, words[k], sums[k]);
				sep = ", ";
			}
		}
	}
}

/* "kept: chronyd keeps it with capset() across its uid change": the
 * first two ways, then how many more. */
#define KEPT_SHOWN 2

static void kept_way(FILE *out, const struct profile *p, const struct profile_kept *k)
{
	const char *binary = k->binary ? k->binary : "the program";
	const char *base = strrchr(binary, '/');

	put_clean(out, base && base[1] ? base + 1 : binary, TEXT_PATH_MAX);
	switch (k->how) {
	case PROFILE_KEPT_CAPSET:
		fputs(" keeps it with capset()", out);
		if (profile_keep_caps(p))
			fputs(" across its uid change", out);
		break;
	case PROFILE_KEPT_AMBIENT:
		fputs(" raises it as an ambient capability", out);
		break;
	default:
		fputs(" gains it from the file's capabilities at exec", out);
		break;
	}
}

static void kept_phrase(FILE *out, const struct profile *p, int cap)
{
	struct profile_kept *kept;
	size_t n, shown = 0, more = 0;

	fputs("kept", out);
	if (profile_kept(p, &kept, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (kept[i].cap != cap)
			continue;
		if (shown == KEPT_SHOWN) {
			more++;
			continue;
		}
		fputs(shown++ ? "; " : ": ", out);
		kept_way(out, p, &kept[i]);
	}
	if (more)
		fprintf(out, "; %zu more in \"kept\"", more);
	free(kept);
}

static void cap_headline(FILE *out, const struct profile *p, const struct profile_cap *s,
			 const struct profile_obs *obs, size_t n, unsigned int coverage)
{
	char name[CAPS_NAME_LEN];

	caps_name(s->cap, name);
	fprintf(out, "%s: ", name);
	switch (s->cls) {
	case PROFILE_CLASS_REQUIRED:
		fputs("required", out);
		if (s->denied)
			fprintf(out, "; also denied %" PRIu64 " time%s", s->denied,
				s->denied == 1 ? "" : "s");
		if (s->unclassified)
			fprintf(out, "; %" PRIu64 " grant%s of unknown audit class counted",
				s->unclassified, s->unclassified == 1 ? "" : "s");
		break;
	case PROFILE_CLASS_DENIED:
		fputs("denied only, not recommended", out);
		denied_phrase(out, obs, n, s->cap);
		break;
	case PROFILE_CLASS_KEPT:
		kept_phrase(out, p, s->cap);
		break;
	case PROFILE_CLASS_CAPSET:
		fputs("asked by the kernel inside capset() (whether the inheritable set may grow "
		      "past the permitted one), not a use of the capability: not recommended",
		      out);
		break;
	case PROFILE_CLASS_FOREIGN_USERNS:
		fputs("checked against another user namespace: shown, not granted", out);
		break;
	case PROFILE_CLASS_OVERRIDE_CRED:
		fputs("checked under overridden credentials (not the workload's own): "
		      "shown, not granted",
		      out);
		break;
	default:
		fputs("noaudit probe: never recommended", out);
		break;
	}
	if (profile_replicas(p))
		fprintf(out, "; %u of %u replica%s", s->instances, coverage,
			coverage == 1 ? "" : "s");
	else if (coverage > 1)
		fprintf(out, "; in %u of %u instances", s->instances, coverage);
	if (profile_nodes(p) > 1)
		fprintf(out, ", on %u of %u nodes", profile_cap_nodes(p, s->cap), profile_nodes(p));
	fputc('\n', out);
}

static int text_caps(const struct profile *p, FILE *out)
{
	unsigned int coverage = profile_coverage(p);
	struct profile_cap caps[CAPS_MAX];
	struct profile_obs *obs;
	struct text_row *rows;
	uint64_t present;
	size_t n, n_rows;
	int err;

	err = profile_summary(p, caps, &present);
	if (err)
		return err;
	err = profile_entries(p, &obs, &n);
	if (err)
		return err;
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows) {
		free(obs);
		return -ENOMEM;
	}
	if (!present)
		fputs("no capability checks observed\n", out);
	/* Required first, then denied-only, then what is only shown. */
	for (int cls = 0; cls < PROFILE_CLASS_COUNT; cls++) {
		for (int cap = 0; cap < CAPS_MAX; cap++) {
			if (!(present & (1ull << cap)) || caps[cap].cls != (enum profile_class)cls)
				continue;
			n_rows = 0;
			for (size_t i = 0; i < n; i++) {
				if (obs[i].cap != cap)
					continue;
				if (n_rows && same_row(rows[n_rows - 1].obs, &obs[i])) {
					struct text_row *last = &rows[n_rows - 1];

					last->count = check_count_add(last->count, obs[i].count);
					last->instances++;
					continue;
				}
				rows[n_rows] =
					(struct text_row){ &obs[i], obs[i].count, 1, n_rows };
				n_rows++;
			}
			fputc('\n', out);
			cap_headline(out, p, &caps[cap], obs, n, coverage);
			if (n_rows)
				text_table(out, rows, n_rows, coverage > 1);
			text_objects(out, rows, n_rows);
		}
	}
	free(rows);
	free(obs);
	return 0;
}

/* A union of runs: in how many each capability was checked; a workload
 * seen on several nodes: on how many of its replicas and nodes. With a
 * prefix ("# "), as comments of the formats that have them. */
static void coverage_lines(const struct profile *p, FILE *out, const char *prefix)
{
	unsigned int nodes = profile_nodes(p), replicas = profile_coverage(p);
	struct profile_cap caps[CAPS_MAX];
	uint64_t runs = profile_runs(p), present;
	char name[CAPS_NAME_LEN];

	if (runs) {
		fprintf(out,
			"%scoverage (of the recorded runs, those that checked each capability):\n",
			prefix);
		for (int cap = 0; cap < CAPS_MAX; cap++) {
			if (!profile_cap_runs(p, cap))
				continue;
			caps_name(cap, name);
			fprintf(out, "%s  %s: %" PRIu64 " of %" PRIu64 " run%s\n", prefix, name,
				profile_cap_runs(p, cap), runs, runs == 1 ? "" : "s");
		}
	}
	if (!nodes || profile_summary(p, caps, &present) != 0)
		return;
	fprintf(out, "%scoverage (of the replicas and nodes seen, those with each capability's "
		     "class):\n", prefix);
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (!(present & (1ull << cap)))
			continue;
		caps_name(cap, name);
		fprintf(out, "%s  %s: %u of %u replica%s, on %u of %u node%s\n", prefix, name,
			caps[cap].instances, replicas, replicas == 1 ? "" : "s",
			profile_cap_nodes(p, cap), nodes, nodes == 1 ? "" : "s");
	}
}

static void text_meta(const struct profile *p, FILE *out)
{
	char *const *argv = profile_command(p);
	const char *name;
	int status;
	uid_t uid;

	if (profile_workload(p)) {
		fputs("workload   ", out);
		put_clean(out, profile_workload(p), TEXT_WORKLOAD_MAX);
		fputc('\n', out);
	}
	if (argv) {
		fputs("command   ", out);
		for (size_t i = 0; argv[i]; i++) {
			fputc(' ', out);
			put_arg(out, argv[i]);
		}
		fputc('\n', out);
	}
	if (profile_user(p, &uid, &name)) {
		fputs("user       ", out);
		if (name) {
			put_clean(out, name, TEXT_NAME_MAX);
			fprintf(out, " (uid %u)\n", (unsigned int)uid);
		} else {
			fprintf(out, "uid %u\n", (unsigned int)uid);
		}
	}
	if (profile_exit(p, &status)) {
		if (WIFEXITED(status))
			fprintf(out, "exit       status %d\n", WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			fprintf(out, "exit       killed by signal %d\n", WTERMSIG(status));
	}
	fprintf(out, "%s  %u\n", profile_replicas(p) ? "replicas " : "instances",
		profile_coverage(p));
	if (profile_nodes(p))
		fprintf(out, "nodes      %u\n", profile_nodes(p));
	if (profile_runs(p))
		fprintf(out, "runs       %" PRIu64 " merged\n", profile_runs(p));
	if (profile_exec_gain(p))
		fputs("note       an exec raised privileges "
		      "(set-user-ID/set-group-ID or file capabilities)\n",
		      out);
	if (profile_folded(p))
		fprintf(out, "note       %" PRIu64 " checks kept without binary and instance: "
			     "profile full\n",
			profile_folded(p));
	if (profile_objects_dropped(p))
		fprintf(out, "note       %" PRIu64 " objects past %d per check not kept\n",
			profile_objects_dropped(p), PROFILE_OBJECTS);
}

static void text_not_needed(const struct profile *p, FILE *out)
{
	uint64_t mask = profile_not_needed_mask(p);
	const char *probe;
	unsigned int runs;

	if (profile_minimize(p, &runs, &probe)) {
		fprintf(out, "minimized: %u run%s without one capability", runs,
			runs == 1 ? "" : "s");
		if (probe) {
			fputs(", probe: ", out);
			text_fput(out, probe, SIZE_MAX, TEXT_LINE);
		}
		fputc('\n', out);
	}
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (!(mask & (1ull << cap)))
			continue;
		fprintf(out, "not needed: %s: ", caps_name_static(cap));
		text_fput(out, profile_not_needed_reason(p, cap), SIZE_MAX, TEXT_LINE);
		fputc('\n', out);
	}
}

static int render_text(const struct profile *p, FILE *out)
{
	uint64_t grant = profile_grant_mask(p);
	uint64_t required = profile_mask(p, PROFILE_CLASS_REQUIRED) |
			    profile_mask(p, PROFILE_CLASS_KEPT);
	int err;

	text_meta(p, out);
	err = text_caps(p, out);
	if (err)
		return err;
	if (profile_runs(p) || profile_nodes(p)) {
		fputc('\n', out);
		coverage_lines(p, out, "");
	}
	fputs("\nrecommended: ", out);
	if (grant)
		cap_list(out, grant);
	else
		fputs("no capabilities", out);
	fputc('\n', out);
	if (profile_grant_edited(p)) {
		fputs("  (edited: the checks make it ", out);
		if (required)
			cap_list(out, required);
		else
			fputs("nothing", out);
		fputs(")\n", out);
	}
	text_not_needed(p, out);
	fputs("\nKubernetes (container securityContext):\n", out);
	render_k8s(p, out);
	fputs("\ndocker run:\n", out);
	render_docker(p, out);
	fputs("\ndocker compose (service):\n", out);
	render_compose(p, out);
	fputs("\nsystemd (unit or drop-in):\n", out);
	render_systemd(p, out);
	fputs("\nOCI runtime config (config.json):\n", out);
	return json_print(oci_object(p), out);
}

int profile_render(const struct profile *p, enum profile_format format, FILE *out)
{
	int err = 0;

	switch (format) {
	case PROFILE_FORMAT_TEXT:
		err = render_text(p, out);
		break;
	case PROFILE_FORMAT_JSON:
		err = render_json(p, out);
		break;
	case PROFILE_FORMAT_K8S:
		coverage_lines(p, out, "# ");
		render_k8s(p, out);
		break;
	case PROFILE_FORMAT_DOCKER: /* flags for a command line: no comment */
		render_docker(p, out);
		break;
	case PROFILE_FORMAT_COMPOSE:
		coverage_lines(p, out, "# ");
		render_compose(p, out);
		break;
	case PROFILE_FORMAT_SYSTEMD:
		coverage_lines(p, out, "# ");
		render_systemd(p, out);
		break;
	case PROFILE_FORMAT_OCI:
		err = json_print(oci_object(p), out);
		break;
	default:
		return -EINVAL;
	}
	if (!err && (fflush(out) != 0 || ferror(out)))
		err = -EIO;
	return err;
}

static const char *separator(enum profile_format format)
{
	switch (format) {
	case PROFILE_FORMAT_JSON:
	case PROFILE_FORMAT_OCI: return ",\n";
	case PROFILE_FORMAT_K8S:
	case PROFILE_FORMAT_COMPOSE: return "---\n";
	default: return "\n";
	}
}

int profile_render_list(struct profile *const *profiles, size_t n, enum profile_format format,
			FILE *out)
{
	bool array = n > 1 && (format == PROFILE_FORMAT_JSON || format == PROFILE_FORMAT_OCI);
	bool headers = n > 1 && (format == PROFILE_FORMAT_DOCKER || format == PROFILE_FORMAT_SYSTEMD);
	int err = 0;

	if (array)
		fputs("[\n", out);
	for (size_t i = 0; !err && i < n; i++) {
		if (i)
			fputs(separator(format), out);
		if (headers) {
			fputs("# ", out);
			put_clean(out, profile_workload(profiles[i]) ? profile_workload(profiles[i])
								     : "?",
				  TEXT_WORKLOAD_MAX);
			fputc('\n', out);
		}
		err = profile_render(profiles[i], format, out);
	}
	if (array)
		fputs("]\n", out);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}

int profile_render_string(const struct profile *p, enum profile_format format, char **ret_text)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out;
	int err;

	out = open_memstream(&text, &size);
	if (!out)
		return -errno;
	err = profile_render(p, format, out);
	if (fclose(out) != 0 && !err)
		err = -EIO;
	if (err) {
		free(text);
		return err;
	}
	*ret_text = text;
	return 0;
}
