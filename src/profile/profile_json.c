/* Reading what profile_render(PROFILE_FORMAT_JSON) wrote, or a profile
 * edited by hand, back into a profile. */
#include "profile/profile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/caps.h"
#include "lib/json.h"
#include "lib/syscalls.h"
#include "lib/text.h"
#include "lib/util.h"

/* Reading JSON back. Every failure says where, for hand-edited files. */

/* Every reader below fills a PROFILE_WHY_LEN buffer. */
#define bad(why, ...) invalid_input(why, PROFILE_WHY_LEN, __VA_ARGS__)

static bool is_one_of(const char *key, const char *const *names)
{
	for (; *names; names++) {
		if (strcmp(key, *names) == 0)
			return true;
	}
	return false;
}

static int get_uint(struct json_object *v, const char *where, uint64_t max, uint64_t *ret,
		    char *why)
{
	uint64_t value;

	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return bad(why, "%s: not a non-negative integer", where);
	value = json_object_get_uint64(v);
	if (value > max)
		return bad(why, "%s: %llu is out of range", where, (unsigned long long)value);
	*ret = value;
	return 0;
}

static int get_bool(struct json_object *v, const char *where, bool *ret, char *why)
{
	if (!json_object_is_type(v, json_type_boolean))
		return bad(why, "%s: not true or false", where);
	*ret = json_object_get_boolean(v);
	return 0;
}

