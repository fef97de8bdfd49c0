/* Metrics: served over HTTP on an ephemeral loopback port and read with a
 * plain socket; bounded workload labels; label escaping; bad addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/metrics.h"
#include "lib/text.h"

/* The whole HTTP/1.0 response to "METHOD PATH". */
static char *http(uint16_t port, const char *method, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), req[256];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 1024)
			buf = realloc(buf, cap *= 2);
	}
	assert_int_equal(n, 0);
	buf[len] = '\0';
	close(fd);
	return buf;
}

static int at(const char *addr, struct metrics **ret_m)
{
	const struct metrics_opts opts = { .addr = addr };

	return metrics__new(&opts, ret_m);
}

static struct metrics *start_opts(size_t max_workloads, size_t max_series, const char *node)
{
	const struct metrics_opts opts = {
		.addr = "127.0.0.1:0",
		.max_workloads = max_workloads,
		.max_series = max_series,
		.node = node,
	};
	struct metrics *m = NULL;

	assert_int_equal(metrics__new(&opts, &m), 0);
	assert_true(metrics_port(m) > 0);
	return m;
}

static struct metrics *start(size_t max_workloads)
{
	return start_opts(max_workloads, 0, NULL);
}

static void test_served(void **state)
{
	struct metrics *m = start(0);
	char *resp;

	(void)state;
	metrics_add_checks(m, "default/xwing/spaceship", 34, true, 2);
	metrics_add_checks(m, "default/xwing/spaceship", 34, true, 1);
	metrics_add_checks(m, "/usr/sbin/sshd", 6, false, 5);
	metrics_add_checks(m, "/usr/sbin/sshd", 99, false, 5); /* out of range: ignored */
	metrics_set(m, METRICS_EVENTS_LOST, 7);
	metrics_set(m, METRICS_STORE_FLUSHES, 12);
	metrics_set(m, METRICS_STORE_FLUSH_ERRORS, 1);
	metrics_set(m, METRICS_RUNTIME_CHECKS, 94);
	metrics_set_cache(m, METRICS_CACHE_PROCESS, 300, 4);
	metrics_set_cache(m, METRICS_CACHE_CONTAINER, 2, 0);

	resp = http(metrics_port(m), "GET", "/metrics");
	assert_non_null(strstr(resp, "HTTP/1.0 200") ? resp : strstr(resp, "HTTP/1.1 200"));
	assert_non_null(strstr(resp, "text/plain; version=0.0.4"));
	assert_non_null(strstr(resp, "# TYPE captrail_checks_total counter\n"));
	assert_non_null(strstr(resp,
		"\ncaptrail_checks_total{capability=\"CAP_SYSLOG\",verdict=\"denied\","
		"workload=\"default/xwing/spaceship\"} 3\n"));
	assert_non_null(strstr(resp,
		"\ncaptrail_checks_total{capability=\"CAP_SETGID\",verdict=\"granted\","
		"workload=\"/usr/sbin/sshd\"} 5\n"));
	assert_null(strstr(resp, "CAP_99"));
	assert_non_null(strstr(resp, "\ncaptrail_events_lost_total 7\n"));
	assert_non_null(strstr(resp, "\ncaptrail_store_flushes_total 12\n"));
	assert_non_null(strstr(resp, "\ncaptrail_store_flush_errors_total 1\n"));
	assert_non_null(strstr(resp, "\ncaptrail_runtime_checks_total 94\n"));
	assert_non_null(strstr(resp, "\ncaptrail_cache_entries{cache=\"process\"} 300\n"));
	assert_non_null(strstr(resp, "\ncaptrail_cache_evictions_total{cache=\"process\"} 4\n"));
	assert_non_null(strstr(resp, "\ncaptrail_cache_entries{cache=\"container\"} 2\n"));
	assert_non_null(strstr(resp, "\ncaptrail_metrics_workloads_overflow_total 0\n"));
	free(resp);

	resp = http(metrics_port(m), "GET", "/healthz");
	assert_non_null(strstr(resp, " 200 "));
	assert_non_null(strstr(resp, "\r\n\r\nok\n"));
	free(resp);
	resp = http(metrics_port(m), "GET", "/nothing");
	assert_non_null(strstr(resp, " 404 "));
	free(resp);
	resp = http(metrics_port(m), "DELETE", "/metrics");
	assert_non_null(strstr(resp, " 405 "));
	free(resp);
	metrics__free(m);
	metrics__free(NULL);
}

