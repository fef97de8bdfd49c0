/* lib/json.c: the one strict object every reader of outside JSON starts
 * from (API requests and replies, runtime state, events), and the typed
 * member readers used on it. The bytes are handed over with their length
 * only, as a request line is. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/json.h"

#include "fuzz.h"

static void read_members(json_object *obj, int depth)
{
	const char *s;
	uint64_t u;
	bool b;
	int i;

	json_object_object_foreach(obj, key, value) {
		u = 7;
		if (!json_read_string(obj, key, &s))
			FUZZ_CHECK(s && json_member_string(obj, key) == s);
		if (json_read_u64(obj, key, &u))
			FUZZ_CHECK(u == 7);
		(void)json_read_int(obj, key, &i);
		(void)json_read_bool(obj, key, &b);
		if (depth < JSON_MAX_DEPTH && json_member(obj, key, json_type_object))
			read_members(value, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *obj = (json_object *)1;
	char why[128];
	int err;

	err = json_parse_object((const char *)data, size, &obj, why, sizeof(why));
	if (err) {
		FUZZ_CHECK(err == -EINVAL && obj == (json_object *)1 && memchr(why, '\0', sizeof(why)));
		return 0;
	}
	FUZZ_CHECK(json_object_is_type(obj, json_type_object));
	read_members(obj, 0);
	json_object_put(obj);
	return 0;
}
