/* The lib layer everything else stands on: check names and outcomes, json
 * members, strict objects and bounded files, clocks and RFC 3339, lines from
 * a pipe, and uthash's non-fatal out-of-memory path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* uthash takes its allocator from these macros at each HASH_ADD site: one
 * defined before lib/hash.h fails on demand in this file only, so the
 * non-fatal path runs without touching the header. */
static bool refuse_hash_alloc;

static void *test_hash_malloc(size_t size)
{
	return refuse_hash_alloc ? NULL : malloc(size);
}

#define uthash_malloc(sz) test_hash_malloc(sz)
#define uthash_free(ptr, sz) free(ptr)

#include "lib/check.h"
#include "lib/clock.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/line_reader.h"
#include "scratch.h"

/* --- lib/check --- */

static void test_check_audit_names(void **state)
{
	enum check_audit audit;

	(void)state;
	assert_string_equal(check_audit_name(CHECK_AUDIT_UNKNOWN), "unknown");
	assert_string_equal(check_audit_name(CHECK_AUDITED), "audited");
	assert_string_equal(check_audit_name(CHECK_NOAUDIT), "noaudit");
	/* The store and the API keep the numbers: each name maps back to its own. */
	for (int a = 0; a < CHECK_AUDIT_COUNT; a++) {
		audit = CHECK_AUDIT_COUNT;
		assert_int_equal(check_audit_parse(check_audit_name((enum check_audit)a), &audit),
				 0);
		assert_int_equal(audit, a);
	}
	/* What an agent running the older binary answers. */
	audit = CHECK_AUDIT_UNKNOWN;
	assert_int_equal(check_audit_parse("audit", &audit), 0);
	assert_int_equal(audit, CHECK_AUDITED);
	assert_null(check_audit_name(CHECK_AUDIT_COUNT));
	assert_null(check_audit_name((enum check_audit)-1));
	assert_null(check_audit_name((enum check_audit)1000));
}

static void test_check_audit_parse_bad(void **state)
{
	static const char *const bad[] = { "", "Audited", "AUDIT", "noaudit ", " unknown",
					   "audits", "2" };
	enum check_audit audit = CHECK_NOAUDIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check_audit_parse(bad[i], &audit) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(audit, CHECK_NOAUDIT); /* untouched */
	}
}

static void test_check_outcome(void **state)
{
	struct check_outcome sum = { .eperm = 1, .eacces = 2, .success = 3, .other = 4 };
	struct check_outcome more = { .eperm = 10, .eacces = 0, .success = 30, .other = 1 };
	struct check_outcome before, delta;

	(void)state;
	check_outcome_add(&sum, &more);
	assert_int_equal(sum.eperm, 11);
	assert_int_equal(sum.eacces, 2);
	assert_int_equal(sum.success, 33);
	assert_int_equal(sum.other, 5);

	before = (struct check_outcome){ .eperm = 5, .eacces = 2, .success = 40, .other = 0 };
	memset(&delta, 0xff, sizeof(delta));
	check_outcome_since(&sum, &before, &delta);
	assert_int_equal(delta.eperm, 6);
	assert_int_equal(delta.eacces, 0);
	/* A counter that went down (a map entry deleted and re-created) has
	 * added nothing, not 2^64 - 7. */
	assert_int_equal(delta.success, 0);
	assert_int_equal(delta.other, 5);

	/* Large values do not wrap either way. */
	sum = (struct check_outcome){ .eperm = UINT64_MAX, .other = 1 };
	before = (struct check_outcome){ .eperm = 1, .other = UINT64_MAX };
	check_outcome_since(&sum, &before, &delta);
	assert_true(delta.eperm == UINT64_MAX - 1);
	assert_int_equal(delta.other, 0);
	check_outcome_since(&sum, &sum, &delta);
	assert_true(delta.eperm == 0 && delta.eacces == 0);
	assert_true(delta.success == 0 && delta.other == 0);
}

/* --- lib/json --- */

static json_object *parse_ok(const char *text)
{
	json_object *obj = NULL;
	char why[128] = "";

	if (json_parse_object(text, strlen(text), &obj, why, sizeof(why)))
		fail_msg("'%s' rejected: %s", text, why);
	return obj;
}

