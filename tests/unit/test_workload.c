/* Workload kinds and names: the kind names the store persists, the one
 * name a workload goes by in metrics and profiles, and which workload a
 * task's container (or its absence) makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity/workload.h"

#define ID_A "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"

static void test_kind_names(void **state)
{
	static const char *const names[] = {
		[WORKLOAD_POD_CONTAINER] = "pod-container",
		[WORKLOAD_CONTAINER] = "container",
		[WORKLOAD_HOST_BINARY] = "host-binary",
		[WORKLOAD_UNIT] = "unit",
	};
	static const char *const rejects[] = {
		"", "pod", "Container", "host_binary", "unit ", " unit", "pod-container2", "1",
	};
	enum workload_kind kind;

	(void)state;
	/* The store persists the numbers: they never move. */
	assert_int_equal(WORKLOAD_POD_CONTAINER, 1);
	assert_int_equal(WORKLOAD_UNIT, 4);
	for (int k = WORKLOAD_POD_CONTAINER; k <= WORKLOAD_UNIT; k++) {
		assert_string_equal(workload_kind_name(k), names[k]);
		kind = 0;
		assert_int_equal(workload_kind_parse(names[k], &kind), 0);
		assert_int_equal(kind, k);
	}
	assert_null(workload_kind_name(0));
	assert_null(workload_kind_name(WORKLOAD_UNIT + 1));
	assert_null(workload_kind_name(-1));
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		kind = WORKLOAD_UNIT;
		assert_int_equal(workload_kind_parse(rejects[i], &kind), -EINVAL);
		assert_int_equal(kind, WORKLOAD_UNIT); /* untouched on failure */
	}
}

static void test_container_part(void **state)
{
	struct workload w = { .kind = WORKLOAD_CONTAINER, .container_name = "api",
			      .container_id = ID_A };

	(void)state;
	assert_string_equal(workload_container(&w), "api");
	w.container_name = "";
	assert_string_equal(workload_container(&w), ID_A);
	w.container_name = NULL;
	assert_string_equal(workload_container(&w), ID_A);
	w.container_id = NULL;
	assert_string_equal(workload_container(&w), "");
}

static void test_names(void **state)
{
	struct workload pod = {
		.kind = WORKLOAD_POD_CONTAINER,
		.pod_namespace = "payments",
		.pod_name = "api-6d4cf56db6-x2x7q",
		.container_name = "api",
		.container_id = ID_A,
		.image = "registry.example/payments/api:1.4.2", /* not part of the name */
		.binary = "/usr/bin/api",
	};
	struct workload w;
	char buf[WORKLOAD_NAME_MAX], small[8];

	(void)state;
	workload_name(&pod, buf, sizeof(buf));
	assert_string_equal(buf, "payments/api-6d4cf56db6-x2x7q/api");
	w = pod;
	w.container_name = NULL; /* not known yet: the id stands in */
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, "payments/api-6d4cf56db6-x2x7q/" ID_A);

	w = (struct workload){ .kind = WORKLOAD_CONTAINER, .container_name = "web",
			       .container_id = ID_A, .pod_name = "ignored" };
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, "web");
	w.container_name = NULL;
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, ID_A);

	w = (struct workload){ .kind = WORKLOAD_HOST_BINARY, .binary = "/usr/sbin/sshd",
			       .unit = "ignored.service" };
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, "/usr/sbin/sshd");
	w.binary = NULL;
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, "");

	w = (struct workload){ .kind = WORKLOAD_UNIT, .unit = "cron.service",
			       .binary = "/usr/sbin/cron" };
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, "cron.service");

	w = (struct workload){ .kind = 0, .binary = "/bin/x" }; /* never stored */
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, "?");

	/* Cut to size, terminated, and nothing written past it. */
	memset(small, 'x', sizeof(small));
	workload_name(&pod, small, 6);
	assert_string_equal(small, "payme");
	assert_int_equal(small[6], 'x');
	memset(small, 'x', sizeof(small));
	workload_name(&pod, small, 1);
	assert_string_equal(small, "");
	assert_int_equal(small[1], 'x');
}

static struct container_info info_of(const char *id, const char *ns, const char *pod,
				     const char *name, const char *image, const char *cgroup)
{
	struct container_info c = { .runtime = *id ? "containerd" : "" };

	snprintf(c.id, sizeof(c.id), "%s", id);
	c.pod_namespace = (char *)ns;
	c.pod_name = (char *)pod;
	c.name = (char *)name;
	c.image = (char *)image;
	c.cgroup = (char *)cgroup;
	return c;
}

