/* Event filters as the command line gives them (--namespaces, --pods,
 * --containers, --processes: comma-separated lists, regexes but for
 * namespaces; --host), matched against an event whose pod, container and
 * binary a workload names; then as the API carries them (to JSON and
 * back), which must match the same. Only event/evfilter.h is used, so the
 * harness holds whatever matcher is behind it. Parts: the four lists,
 * "host" ("1" sets it), then the event's namespace, pod, container and
 * binary (a pod when any of the first three is given). */
#include <stdint.h>
#include <stdlib.h>

#include "event/evfilter.h"

#include "fuzz.h"

enum { HOST = EVFILTER_FIELDS, NAMESPACE, POD, CONTAINER, BINARY, PARTS };

static json_object *event_json(const struct evfilter_subject *s)
{
	json_object *ev = json_object_new_object(), *kp = json_object_new_object();
	json_object *proc = json_object_new_object(), *pod, *ctr;

	FUZZ_CHECK(ev && kp && proc);
	json_object_object_add(ev, "process_kprobe", kp);
	json_object_object_add(kp, "process", proc);
	if (s->binary)
		json_object_object_add(proc, "binary", json_object_new_string(s->binary));
	if (s->has_pod) {
		pod = json_object_new_object();
		ctr = json_object_new_object();
		FUZZ_CHECK(pod && ctr);
		json_object_object_add(proc, "pod", pod);
		json_object_object_add(pod, "namespace", json_object_new_string(s->namespace_));
		json_object_object_add(pod, "name", json_object_new_string(s->pod));
		json_object_object_add(pod, "container", ctr);
		json_object_object_add(ctr, "name", json_object_new_string(s->container));
	}
	return ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evfilter *f, *back = NULL;
	struct evfilter_subject s = { 0 };
	struct fuzz_part parts[PARTS];
	char *text[PARTS], err[256];
	json_object *obj, *ev;
	bool match, host;
	int rc = 0;

	fuzz_split(data, size, parts, PARTS);
	for (int i = 0; i < PARTS; i++)
		text[i] = fuzz_part_str(&parts[i]);
	FUZZ_CHECK(!evfilter__new(&f));
	for (int field = 0; field < EVFILTER_FIELDS && !rc; field++)
		if (*text[field])
			rc = evfilter_add_list(f, field, text[field], err, sizeof(err));
	host = text[HOST][0] == '1';
	if (!rc && host)
		rc = evfilter_set_host(f, true, err, sizeof(err));
	if (rc)
		FUZZ_CHECK(rc == -EINVAL && memchr(err, '\0', sizeof(err)));

	s.has_pod = *text[NAMESPACE] || *text[POD] || *text[CONTAINER];
	s.namespace_ = text[NAMESPACE];
	s.pod = text[POD];
	s.container = text[CONTAINER];
	s.binary = *text[BINARY] ? text[BINARY] : NULL;
	match = evfilter_match(f, &s);
	if (evfilter_empty(f))
		FUZZ_CHECK(match);
	ev = event_json(&s);
	FUZZ_CHECK(evfilter_match_json(f, ev) == match);

	/* What a client sends is what the agent applies. */
	FUZZ_CHECK(!evfilter_to_json(f, &obj));
	rc = evfilter_from_json(obj, &back, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s does not read back: %s\n", json_object_to_json_string(obj), err);
		abort();
	}
	FUZZ_CHECK(evfilter_match(back, &s) == match);

	evfilter__free(back);
	json_object_put(obj);
	json_object_put(ev);
	evfilter__free(f);
	for (int i = 0; i < PARTS; i++)
		free(text[i]);
	return 0;
}