/* A string, or NULL for JSON null. */
static int get_str(struct json_object *v, const char *where, const char **ret, char *why)
{
	if (!v) {
		*ret = NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(why, "%s: not a string", where);
	*ret = json_object_get_string(v);
	if (strlen(*ret) >= PROFILE_STR_MAX)
		return bad(why, "%s: longer than %d bytes", where, PROFILE_STR_MAX - 1);
	return 0;
}

static int get_array(struct json_object *v, const char *where, size_t *ret_n, char *why)
{
	if (!json_object_is_type(v, json_type_array))
		return bad(why, "%s: not an array", where);
	*ret_n = json_object_array_length(v);
	return 0;
}

static int get_cap(struct json_object *v, const char *where, int *ret_cap, char *why)
{
	const char *name;
	char near[CAPS_NAME_LEN], echo[TEXT_ECHO_BUF];

	if (get_str(v, where, &name, why) || !name)
		return bad(why, "%s: not a capability name", where);
	if (caps_parse(name, ret_cap) != 0) {
		caps_closest(name, near);
		return bad(why, "%s: unknown capability \"%s\" (did you mean %s?)", where,
			   text_echo(name, echo, sizeof(echo)), near);
	}
	return 0;
}

/* "objects": distinct strings, up to PROFILE_OBJECTS (more are counted as
 * dropped, as when they were recorded). */
static int parse_objects(struct json_object *v, const char *where, struct profile_obs *obs,
			 char *why)
{
	char at[192];
	size_t n = 0;
	int err;

	if ((err = get_array(v, where, &n, why)))
		return err;
	for (size_t i = 0; i < n && i < PROFILE_OBJECTS; i++) {
		snprintf(at, sizeof(at), "%s[%zu]", where, i);
		err = get_str(json_object_array_get_idx(v, i), at, &obs->objects[i], why);
		if (!err && !obs->objects[i])
			err = bad(why, "%s: not a string", at);
		if (err)
			return err;
		obs->n_objects++;
	}
	return 0;
}

static int parse_check(struct profile *p, int cap, struct json_object *check, const char *where,
		       char *why)
{
	static const char *const derived[] = { "class", NULL };
	struct profile_obs obs = { .cap = cap, .syscall = CHECK_NO_SYSCALL };
	const char *syscall = NULL, *text;
	bool has_verdict = false, has_count = false;
	uint64_t syscall_nr = UINT64_MAX;
	char at[160], echo[TEXT_ECHO_BUF];
	int err;

	if (!json_object_is_type(check, json_type_object))
		return bad(why, "%s: not an object", where);
	json_object_object_foreach(check, key, v) {
		snprintf(at, sizeof(at), "%s.%s", where, key);
		if (strcmp(key, "verdict") == 0) {
			if ((err = get_str(v, at, &text, why)))
				return err;
			if (!text || (strcmp(text, "granted") && strcmp(text, "denied")))
				return bad(why, "%s: not \"granted\" or \"denied\"", at);
			obs.granted = strcmp(text, "granted") == 0;
			has_verdict = true;
		} else if (strcmp(key, "audit") == 0) {
			if ((err = get_str(v, at, &text, why)))
				return err;
			if (!text || check_audit_parse(text, &obs.audit))
				return bad(why, "%s: not \"audited\", \"noaudit\" or \"unknown\"",
					   at);
		} else if (strcmp(key, "outcome") == 0) {
			if ((err = get_str(v, at, &text, why)))
				return err;
			if (!text || profile_outcome_parse(text, &obs.outcome))
				return bad(why,
					   "%s: not \"mattered\", \"fallback\", \"other_error\" or "
					   "\"unobserved\"",
					   at);
		} else if (strcmp(key, "override_cred") == 0) {
			if ((err = get_bool(v, at, &obs.override_cred, why)))
				return err;
		} else if (strcmp(key, "foreign_userns") == 0) {
			if ((err = get_bool(v, at, &obs.foreign_userns, why)))
				return err;
		} else if (strcmp(key, "capset") == 0) {
			if ((err = get_bool(v, at, &obs.via_capset, why)))
				return err;
		} else if (strcmp(key, "syscall") == 0) {
			if ((err = get_str(v, at, &syscall, why)))
				return err;
		} else if (strcmp(key, "syscall_nr") == 0) {
			/* -1 (none) is written too; only a number is kept. */
			if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < -1)
				return bad(why, "%s: not a syscall number", at);
			if (json_object_get_int64(v) >= 0 &&
			    (err = get_uint(v, at, INT32_MAX, &syscall_nr, why)))
				return err;
		} else if (strcmp(key, "count") == 0) {
			if ((err = get_uint(v, at, UINT64_MAX, &obs.count, why)))
				return err;
			has_count = true;
		} else if (strcmp(key, "first_ns") == 0) {
			if ((err = get_uint(v, at, UINT64_MAX, &obs.first_ns, why)))
				return err;
		} else if (strcmp(key, "last_ns") == 0) {
			if ((err = get_uint(v, at, UINT64_MAX, &obs.last_ns, why)))
				return err;
		} else if (strcmp(key, "binary") == 0) {
			if ((err = get_str(v, at, &obs.binary, why)))
				return err;
		} else if (strcmp(key, "instance") == 0) {
			if ((err = get_str(v, at, &obs.instance, why)))
				return err;
		} else if (strcmp(key, "objects") == 0) {
			if ((err = parse_objects(v, at, &obs, why)))
				return err;
		} else if (!is_one_of(key, derived)) {
			return bad(why, "%s: unknown field", at);
		}
	}
	if (!has_verdict || !has_count)
		return bad(why, "%s: needs \"verdict\" and \"count\"", where);
	/* The name first: numbers differ between architectures. */
	if (syscall && syscalls_number(syscall, &obs.syscall) != 0) {
		if (syscall_nr == UINT64_MAX)
			return bad(why, "%s.syscall: unknown syscall \"%s\"", where,
				   text_echo(syscall, echo, sizeof(echo)));
		obs.syscall = (int)syscall_nr;
	} else if (!syscall && syscall_nr != UINT64_MAX) {
		obs.syscall = (int)syscall_nr;
	}
	err = profile_add(p, &obs);
	return err == -EINVAL ? bad(why, "%s: invalid check", where) : err;
}

