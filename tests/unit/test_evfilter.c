/* Event filters: the reference client's semantics (fields AND, values OR,
 * exact namespaces, unanchored regexes), JSON events and the API's object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
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

	(void)state;
	assert_true(evfilter_match_json(f, notice));
	assert_int_equal(evfilter_add(f, EVFILTER_PROCESSES, "dmesg$", NULL, 0), 0);
	assert_true(evfilter_match_json(f, pod_event));
	assert_true(evfilter_match_json(f, host_event));
	assert_false(evfilter_match_json(f, notice));
	assert_int_equal(evfilter_add(f, EVFILTER_CONTAINERS, "spaceship", NULL, 0), 0);
	assert_true(evfilter_match_json(f, pod_event));
	assert_false(evfilter_match_json(f, host_event));
	evfilter__free(f);

	f = filter();
	assert_int_equal(evfilter_set_host(f, true, NULL, 0), 0);
	assert_false(evfilter_match_json(f, pod_event));
	assert_true(evfilter_match_json(f, host_event));
	evfilter__free(f);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
