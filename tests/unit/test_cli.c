/* Option values: pid lists, uids, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "cmd/cli.h"
#include "lib/util.h"

static void test_pids(void **state)
{
	uint32_t pids[4] = { 0 };
	size_t n = 99;

	(void)state;
	assert_int_equal(cli_parse_pids("12", pids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], 12);
	assert_int_equal(cli_parse_pids("1,22,333", pids, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pids[2], 333);
	n = 99;
	assert_int_equal(cli_parse_pids("", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids("0", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids("-5", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids("1,,2", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids("1,", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids(",1", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids("12x", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids("99999999999", pids, 4, &n), -EINVAL);
	assert_int_equal(cli_parse_pids("1,2,3,4,5", pids, 4, &n), -EINVAL); /* over the bound */
	assert_int_equal(n, 99);
}

static void test_uid(void **state)
{
	uint32_t uid = 7;

	(void)state;
	assert_int_equal(cli_parse_uid("0", &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(cli_parse_uid("65534", &uid), 0);
	assert_int_equal(uid, 65534);
	assert_int_equal(cli_parse_uid("4294967295", &uid), -EINVAL);
	assert_int_equal(cli_parse_uid("bob", &uid), -EINVAL);
	assert_int_equal(uid, 65534);
}

static void test_seconds(void **state)
{
	double s = 0;

	(void)state;
	assert_int_equal(cli_parse_seconds("1.5", &s), 0);
	assert_true(s == 1.5);
	assert_int_equal(cli_parse_seconds("0", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("-1", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("inf", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("3s", &s), -EINVAL);
	assert_true(s == 1.5);
}

/* A year at most: a larger value (or one past a double) is refused, never
 * turned into a stop time in the past by an overflowing conversion. */
static void test_seconds_bounds(void **state)
{
	double s = 0;

	(void)state;
	assert_int_equal(cli_parse_seconds("31536000", &s), 0);
	assert_true(s == CLI_SECONDS_MAX);
	assert_int_equal(cli_parse_seconds("0.001", &s), 0);
	assert_true(s == CLI_SECONDS_MIN);
	s = 7;
	assert_int_equal(cli_parse_seconds("31536000.5", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("99999999999999999999", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("1e300", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("1e999", &s), -EINVAL); /* ERANGE */
	assert_int_equal(cli_parse_seconds("0.0009", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("1e-400", &s), -EINVAL); /* underflow */
	assert_int_equal(cli_parse_seconds("nan", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds("", &s), -EINVAL);
	assert_int_equal(cli_parse_seconds(NULL, &s), -EINVAL);
	assert_true(s == 7);
}

static void test_rate(void **state)
{
	double r = 0;

	(void)state;
	assert_int_equal(cli_parse_rate("0.5", &r), 0);
	assert_true(r == 0.5);
	assert_int_equal(cli_parse_rate("1000000000", &r), 0);
	assert_int_equal(cli_parse_rate("1e10", &r), -EINVAL);
	assert_int_equal(cli_parse_rate("0", &r), -EINVAL);
	assert_int_equal(cli_parse_rate("-3", &r), -EINVAL);
	assert_true(r == CLI_RATE_MAX);
}

static void test_parse_long_edges(void **state)
{
	long v = 5;

	(void)state;
	assert_int_equal(parse_long("42\n", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_long("010", 0, 100, &v), 0);
	assert_int_equal(v, 10); /* decimal, never octal */
	assert_int_equal(parse_long("42\n\n", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_long("101", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_long(" ", 0, 100, &v), -EINVAL);
}

static void test_node_name(void **state)
{
	char buf[64];

	(void)state;
	setenv("NODE_NAME", "kind-control-plane", 1);
	cli_node_name(buf, sizeof(buf));
	assert_string_equal(buf, "kind-control-plane");
	unsetenv("NODE_NAME");
	cli_node_name(buf, sizeof(buf));
	assert_true(buf[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pids),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_seconds_bounds),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_parse_long_edges),
		cmocka_unit_test(test_node_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
