#include "event/evfilter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/json.h"
#include "lib/text.h"
#include "lib/util.h"

/* What a pattern may ask of the compiler. Its compiled size has PCRE2's own
 * bound (64 KiB with Debian's link size 2), which refuses
 * ((((a{100}){100}){100}){100}) at once; 10.42 has no
 * pcre2_set_max_pattern_compiled_length() to ask for less. Names need a
 * few levels of parentheses, PCRE2's default allows 250. */
#define PARENS_NEST_LIMIT 32
#define COMPILE_OPTIONS \
	(PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_UTF | PCRE2_NEVER_UCP)
#define QUOTED 64 /* bytes of a pattern an error message repeats */

/* What one match may cost. The limits are sized on the subjects: pod names
 * of 253 bytes at most, binaries of a few KiB at most. ".*foo.*bar$" over a
 * 253-byte name needs ~4,200 steps; "^([a-z0-9]+-?)*$" 64 KiB of heap
 * (interpreter) or JIT stack over a 4 KiB path. A match that gives up took
 * ~0.1 ms (JIT) to ~0.3 ms (interpreter) here; PCRE2's defaults (10^7 steps,
 * 20 GB of heap) let one event take seconds. The JIT ignores the depth and
 * heap limits and uses its stack instead. */
#define MATCH_LIMIT 10000
#define DEPTH_LIMIT 2000
#define HEAP_LIMIT_KIB 256
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (128 * 1024)
/* One event tries at most this many regexes that give up, whatever the
 * number of values: one bad value does not keep the others from being
 * tried, and 64 bad ones cost the agent's loop no more per event than two. */
#define GIVE_UPS_PER_EVENT 2

struct evfilter_value {
	char *text;
	pcre2_code *re; /* NULL for namespaces, which match exactly */
	unsigned long long gave_up;
};

struct evfilter {
	struct evfilter_value values[EVFILTER_FIELDS][EVFILTER_MAX_VALUES];
	size_t n[EVFILTER_FIELDS];
	bool host;
	/* Created with the first regex, shared by all of them: the agent
	 * keeps a filter per client and matches it on every event. */
	pcre2_compile_context *ccontext;
	pcre2_match_context *mcontext;
	pcre2_jit_stack *jit_stack;
	pcre2_match_data *match_data; /* one pair: only whether it matched */
	unsigned long long skipped;
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
			pcre2_code_free(f->values[field][i].re);
			free(f->values[field][i].text);
		}
	pcre2_match_data_free(f->match_data);
	pcre2_jit_stack_free(f->jit_stack);
	pcre2_match_context_free(f->mcontext);
	pcre2_compile_context_free(f->ccontext);
	free(f);
}

static bool jit_available(void)
{
	uint32_t jit = 0;

	return pcre2_config(PCRE2_CONFIG_JIT, &jit) >= 0 && jit;
}

static int regex_setup(struct evfilter *f)
{
	bool jit = jit_available();
	pcre2_compile_context *cc;
	pcre2_match_context *mc;
	pcre2_match_data *md;
	pcre2_jit_stack *stack;

	if (f->match_data)
		return 0;
	cc = pcre2_compile_context_create(NULL);
	mc = pcre2_match_context_create(NULL);
	md = pcre2_match_data_create(1, NULL);
	stack = jit ? pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL) : NULL;
	if (!cc || !mc || !md || (jit && !stack)) {
		pcre2_compile_context_free(cc);
		pcre2_match_context_free(mc);
		pcre2_match_data_free(md);
		pcre2_jit_stack_free(stack);
		return -ENOMEM;
	}
	/* These only fail for values out of range. */
	(void)pcre2_set_max_pattern_length(cc, EVFILTER_MAX_PATTERN);
	(void)pcre2_set_parens_nest_limit(cc, PARENS_NEST_LIMIT);
	(void)pcre2_set_match_limit(mc, MATCH_LIMIT);
	(void)pcre2_set_depth_limit(mc, DEPTH_LIMIT);
	(void)pcre2_set_heap_limit(mc, HEAP_LIMIT_KIB);
	if (stack)
		pcre2_jit_stack_assign(mc, NULL, stack);
	f->ccontext = cc;
	f->mcontext = mc;
	f->match_data = md;
	f->jit_stack = stack;
	return 0;
}