static void test_bounded_workloads(void **state)
{
	struct metrics *m = start(2);
	char *text;
	size_t len;

	(void)state;
	metrics_add_checks(m, "a", 0, false, 1);
	metrics_add_checks(m, "b", 0, false, 1);
	metrics_add_checks(m, "c", 0, false, 1);
	metrics_add_checks(m, "d", 0, true, 4);
	metrics_add_checks(m, "a", 0, false, 1); /* known: still its own series */
	metrics_add_checks(m, "other", 0, false, 1); /* the literal name is the bucket */
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "verdict=\"granted\",workload=\"a\"} 2\n"));
	assert_non_null(strstr(text, "verdict=\"granted\",workload=\"b\"} 1\n"));
	assert_null(strstr(text, "workload=\"c\""));
	assert_non_null(strstr(text, "verdict=\"granted\",workload=\"other\"} 2\n"));
	assert_non_null(strstr(text, "verdict=\"denied\",workload=\"other\"} 4\n"));
	assert_non_null(strstr(text, "\ncaptrail_metrics_workloads_overflow_total 2\n"));
	free(text);
	metrics__free(m);
}

static void test_label_escaping(void **state)
{
	struct metrics *m = start(0);
	char *text;
	size_t len;

	(void)state;
	metrics_add_checks(m, "we\"ird\\na\nme", 21, false, 1);
	metrics_add_checks(m, "", 21, false, 1);
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_non_null(strstr(text, "workload=\"we\\\"ird\\\\na\\nme\"} 1\n"));
	assert_non_null(strstr(text, "workload=\"unknown\"} 1\n"));
	free(text);
	metrics__free(m);
}

/* Label values are valid UTF-8 without controls, bounded, and names that
 * read the same share a series (a duplicate series fails the scrape). */
static void test_label_hostile(void **state)
{
	struct metrics *m = start(0);
	char name[TEXT_WORKLOAD_MAX + 100], want[TEXT_WORKLOAD_MAX + 100];
	char *text;
	size_t len;

	(void)state;
	memset(name, 'w', sizeof(name));
	memcpy(name + TEXT_WORKLOAD_MAX - 4, "\xe2\x82\xac", 3); /* across the bound */
	name[sizeof(name) - 1] = '\0';
	metrics_add_checks(m, name, 21, false, 1);
	metrics_add_checks(m, "x\x1b[2J\r\xff", 21, false, 1);
	metrics_add_checks(m, "x\x1b[2J\r\xfe", 21, false, 2);
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_true(text_utf8_valid(text, len));
	memset(want, 'w', TEXT_WORKLOAD_MAX - 4);
	snprintf(want + TEXT_WORKLOAD_MAX - 4, sizeof(want) - (TEXT_WORKLOAD_MAX - 4),
		 "%s\"} 1\n", TEXT_CUT_MARK);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "workload=\"x\xef\xbf\xbd[2J\xef\xbf\xbd\xef\xbf\xbd\"} 3\n"));
	assert_non_null(strstr(text, "\ncaptrail_metrics_labels_cut_total 1\n"));
	for (size_t i = 0; i < len; i++)
		assert_true(text[i] == '\n' || ((unsigned char)text[i] >= 0x20 && text[i] != 0x7f));
	free(text);
	metrics__free(m);
}

