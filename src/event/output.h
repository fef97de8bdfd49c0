/* Renders capability events as compact lines, a table, or JSON lines in the
 * reference document's process_kprobe shape. */
#ifndef CAPTRAIL_OUTPUT_H
#define CAPTRAIL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bpf/captrail.h"
#include "event/jsonw.h"

enum output_format { OUTPUT_COMPACT, OUTPUT_TABLE, OUTPUT_JSON };

int output_format_parse(const char *name, enum output_format *ret_format);

struct output_label {
	const char *key;
	const char *value;
};

/* Pod and container identity; NULL strings are unknown. */
struct output_pod {
	const char *namespace_;
	const char *name;
	const char *uid;
	const char *container_id; /* "<runtime>://<id>" */
	const char *container_name;
	const char *image;
	const char *container_start_time;
	uint32_t container_pid;
	const struct output_label *labels;
	size_t n_labels;
	const char *docker; /* first 31 characters of the container id */
};

/* What is known of one process; NULL strings are unknown and omitted. */
struct output_process {
	uint32_t pid;
	uint32_t tid; /* 0: omitted (the parent object has none) */
	uint32_t uid;
	uint32_t auid;
	const char *exec_id;
	const char *parent_exec_id;
	const char *binary;
	const char *arguments;
	const char *cwd;
	const char *flags;
	const char *start_time;
	const uint32_t *ns; /* CT_NS_COUNT inode numbers, or NULL */
	const struct output_pod *pod; /* NULL on the host */
};

struct output_event {
	const struct ct_cap_event *cap;
	struct output_process process;
	const struct output_process *parent; /* NULL when unknown */
	const char *syscall; /* name, NULL when not in a syscall */
};

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
	struct jsonw json;
};

void output_init(struct output *o, FILE *out, const struct output_opts *opts);
void output_event(struct output *o, const struct output_event *ev);

#endif
