#include "event/evfilter.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/util.h"

struct evfilter_value {
	char *text;
	regex_t re; /* unused for namespaces, which match exactly */
};

struct evfilter {
	struct evfilter_value values[EVFILTER_FIELDS][EVFILTER_MAX_VALUES];
	size_t n[EVFILTER_FIELDS];
	bool host;
};

static const char *const field_names[EVFILTER_FIELDS] = {
	[EVFILTER_NAMESPACES] = "namespaces",
	[EVFILTER_PODS] = "pods",
	[EVFILTER_CONTAINERS] = "containers",
	[EVFILTER_PROCESSES] = "processes",
};

const char *evfilter_field_name(enum evfilter_field field)
{
	return field < EVFILTER_FIELDS ? field_names[field] : "?";
}

int evfilter__new(struct evfilter **ret_filter)
{
	struct evfilter *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*ret_filter = f;
	return 0;
}

void evfilter__free(struct evfilter *f)
{
	if (!f)
		return;
	for (int field = 0; field < EVFILTER_FIELDS; field++)
		for (size_t i = 0; i < f->n[field]; i++) {
			if (field != EVFILTER_NAMESPACES)
				regfree(&f->values[field][i].re);
			free(f->values[field][i].text);
		}
	free(f);
}

static bool is_pod_field(enum evfilter_field field)
{
	return field != EVFILTER_PROCESSES;
}

int evfilter_add(struct evfilter *f, enum evfilter_field field, const char *value, char *err,
		 size_t err_size)
{
	struct evfilter_value *v;
	int rc;

	if (field >= EVFILTER_FIELDS)
		return invalid_input(err, err_size, "unknown filter field");
	if (!value || !*value)
		return invalid_input(err, err_size, "empty value for --%s", field_names[field]);
	if (f->n[field] == EVFILTER_MAX_VALUES)
		return invalid_input(err, err_size, "more than %d values for --%s",
				     EVFILTER_MAX_VALUES, field_names[field]);
	if (f->host && is_pod_field(field))
		return invalid_input(err, err_size,
				     "--%s selects pod events and --host events with no pod: "
				     "together they match nothing", field_names[field]);
	v = &f->values[field][f->n[field]];
	if (field != EVFILTER_NAMESPACES) {
		rc = regcomp(&v->re, value, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char why[128];

			regerror(rc, &v->re, why, sizeof(why));
			return invalid_input(err, err_size,
					     "bad regular expression '%s' for --%s: %s",
					     value, field_names[field], why);
		}
	}
	v->text = strdup(value);
	if (!v->text) {
		if (field != EVFILTER_NAMESPACES)
			regfree(&v->re);
		return -ENOMEM;
	}
	f->n[field]++;
	return 0;
}

int evfilter_add_list(struct evfilter *f, enum evfilter_field field, const char *list, char *err,
		      size_t err_size)
{
	char *copy, *item, *save = NULL;
	int rc = 0;

	if (!list || !*list)
		return invalid_input(err, err_size, "empty value for --%s",
				     evfilter_field_name(field));
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	/* strtok_r would skip empty items; "a,,b" is a mistake worth naming. */
	for (item = copy; item; item = save) {
		save = strchr(item, ',');
		if (save)
			*save++ = '\0';
		rc = evfilter_add(f, field, item, err, err_size);
		if (rc)
			break;
	}
	free(copy);
	return rc;
}

int evfilter_set_host(struct evfilter *f, bool host, char *err, size_t err_size)
{
	if (host && (f->n[EVFILTER_NAMESPACES] || f->n[EVFILTER_PODS] ||
		     f->n[EVFILTER_CONTAINERS]))
		return invalid_input(err, err_size,
				     "--host selects events with no pod and --namespaces, --pods, "
				     "--containers pod events: together they match nothing");
	f->host = host;
	return 0;
}

bool evfilter_empty(const struct evfilter *f)
{
	if (!f)
		return true;
	for (int field = 0; field < EVFILTER_FIELDS; field++)
		if (f->n[field])
			return false;
	return !f->host;
}

static bool field_match(const struct evfilter *f, enum evfilter_field field, const char *text)
{
	if (!f->n[field])
		return true;
	if (!text)
		return false;
	for (size_t i = 0; i < f->n[field]; i++) {
		const struct evfilter_value *v = &f->values[field][i];

		if (field == EVFILTER_NAMESPACES ? !strcmp(v->text, text)
						 : !regexec(&v->re, text, 0, NULL, 0))
			return true;
	}
	return false;
}

