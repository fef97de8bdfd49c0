#include "agent/api_protocol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/caps.h"
#include "lib/json.h"
#include "lib/text.h"
#include "lib/util.h"

static void add_str(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value ? value : ""));
}

/* A workload's string from the store: bounded, valid UTF-8 (lib/text.h). */
static void add_text(json_object *obj, const char *key, const char *value, size_t max)
{
	json_object_object_add(obj, key, text_json_string(value, max, NULL));
}

static void add_u64(json_object *obj, const char *key, uint64_t value)
{
	json_object_object_add(obj, key, json_object_new_uint64(value));
}

json_object *api_row_to_json(const struct store_row *r)
{
	const struct workload *w = &r->workload;
	const struct check *c = &r->check;
	json_object *obj = json_object_new_object();
	char name[CAPS_NAME_LEN];

	if (!obj)
		return NULL;
	json_object_object_add(obj, "workload_id", json_object_new_int64(r->workload_id));
	add_str(obj, "kind", workload_kind_name(w->kind));
	add_text(obj, "pod_namespace", w->pod_namespace, TEXT_NAME_MAX);
	add_text(obj, "pod_name", w->pod_name, TEXT_NAME_MAX);
	add_text(obj, "container_name", w->container_name, TEXT_NAME_MAX);
	add_text(obj, "image", w->image, TEXT_IMAGE_MAX);
	add_text(obj, "binary", w->binary, TEXT_PATH_MAX);
	add_text(obj, "unit", w->unit, TEXT_NAME_MAX);
	add_str(obj, "owner_kind", w->owner_kind);
	add_text(obj, "owner_name", w->owner_name, TEXT_LABEL_MAX);
	add_str(obj, "owner_how", w->owner_how);
	add_u64(obj, "instances", r->instances);
	json_object_object_add(obj, "cap", json_object_new_int(c->cap));
	caps_name(c->cap, name);
	add_str(obj, "capability", name);
	json_object_object_add(obj, "denied", json_object_new_boolean(c->denied));
	add_str(obj, "audit", check_audit_name(c->audit));
	json_object_object_add(obj, "syscall", json_object_new_int(c->syscall));
	add_u64(obj, "flags", c->flags);
	add_u64(obj, "count", c->count);
	add_u64(obj, "first_seen", c->first_ns);
	add_u64(obj, "last_seen", c->last_ns);
	add_u64(obj, "eperm", c->outcome.eperm);
	add_u64(obj, "eacces", c->outcome.eacces);
	add_u64(obj, "success", c->outcome.success);
	add_u64(obj, "other", c->outcome.other);
	return obj;
}

static int collect_row(void *ctx, const struct store_row *row)
{
	json_object *obj = api_row_to_json(row);

	if (!obj || json_object_array_add(ctx, obj)) {
		json_object_put(obj);
		return -ENOMEM;
	}
	return 0;
}

static int collect_instance(void *ctx, int64_t workload_id, const char *instance)
{
	json_object *obj = json_object_new_object();

	if (!obj || json_object_array_add(ctx, obj)) {
		json_object_put(obj);
		return -ENOMEM;
	}
	json_object_object_add(obj, "workload_id", json_object_new_int64(workload_id));
	add_text(obj, "instance", instance, TEXT_NAME_MAX);
	return 0;
}

static json_object *gaps_to_json(const struct store_gaps *g)
{
	json_object *obj = json_object_new_object();

	if (!obj)
		return NULL;
	add_u64(obj, "unstored", g->unstored);
	add_u64(obj, "lost", g->lost);
	add_u64(obj, "invalid", g->invalid);
	json_object_object_add(obj, "flush_errno", json_object_new_int(-g->flush_err));
	if (g->flush_err)
		add_str(obj, "flush_error", strerror(-g->flush_err));
	return obj;
}

int api_gaps_from_json(json_object *obj, struct store_gaps *ret_gaps)
{
	struct store_gaps g = { 0 };
	int flush_errno = 0, err = 0;

	err |= json_read_u64(obj, "unstored", &g.unstored);
	err |= json_read_u64(obj, "lost", &g.lost);
	err |= json_read_u64(obj, "invalid", &g.invalid);
	err |= json_read_int(obj, "flush_errno", &flush_errno);
	if (err || flush_errno < 0 || flush_errno > API_ERRNO_MAX)
		return -EINVAL;
	g.flush_err = -flush_errno;
	*ret_gaps = g;
	return 0;
}