static void test_of_pod_container(void **state)
{
	struct container_info c = info_of(ID_A, "payments", "api-6d4cf56db6-x2x7q", "api",
					  "registry.example/payments/api:1.4.2",
					  "/kubepods/besteffort/pod0b6f/" ID_A);
	struct workload w;

	(void)state;
	workload_of(&c, "/usr/bin/api", &w);
	assert_int_equal(w.kind, WORKLOAD_POD_CONTAINER);
	assert_string_equal(w.pod_namespace, "payments");
	assert_string_equal(w.pod_name, "api-6d4cf56db6-x2x7q");
	assert_string_equal(w.container_name, "api");
	assert_ptr_equal(w.container_id, c.id); /* points into c */
	assert_string_equal(w.image, "registry.example/payments/api:1.4.2");
	assert_null(w.binary); /* a container is named by itself, not its programs */
	assert_null(w.unit);

	/* A container whose name is not known yet: still the pod's. */
	c.name = "";
	c.image = "";
	workload_of(&c, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_POD_CONTAINER);
	assert_null(w.container_name);
	assert_null(w.image);
	assert_string_equal(workload_container(&w), ID_A);
}

static void test_of_plain_container(void **state)
{
	struct container_info c = info_of(ID_A, "", "", "", "",
					  "/system.slice/docker-" ID_A ".scope");
	struct workload w;
	char buf[WORKLOAD_NAME_MAX];

	(void)state;
	workload_of(&c, "/bin/sh", &w);
	assert_int_equal(w.kind, WORKLOAD_CONTAINER);
	assert_string_equal(w.container_id, ID_A);
	assert_null(w.container_name);
	assert_null(w.pod_namespace);
	assert_null(w.pod_name);
	assert_null(w.image);
	assert_null(w.binary);
	workload_name(&w, buf, sizeof(buf));
	assert_string_equal(buf, ID_A);

	/* Half a pod name is no pod: a namespace without a pod, and the reverse. */
	c = info_of(ID_A, "payments", "", "api", "busybox:1.36", "");
	workload_of(&c, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_CONTAINER);
	assert_null(w.pod_namespace);
	assert_string_equal(w.container_name, "api");
	assert_string_equal(w.image, "busybox:1.36");
	c = info_of(ID_A, "", "api-0", "api", "", "");
	workload_of(&c, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_CONTAINER);
	assert_null(w.pod_name);

	/* A container started by a systemd service's scope is the container. */
	c = info_of(ID_A, "", "", "", "", "/system.slice/podman.service");
	workload_of(&c, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_CONTAINER);
	assert_null(w.unit);
}

