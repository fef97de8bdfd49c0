/* captrail agent: the node daemon's options and messages (agent/agent.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/api_protocol.h"
#include "agent/metrics.h"
#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "kernel/loader.h"
#include "lib/util.h"

#define CMD "agent"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)
#define STR_(x) #x
#define STR(x) STR_(x)

struct agent_args {
	struct agent_opts opts;
	const char *state_roots[AGENT_MAX_STATE_ROOTS + 1];
	size_t n_state_roots;
	bool verbose;
	struct rings_config rings;
	const char *node_name; /* --node-name: over NODE_NAME and the host name */
	struct evfilter *scope; /* --namespaces */
	char *cgroup_scope; /* --cgroup-scope, without a trailing '/' */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail agent [OPTIONS]\n"
		"\n"
		"Records the capability checks of every workload on the node (pod container,\n"
		"container, systemd service or host binary) into a store, and serves events and\n"
		"profiles to 'captrail events' and 'captrail profile'.\n"
		"\n"
		"      --db PATH              the store (default " AGENT_DEFAULT_DB ")\n"
		"      --socket PATH          the local API (default " API_DEFAULT_SOCKET ")\n"
		"      --flush-interval SECS  store flush period (default "
		STR(AGENT_DEFAULT_FLUSH_SECONDS) ")\n"
		"      --metrics ADDR         Prometheus metrics on HTTP, e.g. 127.0.0.1:9464\n"
		"      --metrics-workloads N  distinct workload labels before \"other\" ("
		STR(METRICS_DEFAULT_WORKLOADS) ")\n"
		"      --metrics-series N     replica series (captrail_workload_*) at most ("
		STR(METRICS_DEFAULT_SERIES) ")\n"
		"      --node-name NAME       the node label and exec ids (default $NODE_NAME,\n"
		"                             else the host name)\n"
		"      --namespaces LIST      only pods in these Kubernetes namespaces (a node\n"
		"                             scope); other checks are counted, not stored\n"
		"      --cgroup-scope PATH    only containers whose cgroup is PATH or under it\n"
		"                             (relative to the cgroup mount, e.g. /kubepods: a\n"
		"                             node scope); other checks are counted, not stored\n"
		"      --export FILE          JSON-lines copy of every check (mode 0600)\n"
		"      --export-max-size BYTES   rotate the export at this size (%llu MiB)\n"
		"      --export-max-backups N    rotated files kept (" STR(AGENT_DEFAULT_EXPORT_BACKUPS)
		")\n"
		"      --export-rate N        at most N events/s to the export; drops counted\n"
		"      --watch-denials        record what denied syscalls return (costs every\n"
		"                             syscall of every process ~20 ns)\n"
		"      --state-root DIR       also look for container runtime state in DIR\n"
		"      --hook HOOK            auto (default), tracepoint, fexit or kprobe\n"
		"  -v, --verbose              libbpf debug output, ring changes, hooks not used\n"
		"      --capabilities KEY=VALUE   captrail's own capabilities, as for trace\n",
		AGENT_DEFAULT_EXPORT_MAX_SIZE >> 20);
}

enum {
	OPT_DB = 256,
	OPT_SOCKET,
	OPT_FLUSH,
	OPT_METRICS,
	OPT_METRICS_WORKLOADS,
	OPT_METRICS_SERIES,
	OPT_NODE_NAME,
	OPT_NAMESPACES,
	OPT_CGROUP_SCOPE,
	OPT_EXPORT,
	OPT_EXPORT_SIZE,
	OPT_EXPORT_BACKUPS,
	OPT_EXPORT_RATE,
	OPT_WATCH_DENIALS,
	OPT_STATE_ROOT,
	OPT_CAPABILITIES,
	OPT_HOOK,
};

static const struct option long_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "flush-interval", required_argument, NULL, OPT_FLUSH },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-workloads", required_argument, NULL, OPT_METRICS_WORKLOADS },
	{ "metrics-series", required_argument, NULL, OPT_METRICS_SERIES },
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "namespaces", required_argument, NULL, OPT_NAMESPACES },
	{ "cgroup-scope", required_argument, NULL, OPT_CGROUP_SCOPE },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "export-max-size", required_argument, NULL, OPT_EXPORT_SIZE },
	{ "export-max-backups", required_argument, NULL, OPT_EXPORT_BACKUPS },
	{ "export-rate", required_argument, NULL, OPT_EXPORT_RATE },
	{ "watch-denials", no_argument, NULL, OPT_WATCH_DENIALS },
	{ "state-root", required_argument, NULL, OPT_STATE_ROOT },
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* Absolute, no empty, "." or ".." component: a prefix of the paths
 * containers are found by. */