static int parse_capability(struct profile *p, struct json_object *c, const char *where, char *why)
{
	static const char *const derived[] = {
		"number", "class", "granted", "denied", "unclassified",
		"instances", "first_ns", "last_ns", NULL,
	};
	struct json_object *name, *checks;
	char at[96];
	size_t n = 0;
	int cap, err;

	if (!json_object_is_type(c, json_type_object))
		return bad(why, "%s: not an object", where);
	if (!json_object_object_get_ex(c, "name", &name))
		return bad(why, "%s: no \"name\"", where);
	snprintf(at, sizeof(at), "%s.name", where);
	if ((err = get_cap(name, at, &cap, why)))
		return err;
	json_object_object_foreach(c, key, v) {
		uint64_t value;

		if (strcmp(key, "runs") == 0) {
			snprintf(at, sizeof(at), "%s.runs", where);
			if ((err = get_uint(v, at, UINT64_MAX, &value, why)))
				return err;
			profile_set_cap_runs(p, cap, value);
		} else if (strcmp(key, "nodes") == 0) {
			snprintf(at, sizeof(at), "%s.nodes", where);
			if ((err = get_uint(v, at, UINT_MAX, &value, why)))
				return err;
			profile_set_cap_nodes(p, cap, (unsigned int)value);
		} else if (strcmp(key, "name") && strcmp(key, "checks") && !is_one_of(key, derived)) {
			return bad(why, "%s.%s: unknown field", where, key);
		}
	}
	if (!json_object_object_get_ex(c, "checks", &checks))
		return 0;
	snprintf(at, sizeof(at), "%s.checks", where);
	if ((err = get_array(checks, at, &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(at, sizeof(at), "%s.checks[%zu]", where, i);
		err = parse_check(p, cap, json_object_array_get_idx(checks, i), at, why);
		if (err)
			return err;
	}
	return 0;
}

static int parse_user(struct profile *p, struct json_object *v, char *why)
{
	struct json_object *uid_v, *name_v = NULL;
	const char *name = NULL;
	uint64_t uid;
	int err;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "uid", &uid_v))
		return bad(why, "user: not an object with a \"uid\"");
	json_object_object_foreach(v, key, val) {
		(void)val;
		if (strcmp(key, "uid") && strcmp(key, "name"))
			return bad(why, "user.%s: unknown field", key);
	}
	if ((err = get_uint(uid_v, "user.uid", UINT32_MAX - 1, &uid, why)))
		return err;
	json_object_object_get_ex(v, "name", &name_v);
	if ((err = get_str(name_v, "user.name", &name, why)))
		return err;
	return profile_set_user(p, (uid_t)uid, name);
}

static int parse_command(struct profile *p, struct json_object *v, char *why)
{
	const char **argv;
	char at[64];
	size_t n = 0;
	int err;

	if (!v)
		return 0;
	if ((err = get_array(v, "command", &n, why)))
		return err;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		snprintf(at, sizeof(at), "command[%zu]", i);
		err = get_str(json_object_array_get_idx(v, i), at, &argv[i], why);
		if (!err && !argv[i])
			err = bad(why, "%s: not a string", at);
	}
	if (!err)
		err = profile_set_command(p, (char *const *)argv);
	free(argv);
	return err;
}

static int parse_exit(struct profile *p, struct json_object *v, char *why)
{
	struct json_object *code, *sig;
	uint64_t value;
	int err;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) != 1)
		return bad(why, "exit: not {\"code\": N} or {\"signal\": N}");
	if (json_object_object_get_ex(v, "code", &code)) {
		if ((err = get_uint(code, "exit.code", 255, &value, why)))
			return err;
		profile_set_exit(p, (int)value << 8);
	} else if (json_object_object_get_ex(v, "signal", &sig)) {
		if ((err = get_uint(sig, "exit.signal", 127, &value, why)))
			return err;
		if (!value)
			return bad(why, "exit.signal: 0 is no signal");
		profile_set_exit(p, (int)value);
	} else {
		return bad(why, "exit: not {\"code\": N} or {\"signal\": N}");
	}
	return 0;
}