bool evfilter_match(const struct evfilter *f, const struct evfilter_subject *s)
{
	if (!f)
		return true;
	if (f->host && s->has_pod)
		return false;
	return field_match(f, EVFILTER_NAMESPACES, s->has_pod ? s->namespace_ : NULL) &&
	       field_match(f, EVFILTER_PODS, s->has_pod ? s->pod : NULL) &&
	       field_match(f, EVFILTER_CONTAINERS, s->has_pod ? s->container : NULL) &&
	       field_match(f, EVFILTER_PROCESSES, s->binary);
}

static json_object *json_obj(json_object *obj, const char *key)
{
	return json_member(obj, key, json_type_object);
}

bool evfilter_match_json(const struct evfilter *f, json_object *event)
{
	json_object *process = json_obj(json_obj(event, "process_kprobe"), "process");
	json_object *pod = json_obj(process, "pod");
	struct evfilter_subject s = {
		.namespace_ = json_member_string(pod, "namespace"),
		.pod = json_member_string(pod, "name"),
		.container = json_member_string(json_obj(pod, "container"), "name"),
		.binary = json_member_string(process, "binary"),
		.has_pod = pod != NULL,
	};

	if (!process)
		return evfilter_empty(f);
	return evfilter_match(f, &s);
}

int evfilter_from_json(json_object *filter, struct evfilter **ret_filter, char *err,
		       size_t err_size)
{
	struct evfilter *f;
	json_object *host = NULL;
	int rc;

	if (filter && !json_object_is_type(filter, json_type_object))
		return invalid_input(err, err_size, "\"filter\" must be an object");
	rc = evfilter__new(&f);
	if (rc)
		return rc;
	if (!filter)
		goto done;
	json_object_object_foreach(filter, key, value) {
		int field;

		if (!strcmp(key, "host")) {
			host = value;
			continue;
		}
		for (field = 0; field < EVFILTER_FIELDS; field++)
			if (!strcmp(key, field_names[field]))
				break;
		if (field == EVFILTER_FIELDS) {
			rc = invalid_input(err, err_size, "unknown filter key \"%.64s\"", key);
			goto out;
		}
		if (!json_object_is_type(value, json_type_array)) {
			rc = invalid_input(err, err_size,
					   "filter \"%s\" must be an array of strings", key);
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(value); i++) {
			json_object *item = json_object_array_get_idx(value, i);

			if (!json_object_is_type(item, json_type_string)) {
				rc = invalid_input(err, err_size,
						   "filter \"%s\" must be an array of strings",
						   key);
				goto out;
			}
			rc = evfilter_add(f, field, json_object_get_string(item), err, err_size);
			if (rc)
				goto out;
		}
	}
	if (host) {
		if (!json_object_is_type(host, json_type_boolean)) {
			rc = invalid_input(err, err_size, "filter \"host\" must be true or false");
			goto out;
		}
		rc = evfilter_set_host(f, json_object_get_boolean(host), err, err_size);
		if (rc)
			goto out;
	}
done:
	*ret_filter = f;
	return 0;
out:
	evfilter__free(f);
	return rc;
}

int evfilter_to_json(const struct evfilter *f, json_object **ret_filter)
{
	json_object *obj = json_object_new_object();

	if (!obj)
		return -ENOMEM;
	for (int field = 0; field < EVFILTER_FIELDS; field++) {
		json_object *arr;

		if (!f->n[field])
			continue;
		arr = json_object_new_array();
		if (!arr || json_object_object_add(obj, field_names[field], arr)) {
			json_object_put(arr);
			goto nomem;
		}
		for (size_t i = 0; i < f->n[field]; i++)
			if (json_object_array_add(arr,
						  json_object_new_string(f->values[field][i].text)))
				goto nomem;
	}
	if (f->host && json_object_object_add(obj, "host", json_object_new_boolean(true)))
		goto nomem;
	*ret_filter = obj;
	return 0;
nomem:
	json_object_put(obj);
	return -ENOMEM;
}

void evfilter_subject_of(const struct identity_event *ev, struct evfilter_subject *ret_subject)
{
	const struct identity_pod *pod = ev->process.pod;

	*ret_subject = (struct evfilter_subject){ .binary = ev->process.binary };
	if (pod) {
		ret_subject->namespace_ = pod->namespace_;
		ret_subject->pod = pod->name;
		ret_subject->container = pod->container_name;
		ret_subject->has_pod = true;
	}
}
