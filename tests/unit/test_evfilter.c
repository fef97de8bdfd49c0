/* Event filters: the reference client's semantics (fields AND, values OR,
 * exact namespaces, unanchored regexes), JSON events and the API's object;
 * hostile regexes refused when added or given up on (and counted) when
 * matched, never explored to the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event/evfilter.h"

static const struct evfilter_subject xwing = {
	.namespace_ = "default", .pod = "xwing-7d9f", .container = "spaceship",
	.binary = "/bin/dmesg", .has_pod = true,
};
static const struct evfilter_subject tiefighter = {
	.namespace_ = "empire", .pod = "tiefighter", .container = "spaceship",
	.binary = "/usr/bin/curl", .has_pod = true,
};
static const struct evfilter_subject host = {
	.binary = "/usr/sbin/sshd",
};

static struct evfilter *filter(void)
{
	struct evfilter *f = NULL;

	assert_int_equal(evfilter__new(&f), 0);
	return f;
}

static void test_empty_matches_all(void **state)
{
	struct evfilter *f = filter();

	(void)state;
	assert_true(evfilter_empty(f));
	assert_true(evfilter_match(f, &xwing));
	assert_true(evfilter_match(f, &host));
	evfilter__free(f);
	evfilter__free(NULL);
}

static void test_fields_and_values_or(void **state)
{
	struct evfilter *f = filter();

	(void)state;
	assert_int_equal(evfilter_add_list(f, EVFILTER_NAMESPACES, "default,empire", NULL, 0), 0);
	assert_true(evfilter_match(f, &xwing));
	assert_true(evfilter_match(f, &tiefighter));
	assert_false(evfilter_match(f, &host)); /* no namespace at all */
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "^xwing", NULL, 0), 0);
	assert_true(evfilter_match(f, &xwing));
	assert_false(evfilter_match(f, &tiefighter));
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "fighter$", NULL, 0), 0);
	assert_true(evfilter_match(f, &tiefighter));
	assert_int_equal(evfilter_add(f, EVFILTER_PROCESSES, "dmesg", NULL, 0), 0);
	assert_true(evfilter_match(f, &xwing));
	assert_false(evfilter_match(f, &tiefighter));
	evfilter__free(f);
}

static void test_namespace_exact_regex_unanchored(void **state)
{
	struct evfilter *f = filter();

	(void)state;
	assert_int_equal(evfilter_add(f, EVFILTER_NAMESPACES, "defaul", NULL, 0), 0);
	assert_false(evfilter_match(f, &xwing));
	evfilter__free(f);

	f = filter();
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "wing", NULL, 0), 0);
	assert_true(evfilter_match(f, &xwing));
	assert_int_equal(evfilter_add(f, EVFILTER_CONTAINERS, "^ship", NULL, 0), 0);
	assert_false(evfilter_match(f, &xwing));
	evfilter__free(f);
}

static void test_host(void **state)
{
	struct evfilter *f = filter();
	char err[256];

	(void)state;
	assert_int_equal(evfilter_set_host(f, true, NULL, 0), 0);
	assert_false(evfilter_empty(f));
	assert_true(evfilter_match(f, &host));
	assert_false(evfilter_match(f, &xwing));
	assert_int_equal(evfilter_add(f, EVFILTER_PROCESSES, "ssh", NULL, 0), 0);
	assert_true(evfilter_match(f, &host));
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "match nothing"));
	evfilter__free(f);

	f = filter();
	assert_int_equal(evfilter_add(f, EVFILTER_NAMESPACES, "default", NULL, 0), 0);
	assert_int_equal(evfilter_set_host(f, true, err, sizeof(err)), -EINVAL);
	evfilter__free(f);
}

static void test_bad_values(void **state)
{
	struct evfilter *f = filter();
	char err[256] = "";

	(void)state;
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "x(", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad regular expression 'x('"));
	assert_int_equal(evfilter_add_list(f, EVFILTER_PODS, "a,,b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty value for --pods"));
	assert_int_equal(evfilter_add_list(f, EVFILTER_NAMESPACES, "", err, sizeof(err)), -EINVAL);
	for (int i = 0; i < EVFILTER_MAX_VALUES; i++)
		assert_int_equal(evfilter_add(f, EVFILTER_NAMESPACES, "n", NULL, 0), 0);
	assert_int_equal(evfilter_add(f, EVFILTER_NAMESPACES, "n", err, sizeof(err)), -EINVAL);
	evfilter__free(f);
}