static void test_json_member(void **state)
{
	json_object *obj = parse_ok("{\"s\":\"x\",\"i\":7,\"b\":true,\"o\":{},\"n\":null}");
	json_object *arr = json_object_new_array();

	(void)state;
	assert_null(json_member(NULL, "s", json_type_string));
	assert_null(json_member_string(NULL, "s"));
	/* An array is not an object, even with no members to look at. */
	assert_null(json_member(arr, "s", json_type_string));
	assert_null(json_member(obj, "missing", json_type_string));
	assert_null(json_member(obj, "i", json_type_string));
	assert_null(json_member(obj, "s", json_type_int));
	/* json-c holds null as a NULL member: no type asked for matches it. */
	assert_null(json_member(obj, "n", json_type_object));
	assert_null(json_member_string(obj, "n"));
	assert_non_null(json_member(obj, "o", json_type_object));
	assert_int_equal(json_object_get_int(json_member(obj, "i", json_type_int)), 7);
	assert_string_equal(json_member_string(obj, "s"), "x");
	assert_null(json_member_string(obj, "i"));
	json_object_put(arr);
	json_object_put(obj);
}

static void test_json_read_typed(void **state)
{
	json_object *obj = parse_ok("{\"s\":\"text\",\"i\":-12,\"u\":18446744073709551615,"
				    "\"z\":0,\"neg\":-1,\"d\":1.5,\"b\":false,\"t\":true,"
				    "\"big\":2147483648,\"small\":-2147483649,"
				    "\"max\":2147483647,\"min\":-2147483648,\"si\":\"3\"}");
	const char *s = "untouched";
	uint64_t u = 42;
	bool b = true;
	int i = 42;

	(void)state;
	assert_int_equal(json_read_string(obj, "s", &s), 0);
	assert_string_equal(s, "text");
	assert_int_equal(json_read_int(obj, "i", &i), 0);
	assert_int_equal(i, -12);
	assert_int_equal(json_read_u64(obj, "u", &u), 0);
	assert_true(u == UINT64_MAX); /* kept as uint64 by json-c, not clamped */
	assert_int_equal(json_read_u64(obj, "z", &u), 0);
	assert_true(u == 0);
	assert_int_equal(json_read_bool(obj, "b", &b), 0);
	assert_false(b);
	assert_int_equal(json_read_bool(obj, "t", &b), 0);
	assert_true(b);
	assert_int_equal(json_read_int(obj, "max", &i), 0);
	assert_int_equal(i, INT32_MAX);
	assert_int_equal(json_read_int(obj, "min", &i), 0);
	assert_int_equal(i, INT32_MIN);

	/* Each reject leaves the output as it was. */
	s = "untouched";
	u = 42;
	b = true;
	i = 42;
	assert_int_equal(json_read_string(obj, "i", &s), -EINVAL);
	assert_int_equal(json_read_string(obj, "missing", &s), -EINVAL);
	assert_int_equal(json_read_string(NULL, "s", &s), -EINVAL);
	assert_string_equal(s, "untouched");
	assert_int_equal(json_read_u64(obj, "neg", &u), -EINVAL);
	assert_int_equal(json_read_u64(obj, "i", &u), -EINVAL);
	assert_int_equal(json_read_u64(obj, "d", &u), -EINVAL); /* a double is no integer */
	assert_int_equal(json_read_u64(obj, "s", &u), -EINVAL);
	assert_int_equal(json_read_u64(obj, "missing", &u), -EINVAL);
	assert_true(u == 42);
	assert_int_equal(json_read_int(obj, "big", &i), -EINVAL);
	assert_int_equal(json_read_int(obj, "small", &i), -EINVAL);
	assert_int_equal(json_read_int(obj, "u", &i), -EINVAL);
	assert_int_equal(json_read_int(obj, "d", &i), -EINVAL);
	assert_int_equal(json_read_int(obj, "si", &i), -EINVAL); /* no string-to-int */
	assert_int_equal(json_read_int(obj, "b", &i), -EINVAL);
	assert_int_equal(i, 42);
	assert_int_equal(json_read_bool(obj, "z", &b), -EINVAL); /* 0 is not false */
	assert_int_equal(json_read_bool(obj, "s", &b), -EINVAL);
	assert_int_equal(json_read_bool(obj, "missing", &b), -EINVAL);
	assert_true(b);
	json_object_put(obj);
}

/* json_parse_object() must fail with -EINVAL, leave *ret alone and say
 * why. */
