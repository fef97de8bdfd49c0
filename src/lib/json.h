/* json-c, in the few shapes captrail reads it again and again: typed
 * members, one strict object from a text, and a bounded file. (Writing
 * the per-event stream is event/jsonw.h's job.) */
#ifndef CAPTRAIL_LIB_JSON_H
#define CAPTRAIL_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define JSON_MAX_DEPTH 32 /* nesting accepted by json_parse_object() */

/* Member key of obj when it has the type; NULL when obj is NULL, not an
 * object, has no such member, or one of another type. */
json_object *json_member(json_object *obj, const char *key, json_type type);
/* Its string, or NULL (the same rules). */
const char *json_member_string(json_object *obj, const char *key);

/* Typed members: 0, or -EINVAL when missing or of another type; *ret is
 * untouched then. A u64 must not be negative. */
int json_read_string(json_object *obj, const char *key, const char **ret);
int json_read_u64(json_object *obj, const char *key, uint64_t *ret);
int json_read_int(json_object *obj, const char *key, int *ret);
int json_read_bool(json_object *obj, const char *key, bool *ret);

/* The one JSON object text[0..len) holds, white space around it allowed
 * and nothing else. -EINVAL otherwise, with json-c's reason (or ours) in
 * why when given; -ENOMEM. */
int json_parse_object(const char *text, size_t len, json_object **ret_obj, char *why,
		      size_t why_size);

/* A regular file of at most max bytes, NUL-terminated: -EFBIG when larger,
 * -EINVAL when not a regular file, -EBADMSG when it holds a NUL byte. */
int json_read_file(const char *path, size_t max, char **ret_text, size_t *ret_len);

#endif
