/* Profiles from Prometheus without a Prometheus: the PromQL asked, and
 * answers of /api/v1/query as Prometheus writes them (vector and matrix
 * results, empty ones, errors, NaN and infinite values) turned into one
 * profile, with counter resets, counters created inside the window and
 * the coverage across replicas and nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/prometheus.h"

#define BIT(cap) (1ull << (cap))

static void test_workload_parse(void **state)
{
	struct prom_workload w;

	(void)state;
	assert_int_equal(prom_workload_parse("shop/Deployment/checkout", &w), 0);
	assert_string_equal(w.ns, "shop");
	assert_string_equal(w.kind, "Deployment");
	assert_string_equal(w.name, "checkout");
	/* the kind as Kubernetes spells it, whatever was typed */
	assert_int_equal(prom_workload_parse("kube-system/daemonset/agent", &w), 0);
	assert_string_equal(w.kind, "DaemonSet");
	assert_int_equal(prom_workload_parse("/Container/web/1", &w), 0);
	assert_string_equal(w.ns, "");
	assert_string_equal(w.name, "web/1");
	assert_int_equal(prom_workload_parse("shop/ReplicaSet/checkout", &w), -EINVAL);
	assert_int_equal(prom_workload_parse("shop/Deployment/", &w), -EINVAL);
	assert_int_equal(prom_workload_parse("shop/Deployment", &w), -EINVAL);
	assert_int_equal(prom_workload_parse("checkout", &w), -EINVAL);
	assert_int_equal(prom_workload_parse("/Deployment/checkout", &w), -EINVAL);
	assert_int_equal(prom_workload_parse("shop/Container/web", &w), -EINVAL);
	assert_int_equal(prom_workload_parse(NULL, &w), -EINVAL);
}