static void expect_parse_error(const char *text, size_t len, const char *want)
{
	json_object *sentinel = (json_object *)&sentinel, *obj = sentinel;
	char why[128] = "";

	assert_int_equal(json_parse_object(text, len, &obj, why, sizeof(why)), -EINVAL);
	assert_ptr_equal(obj, sentinel);
	if (want ? strcmp(why, want) != 0 : why[0] == '\0')
		fail_msg("'%.*s': why '%s', want '%s'", (int)len, text, why, want ? want : "any");
}

/* n objects nested in each other: {"a":{"a":{}}} is 3. */
static char *nested(int n)
{
	char *text = malloc((size_t)n * 6 + 1), *p = text;

	assert_non_null(text);
	for (int i = 1; i < n; i++)
		p += sprintf(p, "{\"a\":");
	p += sprintf(p, "{}");
	for (int i = 1; i < n; i++)
		*p++ = '}';
	*p = '\0';
	return text;
}

static void test_json_parse_object(void **state)
{
	json_object *obj = NULL;
	char why[8], *deep;
	int v = 0;

	(void)state;
	obj = parse_ok("{\"a\":1,\"b\":[1,2,{\"c\":null}]}");
	assert_int_equal(json_read_int(obj, "a", &v), 0);
	assert_int_equal(v, 1);
	json_object_put(obj);
	obj = parse_ok(" \t\r\n{\"a\":2}\n\n \t");
	assert_int_equal(json_read_int(obj, "a", &v), 0);
	assert_int_equal(v, 2);
	json_object_put(obj);

	/* Only text[0..len) counts: what follows the length is not "after". */
	assert_int_equal(json_parse_object("{}garbage", 2, &obj, NULL, 0), 0);
	assert_true(json_object_is_type(obj, json_type_object));
	json_object_put(obj);

	expect_parse_error("{} x", 4, "text after the JSON object");
	expect_parse_error("{}{}", 4, "text after the JSON object");
	expect_parse_error("{}\n\n[", 5, "text after the JSON object");
	/* A NUL inside the length is text too. */
	expect_parse_error("{}\0", 3, "text after the JSON object");
	expect_parse_error("[1,2]", 5, "not a JSON object");
	expect_parse_error("\"s\"", 3, "not a JSON object");
	expect_parse_error("42 ", 3, "not a JSON object");
	expect_parse_error("{\"a\":", 5, "incomplete JSON");
	expect_parse_error("{\"a\":1}", 6, "incomplete JSON"); /* cut by the length */
	expect_parse_error("", 0, "incomplete JSON");
	expect_parse_error("  \n", 3, "incomplete JSON");
	expect_parse_error("{a:1}", 5, NULL); /* json-c's own words */
	expect_parse_error("{\"a\":tru}", 9, NULL);

	/* JSON_MAX_DEPTH levels are accepted, one more is not. */
	deep = nested(JSON_MAX_DEPTH);
	obj = parse_ok(deep);
	json_object_put(obj);
	free(deep);
	deep = nested(JSON_MAX_DEPTH + 1);
	expect_parse_error(deep, strlen(deep), "nesting too deep");
	free(deep);

	/* why is optional, and cut to its size. */
	assert_int_equal(json_parse_object("[]", 2, &obj, NULL, 0), -EINVAL);
	assert_int_equal(json_parse_object("[]", 2, &obj, NULL, 5), -EINVAL);
	memset(why, 'x', sizeof(why));
	assert_int_equal(json_parse_object("[]", 2, &obj, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a J");
	memset(why, 'x', sizeof(why));
	assert_int_equal(json_parse_object("[]", 2, &obj, why, 0), -EINVAL);
	assert_int_equal(why[0], 'x'); /* a zero size writes nothing */
}

/* Nothing at or past text[len] is read: the text need not be
 * NUL-terminated. strspn() looked past the object for white space and read
 * one byte beyond a buffer holding just "{}" (ASan catches it in heap
 * buffers of exactly the text's size); and white space past len decides
 * nothing, whatever follows it. */
static void test_json_parse_object_bounds(void **state)
{
	json_object *obj = NULL;
	char why[128] = "";
	char *text;

	(void)state;
	text = malloc(2);
	assert_non_null(text);
	memcpy(text, "{}", 2);
	assert_int_equal(json_parse_object(text, 2, &obj, why, sizeof(why)), 0);
	assert_true(json_object_is_type(obj, json_type_object));
	json_object_put(obj);
	free(text);

	/* White space that ends the buffer, within len. */
	text = malloc(4);
	assert_non_null(text);
	memcpy(text, "{} \n", 4);
	assert_int_equal(json_parse_object(text, 4, &obj, why, sizeof(why)), 0);
	json_object_put(obj);
	free(text);

	assert_int_equal(json_parse_object("{} garbage", 2, &obj, why, sizeof(why)), 0);
	json_object_put(obj);
	assert_int_equal(json_parse_object("{} \n garbage", 4, &obj, why, sizeof(why)), 0);
	json_object_put(obj);
	expect_parse_error("{} \n garbage", 6, "text after the JSON object");
}

struct scratch {
	char dir[SCRATCH_DIR_LEN];
	char path[PATH_MAX];
};

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s || scratch_dir_make(s->dir, "lib")) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	int err = scratch_dir_remove(s->dir);

	free(s);
	return err;
}

