/* Profiles from the store's rows, without a store: the rows and instances
 * store_query() and store_instances() would hand over, collected per
 * workload, then one profile per workload or one for every replica. */
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
#include <sys/syscall.h>

#include "agent/api_protocol.h"
#include "agent/workload_profiles.h"

#define ID_A "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"
#define ID_B "df7e70e5021544f4834bbee64a9e3789febc4be81470df629cad6ddb03320a5c"
#define ID_C "6b23c0d5f35d1b11f9b683f0b0a617355deb11277d91ae091d399c655b87940d"
#define ID_E "a9f51566bd6705f7ea6ad54bb9deb449f795582d6529a0e22207b8981233ec58"

#define BIT(cap) (1ull << (cap))

struct built {
	struct profile **p;
	size_t n;
};

static struct workload_profiles *new_wp(void)
{
	struct workload_profiles *wp = NULL;

	assert_int_equal(workload_profiles__new(&wp), 0);
	assert_non_null(wp);
	return wp;
}

static struct built build(const struct workload_profiles *wp, const char *merged_name)
{
	struct built b = { .p = NULL, .n = 99 };

	assert_int_equal(workload_profiles_build(wp, merged_name, &b.p, &b.n), 0);
	assert_non_null(b.p);
	return b;
}

static void built_free(struct built *b)
{
	for (size_t i = 0; i < b->n; i++)
		profile__free(b->p[i]);
	free(b->p);
}

static struct store_row row_of(int64_t id, struct workload w, int cap, bool denied,
			       uint64_t count)
{
	return (struct store_row){
		.workload_id = id,
		.workload = w,
		.check = {
			.cap = cap,
			.denied = denied,
			.audit = CHECK_AUDITED,
			.syscall = SYS_socket,
			.count = count,
			.first_ns = 1000,
			.last_ns = 2000,
		},
	};
}

static void add_row(struct workload_profiles *wp, struct store_row row)
{
	assert_int_equal(workload_profiles_add_row(wp, &row), 0);
}

static void add_instance(struct workload_profiles *wp, int64_t id, const char *instance)
{
	assert_int_equal(workload_profiles_add_instance(wp, id, instance), 0);
}

static const struct workload pod_xwing = {
	.kind = WORKLOAD_POD_CONTAINER,
	.pod_namespace = "default",
	.pod_name = "xwing",
	.container_name = "spaceship",
	.image = "docker.io/library/busybox:1.36",
};

static const struct workload docker_unnamed = {
	.kind = WORKLOAD_CONTAINER,
	.container_id = ID_E,
};

static const struct workload sshd = {
	.kind = WORKLOAD_HOST_BINARY,
	.binary = "/usr/sbin/sshd",
};

static const struct workload cron = {
	.kind = WORKLOAD_UNIT,
	.unit = "cron.service",
	.binary = "/usr/sbin/cron",
};