static void test_of_unit(void **state)
{
	struct container_info c = info_of("", "", "", "", "", "/system.slice/cron.service");
	struct workload w;

	(void)state;
	workload_of(&c, "/usr/sbin/cron", &w);
	assert_int_equal(w.kind, WORKLOAD_UNIT);
	assert_string_equal(w.unit, "cron.service");
	assert_ptr_equal(w.unit, c.cgroup + strlen("/system.slice/")); /* points into c */
	assert_null(w.binary);
	assert_null(w.container_id);

	/* Only a leaf ending in ".service", with a name before it, is a unit. */
	c.cgroup = "/system.slice/.service";
	workload_of(&c, "/usr/sbin/cron", &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	c.cgroup = "/system.slice/cron.service/extra";
	workload_of(&c, "/usr/sbin/cron", &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	c.cgroup = "/user.slice/user-1000.slice/session-1.scope";
	workload_of(&c, "/usr/sbin/cron", &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	c.cgroup = "cron.service"; /* not a path */
	workload_of(&c, "/usr/sbin/cron", &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	c.cgroup = "/";
	workload_of(&c, "/usr/sbin/cron", &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "/usr/sbin/cron");
}

static void test_of_host_binary(void **state)
{
	struct container_info c = info_of("", "", "", "", "",
					  "/user.slice/user-1000.slice/session-1.scope");
	const char *binary = "/usr/sbin/sshd";
	struct workload w;

	(void)state;
	workload_of(&c, binary, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_ptr_equal(w.binary, binary);
	assert_null(w.unit);
	assert_null(w.container_id);
	assert_null(w.pod_name);
	workload_of(&c, NULL, &w);
	assert_string_equal(w.binary, "unknown");
	workload_of(&c, "", &w);
	assert_string_equal(w.binary, "unknown");
	/* No container answer at all (a cgroup already gone). */
	workload_of(NULL, binary, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "/usr/sbin/sshd");
	workload_of(NULL, NULL, &w);
	assert_int_equal(w.kind, WORKLOAD_HOST_BINARY);
	assert_string_equal(w.binary, "unknown");
	/* A runtime's re-exec of itself, its real binary unknown: never a name. */
	workload_of(&c, "/proc/self/exe", &w);
	assert_string_equal(w.binary, "unknown");
	workload_of(NULL, "/dev/fd/6", &w);
	assert_string_equal(w.binary, "unknown");
	/* In a container, the container names it. */
	c = info_of(ID_A, "default", "xwing", "spaceship", "", "");
	workload_of(&c, "/proc/self/exe", &w);
	assert_int_equal(w.kind, WORKLOAD_POD_CONTAINER);
	assert_null(w.binary);
}

struct owner_case {
	const char *pod;
	const char *labels[4][2]; /* key, value; NULL-terminated */
	const char *kind;
	const char *name;
	const char *how;
};

static const struct owner_case owner_cases[] = {
	/* The ReplicaSet's hash, as CRI-O records the pod's labels. */
	{ "checkout-7d4b9c6f5-x2x9q", { { "pod-template-hash", "7d4b9c6f5" }, { "app", "co" } },
	  "Deployment", "checkout", "label:pod-template-hash" },
	/* A Deployment whose name has dashes and digits of its own. */
	{ "web-api-2-5f7c8d9b4-b8k2p", { { "pod-template-hash", "5f7c8d9b4" } },
	  "Deployment", "web-api-2", "label:pod-template-hash" },
	/* With the label, any suffix: the labels say who made the pod. */
	{ "coredns-5d78c9869d-abcde", { { "pod-template-hash", "5d78c9869d" } },
	  "Deployment", "coredns", "label:pod-template-hash" },
	/* The hash label does not match the name: not guessed from it. */
	{ "checkout-7d4b9c6f5-x2x9q", { { "pod-template-hash", "zzzzzzzz" } },
	  "Deployment", "checkout", "name-pattern" },
	{ "web-0", { { "statefulset.kubernetes.io/pod-name", "web-0" },
		     { "controller-revision-hash", "web-6c9d8" } },
	  "StatefulSet", "web", "label:statefulset.kubernetes.io/pod-name" },
	{ "db-replica-12", { { "statefulset.kubernetes.io/pod-name", "db-replica-12" } },
	  "StatefulSet", "db-replica", "label:statefulset.kubernetes.io/pod-name" },
	{ "node-exporter-x7k2p", { { "controller-revision-hash", "5b8f6d7c9" },
				   { "pod-template-generation", "3" } },
	  "DaemonSet", "node-exporter", "label:pod-template-generation" },
	{ "migrate-4xk9p", { { "job-name", "migrate" }, { "controller-uid", "0b6f" } },
	  "Job", "migrate", "label:job-name" },
	{ "migrate-4xk9p", { { "batch.kubernetes.io/job-name", "migrate" },
			     { "job-name", "migrate" } },
	  "Job", "migrate", "label:batch.kubernetes.io/job-name" },
	{ "backup-29345678-q8d2n", { { "job-name", "backup-29345678" } },
	  "CronJob", "backup", "label:job-name+name-pattern" },
	{ "report-daily-1700000000-q8d2n", { { "job-name", "report-daily-1700000000" } },
	  "CronJob", "report-daily", "label:job-name+name-pattern" },
	/* No labels (containerd records none): the controllers' names. */
	{ "checkout-7d4b9c6f5-x2x9q", { { NULL } }, "Deployment", "checkout", "name-pattern" },
	{ "coredns-565d847f94-8lqp5", { { NULL } }, "Deployment", "coredns", "name-pattern" },
	{ "backup-29345678-q8d2n", { { NULL } }, "CronJob", "backup", "name-pattern" },
	{ "web-3", { { NULL } }, "StatefulSet", "web", "name-pattern" },
	{ "web-03", { { NULL } }, "Pod", "web-03", "none" }, /* no ordinal has a leading 0 */
	/* <name>-<suffix>: a DaemonSet or a Job pod, not told apart. */
	{ "node-exporter-x7k2p", { { NULL } }, "Pod", "node-exporter-x7k2p", "none" },
	{ "nginx", { { NULL } }, "Pod", "nginx", "none" },
	{ "-5f7c8d9b4-b8k2p", { { NULL } }, "Pod", "-5f7c8d9b4-b8k2p", "none" },
	/* Vowels are not in a hash, nor in a generated suffix. */
	{ "shop-frontend-aeiou", { { NULL } }, "Pod", "shop-frontend-aeiou", "none" },
	{ "shop-abcdefg-x2x9q", { { NULL } }, "Pod", "shop-abcdefg-x2x9q", "none" },
	{ "", { { NULL } }, "Pod", "", "none" },
	/* Labels recorded, none a controller's: a bare pod, whatever its name. */
	{ "static-node-1", { { "tier", "control-plane" } }, "Pod", "static-node-1", "none" },
	{ "checkout-7d4b9c6f5-x2x9q", { { "app", "co" } }, "Pod", "checkout-7d4b9c6f5-x2x9q",
	  "none" },
	/* An empty job-name is no job; other labels still decide. */
	{ "api-5f7c8d9b4-b8k2p", { { "job-name", "" } }, "Deployment", "api", "name-pattern" },
};

static void test_owner_of(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(owner_cases) / sizeof(owner_cases[0]); i++) {
		const struct owner_case *t = &owner_cases[i];
		struct container_label labels[4];
		struct workload_owner o;
		size_t n = 0;

		for (; n < 4 && t->labels[n][0]; n++)
			labels[n] = (struct container_label){ (char *)t->labels[n][0],
							      (char *)t->labels[n][1] };
		workload_owner_of(t->pod, labels, n, &o);
		print_message("%s\n", t->pod);
		assert_string_equal(o.kind, t->kind);
		assert_string_equal(o.name, t->name);
		assert_string_equal(o.how, t->how);
	}
}

static void test_owner_cut(void **state)
{
	char pod[600];
	struct workload_owner o;

	(void)state;
	memset(pod, 'a', sizeof(pod) - 1);
	pod[sizeof(pod) - 1] = '\0';
	workload_owner_of(pod, NULL, 0, &o);
	assert_string_equal(o.kind, "Pod");
	assert_int_equal(strlen(o.name), WORKLOAD_OWNER_NAME_MAX);
	workload_owner_of(NULL, NULL, 0, &o);
	assert_string_equal(o.name, "");
}

static void test_owner_kind(void **state)
{
	(void)state;
	assert_string_equal(workload_owner_kind("deployment"), "Deployment");
	assert_string_equal(workload_owner_kind("StatefulSet"), "StatefulSet");
	assert_string_equal(workload_owner_kind("CRONJOB"), "CronJob");
	assert_string_equal(workload_owner_kind("Container"), "Container");
	assert_null(workload_owner_kind("ReplicaSet"));
	assert_null(workload_owner_kind(""));
	assert_null(workload_owner_kind(NULL));
}

static void test_of_owner(void **state)
{
	struct container_info c = info_of(ID_A, "shop", "checkout-7d4b9c6f5-x2x9q", "app", "", "");
	struct workload w;

	(void)state;
	c.owner_kind = "Deployment";
	c.owner_name = "checkout";
	c.owner_how = "name-pattern";
	workload_of(&c, "/bin/app", &w);
	assert_string_equal(w.owner_kind, "Deployment");
	assert_string_equal(w.owner_name, "checkout");
	assert_string_equal(w.owner_how, "name-pattern");
	/* Outside Kubernetes the container's name is the workload. */
	c = info_of(ID_A, "", "", "redis", "", "");
	workload_of(&c, "/bin/redis", &w);
	assert_string_equal(w.owner_kind, "Container");
	assert_string_equal(w.owner_name, "redis");
	assert_string_equal(w.owner_how, "container-name");
	c = info_of(ID_A, "", "", "", "", "");
	workload_of(&c, "/bin/redis", &w);
	assert_string_equal(w.owner_name, ID_A);
	assert_string_equal(w.owner_how, "container-id");
	c = info_of("", "", "", "", "", "/system.slice/cron.service");
	workload_of(&c, "/usr/sbin/cron", &w);
	assert_null(w.owner_kind);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_container_part),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_of_pod_container),
		cmocka_unit_test(test_of_plain_container),
		cmocka_unit_test(test_of_unit),
		cmocka_unit_test(test_of_host_binary),
		cmocka_unit_test(test_owner_of),
		cmocka_unit_test(test_owner_cut),
		cmocka_unit_test(test_owner_kind),
		cmocka_unit_test(test_of_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
