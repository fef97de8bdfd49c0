/* What rendering one event costs in user space: output_event() into
 * /dev/null, per format, for an event of the reference's shape (process,
 * parent, pod with labels, ten namespaces), with ASCII strings and with
 * strings full of multibyte characters. Prints the fastest round's ns per
 * event (a shared machine's load only ever adds); run the binaries of two
 * builds alternately to compare, or count instructions under
 * `valgrind --tool=callgrind`, which the load does not move:
 *   render [EVENTS [json|compact|table]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "event/output.h"

#define ROUNDS 7

static struct ct_cap_event event(void)
{
	struct ct_cap_event e = {
		.type = CT_REC_CAP,
		.flags = CT_CAP_REAL_CRED | CT_CAP_AUDIT_KNOWN,
		.ktime_ns = 12842783350684ull,
		.pid = 73860,
		.tid = 73860,
		.euid = 0,
		.cap = 21,
		.ret = 0,
		.target_ns_inum = 4026531837u,
		.cap_permitted = ~0ull >> 23,
		.cap_effective = ~0ull >> 23,
	};

	for (int i = 0; i < CT_NS_COUNT; i++)
		e.ns[i] = 4026531830u + (unsigned int)i;
	strcpy(e.comm, "runc:[2:INIT]");
	return e;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double measure(FILE *null, enum output_format format, const struct identity_event *ev,
		      long n)
{
	struct output_opts opts = { .format = format, .node_name = "kind-control-plane",
				    .host_ns = ev->cap->ns };
	uint64_t ns[ROUNDS];
	struct output o;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t start;

		output_init(&o, null, &opts);
		start = now_ns();
		for (long i = 0; i < n; i++)
			output_event(&o, ev);
		fflush(null);
		ns[r] = now_ns() - start;
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u64);
	return (double)ns[0] / (double)n;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum output_format format;
	} formats[] = { { "json", OUTPUT_JSON }, { "compact", OUTPUT_COMPACT },
			{ "table", OUTPUT_TABLE } };
	long n = argc > 1 ? atol(argv[1]) : 200000;
	const char *only = argc > 2 ? argv[2] : NULL;
	struct ct_cap_event e = event();
	struct identity_label labels[] = { { "app", "spaceship" }, { "class", "xwing" },
					   { "org", "alliance" } };
	struct identity_pod pod = {
		.namespace_ = "default",
		.name = "xwing-7d9f8c6b5-x2x7q",
		.uid = "4e1f2c3a-9b8d-4c7e-a6f5-1d2e3f4a5b6c",
		.container_id = "containerd://cfb961400ff25811d22d139a10f6a62efef53c2ecc11af47bc"
				"911a7f9a2ac1f7",
		.container_name = "spaceship",
		.image = "docker.io/library/spaceship:1.2.3",
		.container_start_time = "2023-07-06T08:07:30Z",
		.container_pid = 171,
		.labels = labels,
		.n_labels = 3,
		.docker = "cfb961400ff25811d22d139a10f6a62",
	};
	struct identity_process parent = {
		.pid = 73850, .uid = 0, .auid = 4294967295u,
		.exec_id = "a2luZC1jb250cm9sLXBsYW5lOjEyODQyMTI3MTIwOTcyOjczODUw",
		.parent_exec_id = "a2luZC1jb250cm9sLXBsYW5lOjEyODQyMDgxNTA3MzUzOjczODQx",
		.binary = "/usr/bin/bash", .arguments = "-c /usr/local/bin/start-spaceship",
		.cwd = "/", .flags = "execve rootcwd clone",
		.start_time = "2023-07-06T10:13:33.178160018Z", .pod = &pod, .ns = e.ns,
	};
	struct identity_event ev = { .cap = &e, .parent = &parent, .syscall = "sethostname" };
	struct identity_process ascii = {
		.pid = 73860, .tid = 73860, .uid = 0, .auid = 4294967295u,
		.exec_id = "a2luZC1jb250cm9sLXBsYW5lOjEyODQyNzgzMzUwNjg0OjczODYw",
		.parent_exec_id = parent.exec_id,
		.binary = "/usr/local/bin/spaceship-engine",
		.arguments = "--config /etc/spaceship/engine.yaml --verbose --hyperdrive=on",
		.cwd = "/var/lib/spaceship", .flags = "execve clone",
		.start_time = "2023-07-06T10:13:33.834390020Z", .pod = &pod, .ns = e.ns,
	};
	struct identity_process multibyte = ascii;
	FILE *null = fopen("/dev/null", "we");

	multibyte.binary = "/opt/звездолёт/bin/двигатель-宇宙船";
	multibyte.arguments = "--конфиг /etc/звездолёт/двигатель.yaml --подробно 🚀🚀🚀";
	multibyte.cwd = "/var/lib/звездолёт/данные";
	if (!null || n <= 0) {
		fprintf(stderr, "usage: render [EVENTS [json|compact|table]]\n");
		return 1;
	}
	printf("%-8s %12s %12s   (ns per event, fastest of %d rounds of %ld)\n", "format",
	       "ascii", "multibyte", ROUNDS, n);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		double a, m;

		if (only && strcmp(only, formats[f].name))
			continue;
		ev.process = ascii;
		a = measure(null, formats[f].format, &ev, n);
		ev.process = multibyte;
		m = measure(null, formats[f].format, &ev, n);
		printf("%-8s %12.0f %12.0f\n", formats[f].name, a, m);
	}
	fclose(null);
	return 0;
}