static int regex_compile(struct evfilter *f, enum evfilter_field field, const char *value,
			 pcre2_code **ret_re, char *err, size_t err_size)
{
	size_t len = strlen(value);
	PCRE2_SIZE offset;
	pcre2_code *re;
	int rc;

	rc = regex_setup(f);
	if (rc)
		return rc;
	re = pcre2_compile((PCRE2_SPTR)value, len, COMPILE_OPTIONS, &rc, &offset, f->ccontext);
	if (!re) {
		PCRE2_UCHAR why[128];

		if (rc == PCRE2_ERROR_NOMEMORY)
			return -ENOMEM;
		/* Without quoting it: it may be megabytes. */
		if (rc == PCRE2_ERROR_PATTERN_STRING_TOO_LONG)
			return invalid_input(err, err_size,
					     "regular expression for --%s is %zu bytes, "
					     "more than %d",
					     field_names[field], len, EVFILTER_MAX_PATTERN);
		if (pcre2_get_error_message(rc, why, sizeof(why)) < 0)
			snprintf((char *)why, sizeof(why), "error %d", rc);
		/* Quoted in part, so that the reason fits the caller's buffer. */
		return invalid_input(err, err_size,
				     "bad regular expression '%.*s%s' for --%s: %s (at byte %zu)",
				     QUOTED, value, len > QUOTED ? "..." : "", field_names[field],
				     (const char *)why, (size_t)offset);
	}
	/* Without the JIT (no executable memory) the interpreter matches, under
	 * the same limits: slower, never wrong. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	*ret_re = re;
	return 0;
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
		rc = regex_compile(f, field, value, &v->re, err, err_size);
		if (rc)
			return rc;
	}
	v->text = strdup(value);
	if (!v->text) {
		pcre2_code_free(v->re);
		v->re = NULL;
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

static bool regex_match(struct evfilter *f, struct evfilter_value *v, const char *text,
			unsigned *give_ups)
{
	int rc;

	if (*give_ups >= GIVE_UPS_PER_EVENT) {
		f->skipped++;
		return false;
	}
	rc = pcre2_match(v->re, (PCRE2_SPTR)text, strlen(text), 0, 0, f->match_data,
			 f->mcontext);
	/* 0: matched, with more groups than the one pair of match data. */
	if (rc >= 0)
		return true;
	if (rc != PCRE2_ERROR_NOMATCH) {
		/* A limit (match, depth, heap, JIT stack) or no memory. */
		v->gave_up++;
		(*give_ups)++;
	}
	return false;
}

static bool field_match(struct evfilter *f, enum evfilter_field field, const char *text,
			unsigned *give_ups)
{
	if (!f->n[field])
		return true;
	if (!text)
		return false;
	for (size_t i = 0; i < f->n[field]; i++) {
		struct evfilter_value *v = &f->values[field][i];

		if (field == EVFILTER_NAMESPACES ? !strcmp(v->text, text)
						 : regex_match(f, v, text, give_ups))
			return true;
	}
	return false;
}

bool evfilter_match(struct evfilter *f, const struct evfilter_subject *s)
{
	unsigned give_ups = 0;

	if (!f)
		return true;
	if (f->host && s->has_pod)
		return false;
	return field_match(f, EVFILTER_NAMESPACES, s->has_pod ? s->namespace_ : NULL,
			   &give_ups) &&
	       field_match(f, EVFILTER_PODS, s->has_pod ? s->pod : NULL, &give_ups) &&
	       field_match(f, EVFILTER_CONTAINERS, s->has_pod ? s->container : NULL,
			   &give_ups) &&
	       field_match(f, EVFILTER_PROCESSES, s->binary, &give_ups);
}

void evfilter_stats(const struct evfilter *f, struct evfilter_stats *ret_stats)
{
	const struct evfilter_value *worst = NULL;

	*ret_stats = (struct evfilter_stats){ 0 };
	if (!f)
		return;
	ret_stats->skipped = f->skipped;
	for (int field = 0; field < EVFILTER_FIELDS; field++)
		for (size_t i = 0; i < f->n[field]; i++) {
			const struct evfilter_value *v = &f->values[field][i];

			ret_stats->gave_up += v->gave_up;
			if (v->gave_up && (!worst || v->gave_up > worst->gave_up)) {
				worst = v;
				ret_stats->worst_field = field;
			}
		}
	ret_stats->worst_value = worst ? worst->text : NULL;
}

bool evfilter_describe_give_ups(const struct evfilter *f, char *buf, size_t size)
{
	struct evfilter_stats st;
	char worst[EVFILTER_MAX_PATTERN + 32] = "", skipped[128] = "";

	evfilter_stats(f, &st);
	if (!st.gave_up)
		return false; /* nothing is skipped before something gave up */
	snprintf(worst, sizeof(worst), ", most often --%s '%s'", field_names[st.worst_field],
		 st.worst_value);
	if (st.skipped)
		snprintf(skipped, sizeof(skipped),
			 "; %llu more were not tried in events that had reached %d limits",
			 st.skipped, GIVE_UPS_PER_EVENT);
	snprintf(buf, size, "%llu regex matches reached a limit and did not match%s%s",
		 st.gave_up, worst, skipped);
	return true;
}

static json_object *json_obj(json_object *obj, const char *key)
{
	return json_member(obj, key, json_type_object);
}

bool evfilter_match_json(struct evfilter *f, json_object *event)
{
	json_object *process = json_obj(json_obj(event, "process_kprobe"), "process");
	json_object *pod = json_obj(process, "pod");
	const char *docker = json_member_string(process, "docker");
	struct evfilter_subject s = {
		.namespace_ = json_member_string(pod, "namespace"),
		.pod = json_member_string(pod, "name"),
		.container = json_member_string(json_obj(pod, "container"), "name"),
		.binary = json_member_string(process, "binary"),
		.has_pod = pod || docker,
	};

	/* A container outside Kubernetes has no "pod" in the event, only its
	 * id: --containers matches that. */
	if (!pod)
		s.container = docker;

	if (!process)
		return evfilter_empty(f);
	return evfilter_match(f, &s);
}

int evfilter_from_json(json_object *filter, struct evfilter **ret_filter, char *err,
		       size_t err_size)
{
	struct evfilter *f;
	json_object *host = NULL;
	char echo[TEXT_ECHO_BUF];
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
			rc = invalid_input(err, err_size, "unknown filter key \"%s\"",
					   text_echo(key, echo, sizeof(echo)));
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