int api_profile_reply(struct store *store, const struct store_filter *filter,
		      json_object **ret_reply)
{
	json_object *reply = json_object_new_object(), *gaps;
	json_object *rows = json_object_new_array(), *instances = json_object_new_array();
	struct store_stats before;
	struct store_gaps g;
	int err = -ENOMEM;

	if (!reply || !rows || !instances)
		goto fail;
	json_object_object_add(reply, "profile", rows);
	rows = NULL;
	json_object_object_add(reply, "instances", instances);
	instances = NULL;
	store_stats(store, &before);
	err = store_query(store, filter, collect_row, json_object_object_get(reply, "profile"));
	if (!err)
		err = store_instances(store, filter, collect_instance,
				      json_object_object_get(reply, "instances"));
	if (err)
		goto fail;
	store_gaps(store, before.invalid, &g);
	gaps = gaps_to_json(&g);
	if (!gaps) {
		err = -ENOMEM;
		goto fail;
	}
	json_object_object_add(reply, "store", gaps);
	*ret_reply = reply;
	return 0;
fail:
	json_object_put(reply);
	json_object_put(rows);
	json_object_put(instances);
	return err;
}

/* A member an agent before the owners did not send: "" then. */
static int read_optional_string(json_object *obj, const char *key, const char **ret_value)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v)) {
		*ret_value = "";
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	*ret_value = json_object_get_string(v);
	return 0;
}

int api_row_from_json(json_object *obj, struct store_row *ret_row)
{
	struct store_row r = { .workload_id = 0 };
	struct workload *w = &r.workload;
	struct check *c = &r.check;
	const char *kind, *audit;
	json_object *id;
	uint64_t flags;
	int err = 0;

	id = json_member(obj, "workload_id", json_type_int);
	err |= id ? 0 : -EINVAL;
	err |= json_read_string(obj, "kind", &kind);
	err |= json_read_string(obj, "pod_namespace", &w->pod_namespace);
	err |= json_read_string(obj, "pod_name", &w->pod_name);
	err |= json_read_string(obj, "container_name", &w->container_name);
	err |= json_read_string(obj, "image", &w->image);
	err |= json_read_string(obj, "binary", &w->binary);
	err |= json_read_string(obj, "unit", &w->unit);
	err |= read_optional_string(obj, "owner_kind", &w->owner_kind);
	err |= read_optional_string(obj, "owner_name", &w->owner_name);
	err |= read_optional_string(obj, "owner_how", &w->owner_how);
	err |= json_read_u64(obj, "instances", &r.instances);
	err |= json_read_int(obj, "cap", &c->cap);
	err |= json_read_bool(obj, "denied", &c->denied);
	err |= json_read_string(obj, "audit", &audit);
	err |= json_read_int(obj, "syscall", &c->syscall);
	err |= json_read_u64(obj, "flags", &flags);
	err |= json_read_u64(obj, "count", &c->count);
	err |= json_read_u64(obj, "first_seen", &c->first_ns);
	err |= json_read_u64(obj, "last_seen", &c->last_ns);
	err |= json_read_u64(obj, "eperm", &c->outcome.eperm);
	err |= json_read_u64(obj, "eacces", &c->outcome.eacces);
	err |= json_read_u64(obj, "success", &c->outcome.success);
	err |= json_read_u64(obj, "other", &c->outcome.other);
	if (err || workload_kind_parse(kind, &w->kind) || check_audit_parse(audit, &c->audit) ||
	    flags > UINT32_MAX)
		return -EINVAL;
	r.workload_id = json_object_get_int64(id);
	c->flags = (uint32_t)flags;
	*ret_row = r;
	return 0;
}

static const struct {
	const char *key;
	enum store_select select;
} selects[] = {
	{ "all", STORE_SELECT_ALL },
	{ "pod", STORE_SELECT_POD },
	{ "container", STORE_SELECT_CONTAINER },
	{ "binary", STORE_SELECT_BINARY },
	{ "unit", STORE_SELECT_UNIT },
	{ "workload", STORE_SELECT_WORKLOAD },
};

