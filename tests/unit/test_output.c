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
#include "identity/container.h"
#include "identity/workload.h"
#include "lib/text.h"

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
	/* protojson omits what is empty, false or zero */
	assert_null(get(pk, "process.cap.inheritable"));
	assert_null(get(pk, "process.arguments"));
	assert_null(get(pk, "process.exec_id"));
	assert_string_equal(get_str(pk, "return_action"), "KPROBE_ACTION_POST");
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
		.workload = "xwing",
		.workload_kind = "Pod",
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
	assert_null(get(root, "process_kprobe.process.ns.pid.is_host"));
	assert_true(json_object_get_boolean(get(root, "process_kprobe.process.ns.uts.is_host")));
	assert_string_equal(get_str(root, "process_kprobe.parent.exec_id"),
			    get_str(root, "process_kprobe.process.parent_exec_id"));
	assert_int_equal(get_int(root, "process_kprobe.parent.tid"), 73850);
	assert_null(get(root, "process_kprobe.process.pod.container.image"));
	assert_null(get(root, "process_kprobe.parent.cap"));
	assert_string_equal(get_str(root, "process_kprobe.process.pod.workload"), "xwing");
	assert_string_equal(get_str(root, "process_kprobe.process.pod.workload_kind"), "Pod");
	assert_null(get(root, "process_kprobe.process.in_init_tree"));
	json_object_put(root);
	free(text);

	ev.process.init_tree = IDENTITY_INIT_OUT;
	parent.init_tree = IDENTITY_INIT_IN;
	text = render(&ev, OUTPUT_JSON, host_ns);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_false(json_object_get_boolean(get(root, "process_kprobe.process.in_init_tree")));
	assert_true(json_object_get_boolean(get(root, "process_kprobe.parent.in_init_tree")));
	json_object_put(root);
	free(text);
}

/* The workload the identity layer derives from a pod's name and labels is
 * the one the event names. */
static void test_json_workload(void **state)
{
	static const struct {
		const char *name, *key, *value, *key2, *value2, *workload, *kind;
	} cases[] = {
		{ "web-7d4b9c8f6d-x2kqp", "pod-template-hash", "7d4b9c8f6d", NULL, NULL, "web",
		  "Deployment" },
		/* The hash is not where a Deployment's pod has it. */
		{ "web-x2kqp", "pod-template-hash", "7d4b9c8f6d", NULL, NULL, "web-x2kqp", "Pod" },
		{ "db-2", "statefulset.kubernetes.io/pod-name", "db-2", "controller-revision-hash",
		  "db-5c9", "db", "StatefulSet" },
		{ "agent-k8x7p", "controller-revision-hash", "6f9d", "pod-template-generation", "1",
		  "agent", "DaemonSet" },
		{ "migrate-vq9zt", "job-name", "migrate", NULL, NULL, "migrate", "Job" },
		{ "backup-28847520-9xk2l", "batch.kubernetes.io/job-name", "backup-28847520",
		  NULL, NULL, "backup", "CronJob" },
		{ "static-node-1", "tier", "control-plane", NULL, NULL, "static-node-1", "Pod" },
	};
	struct ct_cap_event e = reference_event();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct container_label owner_labels[] = {
			{ (char *)cases[i].key, (char *)cases[i].value },
			{ (char *)cases[i].key2, (char *)cases[i].value2 },
		};
		size_t n_labels = cases[i].key2 ? 2 : 1;
		struct workload_owner owner;
		struct identity_pod pod = { .namespace_ = "default", .name = cases[i].name };
		struct identity_event ev = { .cap = &e };
		struct json_object *root;
		char *text;

		workload_owner_of(cases[i].name, owner_labels, n_labels, &owner);
		pod.workload = owner.name;
		pod.workload_kind = owner.kind;
		ev.process = (struct identity_process){ .pid = 7, .pod = &pod };
		text = render(&ev, OUTPUT_JSON, NULL);
		root = json_tokener_parse(text);
		assert_non_null(root);
		assert_string_equal(get_str(root, "process_kprobe.process.pod.workload"),
				    cases[i].workload);
		assert_string_equal(get_str(root, "process_kprobe.process.pod.workload_kind"),
				    cases[i].kind);
		json_object_put(root);
		free(text);
	}
}

/* Tetragon's spelling of capability 1, a number past its table, and a
 * container outside Kubernetes, which has "docker" and no "pod". */