static void test_match_json(void **state)
{
	struct evfilter *f = filter();
	json_object *pod_event = json_tokener_parse(
		"{\"process_kprobe\":{\"process\":{\"binary\":\"/bin/dmesg\",\"pod\":"
		"{\"namespace\":\"default\",\"name\":\"xwing\",\"container\":"
		"{\"name\":\"spaceship\"}}}}}");
	json_object *host_event = json_tokener_parse(
		"{\"process_kprobe\":{\"process\":{\"binary\":\"/usr/bin/dmesg\"}}}");
	json_object *notice = json_tokener_parse("{\"notice\":\"dropped 3 events\"}");
	/* outside Kubernetes: no "pod", the container by its id */
	json_object *docker_event = json_tokener_parse(
		"{\"process_kprobe\":{\"process\":{\"binary\":\"/bin/dmesg\","
		"\"docker\":\"cfb961400ff25811d22d139a10f6a62\"}}}");

	(void)state;
	assert_true(evfilter_match_json(f, notice));
	assert_int_equal(evfilter_add(f, EVFILTER_PROCESSES, "dmesg$", NULL, 0), 0);
	assert_true(evfilter_match_json(f, pod_event));
	assert_true(evfilter_match_json(f, host_event));
	assert_false(evfilter_match_json(f, notice));
	assert_int_equal(evfilter_add(f, EVFILTER_CONTAINERS, "spaceship", NULL, 0), 0);
	assert_true(evfilter_match_json(f, pod_event));
	assert_false(evfilter_match_json(f, host_event));
	assert_false(evfilter_match_json(f, docker_event));
	evfilter__free(f);

	f = filter();
	assert_int_equal(evfilter_add(f, EVFILTER_CONTAINERS, "^cfb961", NULL, 0), 0);
	assert_true(evfilter_match_json(f, docker_event));
	evfilter__free(f);

	f = filter();
	assert_int_equal(evfilter_set_host(f, true, NULL, 0), 0);
	assert_false(evfilter_match_json(f, pod_event));
	assert_false(evfilter_match_json(f, docker_event));
	assert_true(evfilter_match_json(f, host_event));
	evfilter__free(f);
	json_object_put(docker_event);
	json_object_put(pod_event);
	json_object_put(host_event);
	json_object_put(notice);
}

static void test_json_round_trip(void **state)
{
	json_object *obj = json_tokener_parse(
		"{\"namespaces\":[\"default\"],\"pods\":[\"x{1,3}wing\"],\"host\":false}");
	struct evfilter *f = NULL, *g = NULL;
	json_object *back = NULL;
	char err[256];

	(void)state;
	assert_int_equal(evfilter_from_json(obj, &f, err, sizeof(err)), 0);
	assert_true(evfilter_match(f, &xwing));
	assert_false(evfilter_match(f, &tiefighter));
	assert_int_equal(evfilter_to_json(f, &back), 0);
	assert_string_equal(json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN),
			    "{\"namespaces\":[\"default\"],\"pods\":[\"x{1,3}wing\"]}");
	assert_int_equal(evfilter_from_json(back, &g, err, sizeof(err)), 0);
	assert_true(evfilter_match(g, &xwing));
	evfilter__free(f);
	evfilter__free(g);
	json_object_put(obj);
	json_object_put(back);

	assert_int_equal(evfilter_from_json(NULL, &f, err, sizeof(err)), 0);
	assert_true(evfilter_empty(f));
	evfilter__free(f);
}

static void test_json_rejects(void **state)
{
	static const char *const bad[] = {
		"{\"pod\":[\"x\"]}",
		"{\"pods\":\"x\"}",
		"{\"pods\":[1]}",
		"{\"pods\":[\"(\"]}",
		"{\"host\":\"yes\"}",
		"{\"host\":true,\"namespaces\":[\"default\"]}",
		"[]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *obj = json_tokener_parse(bad[i]);
		struct evfilter *f = NULL;
		char err[256] = "";

		assert_non_null(obj);
		assert_int_equal(evfilter_from_json(obj, &f, err, sizeof(err)), -EINVAL);
		assert_null(f);
		assert_true(err[0] != '\0');
		json_object_put(obj);
	}
}

static struct evfilter_subject pod_named(const char *name)
{
	return (struct evfilter_subject){
		.namespace_ = "default", .pod = name, .container = "c", .binary = "/bin/sh",
		.has_pod = true,
	};
}