static bool cgroup_path_ok(const char *path)
{
	size_t n;

	if (path[0] != '/')
		return false;
	for (const char *c = path + 1; *c; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (!n || (n == 1 && c[0] == '.') || (n == 2 && !strncmp(c, "..", 2)))
			return false;
	}
	return true;
}

/* Those paths have no trailing '/': "/a/" is "/a". */
static int cgroup_scope_option(struct agent_args *a, const char *arg)
{
	size_t len = strlen(arg);

	if (!cgroup_path_ok(arg))
		return usage_error("invalid cgroup path '%s' (absolute, as in /proc/PID/cgroup)",
				   arg);
	if (a->cgroup_scope)
		return usage_error("--cgroup-scope given twice");
	while (len > 1 && arg[len - 1] == '/')
		len--;
	a->cgroup_scope = strndup(arg, len);
	if (!a->cgroup_scope)
		return cmd_fail(CMD, -ENOMEM, "cannot keep the cgroup scope");
	return -1;
}

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct agent_args *a = ctx;
	struct agent_opts *o = &a->opts;
	long value;

	switch (opt) {
	case OPT_DB: o->db = arg; break;
	case OPT_SOCKET: o->socket = arg; break;
	case OPT_FLUSH: return cmd_seconds_option(CMD, "flush interval", arg, &o->flush_seconds);
	case OPT_METRICS: o->metrics_addr = arg; break;
	case OPT_METRICS_WORKLOADS:
		if (parse_long(arg, 1, 1000000, &value))
			return usage_error("invalid workload count '%s' (1 to 1000000)", arg);
		o->metrics_workloads = (size_t)value;
		break;
	case OPT_METRICS_SERIES:
		if (parse_long(arg, 1, 10000000, &value))
			return usage_error("invalid series count '%s' (1 to 10000000)", arg);
		o->metrics_series = (size_t)value;
		break;
	case OPT_NODE_NAME:
		if (!*arg)
			return usage_error("empty node name");
		a->node_name = arg;
		break;
	case OPT_NAMESPACES: return cmd_filter_option(CMD, &a->scope, EVFILTER_NAMESPACES, arg);
	case OPT_CGROUP_SCOPE: return cgroup_scope_option(a, arg);
	case OPT_EXPORT: o->export.path = arg; break;
	case OPT_EXPORT_SIZE:
		if (parse_long(arg, 0, 0x7fffffffffffffffL, &value))
			return usage_error("invalid size '%s' (bytes)", arg);
		o->export.max_size = (uint64_t)value;
		break;
	case OPT_EXPORT_BACKUPS:
		if (parse_long(arg, 0, 1000, &value))
			return usage_error("invalid backup count '%s' (0 to 1000)", arg);
		o->export.max_backups = (unsigned)value;
		break;
	case OPT_EXPORT_RATE:
		if (cli_parse_rate(arg, &o->export.rate))
			return usage_error("invalid rate '%s' (events per second, > 0 and at most "
					   "%.0f)",
					   arg, CLI_RATE_MAX);
		break;
	case OPT_WATCH_DENIALS: o->watch_denials = true; break;
	case OPT_STATE_ROOT:
		if (a->n_state_roots == AGENT_MAX_STATE_ROOTS)
			return usage_error("at most %d --state-root directories",
					   AGENT_MAX_STATE_ROOTS);
		a->state_roots[a->n_state_roots++] = arg;
		break;
	case OPT_CAPABILITIES: return cmd_rings_option(CMD, &a->rings, arg);
	case OPT_HOOK: return cmd_hook_option(CMD, arg, &o->hook);
	case 'v': a->verbose = o->verbose = true; break;
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct agent_args *a)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "vh",
		.longopts = long_options,
		.usage = usage,
		.parse = parse_option,
		.ctx = a,
	};
	int operand;

	a->opts.db = AGENT_DEFAULT_DB;
	a->opts.socket = API_DEFAULT_SOCKET;
	a->opts.flush_seconds = AGENT_DEFAULT_FLUSH_SECONDS;
	a->opts.metrics_workloads = METRICS_DEFAULT_WORKLOADS;
	a->opts.metrics_series = METRICS_DEFAULT_SERIES;
	a->opts.export.max_size = AGENT_DEFAULT_EXPORT_MAX_SIZE;
	a->opts.export.max_backups = AGENT_DEFAULT_EXPORT_BACKUPS;
	a->opts.state_roots = a->state_roots;
	return cmd_parse_options(&options, argc, argv, &operand);
}

