/* captrail events: the agent's event stream (or JSON lines on stdin) with
 * the reference client's filters. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/api_client.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "event/evfilter.h"
#include "event/output.h"
#include "lib/json.h"
#include "lib/line_reader.h"
#include "lib/text.h"

#define MAX_EVENT_LINE API_EVENT_MAX_LINE

enum events_format { EVENTS_COMPACT, EVENTS_JSON };

struct events_args {
	struct evfilter *filter;
	const char *socket;
	bool socket_given;
	bool use_stdin;
	enum events_format format;
};

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail events [OPTIONS]\n"
		"\n"
		"Streams the capability checks the captrail agent sees, filtered by the agent;\n"
		"with stdin a pipe or a file (and no --socket), filters JSON lines read there.\n"
		"Several values (comma-separated or repeated) of one filter: any matches;\n"
		"several filters: all must match. Regexes are PCRE2 (POSIX extended works),\n"
		"unanchored, at most %d bytes.\n"
		"\n"
		"      --socket PATH       the agent's socket (default %s)\n"
		"      --namespaces LIST   only pods in these Kubernetes namespaces (exact)\n"
		"      --pods LIST         only pods whose name matches one of these regexes\n"
		"      --containers LIST   only containers whose name matches one of these\n"
		"      --processes LIST    only binaries whose path matches one of these\n"
		"      --host              only processes outside any pod\n"
		"      --stdin             read JSON lines from stdin whatever it is\n"
		"  -o, --output FORMAT     compact (default) or json\n"
		"  -h, --help              this text\n",
		EVFILTER_MAX_PATTERN, API_DEFAULT_SOCKET);
}

#define CMD "events"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

enum {
	OPT_SOCKET = 256,
	OPT_NAMESPACES,
	OPT_PODS,
	OPT_CONTAINERS,
	OPT_PROCESSES,
	OPT_HOST,
	OPT_STDIN,
};

static const struct option long_options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "namespaces", required_argument, NULL, OPT_NAMESPACES },
	{ "pods", required_argument, NULL, OPT_PODS },
	{ "containers", required_argument, NULL, OPT_CONTAINERS },
	{ "processes", required_argument, NULL, OPT_PROCESSES },
	{ "host", no_argument, NULL, OPT_HOST },
	{ "stdin", no_argument, NULL, OPT_STDIN },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* stdin that is a pipe or a file carries events; a terminal, /dev/null
 * (a background job) or a socket does not. */
static bool stdin_has_events(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st))
		return false;
	return S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode);
}

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct events_args *a = ctx;

	switch (opt) {
	case OPT_SOCKET:
		if (!*arg)
			return usage_error("empty socket path");
		a->socket = arg;
		a->socket_given = true;
		break;
	case OPT_NAMESPACES: return cmd_filter_option(CMD, &a->filter, EVFILTER_NAMESPACES, arg);
	case OPT_PODS: return cmd_filter_option(CMD, &a->filter, EVFILTER_PODS, arg);
	case OPT_CONTAINERS: return cmd_filter_option(CMD, &a->filter, EVFILTER_CONTAINERS, arg);
	case OPT_PROCESSES: return cmd_filter_option(CMD, &a->filter, EVFILTER_PROCESSES, arg);
	case OPT_HOST: return cmd_filter_option(CMD, &a->filter, EVFILTER_FIELDS, arg);
	case OPT_STDIN: a->use_stdin = true; break;
	case 'o':
		if (!strcmp(arg, "compact"))
			a->format = EVENTS_COMPACT;
		else if (!strcmp(arg, "json"))
			a->format = EVENTS_JSON;
		else
			return usage_error("unknown output format '%s' (compact, json)", arg);
		break;
	}
	return -1;
}

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct events_args *a)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "o:h",
		.longopts = long_options,
		.usage = usage,
		.parse = parse_option,
		.ctx = a,
	};
	int rc, operand;

	a->socket = API_DEFAULT_SOCKET;
	rc = cmd_parse_options(&options, argc, argv, &operand);
	if (rc >= 0)
		return rc;
	if (a->use_stdin && a->socket_given)
		return usage_error("--stdin and --socket exclude each other");
	if (!a->socket_given && stdin_has_events())
		a->use_stdin = true;
	return -1;
}

