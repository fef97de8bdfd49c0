/* Annotations, which whoever creates a pod or a container writes: keys
 * and values of any bytes, CRI-O's labels a JSON text inside one. The
 * input is key, value, key, value... (parts); the harness writes them as
 * valid JSON, so every input reaches the annotation code: once as a
 * bundle's "annotations" object, once as the "key=value" labels runc
 * copies into state.json when the bundle is gone. */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "container_fixture.h"

#define MAX_PAIRS 32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_make("annotations");
	return 0;
}

static void write_json(const char *dir, const char *name, json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);

	FUZZ_CHECK(text);
	fuzz_write(dir, name, text, strlen(text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *config = json_object_new_object(), *ann = json_object_new_object();
	json_object *state = json_object_new_object(), *cfg = json_object_new_object();
	json_object *labels = json_object_new_array();
	struct fuzz_part parts[2 * MAX_PAIRS];
	size_t n = fuzz_split(data, size, parts, 2 * MAX_PAIRS);

	FUZZ_CHECK(config && ann && state && cfg && labels);
	for (size_t i = 0; i + 1 < n; i += 2) {
		char *key = fuzz_part_str(&parts[i]);
		size_t klen = strlen(key), vlen = parts[i + 1].size;
		char *label = malloc(klen + 1 + vlen + 1);

		FUZZ_CHECK(label);
		json_object_object_add(ann, key, json_object_new_string_len(
						       (const char *)parts[i + 1].data, (int)vlen));
		memcpy(label, key, klen);
		label[klen] = '=';
		memcpy(label + klen + 1, parts[i + 1].data, vlen);
		json_object_array_add(labels, json_object_new_string_len(label, (int)(klen + 1 + vlen)));
		free(label);
		free(key);
	}
	json_object_object_add(config, "ociVersion", json_object_new_string("1.0.2"));
	json_object_object_add(config, "annotations", ann);
	json_object_object_add(cfg, "labels", labels);
	json_object_object_add(state, "id", json_object_new_string(FIXTURE_ID));
	json_object_object_add(state, "config", cfg);

	/* The bundle a shim keeps, no runtime state. */
	fuzz_unlink(fx.state, "state.json");
	write_json(fx.task, "config.json", config);
	fixture_lookup();
	/* The state runc keeps, its bundle gone. */
	fuzz_unlink(fx.task, "config.json");
	write_json(fx.state, "state.json", state);
	fixture_lookup();

	json_object_put(config);
	json_object_put(state);
	return 0;
}