static void test_duration_parse(void **state)
{
	uint64_t s = 7;

	(void)state;
	assert_int_equal(prom_duration_parse("14d", &s), 0);
	assert_int_equal(s, 14 * 86400);
	assert_int_equal(prom_duration_parse("90m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(prom_duration_parse("2w", &s), 0);
	assert_int_equal(s, 1209600);
	assert_int_equal(prom_duration_parse("1s", &s), 0);
	assert_int_equal(s, 1);
	s = 7;
	assert_int_equal(prom_duration_parse("0s", &s), -ERANGE);
	assert_int_equal(prom_duration_parse("3661d", &s), -ERANGE);
	assert_int_equal(prom_duration_parse("99999999999999999999999d", &s), -ERANGE);
	assert_int_equal(prom_duration_parse("3 days", &s), -EINVAL);
	assert_int_equal(prom_duration_parse("10", &s), -EINVAL);
	assert_int_equal(prom_duration_parse("d", &s), -EINVAL);
	assert_int_equal(prom_duration_parse("-1d", &s), -EINVAL);
	assert_int_equal(prom_duration_parse("1y", &s), -EINVAL);
	assert_int_equal(prom_duration_parse("1d2h", &s), -EINVAL);
	assert_int_equal(s, 7);
}

static void test_queries(void **state)
{
	struct prom_workload w;
	char *q;

	(void)state;
	assert_int_equal(prom_workload_parse("shop/Deployment/checkout", &w), 0);
	assert_int_equal(prom_query_text(&w, PROM_QUERY_CHECKS, 3600, &q), 0);
	assert_string_equal(q, "captrail_workload_capability_checks_total{namespace=\"shop\","
			       "workload_kind=\"Deployment\",workload=\"checkout\"}[3600s]");
	free(q);
	assert_int_equal(prom_query_text(&w, PROM_QUERY_BASELINE, 60, &q), 0);
	assert_string_equal(q, "last_over_time(captrail_workload_capability_checks_total{"
			       "namespace=\"shop\",workload_kind=\"Deployment\","
			       "workload=\"checkout\"}[60s] offset 60s)");
	free(q);
	assert_int_equal(prom_query_text(&w, PROM_QUERY_INSTANCES, 60, &q), 0);
	assert_string_equal(q, "max_over_time(captrail_workload_instances{namespace=\"shop\","
			       "workload_kind=\"Deployment\",workload=\"checkout\"}[60s])");
	free(q);
	assert_int_equal(prom_query_text(&w, PROM_QUERY_CHECKS, 0, &q), -EINVAL);
	assert_int_equal(prom_query_text(&w, PROM_QUERY_COUNT, 60, &q), -EINVAL);
}

/* Quotes, backslashes and a newline are PromQL escapes (the exposition's
 * own); a tab, which the agent's label cannot hold, is U+FFFD as there, so
 * the selector names what the agent exported. */
static void test_query_escaping(void **state)
{
	struct prom_workload w;
	char *q;

	(void)state;
	assert_int_equal(prom_workload_parse("a\"b\\c/Pod/x\ny\tz}", &w), 0);
	assert_int_equal(prom_query_text(&w, PROM_QUERY_CHECKS, 60, &q), 0);
	assert_string_equal(q, "captrail_workload_capability_checks_total{"
			       "namespace=\"a\\\"b\\\\c\",workload_kind=\"Pod\","
			       "workload=\"x\\ny\xef\xbf\xbdz}\"}[60s]");
	free(q);
}

struct answers {
	const char *instances, *baseline, *checks;
};

static struct prom_profile *added(const struct answers *a)
{
	struct prom_profile *pp;
	char why[PROM_WHY_LEN];

	assert_int_equal(prom_profile__new(&pp), 0);
	assert_int_equal(prom_profile_add(pp, PROM_QUERY_INSTANCES, 200, a->instances,
					  strlen(a->instances), why), 0);
	assert_int_equal(prom_profile_add(pp, PROM_QUERY_BASELINE, 200, a->baseline,
					  strlen(a->baseline), why), 0);
	assert_int_equal(prom_profile_add(pp, PROM_QUERY_CHECKS, 200, a->checks, strlen(a->checks),
					  why), 0);
	return pp;
}

static struct profile *built(const struct answers *a, struct prom_stats *ret_stats)
{
	struct prom_profile *pp = added(a);
	struct profile *p = NULL;

	assert_int_equal(prom_profile_build(pp, "shop/Deployment/checkout", &p), 0);
	if (ret_stats)
		prom_profile_stats(pp, ret_stats);
	prom_profile__free(pp);
	return p;
}

#define VECTOR(...) "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[" \
	__VA_ARGS__ "]}}"
#define MATRIX(...) "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[" \
	__VA_ARGS__ "]}}"
#define CHECK_LABELS(node, pod, cap, cls) \
	"\"node\":\"" node "\",\"namespace\":\"shop\",\"workload_kind\":\"Deployment\"," \
	"\"workload\":\"checkout\",\"container\":\"app\",\"pod\":\"" pod "\"," \
	"\"capability\":\"" cap "\",\"class\":\"" cls "\""
#define SERIES(labels, ...) \
	"{\"metric\":{\"__name__\":\"captrail_workload_capability_checks_total\"," labels \
	",\"instance\":\"10.0.0.1:9465\",\"job\":\"captrail\"},\"values\":[" __VA_ARGS__ "]}"
#define BASE(labels, v) \
	"{\"metric\":{" labels ",\"instance\":\"10.0.0.1:9465\",\"job\":\"captrail\"}," \
	"\"value\":[1700000000,\"" v "\"]}"
#define INSTANCE(node, pod) \
	"{\"metric\":{\"container\":\"app\",\"namespace\":\"shop\",\"node\":\"" node "\"," \
	"\"pod\":\"" pod "\",\"workload\":\"checkout\",\"workload_kind\":\"Deployment\"}," \
	"\"value\":[1700000000,\"1\"]}"

#define POD_A "checkout-7d4b9c6f5-aaaaa"
#define ONE "[1,\"1\"]"
#define TWO "[1,\"2\"]"
#define POD_B "checkout-7d4b9c6f5-bbbbb"
#define POD_C "checkout-7d4b9c6f5-ccccc"

static uint64_t granted(const struct profile *p, int cap)
{
	struct profile_cap caps[CAPS_MAX];
	uint64_t present;

	assert_int_equal(profile_summary(p, caps, &present), 0);
	return present & BIT(cap) ? caps[cap].granted : 0;
}

static uint64_t denied(const struct profile *p, int cap)
{
	struct profile_cap caps[CAPS_MAX];
	uint64_t present;

	assert_int_equal(profile_summary(p, caps, &present), 0);
	return present & BIT(cap) ? caps[cap].denied : 0;
}

/* A counter that drops is a reset: its new value counts whole. One that
 * appears inside the window (no value before it) counts its first value;
 * one that had a value before the window counts from that value. */
static void test_resets_and_new_counters(void **state)
{
	const struct answers a = {
		VECTOR(INSTANCE("node-a", POD_A) "," INSTANCE("node-b", POD_B)),
		VECTOR(BASE(CHECK_LABELS("node-b", POD_B, "CAP_CHOWN", "required"), "10")),
		MATRIX(SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"),
			      "[1,\"5\"],[2,\"5\"],[3,\"2\"],[4,\"4\"]") ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_NET_BIND_SERVICE", "required"),
			      "[3,\"2\"]") ","
		       SERIES(CHECK_LABELS("node-b", POD_B, "CAP_CHOWN", "required"),
			      "[1,\"13\"],[2,\"13\"],[3,\"1\"]")),
	};
	struct prom_stats stats;
	struct profile *p = built(&a, &stats);

	(void)state;
	/* node-a: 5, reset to 2, +2; node-b: 13 - 10, reset to 1 */
	assert_int_equal(granted(p, CAP_CHOWN), 9 + 4);
	/* created inside the window: its one sample counts (increase() gives nothing) */
	assert_int_equal(granted(p, CAP_NET_BIND_SERVICE), 2);
	assert_int_equal(profile_grant_mask(p), BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(stats.series, 3);
	assert_int_equal(stats.series_invalid + stats.series_dropped + stats.samples_invalid, 0);
	profile__free(p);
}

/* A base above the window's first value: the agent restarted across the
 * window's start, so the first value is all new. */
static void test_reset_at_window_start(void **state)
{
	const struct answers a = {
		VECTOR(),
		VECTOR(BASE(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"), "100")),
		MATRIX(SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"),
			      "[1,\"3\"],[2,\"4\"]")),
	};
	struct profile *p = built(&a, NULL);

	(void)state;
	assert_int_equal(granted(p, CAP_CHOWN), 4);
	/* an instance known from its checks only */
	assert_int_equal(profile_coverage(p), 1);
	assert_int_equal(profile_nodes(p), 1);
	profile__free(p);
}

/* 2 of 3 replicas on 2 of 3 nodes; a denial that mattered on one; a
 * replica without a check still counts. */
static void test_coverage(void **state)
{
	const struct answers a = {
		VECTOR(INSTANCE("node-a", POD_A) "," INSTANCE("node-b", POD_B) ","
		       INSTANCE("node-c", POD_C)),
		VECTOR(),
		MATRIX(SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"), ONE) ","
		       SERIES(CHECK_LABELS("node-b", POD_B, "CAP_CHOWN", "required"), TWO) ","
		       SERIES(CHECK_LABELS("node-b", POD_B, "CAP_SYS_PTRACE", "denied")
			      ",\"outcome\":\"mattered\"", ONE) ","
		       /* required on node-a makes node-b's denial of it part of a
			* required capability, not a node where it is required */
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_KILL", "required"), ONE) ","
		       SERIES(CHECK_LABELS("node-b", POD_B, "CAP_KILL", "denied")
			      ",\"outcome\":\"fallback\"", "[1,\"3\"]")),
	};
	struct profile *p = built(&a, NULL);
	struct profile_cap caps[CAPS_MAX];
	const char **ids;
	uint64_t present;
	size_t n;
	char *text;

	(void)state;
	assert_int_equal(profile_coverage(p), 3);
	assert_int_equal(profile_nodes(p), 3);
	assert_int_equal(profile_summary(p, caps, &present), 0);
	assert_int_equal(caps[CAP_CHOWN].instances, 2);
	assert_int_equal(profile_cap_nodes(p, CAP_CHOWN), 2);
	assert_int_equal(caps[CAP_SYS_PTRACE].cls, PROFILE_CLASS_DENIED);
	assert_int_equal(caps[CAP_SYS_PTRACE].instances, 1);
	assert_int_equal(profile_cap_nodes(p, CAP_SYS_PTRACE), 1);
	assert_int_equal(caps[CAP_KILL].cls, PROFILE_CLASS_REQUIRED);
	assert_int_equal(denied(p, CAP_KILL), 3);
	assert_int_equal(profile_cap_nodes(p, CAP_KILL), 1);
	assert_int_equal(profile_instances(p, &ids, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], POD_A);
	assert_string_equal(ids[2], POD_C);
	free(ids);

	assert_int_equal(profile_render_string(p, PROFILE_FORMAT_TEXT, &text), 0);
	assert_non_null(strstr(text, "\n  CAP_CHOWN: 2 of 3 replicas, on 2 of 3 nodes\n"));
	assert_non_null(strstr(text, "\n  CAP_SYS_PTRACE: 1 of 3 replicas, on 1 of 3 nodes\n"));
	assert_non_null(strstr(text, "\nnodes      3\n"));
	free(text);
	assert_int_equal(profile_render_string(p, PROFILE_FORMAT_K8S, &text), 0);
	assert_non_null(strstr(text, "#   CAP_CHOWN: 2 of 3 replicas, on 2 of 3 nodes\n"));
	assert_non_null(strstr(text, "add: [CHOWN, KILL]\n"));
	free(text);
	profile__free(p);
}

/* The JSON says the nodes and reads back with them. */
static void test_json_round_trip(void **state)
{
	const struct answers a = {
		VECTOR(INSTANCE("node-a", POD_A) "," INSTANCE("node-b", POD_B)),
		VECTOR(),
		MATRIX(SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"), ONE)),
	};
	struct profile *p = built(&a, NULL), *back = NULL;
	char *text, why[PROFILE_WHY_LEN];

	(void)state;
	assert_int_equal(profile_render_string(p, PROFILE_FORMAT_JSON, &text), 0);
	assert_non_null(strstr(text, "\"nodes\": 2,"));
	assert_int_equal(profile_parse_json(text, &back, why), 0);
	assert_int_equal(profile_nodes(back), 2);
	assert_int_equal(profile_cap_nodes(back, CAP_CHOWN), 1);
	assert_int_equal(profile_coverage(back), 2);
	free(text);
	profile__free(back);
	assert_int_equal(profile_parse_json("{\"captrail_profile\":1,\"nodes\":1,\"capabilities\":"
					    "[{\"name\":\"CAP_CHOWN\",\"nodes\":2}]}",
					    &back, why),
			 -EINVAL);
	profile__free(p);
}

/* Prometheus writes NaN and infinities as strings; no count is either. A
 * fraction (a float that went through a recording rule) is rounded. */
static void test_nan_inf(void **state)
{
	const struct answers a = {
		VECTOR(INSTANCE("node-a", POD_A)),
		VECTOR(BASE(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"), "NaN")),
		MATRIX(SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"),
			      "[1,\"NaN\"],[2,\"2.9999999\"],[3,\"+Inf\"],[4,\"-Inf\"],[5,\"-1\"],"
			      "[6,\"\"],[7,\"4\"]")),
	};
	struct prom_stats stats;
	struct profile *p = built(&a, &stats);

	(void)state;
	assert_int_equal(granted(p, CAP_CHOWN), 4);
	assert_int_equal(stats.samples_invalid, 6);
	profile__free(p);
}

/* Labels the agent never writes are skipped and counted; the runtime's
 * start-up is counted beside the profile, never in it. */
static void test_invalid_series(void **state)
{
	const struct answers a = {
		VECTOR(INSTANCE("node-a", POD_A)),
		VECTOR(),
		MATRIX(SERIES(CHECK_LABELS("node-a", POD_A, "CAP_NOPE", "required"), ONE) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "bogus"), ONE) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "kept"), ONE) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required")
			      ",\"outcome\":\"mattered\"", ONE) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "denied")
			      ",\"outcome\":\"maybe\"", ONE) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_SETUID", "runtime"),
			      "[1,\"5\"],[2,\"7\"]") ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_SYSLOG", "noaudit"), TWO) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_SYS_ADMIN", "override_cred"),
			      TWO) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_SYS_RESOURCE", "foreign_userns"),
			      TWO) ","
		       SERIES(CHECK_LABELS("node-a", POD_A, "CAP_SETPCAP", "capset"), TWO)),
	};
	struct prom_stats stats;
	struct profile *p = built(&a, &stats);

	(void)state;
	assert_int_equal(stats.series, 10);
	assert_int_equal(stats.series_invalid, 5);
	assert_int_equal(stats.runtime_checks, 7);
	assert_int_equal(granted(p, CAP_CHOWN), 0);
	assert_int_equal(granted(p, CAP_SETUID), 0);
	assert_int_equal(profile_mask(p, PROFILE_CLASS_NOAUDIT), BIT(CAP_SYSLOG));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_OVERRIDE_CRED), BIT(CAP_SYS_ADMIN));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_FOREIGN_USERNS), BIT(CAP_SYS_RESOURCE));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_CAPSET), BIT(CAP_SETPCAP));
	assert_int_equal(profile_grant_mask(p), 0);
	profile__free(p);
}