/* Prints one event line; false when stdout is gone (a closed pipe). */
static bool print_event(const struct events_args *a, const char *line, size_t len,
			json_object *event)
{
	if (a->format == EVENTS_JSON) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
	} else {
		struct output_line l;

		output_line_from_json(event, &l);
		/* A cut string shows its mark; events keeps no totals. */
		(void)output_compact_line(stdout, &l);
	}
	return fflush(stdout) == 0;
}

static json_object *parse_line(const char *line, size_t len)
{
	json_object *obj = NULL;

	return json_parse_object(line, len, &obj, NULL, 0) ? NULL : obj;
}

/* Notices come from the agent or stdin; the reporter escapes them. */
static void print_notice(const char *notice)
{
	cmd_say(CMD, "notice: %s", notice);
}

/* ---- stdin ---- */

static int read_stdin(const struct events_args *a)
{
	struct line_reader r;
	uint64_t line_no = 0, bad = 0;
	int rc = EXIT_OK;

	line_reader_init(&r, STDIN_FILENO, MAX_EVENT_LINE);
	while (!stop_requested) {
		json_object *obj;
		char *line;
		size_t len;
		int err = line_reader_next(&r, &line, &len);

		if (err == -EINTR)
			continue;
		line_no++;
		if (err == -E2BIG) {
			cmd_warn(CMD, 0, "line %llu: longer than %d bytes, skipped",
				 (unsigned long long)line_no, MAX_EVENT_LINE);
			continue;
		}
		if (err) {
			rc = cmd_fail(CMD, err, "cannot read stdin");
			break;
		}
		if (!line)
			break;
		if (!len)
			continue;
		obj = parse_line(line, len);
		if (!obj) {
			if (!bad++)
				cmd_warn(CMD, 0, "line %llu: not a JSON object, skipped",
					 (unsigned long long)line_no);
			continue;
		}
		if (json_member_string(obj, "notice"))
			print_notice(json_member_string(obj, "notice"));
		else if (json_member(obj, "process_kprobe", json_type_object) &&
			 evfilter_match_json(a->filter, obj) && !print_event(a, line, len, obj))
			stop_requested = 1;
		json_object_put(obj);
	}
	if (bad > 1)
		cmd_warn(CMD, 0, "%llu lines were not JSON objects", (unsigned long long)bad);
	line_reader_free(&r);
	return rc;
}

/* ---- the agent ---- */

static void on_status(void *ctx, enum api_events_status status, const char *detail)
{
	const struct events_args *a = ctx;

	switch (status) {
	/* scripts wait for this line before starting a workload */
	case API_EVENTS_READY: cmd_say(CMD, "ready, streaming from %s", a->socket); break;
	case API_EVENTS_NOTICE: print_notice(detail); break;
	case API_EVENTS_LOST: cmd_say(CMD, "connection to the agent lost, reconnecting"); break;
	case API_EVENTS_RECONNECTED: cmd_say(CMD, "reconnected to the agent"); break;
	}
}

static int on_event(void *ctx, const char *line, size_t len, json_object *event)
{
	return print_event(ctx, line, len, event) ? 0 : -EPIPE;
}

static int follow_agent(struct events_args *a)
{
	const struct api_events_handler h = { .on_status = on_status, .on_event = on_event, .ctx = a };
	char why[512] = "";
	int err = api_client_follow_events(a->socket, a->filter, &stop_requested, &h, why,
					   sizeof(why));

	if (err == -EPROTO)
		return cmd_fail(CMD, 0, "the agent refused the request: %s", why);
	if (err)
		return cmd_fail(CMD, err, "cannot reach the agent at %s (is 'captrail agent' running?)",
				a->socket);
	return EXIT_OK;
}

int cmd_events(int argc, char **argv)
{
	struct events_args args = { 0 };
	char why[EVFILTER_MAX_PATTERN + 256];
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		goto out;
	err = cmd_catch_stop_signals(&stop_requested);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot catch SIGINT and SIGTERM");
		goto out;
	}
	rc = args.use_stdin ? read_stdin(&args) : follow_agent(&args);
	/* Only stdin is matched here; the agent matches its clients' filters. */
	if (evfilter_describe_give_ups(args.filter, why, sizeof(why)))
		cmd_say(CMD, "%s", why);
out:
	evfilter__free(args.filter);
	return rc;
}