static const char *write_scratch(struct scratch *s, const char *name, const void *data,
				 size_t len)
{
	FILE *f;

	snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, name);
	f = fopen(s->path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return s->path;
}

static void test_json_read_file(void **state)
{
	static const char doc[] = "{\"a\": [1, 2, 3]}\n";
	struct scratch *s = *state;
	char *text = (char *)"untouched", path[PATH_MAX];
	size_t len = 99;

	assert_int_equal(json_read_file(write_scratch(s, "doc.json", doc, strlen(doc)),
					strlen(doc), &text, &len),
			 0);
	assert_int_equal(len, strlen(doc));
	assert_string_equal(text, doc);
	free(text);

	text = (char *)"untouched";
	len = 99;
	assert_int_equal(json_read_file(write_scratch(s, "empty.json", "", 0), 10, &text, &len),
			 0);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);

	/* One byte over the bound is refused before anything is read. */
	text = (char *)"untouched";
	len = 99;
	assert_int_equal(json_read_file(write_scratch(s, "big.json", doc, strlen(doc)),
					strlen(doc) - 1, &text, &len),
			 -EFBIG);
	assert_int_equal(json_read_file(s->dir, 1 << 20, &text, &len), -EINVAL);
	assert_int_equal(json_read_file("/dev/null", 1 << 20, &text, &len), -EINVAL);
	assert_int_equal(json_read_file(write_scratch(s, "nul.json", "{\"a\":\0\"b\"}", 10), 100,
					&text, &len),
			 -EBADMSG);
	snprintf(path, sizeof(path), "%s/missing.json", s->dir);
	assert_int_equal(json_read_file(path, 100, &text, &len), -ENOENT);
	assert_string_equal(text, "untouched");
	assert_int_equal(len, 99);
}

/* A FIFO where a file was expected (nobody writing to it): refused as not
 * a regular file at once. open() without O_NONBLOCK waited for a writer
 * forever; the child's alarm turns that into a failure, not a hang. */
static void test_json_read_file_fifo(void **state)
{
	struct scratch *s = *state;
	char path[PATH_MAX];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/fifo.json", s->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *text = (char *)"untouched";
		size_t len = 99;

		alarm(5);
		if (json_read_file(path, 1 << 20, &text, &len) != -EINVAL)
			_exit(1);
		/* _exit: nothing of the test's state (nor a leak checker) runs here. */
		_exit(strcmp(text, "untouched") || len != 99 ? 2 : 0);
	}
	assert_int_equal(child_exit_status(pid), 0);
}

/* --- lib/clock --- */

static uint64_t parsed(const char *text)
{
	uint64_t ns = 0;

	if (clock_parse_rfc3339(text, &ns))
		fail_msg("'%s' rejected", text);
	return ns;
}

static void test_clock_rfc3339_round_trip(void **state)
{
	static const uint64_t times[] = {
		0,
		1688638413834882128ull, /* the example of clock.h */
		1688638413000000000ull,
		1688638414999999999ull, /* the next second: the cached date moves on */
		1688638413000000001ull, /* and back */
		951782400123456789ull, /* 2000-02-29, a leap day */
		4102444799999999999ull, /* 2099-12-31T23:59:59 */
	};
	char text[RFC3339_LEN];

	(void)state;
	clock_rfc3339(1688638413834882128ull, text);
	assert_string_equal(text, "2023-07-06T10:13:33.834882128Z");
	clock_rfc3339(0, text);
	assert_string_equal(text, "1970-01-01T00:00:00.000000000Z");
	clock_rfc3339(951782400123456789ull, text);
	assert_string_equal(text, "2000-02-29T00:00:00.123456789Z");
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		clock_rfc3339(times[i], text);
		assert_int_equal(strlen(text), 30);
		if (parsed(text) != times[i])
			fail_msg("%llu -> '%s' -> %llu", (unsigned long long)times[i], text,
				 (unsigned long long)parsed(text));
	}
}