static int parse_grant(struct json_object *v, uint64_t *ret_mask, char *why)
{
	uint64_t mask = 0;
	char at[64];
	size_t n = 0;
	int cap, err;

	if ((err = get_array(v, "grant", &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(at, sizeof(at), "grant[%zu]", i);
		if ((err = get_cap(json_object_array_get_idx(v, i), at, &cap, why)))
			return err;
		mask |= 1ull << cap;
	}
	*ret_mask = mask;
	return 0;
}

static int parse_instances(struct profile *p, struct json_object *v, char *why)
{
	const char *id;
	char at[64];
	size_t n = 0;
	int err;

	if ((err = get_array(v, "instances", &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(at, sizeof(at), "instances[%zu]", i);
		if ((err = get_str(json_object_array_get_idx(v, i), at, &id, why)))
			return err;
		if (!id)
			return bad(why, "%s: not a string", at);
		err = profile_add_instance(p, id);
		if (err && err != -ENOSPC)
			return err;
	}
	return 0;
}

/* "not_needed": [{"capability": "CAP_CHOWN", "reason": "..."}], kept so a
 * minimized profile read back keeps its grant and says why. */
static int parse_not_needed(struct profile *p, struct json_object *v, char *why)
{
	struct json_object *cap, *reason;
	const char *text;
	char at[48];
	size_t n = 0;
	int err, nr;

	if ((err = get_array(v, "not_needed", &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		snprintf(at, sizeof(at), "not_needed[%zu]", i);
		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "capability", &cap) ||
		    !json_object_object_get_ex(e, "reason", &reason))
			return bad(why, "%s: not {\"capability\", \"reason\"}", at);
		if ((err = get_cap(cap, at, &nr, why)) || (err = get_str(reason, at, &text, why)))
			return err;
		if (!text)
			return bad(why, "%s: no reason", at);
		if ((err = profile_set_not_needed(p, nr, text)))
			return err;
	}
	return 0;
}

/* "kept": [{"capability", "how", "binary", "count"}]. */
static int parse_kept(struct profile *p, struct json_object *v, char *why)
{
	struct json_object *f;
	const char *how;
	char at[64];
	size_t n = 0;
	int err;

	if ((err = get_array(v, "kept", &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		struct json_object *k = json_object_array_get_idx(v, i);
		struct profile_kept kept = { .count = 1 };

		snprintf(at, sizeof(at), "kept[%zu]", i);
		if (!json_object_is_type(k, json_type_object) ||
		    !json_object_object_get_ex(k, "capability", &f) ||
		    !json_object_object_get_ex(k, "how", NULL))
			return bad(why, "%s: not an object with \"capability\" and \"how\"", at);
		if ((err = get_cap(f, at, &kept.cap, why)))
			return err;
		json_object_object_foreach(k, key, val) {
			if (strcmp(key, "how") == 0) {
				err = get_str(val, at, &how, why);
				if (!err && (!how || profile_kept_how_parse(how, &kept.how)))
					err = bad(why, "%s.how: not \"capset\", \"ambient\" or "
						  "\"file_caps\"", at);
			} else if (strcmp(key, "binary") == 0) {
				err = get_str(val, at, &kept.binary, why);
			} else if (strcmp(key, "count") == 0) {
				err = get_uint(val, at, UINT64_MAX, &kept.count, why);
			} else if (strcmp(key, "capability")) {
				err = bad(why, "%s.%s: unknown field", at, key);
			}
			if (err)
				return err;
		}
		if ((err = profile_add_kept(p, &kept)))
			return err;
	}
	return 0;
}

/* "minimize": {"runs": N, "probe": "CMD"} */
static int parse_minimize(struct profile *p, struct json_object *v, char *why)
{
	struct json_object *runs, *probe;
	const char *text = NULL;
	uint64_t n;
	int err;

	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "runs", &runs))
		return bad(why, "minimize: not {\"runs\", \"probe\"}");
	if ((err = get_uint(runs, "minimize.runs", CAPS_MAX, &n, why)))
		return err;
	if (json_object_object_get_ex(v, "probe", &probe) &&
	    (err = get_str(probe, "minimize.probe", &text, why)))
		return err;
	return profile_set_minimize(p, (unsigned int)n, text);
}

static int parse_root(struct profile *p, struct json_object *root, char *why)
{
	static const char *const derived[] = {
		"coverage", "grant_edited", "allow_privilege_escalation", "classes", "denials", NULL
	};
	struct json_object *version, *caps = NULL, *v;
	bool unnamed = false, has_unnamed = false, has_grant = false, gained = false, keep = false;
	uint64_t value, grant_mask = 0;
	const char *workload, *coverage_of;
	char at[48];
	size_t n = 0;
	int err;

	if (!json_object_object_get_ex(root, "captrail_profile", &version))
		return bad(why, "not a captrail profile: no \"captrail_profile\" version");
	if (get_uint(version, "captrail_profile", UINT32_MAX, &value, NULL) ||
	    value != PROFILE_VERSION)
		return bad(why, "captrail_profile: version %s is not %d",
			   json_object_to_json_string(version), PROFILE_VERSION);
	json_object_object_foreach(root, key, val) {
		err = 0;
		if (strcmp(key, "workload") == 0) {
			err = get_str(val, key, &workload, why);
			if (!err)
				err = profile_set_workload(p, workload);
		} else if (strcmp(key, "user") == 0) {
			err = parse_user(p, val, why);
		} else if (strcmp(key, "command") == 0) {
			err = parse_command(p, val, why);
		} else if (strcmp(key, "exit") == 0) {
			err = parse_exit(p, val, why);
		} else if (strcmp(key, "exec_gained_privilege") == 0) {
			err = get_bool(val, key, &gained, why);
			if (!err)
				profile_set_exec_gain(p, gained);
		} else if (strcmp(key, "kept") == 0) {
			err = parse_kept(p, val, why);
		} else if (strcmp(key, "keep_caps") == 0) {
			err = get_bool(val, key, &keep, why);
			if (!err)
				profile_set_keep_caps(p, keep);
		} else if (strcmp(key, "instances") == 0) {
			err = parse_instances(p, val, why);
		} else if (strcmp(key, "unnamed_instance") == 0) {
			err = get_bool(val, key, &unnamed, why);
			has_unnamed = true;
		} else if (strcmp(key, "coverage_of") == 0) {
			err = get_str(val, key, &coverage_of, why);
			if (!err && (!coverage_of || (strcmp(coverage_of, "replicas") &&
						      strcmp(coverage_of, "instances"))))
				err = bad(why, "coverage_of: not \"replicas\" or \"instances\"");
			if (!err)
				profile_set_replicas(p, !strcmp(coverage_of, "replicas"));
		} else if (strcmp(key, "folded") == 0) {
			err = get_uint(val, key, UINT64_MAX, &value, why);
			if (!err)
				profile_add_folded(p, value);
		} else if (strcmp(key, "grant") == 0) {
			err = parse_grant(val, &grant_mask, why);
			has_grant = true;
		} else if (strcmp(key, "runs") == 0) {
			err = get_uint(val, key, UINT64_MAX, &value, why);
			if (!err)
				profile_set_runs(p, value);
		} else if (strcmp(key, "nodes") == 0) {
			err = get_uint(val, key, UINT_MAX, &value, why);
			if (!err)
				profile_set_nodes(p, (unsigned int)value);
		} else if (strcmp(key, "not_needed") == 0) {
			err = parse_not_needed(p, val, why);
		} else if (strcmp(key, "minimize") == 0) {
			err = parse_minimize(p, val, why);
		} else if (strcmp(key, "capabilities") == 0) {
			err = get_array(val, key, &n, why);
			caps = val;
		} else if (strcmp(key, "captrail_profile") && !is_one_of(key, derived)) {
			err = bad(why, "%s: unknown field", key);
		}
		if (err)
			return err;
	}
	for (size_t i = 0; caps && i < n; i++) {
		snprintf(at, sizeof(at), "capabilities[%zu]", i);
		v = json_object_array_get_idx(caps, i);
		if ((err = parse_capability(p, v, at, why)))
			return err;
	}
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (profile_cap_runs(p, cap) > profile_runs(p))
			return bad(why, "runs: %llu, fewer than a capability's runs",
				   (unsigned long long)profile_runs(p));
	}
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (profile_cap_nodes(p, cap) > profile_nodes(p))
			return bad(why, "nodes: %u, fewer than a capability's nodes",
				   profile_nodes(p));
	}
	/* Adding a check without instance marks the unnamed instance seen;
	 * the file knows whether it was (or the check was folded). */
	if (has_unnamed)
		profile_set_unnamed_instance(p, unnamed);
	if (has_grant)
		profile_set_grant(p, grant_mask);
	return 0;
}

int profile_parse_json(const char *text, struct profile **ret_profile,
		       char ret_why[PROFILE_WHY_LEN])
{
	struct json_tokener *tok;
	struct json_object *root;
	struct profile *p = NULL;
	size_t len = strlen(text), end;
	int err;

	if (len > PROFILE_JSON_MAX)
		return bad(ret_why, "larger than %u bytes", PROFILE_JSON_MAX);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		err = bad(ret_why, "not JSON: %s at byte %zu",
			  json_tokener_error_desc(json_tokener_get_error(tok)),
			  json_tokener_get_parse_end(tok));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	if (text[end + strspn(text + end, " \t\r\n")] != '\0') {
		err = bad(ret_why, "not JSON: data after the document at byte %zu", end);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		err = bad(ret_why, "not a captrail profile: not a JSON object");
		goto out;
	}
	err = profile__new(&p);
	if (!err)
		err = parse_root(p, root, ret_why);
out:
	json_object_put(root);
	json_tokener_free(tok);
	if (err) {
		profile__free(p);
		return err;
	}
	*ret_profile = p;
	return 0;
}

int profile_load_json(const char *path, struct profile **ret_profile, char ret_why[PROFILE_WHY_LEN])
{
	size_t len;
	char *text;
	int err = json_read_file(path, PROFILE_JSON_MAX, &text, &len);

	if (err == -EFBIG)
		return bad(ret_why, "larger than %u bytes", PROFILE_JSON_MAX);
	if (err == -EINVAL)
		return bad(ret_why, "not a regular file");
	if (err == -EBADMSG)
		return bad(ret_why, "not JSON: a NUL byte");
	if (err)
		return err;
	err = profile_parse_json(text, ret_profile, ret_why);
	free(text);
	return err;
}
