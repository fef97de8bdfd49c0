/* Renders capability events as compact lines, a table, or JSON lines in the
 * reference document's process_kprobe shape. */
#ifndef CAPTRAIL_OUTPUT_H
#define CAPTRAIL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "bpf/captrail.h"
#include "event/jsonw.h"
#include "identity/identity.h"

enum output_format { OUTPUT_COMPACT, OUTPUT_TABLE, OUTPUT_JSON };

int output_format_parse(const char *name, enum output_format *ret_format);

struct output_opts {
	enum output_format format;
	const char *node_name;
	int64_t boot_offset_ns; /* see clock_boot_offset_ns() */
	const uint32_t *host_ns; /* PID 1's CT_NS_COUNT inums, or NULL */
};

/* Rendered capability-set arrays: most events repeat a few masks. */
#define OUTPUT_CAPSET_CACHE 8
#define OUTPUT_CAPSET_JSON 2048 /* 64 names of at most 30 bytes, quoted */

struct output_capset {
	uint64_t mask;
	size_t len; /* 0: empty slot */
	char json[OUTPUT_CAPSET_JSON];
};

/* Rendered "ns" objects: a burst of events mostly comes from a few
 * processes, whose namespaces rarely change. */
#define OUTPUT_NS_CACHE 4
#define OUTPUT_NS_JSON 640 /* ten names, 10-digit inums, is_host */

struct output_ns_json {
	uint32_t inums[CT_NS_COUNT];
	size_t len; /* 0: empty slot */
	char json[OUTPUT_NS_JSON];
};

struct output {
	FILE *out;
	struct output_capset capsets[OUTPUT_CAPSET_CACHE];
	unsigned int next_capset;
	struct output_ns_json ns_json[OUTPUT_NS_CACHE];
	unsigned int next_ns_json;
	struct output_opts opts;
	char node_name[256];
	uint32_t host_ns[CT_NS_COUNT];
	bool have_host_ns;
	bool header_done;
	uint64_t cut; /* workload strings cut to their bound (lib/text.h) */
	struct jsonw json;
};

/* One compact line: "10:13:33.834882 denied  CAP_SYSLOG  pid=... uid=...
 * NS/POD CONTAINER BINARY syscall=NAME"; NULL strings print as "?". The
 * strings are bounded and escaped as lib/text.h's TEXT_LINE says. */
struct output_line {
	uint64_t wall_ns; /* 0: unknown, printed "-" */
	const char *verdict;
	const char *capability;
	uint32_t pid;
	uint32_t uid;
	bool has_pod;
	const char *pod_namespace;
	const char *pod_name;
	const char *container;
	const char *binary;
	const char *syscall; /* NULL: not in a syscall */
};

/* How many strings were cut. */
unsigned int output_compact_line(FILE *out, const struct output_line *line);
/* The line of a process_kprobe JSON event as `trace -o json` writes it
 * (captrail events prints them); strings point into event. */
void output_line_from_json(json_object *event, struct output_line *ret_line);

void output_init(struct output *o, FILE *out, const struct output_opts *opts);
void output_event(struct output *o, const struct identity_event *ev);

#endif
