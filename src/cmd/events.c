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

#include "agent/api.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "event/evfilter.h"
#include "lib/clock.h"

#define MAX_EVENT_LINE (16 * 1024 * 1024)
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

enum events_format { EVENTS_COMPACT, EVENTS_JSON };

struct events_args {
	struct evfilter *filter;
	const char *socket;
	bool socket_given;
	bool use_stdin;
	enum events_format format;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail events [OPTIONS]\n"
		"\n"
		"Streams the capability checks the captrail agent sees, filtered by the agent;\n"
		"with stdin a pipe or a file (and no --socket), filters JSON lines read there.\n"
		"Several values (comma-separated or repeated) of one filter: any matches;\n"
		"several filters: all must match. Regexes are POSIX extended, unanchored.\n"
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
		API_DEFAULT_SOCKET);
}

#define usage_error(...) cmd_usage_error("events", __VA_ARGS__)

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

static enum evfilter_field option_field(int opt)
{
	switch (opt) {
	case OPT_NAMESPACES: return EVFILTER_NAMESPACES;
	case OPT_PODS: return EVFILTER_PODS;
	case OPT_CONTAINERS: return EVFILTER_CONTAINERS;
	default: return EVFILTER_PROCESSES;
	}
}

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct events_args *a)
{
	char err[512];
	int opt, rc;

	a->socket = API_DEFAULT_SOCKET;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			if (!*optarg)
				return usage_error("empty socket path");
			a->socket = optarg;
			a->socket_given = true;
			break;
		case OPT_NAMESPACES:
		case OPT_PODS:
		case OPT_CONTAINERS:
		case OPT_PROCESSES:
			rc = evfilter_add_list(a->filter, option_field(opt), optarg, err,
					       sizeof(err));
			if (rc == -EINVAL)
				return usage_error("%s", err);
			if (rc)
				return usage_error("%s", strerror(-rc));
			break;
		case OPT_HOST:
			if (evfilter_set_host(a->filter, true, err, sizeof(err)))
				return usage_error("%s", err);
			break;
		case OPT_STDIN: a->use_stdin = true; break;
		case 'o':
			if (!strcmp(optarg, "compact"))
				a->format = EVENTS_COMPACT;
			else if (!strcmp(optarg, "json"))
				a->format = EVENTS_JSON;
			else
				return usage_error("unknown output format '%s' (compact, json)",
						   optarg);
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (a->use_stdin && a->socket_given)
		return usage_error("--stdin and --socket exclude each other");
	if (!a->socket_given && stdin_has_events())
		a->use_stdin = true;
	return -1;
}

/* ---- compact lines from JSON events ---- */