static void test_clock_parse_rfc3339(void **state)
{
	static const char *const bad[] = {
		"",
		"yesterday",
		"2023-07-06T10:13:33",
		"2023-07-06T10:13:33+00:00",
		"2023-07-06T10:13:33.5+02:00",
		"2023-07-06T10:13:33.5-07:00",
		"2023-07-06T10:13:33ZZ",
		"2023-07-06T10:13:33Z ",
		"2023-07-06T10:13:33.123Zjunk",
		"2023-07-06T10:13:33.12a3Z",
		"2023-07-06 10:13:33Z",
		"2023-07-06",
		"1969-12-31T23:59:59Z",
		"1969-12-31T23:59:59.999999999Z",
		"1900-01-01T00:00:00Z",
	};
	uint64_t ns = 77;

	(void)state;
	assert_true(parsed("2023-07-06T10:13:33Z") == 1688638413000000000ull);
	assert_true(parsed("2023-07-06T10:13:33.8Z") == 1688638413800000000ull);
	assert_true(parsed("2023-07-06T10:13:33.834Z") == 1688638413834000000ull);
	assert_true(parsed("2023-07-06T10:13:33.000000001Z") == 1688638413000000001ull);
	assert_true(parsed("2023-07-06T10:13:33.834882128Z") == 1688638413834882128ull);
	/* Digits past the ninth are cut, not rounded. */
	assert_true(parsed("2023-07-06T10:13:33.834882128999Z") == 1688638413834882128ull);
	assert_true(parsed("2023-07-06T10:13:33.999999999999Z") == 1688638413999999999ull);
	assert_true(parsed("1970-01-01T00:00:00Z") == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (clock_parse_rfc3339(bad[i], &ns) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(ns == 77); /* untouched */
	}
	assert_int_equal(clock_parse_rfc3339(NULL, &ns), -EINVAL);
}

/* Each field of its width and within its range, the date one that exists,
 * and a time that nanoseconds since 1970 hold: strptime() took one-digit
 * fields, white space, a 60th second, a 31st of February (timegm() made it
 * March) and an empty fraction, and times past 2554 wrapped. */
static void test_clock_parse_rfc3339_strict(void **state)
{
	static const char *const bad[] = {
		"2554-07-21T23:34:34Z",
		"2554-07-22T00:00:00Z",
		"2555-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z",
		"2023-02-31T00:00:00Z",
		"2023-02-29T00:00:00Z", /* not a leap year */
		"2100-02-29T00:00:00Z", /* nor is a century not divisible by 400 */
		"2023-04-31T00:00:00Z",
		"2023-00-10T00:00:00Z",
		"2023-13-01T00:00:00Z",
		"2023-07-00T00:00:00Z",
		"2023-7-6T01:02:03Z",
		"2023-07-06T1:02:03Z",
		"02023-07-06T10:13:33Z",
		" 2023-07-06T10:13:33Z",
		"2023-07-06T 10:13:33Z",
		"+2023-07-06T10:13:33Z",
		"2023-07-06T10:13:60Z",
		"2023-07-06T10:60:00Z",
		"2023-07-06T24:00:00Z",
		"2023-07-06T10:13:33.Z",
		"2023-07-06T10:13:33.",
	};
	uint64_t ns = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (clock_parse_rfc3339(bad[i], &ns) != -EINVAL)
			fail_msg("'%s' was accepted as %llu", bad[i], (unsigned long long)ns);
		assert_true(ns == 77); /* untouched */
	}
	/* Up to the last nanosecond a uint64 holds, and not one more. */
	assert_true(parsed("2554-07-21T23:34:32Z") == 18446744072000000000ull);
	assert_true(parsed("2554-07-21T23:34:32.999999999Z") == 18446744072999999999ull);
	assert_true(parsed("2554-07-21T23:34:33.709551615Z") == UINT64_MAX);
	ns = 77;
	assert_int_equal(clock_parse_rfc3339("2554-07-21T23:34:33.709551616Z", &ns), -EINVAL);
	assert_true(ns == 77);
	assert_true(parsed("2024-02-29T00:00:00Z") == 1709164800000000000ull);
	assert_true(parsed("2000-02-29T23:59:59Z") == 951868799000000000ull);
	assert_true(parsed("2023-12-31T23:59:59Z") == 1704067199000000000ull);
	/* Twelve fraction digits: the first nine count. */
	assert_true(parsed("2024-02-29T00:00:00.123456789987Z") == 1709164800123456789ull);
}

