/* Formatters: JSON parsed back with json-c, compact and table lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/output.h"

/* 2023-07-06T10:13:33.834882128Z as boot offset + ktime. */
#define WALL_NS 1688638413834882128ull
#define KTIME_NS 12842783350684ull

static struct ct_cap_event reference_event(void)
{
	struct ct_cap_event e = {
		.type = CT_REC_CAP,
		.flags = CT_CAP_REAL_CRED,
		.ktime_ns = KTIME_NS,
		.pid = 73860,
		.tid = 73860,
		.ppid = 73850,
		.euid = 65534,
		.cap = 34,
		.ret = -1,
		.syscall = 103,
		.target_ns_inum = 4026531837u,
		.cap_permitted = 1ull << 0,
		.cap_effective = (1ull << 0) | (1ull << 34),
	};

	for (int i = 0; i < CT_NS_COUNT; i++)
		e.ns[i] = 4026531830u + i;
	strcpy(e.comm, "dmesg");
	return e;
}

static char *render(const struct identity_event *ev, enum output_format format,
		    const uint32_t *host_ns)
{
	struct output_opts opts = {
		.format = format,
		.node_name = "kind-control-plane",
		.boot_offset_ns = (int64_t)(WALL_NS - KTIME_NS),
		.host_ns = host_ns,
	};
	struct output o;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	output_init(&o, f, &opts);
	output_event(&o, ev);
	fclose(f);
	return text;
}

static struct json_object *get(struct json_object *obj, const char *path)
{
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *key = strtok_r(copy, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(obj, json_type_array))
			obj = json_object_array_get_idx(obj, (size_t)atoi(key));
		else if (!json_object_object_get_ex(obj, key, &obj))
			return NULL;
		if (!obj)
			return NULL;
	}
	return obj;
}

static const char *get_str(struct json_object *obj, const char *path)
{
	struct json_object *v = get(obj, path);

	assert_non_null(v);
	return json_object_get_string(v);
}

static int64_t get_int(struct json_object *obj, const char *path)
{
	struct json_object *v = get(obj, path);

	assert_non_null(v);
	return json_object_get_int64(v);
}

static void test_json_reference_shape(void **state)
{
	struct ct_cap_event e = reference_event();
	struct identity_event ev = { .cap = &e, .syscall = "syslog" };
	struct json_object *root, *pk;
	char *text;

	(void)state;
	ev.process = (struct identity_process){ .pid = 73860, .tid = 73860, .uid = 65534,
					      .auid = 4294967295u, .binary = "/bin/dmesg",
					      .flags = "execve rootcwd clone", .ns = e.ns };
	text = render(&ev, OUTPUT_JSON, e.ns);
	assert_non_null(strchr(text, '\n'));
	assert_true(strchr(text, '\n') == text + strlen(text) - 1); /* one line */
	root = json_tokener_parse(text);
	assert_non_null(root);
	pk = get(root, "process_kprobe");
	assert_non_null(pk);
	assert_string_equal(get_str(pk, "function_name"), "cap_capable");
	assert_int_equal(get_int(pk, "args.1.capability_arg.value"), 34);
	assert_string_equal(get_str(pk, "args.1.capability_arg.name"), "CAP_SYSLOG");
	assert_int_equal(get_int(pk, "args.0.user_ns_arg.level"), 0);
	assert_int_equal(get_int(pk, "args.0.user_ns_arg.ns.inum"), 4026531837);
	assert_true(json_object_get_boolean(get(pk, "args.0.user_ns_arg.ns.is_host")));
	assert_int_equal(get_int(pk, "return.int_arg"), -1);
	assert_string_equal(get_str(pk, "action"), "KPROBE_ACTION_POST");
	assert_int_equal(get_int(pk, "process.pid"), 73860);
	assert_int_equal(get_int(pk, "process.uid"), 65534);
	assert_int_equal(get_int(pk, "process.auid"), 4294967295);
	assert_string_equal(get_str(pk, "process.binary"), "/bin/dmesg");
	assert_string_equal(get_str(pk, "process.flags"), "execve rootcwd clone");
	assert_int_equal(get_int(pk, "process.ns.user.inum"), 4026531839);
	assert_true(json_object_get_boolean(get(pk, "process.ns.pid.is_host")));
	assert_string_equal(get_str(pk, "process.cap.effective.1"), "CAP_SYSLOG");
	assert_int_equal(json_object_array_length(get(pk, "process.cap.inheritable")), 0);
	assert_null(get(pk, "parent"));
	assert_null(get(pk, "process.pod"));
	assert_string_equal(get_str(pk, "tags.0"), "denied");
	assert_string_equal(get_str(pk, "tags.1"), "syscall:syslog");
	assert_string_equal(get_str(root, "node_name"), "kind-control-plane");
	assert_string_equal(get_str(root, "time"), "2023-07-06T10:13:33.834882128Z");
	json_object_put(root);
	free(text);
}