int api_select_to_json(const struct store_filter *f, json_object **ret_select)
{
	json_object *obj = json_object_new_object(), *value = NULL;
	char pod[1024];

	if (!obj)
		return -ENOMEM;
	switch (f->select) {
	case STORE_SELECT_ALL:
		value = json_object_new_boolean(true);
		break;
	case STORE_SELECT_POD:
		snprintf(pod, sizeof(pod), "%s/%s", f->pod_namespace ? f->pod_namespace : "",
			 f->pod_name ? f->pod_name : "");
		value = json_object_new_string(pod);
		break;
	case STORE_SELECT_CONTAINER:
		value = json_object_new_string(f->container ? f->container : "");
		break;
	case STORE_SELECT_BINARY:
		value = json_object_new_string(f->binary ? f->binary : "");
		break;
	case STORE_SELECT_UNIT:
		value = json_object_new_string(f->unit ? f->unit : "");
		break;
	case STORE_SELECT_WORKLOAD:
		snprintf(pod, sizeof(pod), "%s/%s/%s", f->pod_namespace ? f->pod_namespace : "",
			 f->owner_kind ? f->owner_kind : "", f->owner_name ? f->owner_name : "");
		value = json_object_new_string(pod);
		break;
	}
	for (size_t i = 0; value && i < sizeof(selects) / sizeof(selects[0]); i++)
		if (selects[i].select == f->select) {
			json_object_object_add(obj, selects[i].key, value);
			*ret_select = obj;
			return 0;
		}
	json_object_put(value);
	json_object_put(obj);
	return value ? -EINVAL : -ENOMEM;
}

int api_select_from_json(json_object *select, struct store_filter *ret_filter, char *buf,
			 size_t size, char *err, size_t err_size)
{
	struct store_filter f = { .select = STORE_SELECT_ALL };
	char echo[TEXT_ECHO_BUF];
	const char *text;
	size_t i;

	if (!json_object_is_type(select, json_type_object) ||
	    json_object_object_length(select) != 1)
		return invalid_input(err, err_size,
				     "\"select\" must be an object with one of \"pod\", "
				     "\"container\", \"binary\", \"unit\", \"workload\", \"all\"");
	json_object_object_foreach(select, key, value) {
		for (i = 0; i < sizeof(selects) / sizeof(selects[0]); i++)
			if (!strcmp(key, selects[i].key))
				break;
		if (i == sizeof(selects) / sizeof(selects[0])) {
			text_echo(key, echo, sizeof(echo));
			return invalid_input(err, err_size, "unknown selection \"%s\"", echo);
		}
		f.select = selects[i].select;
		if (f.select == STORE_SELECT_ALL) {
			if (!json_object_is_type(value, json_type_boolean) ||
			    !json_object_get_boolean(value))
				return invalid_input(err, err_size, "\"all\" must be true");
			break;
		}
		if (!json_object_is_type(value, json_type_string) ||
		    !*json_object_get_string(value))
			return invalid_input(err, err_size, "\"%s\" must be a non-empty string",
					     key);
		text = json_object_get_string(value);
		if (snprintf(buf, size, "%s", text) >= (int)size)
			return invalid_input(err, err_size, "\"%s\" is too long", key);
		switch (f.select) {
		case STORE_SELECT_POD:
			if (store_filter_pod(text, &f, buf, size)) {
				text_echo(text, echo, sizeof(echo));
				return invalid_input(err, err_size,
						     "\"pod\" must be NAMESPACE/NAME, not \"%s\"",
						     echo);
			}
			break;
		case STORE_SELECT_WORKLOAD:
			if (store_filter_workload(text, &f, buf, size)) {
				text_echo(text, echo, sizeof(echo));
				return invalid_input(err, err_size,
						     "\"workload\" must be NAMESPACE/KIND/NAME, not "
						     "\"%s\"",
						     echo);
			}
			break;
		case STORE_SELECT_CONTAINER:
			f.container = buf;
			break;
		case STORE_SELECT_BINARY:
			f.binary = buf;
			break;
		case STORE_SELECT_UNIT:
			f.unit = buf;
			break;
		case STORE_SELECT_ALL:
			break;
		}
	}
	*ret_filter = f;
	return 0;
}