static void test_json_tetragon_names(void **state)
{
	struct ct_cap_event e = reference_event();
	struct identity_pod container = {
		.container_id = "docker://cfb961400ff25811d22d139a10f6a62efef53c2ecc11af47bc911a7f9a2ac1f7",
		.container_name = "spaceship",
		.image = "spaceship:1",
		.docker = "cfb961400ff25811d22d139a10f6a62",
	};
	struct identity_event ev = { .cap = &e };
	struct json_object *root, *pk;
	char *text;

	(void)state;
	e.cap = 41;
	e.cap_permitted = (1ull << 1) | (1ull << 40) | (1ull << 41);
	ev.process = (struct identity_process){ .pid = 7, .binary = "/bin/x", .pod = &container };
	text = render(&ev, OUTPUT_JSON, NULL);
	root = json_tokener_parse(text);
	assert_non_null(root);
	pk = get(root, "process_kprobe");
	assert_non_null(strstr(text, "\"permitted\":[\"DAC_OVERRIDE\",\"CAP_CHECKPOINT_RESTORE\",41]"));
	assert_int_equal(get_int(pk, "args.1.capability_arg.value"), 41);
	assert_null(get(pk, "args.1.capability_arg.name"));
	assert_null(get(pk, "process.pod"));
	assert_string_equal(get_str(pk, "process.docker"), "cfb961400ff25811d22d139a10f6a62");
	assert_int_equal(get_int(pk, "process.tid"), 7);
	json_object_put(root);
	free(text);

	e.cap = 1;
	text = render(&ev, OUTPUT_JSON, NULL);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_string_equal(get_str(root, "process_kprobe.args.1.capability_arg.name"),
			    "DAC_OVERRIDE");
	json_object_put(root);
	free(text);
}

/* Every id written, zeros too (wrappers); securebits by Tetragon's names,
 * none when none is set, and a bit it has no name for left out. */