static void test_json_pod_parent_and_escaping(void **state)
{
	struct ct_cap_event e = reference_event();
	uint32_t host_ns[CT_NS_COUNT];
	struct identity_label labels[] = { { "class", "xwing" }, { "org", "alliance" } };
	struct identity_pod pod = {
		.namespace_ = "default",
		.name = "xwing",
		.container_id = "containerd://cfb961400ff25811d22d139a10f6a62efef53c2ecc11af47bc911a7f9a2ac1f7",
		.container_name = "spaceship",
		.container_pid = 171,
		.labels = labels,
		.n_labels = 2,
		.docker = "cfb961400ff25811d22d139a10f6a62",
	};
	struct identity_process parent = { .pid = 73850, .uid = 0, .auid = 4294967295u,
					 .exec_id = "parent-id", .binary = "/bin/bash" };
	struct identity_event ev = { .cap = &e, .parent = &parent };
	struct json_object *root;
	char *text;

	(void)state;
	memcpy(host_ns, e.ns, sizeof(host_ns));
	host_ns[CT_NS_PID] = 1; /* the process is in a pid namespace of its own */
	ev.process = (struct identity_process){ .pid = 73860, .tid = 73860, .uid = 0,
					      .binary = "/bin/\"odd\"\\name\n", .arguments = "a\tb",
					      .ns = e.ns, .pod = &pod, .parent_exec_id = "parent-id" };
	text = render(&ev, OUTPUT_JSON, host_ns);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_string_equal(get_str(root, "process_kprobe.process.binary"), "/bin/\"odd\"\\name\n");
	assert_string_equal(get_str(root, "process_kprobe.process.arguments"), "a\tb");
	assert_string_equal(get_str(root, "process_kprobe.process.pod.name"), "xwing");
	assert_string_equal(get_str(root, "process_kprobe.process.pod.container.name"), "spaceship");
	assert_int_equal(get_int(root, "process_kprobe.process.pod.container.pid"), 171);
	assert_string_equal(get_str(root, "process_kprobe.process.pod.pod_labels.org"), "alliance");
	assert_string_equal(get_str(root, "process_kprobe.process.docker"),
			    "cfb961400ff25811d22d139a10f6a62");
	assert_false(json_object_get_boolean(get(root, "process_kprobe.process.ns.pid.is_host")));
	assert_true(json_object_get_boolean(get(root, "process_kprobe.process.ns.uts.is_host")));
	assert_string_equal(get_str(root, "process_kprobe.parent.exec_id"),
			    get_str(root, "process_kprobe.process.parent_exec_id"));
	assert_null(get(root, "process_kprobe.parent.tid"));
	assert_null(get(root, "process_kprobe.parent.cap"));
	json_object_put(root);
	free(text);
}

static void test_compact_and_table(void **state)
{
	struct ct_cap_event e = reference_event();
	struct identity_pod pod = { .namespace_ = "default", .name = "xwing",
				  .container_name = "spaceship" };
	struct identity_event ev = { .cap = &e, .syscall = "syslog" };
	char *text;

	(void)state;
	ev.process = (struct identity_process){ .pid = 73860, .uid = 65534 };
	text = render(&ev, OUTPUT_COMPACT, NULL);
	assert_non_null(strstr(text, " denied  CAP_SYSLOG "));
	assert_non_null(strstr(text, "pid=73860 uid=65534 dmesg syscall=syslog\n"));
	free(text);

	ev.process.pod = &pod;
	ev.process.binary = "/bin/dmesg";
	text = render(&ev, OUTPUT_COMPACT, NULL);
	assert_non_null(strstr(text, "default/xwing spaceship /bin/dmesg"));
	free(text);

	text = render(&ev, OUTPUT_TABLE, NULL);
	assert_true(strncmp(text, "TIME", 4) == 0);
	assert_non_null(strstr(text, "CAP_SYSLOG"));
	assert_non_null(strstr(text, "syslog"));
	free(text);
}

static void test_format_parse(void **state)
{
	enum output_format f = OUTPUT_TABLE;

	(void)state;
	assert_int_equal(output_format_parse("json", &f), 0);
	assert_int_equal(f, OUTPUT_JSON);
	assert_int_equal(output_format_parse("yaml", &f), -EINVAL);
	assert_int_equal(f, OUTPUT_JSON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_reference_shape),
		cmocka_unit_test(test_json_pod_parent_and_escaping),
		cmocka_unit_test(test_compact_and_table),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