static json_object *get(json_object *obj, const char *key)
{
	json_object *v;

	return obj && json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

static const char *get_str(json_object *obj, const char *key)
{
	json_object *v = get(obj, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* "2023-07-06T10:13:33.834882128Z" into unix ns; 0 when it is not that. */
static uint64_t parse_rfc3339(const char *text)
{
	struct tm tm = { 0 };
	const char *rest;
	uint64_t ns = 0;
	int digits = 0;
	time_t secs;

	if (!text)
		return 0;
	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return 0;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			if (digits++ < 9)
				ns = ns * 10 + (uint64_t)(*rest - '0');
	for (; digits < 9; digits++)
		ns *= 10;
	if (strcmp(rest, "Z"))
		return 0;
	secs = timegm(&tm);
	if (secs < 0)
		return 0;
	return (uint64_t)secs * 1000000000ull + ns;
}

static void print_compact(json_object *event)
{
	json_object *kprobe = get(event, "process_kprobe");
	json_object *process = get(kprobe, "process");
	json_object *pod = get(process, "pod");
	json_object *args = get(kprobe, "args"), *tags = get(kprobe, "tags"), *v;
	const char *capability = "?", *verdict = NULL, *syscall = NULL;
	const char *binary = get_str(process, "binary");
	char time[RFC3339_LEN] = "-", who[1024];
	uint64_t wall = parse_rfc3339(get_str(event, "time"));

	if (wall)
		clock_hms_us(wall, time);
	for (size_t i = 0; args && json_object_is_type(args, json_type_array) &&
			   i < json_object_array_length(args); i++) {
		const char *name = get_str(get(json_object_array_get_idx(args, i),
					       "capability_arg"), "name");

		if (name)
			capability = name;
	}
	for (size_t i = 0; tags && json_object_is_type(tags, json_type_array) &&
			   i < json_object_array_length(tags); i++) {
		const char *tag = json_object_get_string(json_object_array_get_idx(tags, i));

		if (!tag)
			continue;
		if (!strcmp(tag, "denied") || !strcmp(tag, "granted"))
			verdict = tag;
		else if (!strncmp(tag, "syscall:", 8))
			syscall = tag + 8;
	}
	if (!verdict) {
		v = get(get(kprobe, "return"), "int_arg");
		verdict = v && json_object_get_int(v) == 0 ? "granted" : "denied";
	}
	if (!binary)
		binary = "?";
	if (pod) {
		const char *ns = get_str(pod, "namespace"), *name = get_str(pod, "name");
		const char *container = get_str(get(pod, "container"), "name");

		snprintf(who, sizeof(who), "%s/%s %s %s", ns ? ns : "?", name ? name : "?",
			 container ? container : "?", binary);
	} else {
		snprintf(who, sizeof(who), "%s", binary);
	}
	printf("%s %-7s %-22s pid=%u uid=%u %s%s%s\n", time, verdict, capability,
	       (unsigned)json_object_get_int64(get(process, "pid")),
	       (unsigned)json_object_get_int64(get(process, "uid")), who,
	       syscall ? " syscall=" : "", syscall ? syscall : "");
}

/* Prints one event line; false when stdout is gone (a closed pipe). */
static bool print_event(const struct events_args *a, const char *line, size_t len,
			json_object *event)
{
	if (a->format == EVENTS_JSON) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
	} else {
		print_compact(event);
	}
	return fflush(stdout) == 0;
}

static json_object *parse_line(const char *line, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *obj;

	if (!tok)
		return NULL;
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
		    !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

static void print_notice(json_object *obj)
{
	fprintf(stderr, "captrail events: notice: %s\n", get_str(obj, "notice"));
}

/* ---- stdin ---- */

static int read_stdin(const struct events_args *a)
{
	struct api_reader r;
	uint64_t line_no = 0, bad = 0;
	int rc = EXIT_OK;

	api_reader_init(&r, STDIN_FILENO, MAX_EVENT_LINE);
	while (!stop_requested) {
		json_object *obj;
		char *line;
		size_t len;
		int err = api_reader_line(&r, &line, &len);

		if (err == -EINTR)
			continue;
		line_no++;
		if (err == -E2BIG) {
			fprintf(stderr,
				"captrail events: line %llu: longer than %d bytes, skipped\n",
				(unsigned long long)line_no, MAX_EVENT_LINE);
			continue;
		}
		if (err) {
			fprintf(stderr, "captrail events: cannot read stdin: %s\n", strerror(-err));
			rc = EXIT_RUNTIME;
			break;
		}
		if (!line)
			break;
		if (!len)
			continue;
		obj = parse_line(line, len);
		if (!obj) {
			if (!bad++)
				fprintf(stderr, "captrail events: line %llu: not a JSON object, "
						"skipped\n", (unsigned long long)line_no);
			continue;
		}
		if (get(obj, "notice"))
			print_notice(obj);
		else if (get(obj, "process_kprobe") && evfilter_match_json(a->filter, obj) &&
			 !print_event(a, line, len, obj))
			stop_requested = 1;
		json_object_put(obj);
	}
	if (bad > 1)
		fprintf(stderr, "captrail events: %llu lines were not JSON objects\n",
			(unsigned long long)bad);
	api_reader_free(&r);
	return rc;
}

/* ---- the agent ---- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL); /* a signal ends it early: the loop looks at the flag */
}

enum stream_end { STREAM_LOST, STREAM_STOP, STREAM_FATAL };

/* Streams one connection until it ends. */
static enum stream_end stream(const struct events_args *a, int fd)
{
	struct api_reader r;
	enum stream_end end = STREAM_LOST;
	bool acked = false;

	api_reader_init(&r, fd, MAX_EVENT_LINE);
	while (!stop_requested) {
		json_object *obj, *v;
		char *line;
		size_t len;
		int err = api_reader_line(&r, &line, &len);

		if (err == -EINTR || err == -E2BIG)
			continue;
		if (err || !line)
			break;
		obj = parse_line(line, len);
		if (!obj)
			continue;
		if ((v = get(obj, "error"))) {
			fprintf(stderr, "captrail events: the agent refused the request: %s\n",
				json_object_get_string(v));
			end = STREAM_FATAL;
		} else if (get(obj, "notice")) {
			print_notice(obj);
		} else if (get(obj, "stream")) {
			/* scripts wait for this line before starting a workload */
			fprintf(stderr, "captrail events: ready, streaming from %s\n", a->socket);
			acked = true;
		} else if (acked && !print_event(a, line, len, obj)) {
			stop_requested = 1;
		}
		json_object_put(obj);
		if (end == STREAM_FATAL)
			break;
	}
	api_reader_free(&r);
	return stop_requested ? STREAM_STOP : end;
}

static int follow_agent(const struct events_args *a)
{
	unsigned backoff = BACKOFF_MIN_MS;
	bool connected_once = false, lost = false;

	while (!stop_requested) {
		enum stream_end end;
		int fd = -1, err;

		err = api_client_connect(a->socket, &fd);
		if (!err) {
			err = api_client_request_events(fd, a->filter);
			if (err)
				close(fd);
		}
		if (err) {
			if (!connected_once) {
				fprintf(stderr,
					"captrail events: cannot reach the agent at %s: %s "
					"(is 'captrail agent' running?)\n",
					a->socket, strerror(-err));
				return EXIT_RUNTIME;
			}
			sleep_ms(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		if (lost)
			fprintf(stderr, "captrail events: reconnected to the agent\n");
		connected_once = true;
		lost = false;
		backoff = BACKOFF_MIN_MS;
		end = stream(a, fd);
		close(fd);
		if (end == STREAM_FATAL)
			return EXIT_RUNTIME;
		if (end == STREAM_STOP)
			break;
		fprintf(stderr, "captrail events: connection to the agent lost, reconnecting\n");
		lost = true;
	}
	return EXIT_OK;
}

static int install_signal_handlers(void)
{
	/* No SA_RESTART: a blocking read must return so the flag is seen. */
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction ignore = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	sigemptyset(&ignore.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGPIPE, &ignore, NULL))
		return -errno;
	return 0;
}

int cmd_events(int argc, char **argv)
{
	struct events_args args = { 0 };
	int rc, err;

	err = evfilter__new(&args.filter);
	if (err) {
		fprintf(stderr, "captrail events: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		goto out;
	err = install_signal_handlers();
	if (err) {
		fprintf(stderr, "captrail events: cannot install signal handlers: %s\n",
			strerror(-err));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = args.use_stdin ? read_stdin(&args) : follow_agent(&args);
out:
	evfilter__free(args.filter);
	return rc;
}