/* A plain container has no pod: its name on its node is the instance. */
static void test_container_instance(void **state)
{
	const char *vec = VECTOR("{\"metric\":{\"container\":\"web\",\"node\":\"host1\","
				 "\"workload\":\"web\",\"workload_kind\":\"Container\"},"
				 "\"value\":[1,\"1\"]}");
	struct prom_profile *pp;
	struct profile *p;
	char why[PROM_WHY_LEN];
	const char **ids;
	size_t n;

	(void)state;
	assert_int_equal(prom_profile__new(&pp), 0);
	assert_int_equal(prom_profile_add(pp, PROM_QUERY_INSTANCES, 200, vec, strlen(vec), why), 0);
	assert_int_equal(prom_profile_build(pp, "/Container/web", &p), 0);
	assert_int_equal(profile_instances(p, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "web@host1");
	free(ids);
	profile__free(p);
	prom_profile__free(pp);
}

/* No series anywhere, or only counters that ended before the window. */
static void test_no_data(void **state)
{
	const char *empty_v = VECTOR(), *empty_m = MATRIX();
	const char *base = VECTOR(BASE(CHECK_LABELS("node-a", POD_A, "CAP_CHOWN", "required"),
				       "3"));
	struct prom_profile *pp;
	struct profile *p = NULL;
	char why[PROM_WHY_LEN];

	(void)state;
	assert_int_equal(prom_profile__new(&pp), 0);
	assert_int_equal(prom_profile_add(pp, PROM_QUERY_INSTANCES, 200, empty_v, strlen(empty_v),
					  why), 0);
	assert_int_equal(prom_profile_add(pp, PROM_QUERY_BASELINE, 200, base, strlen(base), why),
			 0);
	assert_int_equal(prom_profile_add(pp, PROM_QUERY_CHECKS, 200, empty_m, strlen(empty_m),
					  why), 0);
	assert_int_equal(prom_profile_build(pp, "x", &p), -ENODATA);
	assert_null(p);
	prom_profile__free(pp);
	prom_profile__free(NULL);
}

static int add_one(enum prom_query q, long status, const char *body, char *why)
{
	struct prom_profile *pp;
	int err;

	assert_int_equal(prom_profile__new(&pp), 0);
	err = prom_profile_add(pp, q, status, body, strlen(body), why);
	prom_profile__free(pp);
	return err;
}

static void test_errors(void **state)
{
	char why[PROM_WHY_LEN];

	(void)state;
	/* Prometheus's error, with its type and message (a newline in it is
	 * the command's to escape) */
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 400,
				 "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
				 "\"1:2: parse error:\\nunexpected\"}", why),
			 -EPROTO);
	assert_string_equal(why, "bad_data: 1:2: parse error:\nunexpected");
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 422,
				 "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":"
				 "\"query processing would load too many samples into memory\"}",
				 why),
			 -EPROTO);
	assert_string_equal(why, "execution: query processing would load too many samples into "
				 "memory");
	/* an HTTP error without Prometheus's JSON: a proxy, or no Prometheus */
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 503, "Service Unavailable", why), -EPROTO);
	assert_string_equal(why, "HTTP status 503");
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200, "<html>", why), -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200, "", why), -EBADMSG);
	/* the shape of the answer */
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200, VECTOR(), why), -EBADMSG);
	assert_string_equal(why, "resultType: not the type the query gives");
	assert_int_equal(add_one(PROM_QUERY_INSTANCES, 200, MATRIX(), why), -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200, "{\"status\":\"success\"}", why),
			 -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200, "{\"status\":\"pending\"}", why),
			 -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200, MATRIX("{\"values\":[]}"), why),
			 -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200, MATRIX("{\"metric\":{}}"), why), -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_CHECKS, 200,
				 MATRIX("{\"metric\":{},\"values\":[[1,\"1\",2]]}"), why),
			 -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_BASELINE, 200, VECTOR("{\"metric\":{},\"value\":1}"),
				 why),
			 -EBADMSG);
	assert_int_equal(add_one(PROM_QUERY_COUNT, 200, VECTOR(), why), -EINVAL);
}

/* Prometheus answers with the same series twice only in a broken
 * federation; the samples of both count, never a crash. Labels of any
 * value (quotes, non-ASCII) are keys as they are. */
static void test_odd_labels(void **state)
{
	const struct answers a = {
		VECTOR(INSTANCE("n\\\"1", "p\\u00e9")),
		VECTOR(),
		MATRIX(SERIES(CHECK_LABELS("n\\\"1", "p\\u00e9", "CAP_CHOWN", "required"),
			      ONE) ","
		       SERIES(CHECK_LABELS("n\\\"1", "p\\u00e9", "CAP_CHOWN", "required"),
			      "[2,\"3\"]")),
	};
	struct prom_stats stats;
	struct profile *p = built(&a, &stats);

	(void)state;
	assert_int_equal(granted(p, CAP_CHOWN), 3);
	assert_int_equal(stats.series, 1);
	assert_int_equal(profile_coverage(p), 1);
	profile__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workload_parse),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_query_escaping),
		cmocka_unit_test(test_resets_and_new_counters),
		cmocka_unit_test(test_reset_at_window_start),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_nan_inf),
		cmocka_unit_test(test_invalid_series),
		cmocka_unit_test(test_container_instance),
		cmocka_unit_test(test_no_data),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_odd_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