static void test_one_per_workload(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct built b;

	(void)state;
	add_row(wp, row_of(1, pod_xwing, CAP_NET_RAW, false, 5));
	add_row(wp, row_of(1, pod_xwing, CAP_NET_BIND_SERVICE, false, 1));
	add_row(wp, row_of(2, docker_unnamed, CAP_CHOWN, false, 2));
	add_row(wp, row_of(3, sshd, CAP_SETUID, false, 3));
	add_row(wp, row_of(4, cron, CAP_SETGID, false, 4));
	add_instance(wp, 1, ID_A);
	add_instance(wp, 2, ID_E);
	b = build(wp, NULL);
	assert_int_equal(b.n, 4);
	/* in workload order, each named as workload_name() names it */
	assert_string_equal(profile_workload(b.p[0]), "default/xwing/spaceship");
	assert_string_equal(profile_workload(b.p[1]), ID_E);
	assert_string_equal(profile_workload(b.p[2]), "/usr/sbin/sshd");
	assert_string_equal(profile_workload(b.p[3]), "cron.service");
	assert_int_equal(profile_required_mask(b.p[0]),
			 BIT(CAP_NET_RAW) | BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(profile_required_mask(b.p[1]), BIT(CAP_CHOWN));
	assert_int_equal(profile_required_mask(b.p[2]), BIT(CAP_SETUID));
	assert_int_equal(profile_required_mask(b.p[3]), BIT(CAP_SETGID));
	assert_int_equal(profile_coverage(b.p[0]), 1);
	assert_int_equal(profile_coverage(b.p[1]), 1);
	/* outside containers: the one unnamed instance */
	assert_int_equal(profile_coverage(b.p[2]), 1);
	assert_true(profile_unnamed_instance(b.p[2]));
	assert_false(profile_unnamed_instance(b.p[0]));
	built_free(&b);
	workload_profiles__free(wp);
	workload_profiles__free(NULL);
}

/* Rows are per workload: a container's checks go to its first instance, a
 * host binary's to its path, and the strings are the collection's own. */
static void test_entries_attributed(void **state)
{
	struct workload_profiles *wp = new_wp();
	char binary[32], instance[80];
	struct workload w = sshd;
	struct profile_obs *entries;
	size_t n;
	struct built b;

	(void)state;
	add_row(wp, row_of(1, pod_xwing, CAP_NET_RAW, false, 5));
	snprintf(instance, sizeof(instance), "%s", ID_B);
	add_instance(wp, 1, instance);
	add_instance(wp, 1, ID_C);
	snprintf(binary, sizeof(binary), "/usr/sbin/sshd");
	w.binary = binary;
	add_row(wp, row_of(2, w, CAP_SETUID, false, 3));
	/* the callers' strings live during the callback only */
	memset(binary, 0, sizeof(binary));
	memset(instance, 0, sizeof(instance));
	b = build(wp, NULL);
	assert_int_equal(b.n, 2);
	assert_string_equal(profile_workload(b.p[1]), "/usr/sbin/sshd");

	assert_int_equal(profile_entries(b.p[0], &entries, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(entries[0].cap, CAP_NET_RAW);
	assert_int_equal(entries[0].count, 5);
	assert_true(entries[0].granted);
	assert_string_equal(entries[0].instance, ID_B);
	assert_null(entries[0].binary);
	assert_int_equal(entries[0].first_ns, 1000);
	assert_int_equal(entries[0].last_ns, 2000);
	free(entries);
	assert_int_equal(profile_coverage(b.p[0]), 2);

	assert_int_equal(profile_entries(b.p[1], &entries, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(entries[0].binary, "/usr/sbin/sshd");
	assert_null(entries[0].instance);
	free(entries);
	built_free(&b);
	workload_profiles__free(wp);
}

/* A container selection names every replica: one profile, their union,
 * coverage the distinct instances. */
static void test_merged_replicas(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct workload xwing2 = pod_xwing;
	struct profile_cap caps[CAPS_MAX];
	uint64_t present;
	struct built b;

	(void)state;
	xwing2.pod_name = "xwing-2";
	add_row(wp, row_of(1, pod_xwing, CAP_NET_RAW, false, 5));
	add_row(wp, row_of(2, xwing2, CAP_NET_RAW, false, 2));
	add_row(wp, row_of(2, xwing2, CAP_NET_ADMIN, false, 1));
	add_instance(wp, 1, ID_A);
	add_instance(wp, 2, ID_B);
	add_instance(wp, 2, ID_C);
	add_instance(wp, 2, ID_A); /* one container seen under both: counted once */
	b = build(wp, "spaceship");
	assert_int_equal(b.n, 1);
	assert_string_equal(profile_workload(b.p[0]), "spaceship");
	assert_int_equal(profile_required_mask(b.p[0]), BIT(CAP_NET_RAW) | BIT(CAP_NET_ADMIN));
	assert_int_equal(profile_coverage(b.p[0]), 3);
	assert_int_equal(profile_summary(b.p[0], caps, &present), 0);
	assert_int_equal(present, BIT(CAP_NET_RAW) | BIT(CAP_NET_ADMIN));
	assert_int_equal(caps[CAP_NET_RAW].granted, 7);
	assert_int_equal(caps[CAP_NET_RAW].instances, 2); /* each workload's first instance */
	assert_int_equal(caps[CAP_NET_ADMIN].granted, 1);
	assert_int_equal(caps[CAP_NET_ADMIN].instances, 1);
	built_free(&b);

	/* the same collection, unmerged: two */
	b = build(wp, NULL);
	assert_int_equal(b.n, 2);
	assert_string_equal(profile_workload(b.p[0]), "default/xwing/spaceship");
	assert_string_equal(profile_workload(b.p[1]), "default/xwing-2/spaceship");
	assert_int_equal(profile_required_mask(b.p[0]), BIT(CAP_NET_RAW));
	assert_int_equal(profile_coverage(b.p[0]), 1);
	assert_int_equal(profile_coverage(b.p[1]), 3);
	built_free(&b);
	workload_profiles__free(wp);
}

static void test_instances_without_rows(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct built b;

	(void)state;
	b = build(wp, NULL); /* nothing at all */
	assert_int_equal(b.n, 0);
	built_free(&b);
	b = build(wp, "merged");
	assert_int_equal(b.n, 0);
	built_free(&b);

	add_instance(wp, 7, ID_A);
	add_instance(wp, 7, ID_B);
	b = build(wp, NULL);
	assert_int_equal(b.n, 0);
	built_free(&b);
	b = build(wp, "merged");
	assert_int_equal(b.n, 0);
	built_free(&b);

	/* next to a workload with checks: that one only */
	add_row(wp, row_of(8, docker_unnamed, CAP_KILL, false, 1));
	add_instance(wp, 8, ID_E);
	b = build(wp, NULL);
	assert_int_equal(b.n, 1);
	assert_string_equal(profile_workload(b.p[0]), ID_E);
	assert_int_equal(profile_required_mask(b.p[0]), BIT(CAP_KILL));
	assert_int_equal(profile_coverage(b.p[0]), 1);
	built_free(&b);
	workload_profiles__free(wp);
}

/* A kernel thread working for a workload is not the workload. */
static void test_kthread_rows(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct store_row kthread = row_of(1, pod_xwing, CAP_SYS_ADMIN, false, 9);
	struct profile_obs *entries;
	struct profile_cap caps[CAPS_MAX];
	uint64_t present;
	size_t n;
	struct built b;

	(void)state;
	kthread.check.flags = CHECK_KTHREAD;
	add_row(wp, kthread);
	kthread.check.denied = true; /* denied or not */
	kthread.check.cap = CAP_SYS_MODULE;
	add_row(wp, kthread);
	add_row(wp, row_of(1, pod_xwing, CAP_NET_RAW, false, 1));
	add_instance(wp, 1, ID_A);
	b = build(wp, NULL);
	assert_int_equal(b.n, 1);
	assert_int_equal(profile_required_mask(b.p[0]), BIT(CAP_NET_RAW));
	assert_int_equal(profile_entries(b.p[0], &entries, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(entries[0].cap, CAP_NET_RAW);
	free(entries);
	assert_int_equal(profile_summary(b.p[0], caps, &present), 0);
	assert_int_equal(present, BIT(CAP_NET_RAW));
	assert_int_equal(profile_mask(b.p[0], PROFILE_CLASS_DENIED), 0);
	built_free(&b);
	workload_profiles__free(wp);
}

/* Denied rows keep what their syscalls returned; a denied-only capability
 * is reported, never required. */
static void test_denied_rows(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct store_row r = row_of(1, sshd, CAP_SYSLOG, true, 6);
	struct profile_denial *d;
	size_t n;
	struct built b;

	(void)state;
	r.check.syscall = SYS_syslog;
	r.check.outcome = (struct check_outcome){ .eperm = 2, .eacces = 1, .success = 1,
						  .other = 1 };
	add_row(wp, r); /* one of the six unobserved */
	r = row_of(1, sshd, CAP_NET_ADMIN, true, 4);
	r.check.outcome.success = 4;
	add_row(wp, r);
	add_row(wp, row_of(1, sshd, CAP_NET_ADMIN, false, 1)); /* granted once: required */
	add_row(wp, row_of(1, sshd, CAP_SETUID, false, 2));
	b = build(wp, NULL);
	assert_int_equal(b.n, 1);
	assert_int_equal(profile_required_mask(b.p[0]), BIT(CAP_NET_ADMIN) | BIT(CAP_SETUID));
	assert_int_equal(profile_mask(b.p[0], PROFILE_CLASS_DENIED), BIT(CAP_SYSLOG));
	assert_int_equal(profile_denials(b.p[0], &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].cap, CAP_SYSLOG);
	assert_int_equal(d[0].syscall, SYS_syslog);
	assert_int_equal(d[0].outcomes[PROFILE_OUTCOME_MATTERED], 3);
	assert_int_equal(d[0].outcomes[PROFILE_OUTCOME_FALLBACK], 1);
	assert_int_equal(d[0].outcomes[PROFILE_OUTCOME_OTHER_ERROR], 1);
	assert_int_equal(d[0].outcomes[PROFILE_OUTCOME_UNOBSERVED], 1);
	assert_string_equal(d[0].binary, "/usr/sbin/sshd");
	free(d);
	built_free(&b);
	workload_profiles__free(wp);
}

/* Many rows and instances: the arrays grow past their first sizes. */
static void test_many(void **state)
{
	struct workload_profiles *wp = new_wp();
	char id[80];
	struct built b;
	uint64_t want = 0;

	(void)state;
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		add_row(wp, row_of(1, docker_unnamed, cap, false, (uint64_t)cap + 1));
		want |= BIT(cap);
	}
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "%064d", i);
		add_instance(wp, 1, id);
	}
	b = build(wp, NULL);
	assert_int_equal(b.n, 1);
	assert_int_equal(profile_required_mask(b.p[0]), want);
	assert_int_equal(profile_coverage(b.p[0]), 100);
	built_free(&b);
	workload_profiles__free(wp);
}

/* Rows that come over the API are outside input: one the store would never
 * write is skipped and counted, never turned into an error or a number. */
static void test_invalid_rows(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct store_row bad[] = {
		row_of(1, sshd, CAPS_MAX, false, 1),
		row_of(1, sshd, -1, false, 1),
		row_of(1, sshd, CAP_CHOWN, false, STORE_COUNT_MAX + 1),
		row_of(1, sshd, CAP_CHOWN, false, 1),
		row_of(1, sshd, CAP_CHOWN, false, 1),
		row_of(1, sshd, CAP_CHOWN, false, 1),
		row_of(1, sshd, CAP_CHOWN, false, 1),
		row_of(1, sshd, CAP_CHOWN, true, 1),
	};
	struct store_gaps gaps;
	struct built b;

	(void)state;
	bad[3].check.audit = CHECK_AUDIT_COUNT;
	bad[4].check.syscall = -2;
	bad[5].check.flags = 1u << 20;
	bad[6].workload.kind = 0;
	bad[7].check.outcome.eperm = UINT64_MAX;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		add_row(wp, bad[i]);
	add_row(wp, row_of(1, sshd, CAP_SETUID, false, 3));
	workload_profiles_gaps(wp, &gaps);
	assert_int_equal(gaps.invalid, sizeof(bad) / sizeof(bad[0]));
	b = build(wp, NULL);
	assert_int_equal(b.n, 1);
	assert_int_equal(profile_required_mask(b.p[0]), BIT(CAP_SETUID));
	built_free(&b);
	workload_profiles__free(wp);
}

/* Sums of counts at the store's bound saturate; none wraps to a small one. */
static void test_sums_saturate(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct profile_cap caps[CAPS_MAX];
	uint64_t present;
	struct built b;

	(void)state;
	for (int i = 0; i < 6; i++) {
		struct store_row r = row_of(1, sshd, CAP_SYSLOG, i >= 3, STORE_COUNT_MAX);

		r.check.syscall = SYS_socket + i;
		r.check.outcome.eperm = STORE_COUNT_MAX;
		r.check.outcome.eacces = STORE_COUNT_MAX;
		add_row(wp, r);
		r.workload_id = 2;
		r.workload = docker_unnamed;
		add_row(wp, r);
	}
	add_instance(wp, 2, ID_A);
	add_instance(wp, 2, ID_B);
	b = build(wp, "all"); /* one profile: the same entries add up */
	assert_int_equal(profile_summary(b.p[0], caps, &present), 0);
	assert_int_equal(caps[CAP_SYSLOG].granted, UINT64_MAX);
	assert_int_equal(caps[CAP_SYSLOG].denied, UINT64_MAX);
	built_free(&b);
	workload_profiles__free(wp);
}

/* What a reply says the profile lacks, added up over the readers. */
static void test_gaps(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct store_gaps g = { .unstored = 7, .lost = 1, .invalid = 2, .flush_err = -ENOSPC };
	struct store_gaps got;

	(void)state;
	workload_profiles_gaps(wp, &got);
	assert_int_equal(got.unstored + got.lost + got.invalid, 0);
	assert_int_equal(got.flush_err, 0);
	assert_int_equal(workload_profiles_add_gaps(wp, &g), 0);
	g.flush_err = 0;
	g.unstored = UINT64_MAX;
	assert_int_equal(workload_profiles_add_gaps(wp, &g), 0);
	workload_profiles_gaps(wp, &got);
	assert_int_equal(got.unstored, UINT64_MAX);
	assert_int_equal(got.lost, 2);
	assert_int_equal(got.invalid, 4);
	assert_int_equal(got.flush_err, -ENOSPC);
	workload_profiles__free(wp);
}

static bool gaps_equal(const struct store_gaps *a, const struct store_gaps *b)
{
	return a->unstored == b->unstored && a->lost == b->lost && a->invalid == b->invalid &&
	       a->flush_err == b->flush_err;
}

/* The gaps as the agent's reply carries them, and back. */
static void test_gaps_json(void **state)
{
	struct store_gaps g = { .unstored = 121, .lost = 3, .invalid = 5, .flush_err = -ENOSPC };
	struct store_gaps back;
	json_object *obj;

	(void)state;
	obj = json_tokener_parse("{\"unstored\":121,\"lost\":3,\"invalid\":5,"
				 "\"flush_errno\":28,\"flush_error\":\"No space left on device\"}");
	assert_non_null(obj);
	assert_int_equal(api_gaps_from_json(obj, &back), 0);
	assert_true(gaps_equal(&g, &back));
	json_object_put(obj);
	obj = json_tokener_parse("{\"unstored\":-1,\"lost\":0,\"invalid\":0,\"flush_errno\":0}");
	assert_int_equal(api_gaps_from_json(obj, &back), -EINVAL);
	json_object_put(obj);
	obj = json_tokener_parse("{\"unstored\":1,\"lost\":0,\"invalid\":0,"
				 "\"flush_errno\":99999}");
	assert_int_equal(api_gaps_from_json(obj, &back), -EINVAL);
	json_object_put(obj);
	assert_true(gaps_equal(&g, &back)); /* untouched by the failures */
}

static void test_replicas(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct workload pod_a = pod_xwing, pod_b = pod_xwing, sidecar = pod_xwing;
	struct profile_cap caps[CAPS_MAX];
	struct built b = { .p = NULL, .n = 99 };
	uint64_t present;
	char *text;

	(void)state;
	pod_a.pod_name = "checkout-7d4b9c6f5-x2x9q";
	pod_b.pod_name = "checkout-7d4b9c6f5-b8k2p";
	sidecar.pod_name = pod_a.pod_name;
	sidecar.container_name = "proxy";
	add_row(wp, row_of(1, pod_a, CAP_CHOWN, false, 2));
	add_row(wp, row_of(2, pod_b, CAP_CHOWN, false, 1));
	add_row(wp, row_of(2, pod_b, CAP_NET_ADMIN, false, 1));
	add_row(wp, row_of(3, sidecar, CAP_NET_BIND_SERVICE, false, 1));
	/* pod a's container restarted: two ids, one replica */
	add_instance(wp, 1, ID_A);
	add_instance(wp, 1, ID_C);
	add_instance(wp, 2, ID_B);
	add_instance(wp, 3, ID_E);
	/* pod b read again from a second store (ids moved past the first's) */
	add_row(wp, row_of(5, pod_b, CAP_CHOWN, false, 1));
	add_instance(wp, 5, ID_B);
	assert_int_equal(workload_profiles_build_replicas(wp, "shop/Deployment/checkout", &b.p,
							  &b.n), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(profile_workload(b.p[0]), "shop/Deployment/checkout/spaceship");
	assert_string_equal(profile_workload(b.p[1]), "shop/Deployment/checkout/proxy");
	assert_true(profile_replicas(b.p[0]));
	assert_int_equal(profile_coverage(b.p[0]), 2);
	assert_int_equal(profile_coverage(b.p[1]), 1);
	assert_int_equal(profile_summary(b.p[0], caps, &present), 0);
	assert_int_equal(caps[CAP_CHOWN].instances, 2);
	assert_int_equal(caps[CAP_CHOWN].granted, 4); /* counts add up across stores */
	assert_int_equal(caps[CAP_NET_ADMIN].instances, 1);
	assert_int_equal(profile_render_string(b.p[0], PROFILE_FORMAT_TEXT, &text), 0);
	assert_non_null(strstr(text, "CAP_CHOWN: required; 2 of 2 replicas\n"));
	assert_non_null(strstr(text, "CAP_NET_ADMIN: required; 1 of 2 replicas\n"));
	assert_non_null(strstr(text, "replicas   2\n"));
	free(text);
	assert_int_equal(profile_render_string(b.p[0], PROFILE_FORMAT_JSON, &text), 0);
	assert_non_null(strstr(text, "\"coverage_of\": \"replicas\""));
	free(text);
	built_free(&b);
	workload_profiles__free(wp);
}

/* The same workload from two stores is one profile. */
static void test_same_name_merges(void **state)
{
	struct workload_profiles *wp = new_wp();
	struct built b;

	(void)state;
	add_row(wp, row_of(1, pod_xwing, CAP_NET_RAW, false, 5));
	add_instance(wp, 1, ID_A);
	add_row(wp, row_of((int64_t)1 << 40 | 1, pod_xwing, CAP_CHOWN, false, 1));
	add_instance(wp, (int64_t)1 << 40 | 1, ID_B);
	b = build(wp, NULL);
	assert_int_equal(b.n, 1);
	assert_int_equal(profile_required_mask(b.p[0]), BIT(CAP_NET_RAW) | BIT(CAP_CHOWN));
	assert_int_equal(profile_coverage(b.p[0]), 2);
	assert_false(profile_replicas(b.p[0]));
	built_free(&b);
	workload_profiles__free(wp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replicas),
		cmocka_unit_test(test_same_name_merges),
		cmocka_unit_test(test_one_per_workload),
		cmocka_unit_test(test_entries_attributed),
		cmocka_unit_test(test_merged_replicas),
		cmocka_unit_test(test_instances_without_rows),
		cmocka_unit_test(test_kthread_rows),
		cmocka_unit_test(test_denied_rows),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_invalid_rows),
		cmocka_unit_test(test_sums_saturate),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_gaps_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