static void test_addresses(void **state)
{
	static const char *const bad[] = {
		"9464", "127.0.0.1", "127.0.0.1:", ":port", ":99999", "::1:9464", "[::1]9464",
		":-1",
	};
	struct metrics *m = NULL, *again = NULL;
	char addr[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(at(bad[i], &m), -EINVAL);
		assert_null(m);
	}
	m = start(0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", metrics_port(m));
	assert_int_equal(at(addr, &again), -EADDRINUSE);
	metrics__free(m);
	/* IPv6 loopback, where the machine has it */
	if (at("[::1]:0", &m) == 0) {
		assert_true(metrics_port(m) > 0);
		metrics__free(m);
	}
	assert_int_equal(at(":0", &m), 0);
	metrics__free(m);
}

static char *render(struct metrics *m)
{
	char *text;
	size_t len;

	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static const struct metrics_replica replica_a = {
	.namespace = "shop", .kind = "Deployment", .workload = "checkout", .container = "app",
	.pod = "checkout-7d4b9c6f5-x2x9q",
};

static void test_replica_series(void **state)
{
	struct metrics *m = start_opts(0, 0, "node-a");
	struct metrics_replica b = replica_a;
	const struct metrics_replica plain = { .kind = "Container", .workload = "redis",
					       .container = "redis" };
	char *text;

	(void)state;
	b.pod = "checkout-7d4b9c6f5-b8k2p";
	metrics_add_replica(m, &replica_a);
	metrics_add_replica(m, &replica_a);
	metrics_add_replica(m, &b);
	metrics_add_replica(m, &plain);
	metrics_add_replica_checks(m, &replica_a, 0, "required", NULL, 2);
	metrics_add_replica_checks(m, &replica_a, 0, "required", NULL, 3);
	metrics_add_replica_checks(m, &b, 12, "denied", "mattered", 1);
	metrics_add_replica_checks(m, &b, 12, "denied", "unobserved", 0); /* nothing: no series */
	metrics_add_replica_checks(m, &b, 21, "runtime", NULL, 4);
	metrics_add_replica_checks(m, &plain, 1, "noaudit", NULL, 1);
	metrics_add_replica_checks(m, &plain, 99, "required", NULL, 1); /* out of range */
	text = render(m);
	assert_non_null(strstr(text, "# TYPE captrail_workload_capability_checks_total counter\n"));
	assert_non_null(strstr(text, "# TYPE captrail_workload_instances gauge\n"));
	assert_non_null(strstr(text,
		"captrail_workload_capability_checks_total{node=\"node-a\",namespace=\"shop\","
		"workload_kind=\"Deployment\",workload=\"checkout\",container=\"app\","
		"pod=\"checkout-7d4b9c6f5-x2x9q\",capability=\"CAP_CHOWN\","
		"class=\"required\"} 5\n"));
	assert_non_null(strstr(text,
		"pod=\"checkout-7d4b9c6f5-b8k2p\",capability=\"CAP_NET_ADMIN\",class=\"denied\","
		"outcome=\"mattered\"} 1\n"));
	assert_non_null(strstr(text, "capability=\"CAP_SYS_ADMIN\",class=\"runtime\"} 4\n"));
	assert_null(strstr(text, "unobserved"));
	/* Outside Kubernetes: no namespace, no pod. */
	assert_non_null(strstr(text,
		"captrail_workload_capability_checks_total{node=\"node-a\","
		"workload_kind=\"Container\",workload=\"redis\",container=\"redis\","
		"capability=\"CAP_DAC_OVERRIDE\","
		"class=\"noaudit\"} 1\n"));
	assert_non_null(strstr(text,
		"captrail_workload_instances{node=\"node-a\",namespace=\"shop\",workload_kind="
		"\"Deployment\",workload=\"checkout\",container=\"app\",pod=\"checkout-7d4b9c6f5-"
		"x2x9q\"} 1\n"));
	assert_non_null(strstr(text, "captrail_workload_instances{node=\"node-a\",workload_kind="
				     "\"Container\",workload=\"redis\",container=\"redis\"} 1\n"));
	assert_non_null(strstr(text, "captrail_workload_series_overflow_total 0\n"));
	free(text);
	metrics__free(m);
}

static void test_replica_bound(void **state)
{
	struct metrics *m = start_opts(0, 3, "n\"1\n");
	static const char overflow[] = "\ncaptrail_workload_series";
	struct metrics_replica r = replica_a;
	char *text, *p;
	int series = 0;

	(void)state;
	metrics_add_replica(m, &r); /* 1 */
	metrics_add_replica_checks(m, &r, 0, "required", NULL, 1); /* 2 */
	metrics_add_replica_checks(m, &r, 1, "required", NULL, 1); /* 3 */
	metrics_add_replica_checks(m, &r, 2, "required", NULL, 1); /* past: counted */
	metrics_add_replica_checks(m, &r, 0, "required", NULL, 1); /* an existing one grows */
	r.pod = "checkout-7d4b9c6f5-b8k2p";
	metrics_add_replica(m, &r); /* past */
	text = render(m);
	for (p = text; (p = strstr(p, "\ncaptrail_workload_")); p++)
		series += strncmp(p, overflow, strlen(overflow)) != 0;
	assert_int_equal(series, 3);
	assert_non_null(strstr(text, "captrail_workload_series_overflow_total 2\n"));
	assert_non_null(strstr(text, "class=\"required\"} 2\n"));
	/* The node label is escaped like any other. */
	assert_non_null(strstr(text, "{node=\"n\\\"1\\n\",namespace"));
	free(text);
	metrics__free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_served),
		cmocka_unit_test(test_bounded_workloads),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_label_hostile),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_replica_series),
		cmocka_unit_test(test_replica_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