static void test_clock_read_btime(void **state)
{
	static const char stat[] = "cpu  10 0 20 300 0 0 0 0 0 0\n"
				   "cpu0 10 0 20 300 0 0 0 0 0 0\n"
				   "intr 12345 0 0\n"
				   "ctxt 999\n"
				   "btime 1688600000\n"
				   "processes 4242\n";
	static const char no_btime[] = "cpu  1 2 3\nctxt 5\nbtimes\n";
	struct scratch *s = *state;
	char root[PATH_MAX];
	uint64_t btime = 5;

	write_scratch(s, "stat", stat, strlen(stat));
	assert_int_equal(clock_read_btime(s->dir, &btime), 0);
	assert_true(btime == 1688600000ull);

	btime = 5;
	snprintf(root, sizeof(root), "%s/other", s->dir);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(clock_read_btime(root, &btime), -ENOENT);
	write_scratch(s, "other/stat", no_btime, strlen(no_btime));
	assert_int_equal(clock_read_btime(root, &btime), -ENODATA);
	assert_true(btime == 5);

	/* The real one says the machine booted after 2000 and before now. */
	assert_int_equal(clock_read_btime("/proc", &btime), 0);
	assert_true(btime > 946684800ull);
	assert_true(btime <= clock_realtime_ns() / NSEC_PER_SEC);
}

static void test_clock_monotonic(void **state)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	uint64_t a, b;

	(void)state;
	a = clock_monotonic_ns();
	/* A sleep lets the clock move whatever its resolution: strictly later,
	 * with no bound asserted on how much. */
	assert_int_equal(nanosleep(&ms, NULL), 0);
	b = clock_monotonic_ns();
	assert_true(b > a);
	assert_true(clock_monotonic_ns() >= b);
}

/* --- lib/line_reader --- */