static void warn(void *ctx, const char *what, int err)
{
	(void)ctx;
	cmd_warn(CMD, err, "%s", what);
}

static int report_summary(struct agent *agent, struct agent_summary *ret_summary)
{
	struct agent_summary s = {};
	int err = agent_summary(agent, &s);

	*ret_summary = s;
	if (err)
		return cmd_fail(CMD, err, "cannot read the drop counters");
	cmd_say(CMD, "stopped: %llu checks seen, %llu granted, %llu denied, %llu lost",
		(unsigned long long)s.checks, (unsigned long long)(s.checks - s.denied),
		(unsigned long long)s.denied, (unsigned long long)s.lost);
	/* The stream's losses cost clients events, not the store counts. */
	if (s.stream_dropped)
		cmd_say(CMD, "%llu streamed events dropped (ring buffer full)",
			(unsigned long long)s.stream_dropped);
	if (s.unstored)
		cmd_warn(CMD, s.store_err, "%llu rows of counts could not be stored and are lost",
			 (unsigned long long)s.unstored);
	if (s.runtime)
		cmd_say(CMD, "%llu checks of container runtimes' start-up kept out of the profiles",
			(unsigned long long)s.runtime);
	if (s.out_of_scope)
		cmd_say(CMD, "%llu checks of workloads outside the scope not recorded",
			(unsigned long long)s.out_of_scope);
	if (s.images_untracked)
		cmd_warn(CMD, 0, "%llu program images past the bound were not tracked: their "
				 "runtime start-up checks may count as the workload's",
			 (unsigned long long)s.images_untracked);
	return EXIT_OK;
}

int cmd_agent(int argc, char **argv)
{
	struct agent_args args = {};
	struct agent_error error = {};
	struct agent_summary summary;
	struct agent *agent = NULL;
	struct rings *rings = NULL;
	char node[256];
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0) {
		evfilter__free(args.scope);
		free(args.cgroup_scope);
		return rc;
	}
	cmd_libbpf_output(args.verbose);
	/* Before any thread (the metrics server) exists: rings are per thread. */
	args.rings.ebpf_extra = loader_extra_caps(NULL, args.rings.procfs_root, args.opts.hook);
	rc = cmd_rings_start(CMD, &args.rings, args.verbose,
			     RINGS_NEED_PROC | RINGS_NEED_KALLSYMS, &rings);
	if (rc >= 0) {
		evfilter__free(args.scope);
		free(args.cgroup_scope);
		return rc;
	}
	if (args.node_name)
		snprintf(node, sizeof(node), "%s", args.node_name);
	else
		cli_node_name(node, sizeof(node));
	args.opts.node_name = node;
	args.opts.scope = args.scope;
	args.opts.cgroup_scope = args.cgroup_scope;
	args.opts.rings = rings;
	args.opts.warn = warn;
	err = agent__new(&args.opts, &agent, &error);
	if (err && error.loading)
		rc = cmd_load_failed(CMD, err, &error.hooks);
	else if (err && error.subject == args.opts.db) /* the step that opens the store */
		rc = cmd_store_open_failed(CMD, args.opts.db, err);
	else if (err && error.subject)
		rc = cmd_fail(CMD, err, "cannot %s '%s'", error.step, error.subject);
	else if (err)
		rc = cmd_fail(CMD, err, "cannot %s", error.step);
	if (err)
		goto cleanup;
	cmd_say_hooks(CMD, agent_hooks(agent), args.verbose);
	cmd_say(CMD, "ready, recording %s (store %s, socket %s)%s",
		args.scope || args.cgroup_scope ? "the workloads of its scope" : "every workload",
		args.opts.db,
		args.opts.socket, cmd_hook_note(agent_hooks(agent)));
	if (agent_metrics_port(agent))
		cmd_say(CMD, "metrics on port %u", agent_metrics_port(agent));
	err = agent_run(agent);
	rc = report_summary(agent, &summary);
	if (err == rings_failure(rings, NULL) && err)
		rc = cmd_rings_failed(CMD, rings);
	else if (err && summary.unstored && err == summary.store_err)
		rc = EXIT_RUNTIME; /* the last flush's: the summary said what it lost */
	else if (err)
		rc = cmd_fail(CMD, err, "the event loop failed");
cleanup:
	agent__free(agent);
	rings__free(rings);
	evfilter__free(args.scope);
	free(args.cgroup_scope);
	return rc;
}