static char *repeat(const char *unit, size_t len)
{
	size_t n = strlen(unit);
	char *s = malloc(len + 1);

	assert_non_null(s);
	for (size_t i = 0; i < len; i++)
		s[i] = unit[i % n];
	s[len] = '\0';
	return s;
}

static void test_hostile_compile_refused(void **state)
{
	static const struct {
		const char *pattern;
		const char *why;
	} bad[] = {
		{ "((((a{100}){100}){100}){100})", "too large" },
		{ "(a{65535}){65535}", "too large" },
		{ "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
		  "too deeply nested" },
		{ "(*UTF)xwing", "UTF is disabled" },
		{ "[[.a.]]", "collating" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct evfilter *f = filter();

		err[0] = '\0';
		assert_int_equal(evfilter_add(f, EVFILTER_PODS, bad[i].pattern, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "bad regular expression"));
		assert_non_null(strstr(err, bad[i].why));
		assert_true(evfilter_empty(f));
		evfilter__free(f);
	}
}

static void test_pattern_length_bound(void **state)
{
	char *longest = repeat("ab", EVFILTER_MAX_PATTERN);
	char *over = repeat("ab", EVFILTER_MAX_PATTERN + 1);
	char *huge = repeat("(a{9})", 1 << 20);
	struct evfilter_subject s = pod_named(longest);
	struct evfilter *f = filter();
	char err[256] = "";

	(void)state;
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, longest, err, sizeof(err)), 0);
	assert_true(evfilter_match(f, &s));
	assert_int_equal(evfilter_add(f, EVFILTER_PROCESSES, over, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "regular expression for --processes is 257 bytes, more than 256");
	assert_int_equal(evfilter_add(f, EVFILTER_CONTAINERS, huge, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is 1048576 bytes, more than 256"));
	/* The longest pattern's mistake still fits the message. */
	longest[EVFILTER_MAX_PATTERN - 1] = '(';
	assert_int_equal(evfilter_add(f, EVFILTER_CONTAINERS, longest, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing closing parenthesis (at byte 256)"));
	evfilter__free(f);
	free(longest);
	free(over);
	free(huge);
}

static void test_api_refuses_hostile(void **state)
{
	json_object *obj = json_tokener_parse(
		"{\"pods\":[\"xwing\",\"((((a{100}){100}){100}){100})\"]}");
	struct evfilter *f = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(evfilter_from_json(obj, &f, err, sizeof(err)), -EINVAL);
	assert_null(f);
	assert_non_null(strstr(err, "too large"));
	json_object_put(obj);
}

/* (a|a)+$ tries both branches at every 'a': 2^40 paths before it may say
 * no; the match limit stops it, and the next value is still tried. */
static void test_limit_is_counted_non_match(void **state)
{
	char *name = repeat("a", 40);
	struct evfilter_subject victim, plain = pod_named("xwing-7d9f");
	struct evfilter_stats st;
	struct evfilter *f = filter();
	char line[512];

	(void)state;
	name[39] = '-';
	victim = pod_named(name);
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "(a|a)+$", NULL, 0), 0);
	assert_false(evfilter_match(f, &victim));
	assert_false(evfilter_match(f, &plain)); /* no 'a' run: an ordinary no */
	evfilter_stats(f, &st);
	assert_int_equal(st.gave_up, 1);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.worst_field, EVFILTER_PODS);
	assert_string_equal(st.worst_value, "(a|a)+$");
	assert_true(evfilter_describe_give_ups(f, line, sizeof(line)));
	assert_string_equal(line, "1 regex matches reached a limit and did not match, "
				  "most often --pods '(a|a)+$'");

	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "^a+-$", NULL, 0), 0);
	assert_true(evfilter_match(f, &victim));
	evfilter_stats(f, &st);
	assert_int_equal(st.gave_up, 2);
	evfilter__free(f);
	free(name);
}

/* The interpreter's depth and heap limits, and the JIT's stack, end a match
 * as the match limit does. */