/* A pipe holding text, its write end closed: the reader sees EOF after it. */
static int pipe_with(const char *text, size_t len)
{
	int fds[2];

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_true(len < 65536); /* one write into the pipe's buffer, no writer needed */
	assert_int_equal(write(fds[1], text, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

static void expect_line(struct line_reader *r, const char *want)
{
	char *line = NULL;
	size_t len = 0;

	assert_int_equal(line_reader_next(r, &line, &len), 0);
	if (!want) {
		assert_null(line);
		assert_int_equal(len, 0);
		return;
	}
	assert_non_null(line);
	assert_string_equal(line, want);
	assert_int_equal(len, strlen(want));
}

static void expect_too_long(struct line_reader *r)
{
	char *line = (char *)"untouched";
	size_t len = 0;

	assert_int_equal(line_reader_next(r, &line, &len), -E2BIG);
}

static void test_line_reader_lines(void **state)
{
	static const char text[] = "one\ntwo\n\n\nthree with spaces\r\nlast";
	struct line_reader r;
	int fd = pipe_with(text, strlen(text));

	(void)state;
	line_reader_init(&r, fd, 64);
	expect_line(&r, "one");
	expect_line(&r, "two");
	expect_line(&r, "");
	expect_line(&r, "");
	expect_line(&r, "three with spaces\r"); /* only the newline is stripped */
	expect_line(&r, "last"); /* no newline at the end: still a line */
	expect_line(&r, NULL);
	expect_line(&r, NULL); /* and EOF stays EOF */
	line_reader_free(&r);
	line_reader_free(&r); /* twice is harmless */
	close(fd);

	fd = pipe_with("", 0);
	line_reader_init(&r, fd, 64);
	expect_line(&r, NULL);
	line_reader_free(&r);
	close(fd);

	fd = pipe_with("\n", 1);
	line_reader_init(&r, fd, 0);
	expect_line(&r, ""); /* an empty line fits a max of 0 */
	expect_line(&r, NULL);
	line_reader_free(&r);
	close(fd);
}

static void test_line_reader_too_long(void **state)
{
	static const char text[] = "short\n"
				   "0123456789abcdef\n" /* 16 > 8 */
				   "01234567\n" /* exactly 8 */
				   "012345678\n" /* 9 */
				   "next";
	struct line_reader r;
	int fd = pipe_with(text, strlen(text));

	(void)state;
	line_reader_init(&r, fd, 8);
	expect_line(&r, "short");
	expect_too_long(&r);
	expect_line(&r, "01234567");
	expect_too_long(&r);
	expect_line(&r, "next");
	expect_line(&r, NULL);
	line_reader_free(&r);
	close(fd);
}

/* A line longer than the reader's first buffer (16 KiB) comes in several
 * reads: skipped whole when over max_line, kept whole (the buffer grows)
 * when not. */
static void test_line_reader_across_reads(void **state)
{
	size_t long_len = 40000;
	char *text = malloc(long_len * 2 + 64), *p = text;
	struct line_reader r;
	char *line = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	assert_non_null(text);
	memset(p, 'x', long_len);
	p += long_len;
	p += sprintf(p, "\nafter\n");
	fd = pipe_with(text, (size_t)(p - text));
	line_reader_init(&r, fd, 100);
	expect_too_long(&r);
	expect_line(&r, "after");
	expect_line(&r, NULL);
	line_reader_free(&r);
	close(fd);

	fd = pipe_with(text, (size_t)(p - text));
	line_reader_init(&r, fd, long_len);
	assert_int_equal(line_reader_next(&r, &line, &len), 0);
	assert_int_equal(len, long_len);
	assert_non_null(line);
	assert_int_equal(strspn(line, "x"), long_len);
	assert_int_equal(line[long_len], '\0');
	expect_line(&r, "after");
	expect_line(&r, NULL);
	line_reader_free(&r);
	close(fd);
	free(text);
}

/* The last line too long and without a newline: -E2BIG once, then the
 * end. Its bytes were dropped while looking for a newline that never came,
 * and the end used to come at once, as if the line had not been there. */
static void test_line_reader_too_long_last(void **state)
{
	size_t long_len = 40000;
	char *text = malloc(long_len + 3);
	struct line_reader r;
	int fd;

	(void)state;
	assert_non_null(text);
	memcpy(text, "ok\n", 3);
	memset(text + 3, 'x', 40);
	fd = pipe_with(text, 3 + 40);
	line_reader_init(&r, fd, 10);
	expect_line(&r, "ok");
	expect_too_long(&r);
	expect_line(&r, NULL);
	expect_line(&r, NULL);
	line_reader_free(&r);
	close(fd);

	/* Longer than the first buffer: dropped over several reads. */
	memset(text + 3, 'x', long_len);
	fd = pipe_with(text, 3 + long_len);
	line_reader_init(&r, fd, 100);
	expect_line(&r, "ok");
	expect_too_long(&r);
	expect_line(&r, NULL);
	line_reader_free(&r);
	close(fd);
	free(text);
}

static void test_line_reader_read_error(void **state)
{
	struct line_reader r;
	char *line = NULL;
	size_t len = 0;
	int fds[2];

	(void)state;
	/* The write end reads nothing: the error is the fd's, passed on. */
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	line_reader_init(&r, fds[1], 64);
	assert_int_equal(line_reader_next(&r, &line, &len), -EBADF);
	line_reader_free(&r);
	close(fds[0]);
	close(fds[1]);
}

/* --- lib/hash --- */

struct item {
	int key;
	UT_hash_handle hh;
};

static struct item *items_new(int n)
{
	struct item *items = calloc((size_t)n, sizeof(*items));

	assert_non_null(items);
	for (int i = 0; i < n; i++)
		items[i].key = i * 7919;
	return items;
}

static void test_hash_first_add_fails(void **state)
{
	struct item *items = items_new(2), *head = NULL, *found;

	(void)state;
	assert_false(hash_add_failed());
	/* The first add allocates the table: without it nothing is added. */
	refuse_hash_alloc = true;
	HASH_ADD_INT(head, key, &items[0]);
	refuse_hash_alloc = false;
	assert_true(hash_add_failed());
	assert_false(hash_add_failed()); /* said once */
	assert_null(head);
	assert_int_equal(HASH_COUNT(head), 0);

	HASH_ADD_INT(head, key, &items[0]);
	assert_false(hash_add_failed());
	HASH_ADD_INT(head, key, &items[1]);
	assert_false(hash_add_failed());
	assert_int_equal(HASH_COUNT(head), 2);
	HASH_FIND_INT(head, &items[1].key, found);
	assert_ptr_equal(found, &items[1]);
	HASH_CLEAR(hh, head);
	free(items);
}

static void test_hash_expand_fails(void **state)
{
	/* 32 buckets hold at most 9 each before one reaches the expansion
	 * threshold of 10: the 289th add expands at the latest. */
	const int n = 400;
	struct item *items = items_new(n), *head = NULL, *found, *it, *tmp;
	int failed_at = -1, count = 0;

	(void)state;
	HASH_ADD_INT(head, key, &items[0]);
	assert_false(hash_add_failed());
	refuse_hash_alloc = true;
	for (int i = 1; i < n && failed_at < 0; i++) {
		HASH_ADD_INT(head, key, &items[i]);
		if (hash_add_failed())
			failed_at = i;
	}
	refuse_hash_alloc = false;
	assert_true(failed_at > 0 && failed_at <= 289);
	assert_false(hash_add_failed());

	/* The table is whole without the one element: every other one found,
	 * in the count and in the iteration. */
	assert_int_equal(HASH_COUNT(head), failed_at);
	HASH_FIND_INT(head, &items[failed_at].key, found);
	assert_null(found);
	for (int i = 0; i < failed_at; i++) {
		HASH_FIND_INT(head, &items[i].key, found);
		assert_ptr_equal(found, &items[i]);
	}
	HASH_ITER(hh, head, it, tmp)
		count++;
	assert_int_equal(count, failed_at);

	/* With memory back the same element goes in, and the table grows. */
	HASH_ADD_INT(head, key, &items[failed_at]);
	assert_false(hash_add_failed());
	for (int i = failed_at + 1; i < n; i++) {
		HASH_ADD_INT(head, key, &items[i]);
		assert_false(hash_add_failed());
	}
	assert_int_equal(HASH_COUNT(head), n);
	for (int i = 0; i < n; i++) {
		HASH_FIND_INT(head, &items[i].key, found);
		assert_ptr_equal(found, &items[i]);
	}
	HASH_ITER(hh, head, it, tmp)
		HASH_DEL(head, it);
	assert_null(head);
	free(items);
}

static void *failing_add(void *arg)
{
	struct item *item = arg, *head = NULL;

	HASH_ADD_INT(head, key, item);
	return (void *)(uintptr_t)hash_add_failed();
}

static void test_hash_failure_per_thread(void **state)
{
	struct item item = { .key = 1 };
	pthread_t thread;
	void *failed = NULL;

	(void)state;
	/* The flag is per thread: another thread's failure is its own. */
	refuse_hash_alloc = true;
	assert_int_equal(pthread_create(&thread, NULL, failing_add, &item), 0);
	assert_int_equal(pthread_join(thread, &failed), 0);
	refuse_hash_alloc = false;
	assert_true((uintptr_t)failed == 1);
	assert_false(hash_add_failed());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_audit_names),
		cmocka_unit_test(test_check_audit_parse_bad),
		cmocka_unit_test(test_check_outcome),
		cmocka_unit_test(test_json_member),
		cmocka_unit_test(test_json_read_typed),
		cmocka_unit_test(test_json_parse_object),
		cmocka_unit_test(test_json_parse_object_bounds),
		cmocka_unit_test_setup_teardown(test_json_read_file, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_json_read_file_fifo, scratch_setup,
						scratch_teardown),
		cmocka_unit_test(test_clock_rfc3339_round_trip),
		cmocka_unit_test(test_clock_parse_rfc3339),
		cmocka_unit_test(test_clock_parse_rfc3339_strict),
		cmocka_unit_test_setup_teardown(test_clock_read_btime, scratch_setup,
						scratch_teardown),
		cmocka_unit_test(test_clock_monotonic),
		cmocka_unit_test(test_line_reader_lines),
		cmocka_unit_test(test_line_reader_too_long),
		cmocka_unit_test(test_line_reader_across_reads),
		cmocka_unit_test(test_line_reader_too_long_last),
		cmocka_unit_test(test_line_reader_read_error),
		cmocka_unit_test(test_hash_first_add_fails),
		cmocka_unit_test(test_hash_expand_fails),
		cmocka_unit_test(test_hash_failure_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