static void test_json_credentials(void **state)
{
	struct ct_cap_event e = reference_event();
	struct identity_event ev = { .cap = &e };
	struct json_object *root, *creds;
	char *text;

	(void)state;
	e.uid = 1000;
	e.gid = 0;
	e.euid = 0;
	e.egid = 1001;
	e.suid = 2000;
	e.sgid = 2001;
	e.fsuid = 3000;
	e.fsgid = 3001;
	e.securebits = (1u << 4) | (1u << 5) | (1u << 8);
	ev.process = (struct identity_process){ .pid = 7, .binary = "/bin/x" };
	text = render(&ev, OUTPUT_JSON, NULL);
	root = json_tokener_parse(text);
	assert_non_null(root);
	creds = get(root, "process_kprobe.process.process_credentials");
	assert_non_null(creds);
	assert_int_equal(get_int(creds, "uid"), 1000);
	assert_int_equal(get_int(creds, "gid"), 0);
	assert_int_equal(get_int(creds, "euid"), 0);
	assert_int_equal(get_int(creds, "egid"), 1001);
	assert_int_equal(get_int(creds, "suid"), 2000);
	assert_int_equal(get_int(creds, "sgid"), 2001);
	assert_int_equal(get_int(creds, "fsuid"), 3000);
	assert_int_equal(get_int(creds, "fsgid"), 3001);
	assert_int_equal(json_object_array_length(get(creds, "securebits")), 2);
	assert_string_equal(get_str(creds, "securebits.0"), "SecBitKeepCaps");
	assert_string_equal(get_str(creds, "securebits.1"), "SecBitKeepCapsLocked");
	json_object_put(root);
	free(text);

	e.securebits = 1u << 8;
	text = render(&ev, OUTPUT_JSON, NULL);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_non_null(get(root, "process_kprobe.process.process_credentials.uid"));
	assert_null(get(root, "process_kprobe.process.process_credentials.securebits"));
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

static bool line_clean(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return false;
	return true;
}

/* What a workload controls cannot forge a line, drive a terminal or make
 * the JSON invalid; what is too long is cut at a character boundary with
 * the mark, and counted. */
static void test_hostile_strings(void **state)
{
	static const char *const formats[] = { "compact", "table", "json" };
	struct ct_cap_event e = reference_event();
	struct identity_label labels[] = { { "k\n\xff", "v\x1b[31m" } };
	struct identity_pod pod = { .namespace_ = "ns\nFAKE", .name = "pod\xc2\x9b",
				  .container_name = "c\xe2\x80\xae", .image = "img\xff",
				  .labels = labels, .n_labels = 1 };
	char binary[1100], args[1100];
	struct identity_event ev = { .cap = &e, .syscall = "syslog" };

	(void)state;
	/* a 4-byte character across the bound, newline and escape inside */
	memset(binary, 'b', sizeof(binary));
	memcpy(binary, "/tmp/x\ny\x1b[2J\xff/", 14);
	memcpy(binary + TEXT_PATH_MAX - 5, "\xf0\x9f\x9a\x80", 4);
	binary[sizeof(binary) - 1] = '\0';
	snprintf(args, sizeof(args), "short \xe2\x82");
	ev.process = (struct identity_process){ .pid = 1, .uid = 0, .binary = binary,
					      .cwd = "/\r\n", .arguments = args,
					      .flags = "execve truncArgs", .pod = &pod };
	for (int f = OUTPUT_COMPACT; f <= OUTPUT_JSON; f++) {
		struct output_opts opts = { .format = (enum output_format)f, .node_name = "n" };
		struct output o;
		char *text = NULL, *line, *end;
		size_t size = 0;
		FILE *out = open_memstream(&text, &size);

		assert_non_null(out);
		output_init(&o, out, &opts);
		output_event(&o, &ev);
		fclose(out);
		line = f == OUTPUT_TABLE ? strchr(text, '\n') + 1 : text; /* past the header */
		end = strchr(line, '\n');
		assert_non_null(end);
		if (end[1])
			fail_msg("%s: more than one line: %s", formats[f], text);
		assert_true(text_utf8_valid(text, size));
		assert_true(line_clean(line, (size_t)(end - line)));
		if (f != OUTPUT_JSON) {
			assert_non_null(strstr(line, "/tmp/x\\ny\\x1b[2J\\xff/bbb"));
			assert_non_null(strstr(line, "ns\\nFAKE/pod\\u009b c\\u202e /tmp/"));
			/* the bound cut before the rocket, which did not fit whole */
			assert_non_null(strstr(line, "bbbb" TEXT_CUT_MARK));
			assert_int_equal(o.cut, 1);
		} else {
			json_object *root = json_tokener_parse(text);
			const char *bin;

			assert_non_null(root);
			bin = get_str(root, "process_kprobe.process.binary");
			/* 995 bytes kept, one of them now a U+FFFD */
			assert_int_equal(strlen(bin), TEXT_PATH_MAX - 5 + 2 + TEXT_CUT_MARK_LEN);
			assert_memory_equal(bin, "/tmp/x\ny\x1b[2J\xef\xbf\xbd/", 16);
			assert_string_equal(bin + strlen(bin) - TEXT_CUT_MARK_LEN, TEXT_CUT_MARK);
			assert_string_equal(get_str(root, "process_kprobe.process.cwd"), "/\r\n");
			/* cut upstream (truncArgs): partial character dropped, marked */
			assert_string_equal(get_str(root, "process_kprobe.process.arguments"),
					    "short " TEXT_CUT_MARK);
			assert_string_equal(get_str(root, "process_kprobe.process.pod.namespace"),
					    "ns\nFAKE");
			assert_string_equal(
				get_str(root, "process_kprobe.process.pod.container.image.name"),
				"img\xef\xbf\xbd");
			assert_string_equal(get_str(root, "process_kprobe.process.pod.pod_labels."
							  "k\n\xef\xbf\xbd"),
					    "v\x1b[31m");
			assert_int_equal(o.cut, 2);
			json_object_put(root);
		}
		free(text);
	}
}

/* events prints lines from JSON it did not write. */
static void test_compact_from_json(void **state)
{
	json_object *event = json_tokener_parse(
		"{\"process_kprobe\":{\"process\":{\"pid\":7,\"uid\":0,"
		"\"binary\":\"/bin/x\\nFAKE granted\\u001b[0m\"},"
		"\"args\":[{\"capability_arg\":{\"name\":\"CAP_\\r\\nX\"}}],"
		"\"tags\":[\"denied\",\"syscall:a\\nb\"]},\"time\":\"x\"}");
	struct output_line l;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	(void)state;
	assert_non_null(event);
	output_line_from_json(event, &l);
	assert_int_equal(output_compact_line(out, &l), 0);
	fclose(out);
	assert_string_equal(text, "- denied  CAP_\\r\\nX              pid=7 uid=0 "
				  "/bin/x\\nFAKE granted\\x1b[0m syscall=a\\nb\n");
	free(text);
	json_object_put(event);
}

/* A runtime's start-up check is tagged, in the tags strict parsers of the
 * reference format accept; others are not. */
static void test_runtime_tag(void **state)
{
	struct ct_cap_event e = reference_event();
	struct identity_event ev = { .cap = &e, .runtime = true };
	struct json_object *root, *tags;
	char *text;
	bool found = false;

	(void)state;
	ev.process = (struct identity_process){ .pid = 73860, .binary = "/usr/sbin/runc",
					      .ns = e.ns };
	for (int runtime = 1; runtime >= 0; runtime--) {
		ev.runtime = runtime;
		text = render(&ev, OUTPUT_JSON, e.ns);
		root = json_tokener_parse(text);
		assert_non_null(root);
		tags = get(root, "process_kprobe.tags");
		assert_non_null(tags);
		found = false;
		for (size_t i = 0; i < json_object_array_length(tags); i++)
			found |= !strcmp(json_object_get_string(json_object_array_get_idx(tags, i)),
					 "runtime");
		assert_int_equal(found, runtime);
		json_object_put(root);
		free(text);
	}
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
		cmocka_unit_test(test_json_tetragon_names),
		cmocka_unit_test(test_json_credentials),
		cmocka_unit_test(test_json_workload),
		cmocka_unit_test(test_compact_and_table),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_compact_from_json),
		cmocka_unit_test(test_runtime_tag),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