static void test_depth_heap_and_stack_limits(void **state)
{
	char *path = repeat("foo-bar-", 4000);
	struct evfilter_subject s = { .binary = path };
	struct evfilter_stats st;
	struct evfilter *f = filter();

	(void)state;
	path[3999] = 'x';
	path[4000] = '\0';
	assert_int_equal(evfilter_add(f, EVFILTER_PROCESSES, "(*NO_JIT)^([a-z0-9]+-?)*$", NULL, 0),
			 0);
	assert_false(evfilter_match(f, &s));
	evfilter_stats(f, &st);
	assert_int_equal(st.gave_up, 1);
	evfilter__free(f);

	/* The same on a short path matches: the limits are not in the way of
	 * what names and paths need. */
	f = filter();
	path[200] = '\0';
	assert_int_equal(evfilter_add(f, EVFILTER_PROCESSES, "(*NO_JIT)^([a-z0-9]+-?)*$", NULL, 0),
			 0);
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "^([a-z0-9]+-?)*$", NULL, 0), 0);
	s = (struct evfilter_subject){ .pod = path, .binary = path, .has_pod = true };
	assert_true(evfilter_match(f, &s));
	evfilter_stats(f, &st);
	assert_int_equal(st.gave_up, 0);
	evfilter__free(f);
	free(path);
}

/* However many values give up, one event tries at most two of them. */
static void test_give_ups_per_event_bounded(void **state)
{
	char *name = repeat("a", 40);
	struct evfilter_subject victim;
	struct evfilter_stats st;
	struct evfilter *f = filter();
	char line[512];

	(void)state;
	name[39] = '-';
	victim = pod_named(name);
	for (int i = 0; i < 6; i++)
		assert_int_equal(evfilter_add(f, EVFILTER_PODS, i % 2 ? "(a|a)+$" : "(a|aa)+$",
					      NULL, 0), 0);
	assert_int_equal(evfilter_add(f, EVFILTER_PODS, "^a", NULL, 0), 0);
	assert_false(evfilter_match(f, &victim));
	evfilter_stats(f, &st);
	assert_int_equal(st.gave_up, 2);
	assert_int_equal(st.skipped, 5);
	assert_true(evfilter_describe_give_ups(f, line, sizeof(line)));
	assert_non_null(strstr(line, "5 more were not tried in events that had reached 2 limits"));
	/* The budget is per event. */
	assert_false(evfilter_match(f, &victim));
	evfilter_stats(f, &st);
	assert_int_equal(st.gave_up, 4);
	evfilter__free(f);
	free(name);

	f = filter();
	assert_false(evfilter_describe_give_ups(f, line, sizeof(line)));
	evfilter_stats(NULL, &st);
	assert_int_equal(st.gave_up, 0);
	assert_null(st.worst_value);
	evfilter__free(f);
}

/* What POSIX extended said for these names still holds: '.' takes a newline,
 * '$' is the very end, bytes are bytes (no UTF-8 check to fail on). */
static void test_posix_semantics_kept(void **state)
{
	static const struct {
		const char *pattern, *subject;
		bool match;
	} cases[] = {
		{ "a.b", "a\nb", true },
		{ "xwing$", "xwing\n", false },
		{ "^xwing", "x\nxwing", false },
		{ "[[:digit:]]{4}$", "db-2024", true },
		{ "[[:upper:]]", "xwing", false },
		{ "x{1,3}wing", "xxwing", true },
		{ "^(xwing|tie)-", "tie-1", true },
		{ "\\.", "a.b", true },
		{ "\\.", "ab", false },
		{ "[]a]", "]", true },
		{ "evil$", "\xff\xfe/evil", true },
		{ "\xff", "\xff", true },
		{ "(a)\\1", "aa", true },
	};
	struct evfilter_stats st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct evfilter_subject s = pod_named(cases[i].subject);
		struct evfilter *f = filter();

		assert_int_equal(evfilter_add(f, EVFILTER_PODS, cases[i].pattern, NULL, 0), 0);
		if (evfilter_match(f, &s) != cases[i].match)
			fail_msg("'%s' on '%s': expected %s", cases[i].pattern, cases[i].subject,
				 cases[i].match ? "a match" : "none");
		evfilter_stats(f, &st);
		assert_int_equal(st.gave_up, 0);
		evfilter__free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_matches_all),
		cmocka_unit_test(test_fields_and_values_or),
		cmocka_unit_test(test_namespace_exact_regex_unanchored),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_match_json),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_rejects),
		cmocka_unit_test(test_hostile_compile_refused),
		cmocka_unit_test(test_pattern_length_bound),
		cmocka_unit_test(test_api_refuses_hostile),
		cmocka_unit_test(test_limit_is_counted_non_match),
		cmocka_unit_test(test_depth_heap_and_stack_limits),
		cmocka_unit_test(test_give_ups_per_event_bounded),
		cmocka_unit_test(test_posix_semantics_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
