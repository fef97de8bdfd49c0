/* captrail record -- CMD: run a command, print its least-privilege profile;
 * record --container/--pod/--cgroup: the same of a workload already running. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "identity/cgroup.h"
#include "identity/container_find.h"
#include "kernel/loader.h"
#include "lib/caps.h"
#include "lib/syscalls.h"
#include "privilege/confine.h"
#include "privilege/held.h"
#include "profile/profile.h"
#include "record/record_profile.h"
#include "record/recorder.h"
#include "record/supervise.h"

struct record_args {
	struct confine_spec confine;
	enum profile_format format;
	const char *output_path;
	double duration;
	double stop_timeout;
	const char *probe;
	bool verify;
	bool minimize;
	bool verbose;
	enum hook hook;
	struct rings_config rings;
	char **argv;
	/* A running workload instead of a command: one of these. */
	const char *container;
	const char *pod;
	const char *cgroup;
	const char *state_roots[CONTAINER_STATE_ROOTS];
	size_t n_state_roots;
	const char *command_only; /* the first option given that only a command takes */
};

#define MAX_STATE_ROOTS 4

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail record [OPTIONS] -- CMD [ARGS...]\n"
		"       captrail record [-d SECS] [OUTPUT OPTIONS]\n"
		"                       --container NAME|ID | --pod NS/NAME | --cgroup PATH\n"
		"\n"
		"Runs CMD and everything it spawns, then prints the smallest capability set\n"
		"it needs. Exits with CMD's exit status.\n"
		"\n"
		"Or records a workload already running, without the agent: every process of\n"
		"its cgroup and below, those started later too, for -d SECS or until no\n"
		"process is left (SIGINT/SIGTERM end it early); it is never signalled. The\n"
		"checks of a container runtime's start-up (runc exec) are left out. -o,\n"
		"--output, -d, --hook, -v and --capabilities apply; the options about\n"
		"running CMD do not.\n"
		"      --container NAME|ID  a container by name or id (12 hex digits or more)\n"
		"      --pod NS/NAME     every container of a pod, and those started later\n"
		"      --cgroup PATH     a cgroup v2 directory (/sys/fs/cgroup/... or relative)\n"
		"      --state-root DIR  also look for container runtime state in DIR\n"
		"\n"
		"  -o, --format FORMAT   text (default), json, k8s, docker, compose, systemd, oci\n"
		"      --output FILE     write the profile to FILE instead of stdout\n"
		"      --user USER|UID   run CMD as this user\n"
		"      --group GROUP|GID run CMD with this group (default: the user's)\n"
		"      --grant LIST      give CMD these capabilities (ambient; needs --user)\n"
		"  -d, --duration SECS   stop after SECS seconds (for daemons): SIGTERM to\n"
		"                        every process of CMD, SIGKILL after --stop-timeout\n"
		"      --stop-timeout SECS  grace period after SIGTERM (default 10)\n"
		"      --probe CMD       a sh -c command that exits 0 when CMD works (with -d:\n"
		"                        retried every 200 ms while it runs; without: once after)\n"
		"      --verify          re-run CMD with exactly the recommended set and\n"
		"                        fail unless it exits (and probes) the same way\n"
		"      --minimize        one more run per recommended capability without it:\n"
		"                        those whose removal changes nothing are not needed\n"
		"      --hook HOOK       auto (default), tracepoint, fexit or kprobe\n"
		"  -v, --verbose         libbpf debug output, ring changes, hooks not used\n"
		"      --capabilities KEY=VALUE\n"
		"                        captrail's own capabilities, as for trace\n");
}

#define CMD "record"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

enum {
	OPT_OUTPUT = 256,
	OPT_USER,
	OPT_GROUP,
	OPT_GRANT,
	OPT_VERIFY,
	OPT_CAPABILITIES,
	OPT_HOOK,
	OPT_STOP_TIMEOUT,
	OPT_PROBE,
	OPT_MINIMIZE,
	OPT_CONTAINER,
	OPT_POD,
	OPT_CGROUP,
	OPT_STATE_ROOT,
};

static const struct option long_options[] = {
	{ "format", required_argument, NULL, 'o' },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "grant", required_argument, NULL, OPT_GRANT },
	{ "duration", required_argument, NULL, 'd' },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "probe", required_argument, NULL, OPT_PROBE },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "minimize", no_argument, NULL, OPT_MINIMIZE },
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "pod", required_argument, NULL, OPT_POD },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "state-root", required_argument, NULL, OPT_STATE_ROOT },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* Options that shape the command's run, meaningless for a running one. */
static const char *command_only_option(int opt)
{
	switch (opt) {
	case OPT_USER: return "--user";
	case OPT_GROUP: return "--group";
	case OPT_GRANT: return "--grant";
	case OPT_STOP_TIMEOUT: return "--stop-timeout";
	case OPT_PROBE: return "--probe";
	case OPT_VERIFY: return "--verify";
	case OPT_MINIMIZE: return "--minimize";
	}
	return NULL;
}

static int select_option(struct record_args *a, const char **field, const char *arg)
{
	if (a->container || a->pod || a->cgroup)
		return usage_error("--container, --pod and --cgroup select one workload: give one");
	*field = arg;
	return -1;
}

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct record_args *a = ctx;

	if (!a->command_only)
		a->command_only = command_only_option(opt);
	switch (opt) {
	case 'o': return cmd_format_option(CMD, arg, &a->format);
	case OPT_OUTPUT: a->output_path = arg; break;
	case OPT_USER: return cmd_user_option(CMD, &a->confine, arg);
	case OPT_GROUP: return cmd_group_option(CMD, &a->confine, arg);
	case OPT_GRANT:
		a->confine.set_caps = true;
		return cmd_caps_option(CMD, "--grant", arg, &a->confine.caps);
	case 'd': return cmd_seconds_option(CMD, "duration", arg, &a->duration);
	case OPT_STOP_TIMEOUT:
		return cmd_seconds_option(CMD, "stop timeout", arg, &a->stop_timeout);
	case OPT_PROBE: a->probe = arg; break;
	case OPT_VERIFY: a->verify = true; break;
	case OPT_MINIMIZE: a->minimize = true; break;
	case 'v': a->verbose = true; break;
	case OPT_HOOK: return cmd_hook_option(CMD, arg, &a->hook);
	case OPT_CAPABILITIES: return cmd_rings_option(CMD, &a->rings, arg);
	case OPT_CONTAINER: return select_option(a, &a->container, arg);
	case OPT_POD: return select_option(a, &a->pod, arg);
	case OPT_CGROUP: return select_option(a, &a->cgroup, arg);
	case OPT_STATE_ROOT:
		if (a->n_state_roots == MAX_STATE_ROOTS)
			return usage_error("at most %d --state-root directories", MAX_STATE_ROOTS);
		a->state_roots[a->n_state_roots++] = arg;
		break;
	}
	return -1;
}

/* --container, --pod, --cgroup: no command, nothing that runs one. */
static int check_attached_args(const struct record_args *a, int argc, int operand)
{
	if (operand < argc)
		return usage_error("a command and --container, --pod or --cgroup "
				   "exclude each other");
	if (a->command_only)
		return usage_error("%s is for a command record runs, not a running workload",
				   a->command_only);
	if (a->container && !container_find_valid_name(a->container))
		return usage_error("--container '%s': a container name or id (no '/', no spaces)",
				   a->container);
	if (a->pod) {
		const char *slash = strchr(a->pod, '/');

		if (!slash || slash == a->pod || !slash[1] || strchr(slash + 1, '/') ||
		    strpbrk(a->pod, " \t\n"))
			return usage_error("--pod '%s': NAMESPACE/NAME", a->pod);
	}
	if (a->cgroup && !a->cgroup[0])
		return usage_error("--cgroup: an empty path");
	return -1;
}

static int parse_args(int argc, char **argv, struct record_args *a)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "o:d:vh",
		.longopts = long_options,
		.operands = true,
		.usage = usage,
		.parse = parse_option,
		.ctx = a,
	};
	int rc, operand;

	a->format = PROFILE_FORMAT_TEXT;
	a->stop_timeout = SUPERVISE_STOP_TIMEOUT;
	/* Unreadable: every number the bounding set can hold is dropped but
	 * the granted ones. */
	if (caps_last_cap("/proc", &a->confine.last_cap))
		a->confine.last_cap = CAPS_MAX - 1;
	rc = cmd_parse_options(&options, argc, argv, &operand);
	if (rc >= 0)
		return rc;
	if (a->container || a->pod || a->cgroup)
		return check_attached_args(a, argc, operand);
	if (a->n_state_roots)
		return usage_error("--state-root is for --container and --pod");
	if (operand >= argc)
		return usage_error("no command to record (captrail record [OPTIONS] -- CMD)");
	if (a->confine.set_caps && (!a->confine.set_user || a->confine.uid == 0))
		return usage_error("--grant needs --user with a non-root user "
				   "(root already has every capability)");
	a->argv = argv + operand;
	return -1;
}

static bool say_ready(void *ctx, const struct loader_report *hooks)
{
	const struct record_args *a = ctx;

	cmd_say_hooks(CMD, hooks, a->verbose);
	cmd_say(CMD, "ready, recording%s", cmd_hook_note(hooks));
	return true;
}

/* What record reports for a run: a command that exited on the SIGTERM
 * that stopped it ran as it should. */
static int run_exit_code(int wait_status, bool stopped_cleanly)
{
	return stopped_cleanly ? EXIT_OK : cmd_exit_code(wait_status);
}

/* verify's and minimize's runs: the recording's deadline, grace period and
 * probe, stopped once the probe succeeded. */
static struct supervise_opts rerun_opts(const struct record_args *a, const char *name)
{
	return (struct supervise_opts){
		.name = name,
		.duration = a->duration,
		.stop_timeout = a->stop_timeout,
		.probe = a->probe,
		.stop_on_probe = true,
	};
}

/* The outcome of one run the way the recorded one is judged: exit code,
 * and the probe's result when there is a probe. */
struct outcome {
	int code;
	bool probe_ok;
	/* The command could not start (-EPERM: an exec the kernel refused
	 * without the capability, e.g. ping's file capability outside the
	 * bounding set); 0 when it ran. */
	int start_err;
};

static void describe(const struct record_args *a, const struct outcome *o, char *buf, size_t size)
{
	if (o->start_err)
		snprintf(buf, size, "the command cannot start: %s", strerror(-o->start_err));
	else
		snprintf(buf, size, "exit %d%s", o->code,
			 !a->probe ? "" : o->probe_ok ? ", probe ok" : ", probe failed");
}

static bool same_outcome(const struct record_args *a, const struct outcome *x,
			 const struct outcome *y)
{
	return x->start_err == y->start_err && x->code == y->code &&
	       (!a->probe || x->probe_ok == y->probe_ok);
}

/* One run of a held child (forked at start, while captrail still had every
 * capability to give) confined to caps. */
static int rerun(struct held *h, const struct record_args *a, struct rings *rings, uint64_t caps,
		 const char *name, struct outcome *ret_outcome)
{
	struct supervise_opts opts = rerun_opts(a, name);
	struct confine_spec spec = a->confine;
	struct supervise sv;
	int err;

	spec.set_caps = true;
	spec.caps = caps;
	err = supervise_run(&sv, &opts, h, &spec, rings, &stop_requested, NULL);
	if (err == -EPERM && !sv.start_ns) { /* refused at exec: an outcome of the set */
		*ret_outcome = (struct outcome){ .code = 126, .start_err = err };
		return 0;
	}
	if (err)
		return err;
	if (stop_requested)
		return -EINTR;
	ret_outcome->code = run_exit_code(sv.wait_status, supervise_stopped_cleanly(&sv));
	ret_outcome->probe_ok = supervise_probe_ok(&sv);
	ret_outcome->start_err = 0;
	return 0;
}

static int verify(struct held *h, const struct record_args *a, struct rings *rings,
		  uint64_t required, const struct outcome *recorded)
{
	char now[64], then[64];
	struct outcome o;
	int err;

	err = rerun(h, a, rings, required, "verify", &o);
	if (err == -EINTR)
		return cmd_fail(CMD, 0, "verify: interrupted");
	if (err)
		return cmd_fail(CMD, err, "verify: cannot run the command");
	describe(a, &o, now, sizeof(now));
	describe(a, recorded, then, sizeof(then));
	if (!same_outcome(a, &o, recorded))
		return cmd_fail(CMD, 0, "verify: FAILED: with the recommended set: %s; recorded run: %s",
				now, then);
	cmd_say(CMD, "verify: ok, the command exits %d with the recommended set too%s", o.code,
		!a->probe ? "" : ", and the probe succeeds as it did");
	return EXIT_OK;
}

/* One held child per capability of captrail's bounding set: every
 * capability a grant set can hold is in it (what the command or a binary it
 * execs can use), and --minimize makes one run per granted capability. All
 * are forked at start because only then can captrail still give any set;
 * the size of the grant set is not known before the recording ends. Those
 * left over are abandoned (they exit 127 without running anything). */
static size_t spares_needed(int last_cap)
{
	size_t n = 0;

	for (int cap = 0; cap <= last_cap; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			n++;
	return n;
}

struct spares {
	struct held *held;
	size_t n, used;
};

static int spares_spawn(struct spares *s, char *const *argv, size_t n)
{
	int err;

	if (n == 0)
		return 0;
	s->held = calloc(n, sizeof(*s->held));
	if (!s->held)
		return -ENOMEM;
	for (s->n = 0; s->n < n; s->n++) {
		err = held_spawn(argv, &s->held[s->n]);
		if (err)
			return err;
	}
	return 0;
}

/* In reverse order: each held child keeps the write end of every earlier
 * one's pipe until it is released or exits. */
static void spares_free(struct spares *s)
{
	while (s->n > 0)
		held_abandon(&s->held[--s->n]);
	free(s->held);
	s->held = NULL;
}

/* Ablation: the grant set without one capability at a time, in number
 * order, each removal kept when it changed nothing (so the last run made
 * with a capability found not needed ran with exactly the final set).
 * Interrupted, the profile keeps what the runs so far found. */
static int minimize(struct spares *spares, const struct record_args *a, struct rings *rings,
		    struct profile *profile, const struct outcome *recorded)
{
	char then[64], now[64], why[PROFILE_WHY_LEN];
	unsigned int runs = 0;
	uint64_t grant;
	int rc = EXIT_OK, err;

	err = record_profile_covered(profile);
	if (err)
		return cmd_fail(CMD, err, "minimize: cannot read the profile");
	if (profile_not_needed_mask(profile) & (1ull << CAP_DAC_READ_SEARCH))
		cmd_say(CMD, "minimize: %s not needed: %s", caps_name_static(CAP_DAC_READ_SEARCH),
			profile_not_needed_reason(profile, CAP_DAC_READ_SEARCH));
	describe(a, recorded, then, sizeof(then));
	grant = profile_grant_mask(profile);
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		uint64_t bit = 1ull << cap;
		struct outcome o;

		if (!(grant & bit))
			continue;
		if (spares->used == spares->n) {
			rc = cmd_fail(CMD, 0, "minimize: more capabilities than runs prepared");
			break;
		}
		err = rerun(&spares->held[spares->used++], a, rings, grant & ~bit, "minimize", &o);
		if (err == -EINTR) {
			rc = cmd_fail(CMD, 0, "minimize: interrupted after %u runs", runs);
			break;
		}
		if (err) {
			rc = cmd_fail(CMD, err, "minimize: cannot run the command");
			break;
		}
		runs++;
		describe(a, &o, now, sizeof(now));
		if (!same_outcome(a, &o, recorded)) {
			cmd_say(CMD, "minimize: %s needed: without it %s (recorded: %s)",
				caps_name_static(cap), now, then);
			continue;
		}
		snprintf(why, sizeof(why), "without it: %s (same as recorded)", now);
		err = profile_set_not_needed(profile, cap, why);
		if (err) {
			rc = cmd_fail(CMD, err, "minimize: cannot update the profile");
			break;
		}
		grant &= ~bit;
		cmd_say(CMD, "minimize: %s not needed: %s", caps_name_static(cap), why);
	}
	err = profile_set_minimize(profile, runs, a->probe);
	if (err && rc == EXIT_OK)
		rc = cmd_fail(CMD, err, "minimize: cannot update the profile");
	return rc;
}

/* A command that failed after a denial its syscall reported (EPERM or
 * EACCES) most likely failed because of it: said before the profile, whose
 * "no capabilities" would read as all is well. */
static bool failed_on_denial(const struct profile *profile, int code)
{
	struct profile_denial *denials = NULL;
	char grant[CAPS_MAX * 24] = "", name[SYSCALLS_NAME_LEN];
	uint64_t seen = 0;
	size_t n = 0, len = 0;

	if (code == 0 || profile_denials(profile, &denials, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct profile_denial *d = &denials[i];
		const char *cap = caps_name_static(d->cap);

		if (!d->outcomes[PROFILE_OUTCOME_MATTERED])
			continue;
		cmd_warn(CMD, 0,
			 "the command failed (exit %d) on a denied capability: %s denied in %s by %s",
			 code, cap, syscalls_name(d->syscall, name) ?: "no syscall",
			 d->binary ?: "an unknown binary");
		if (seen & (1ull << d->cap))
			continue;
		seen |= 1ull << d->cap;
		len += snprintf(grant + len, sizeof(grant) - len, "%s", len ? "," : "");
		for (const char *c = cap + 4; *c && len < sizeof(grant) - 1; c++)
			grant[len++] = (char)tolower((unsigned char)*c);
		grant[len] = '\0';
	}
	free(denials);
	if (seen)
		cmd_warn(CMD, 0, "--grant %s would give it what was denied", grant);
	return seen != 0;
}

/* The same summary line as trace's, so scripts read both alike. */
static void report_summary(const struct recorder_result *res)
{
	const struct loader_stats *s = &res->stats;
	unsigned long long seen = 0, denied = 0;

	for (size_t i = 0; i < res->n_entries; i++) {
		seen += res->entries[i].check.count;
		if (res->entries[i].check.denied)
			denied += res->entries[i].check.count;
	}
	cmd_say(CMD, "%llu checks seen, %llu granted, %llu denied, %llu lost", seen, seen - denied,
		denied, (unsigned long long)(s->agg_full + s->missed));
	if (s->agg_full || s->missed || s->track_full || s->outcome_full || s->proc_lost)
		cmd_warn(CMD, 0, "%llu checks not counted (map full), %llu missed by the kernel, "
				 "%llu descendants not followed, %llu denial outcomes and %llu "
				 "process records lost",
			 (unsigned long long)s->agg_full, (unsigned long long)s->missed,
			 (unsigned long long)s->track_full, (unsigned long long)s->outcome_full,
			 (unsigned long long)s->proc_lost);
	if (res->untracked)
		cmd_warn(CMD, 0, "%llu processes, program images or kept capabilities past the "
				 "recorder's bound: their checks are counted without a binary",
			 (unsigned long long)res->untracked);
	if (res->objects_dropped)
		cmd_say(CMD, "note: %llu objects of checks not kept (past %d per check)",
			(unsigned long long)res->objects_dropped, RECORDER_OBJECTS);
	if (res->noaudit_unknown)
		cmd_warn(CMD, 0, "kernel symbols unreadable: noaudit probes count as audited, the "
				 "profile may ask for more than needed");
	if (!res->used_cgroup)
		cmd_say(CMD, "note: no writable cgroup v2; followed descendants by fork tracking");
}

/* How a stopped command ended: a daemon that exits on SIGTERM is fine. */
static void report_stop(const struct record_args *a, const struct recorder_result *res)
{
	double after = (double)(long)(res->stopped_after * 10 + 0.5) / 10;

	if (res->signal_error)
		cmd_warn(CMD, res->signal_error, "cannot signal every process of the command");
	if (res->stopped_cleanly)
		cmd_say(CMD, "stopped after %g s with SIGTERM; it exited cleanly", after);
	if (res->stopped_cleanly && res->killed)
		cmd_warn(CMD, 0, "processes it left did not exit within %g s of SIGTERM; killed",
			 a->stop_timeout);
	else if (res->killed)
		cmd_warn(CMD, 0,
			 "stopped after %g s with SIGTERM; it did not exit within %g s; killed", after,
			 a->stop_timeout);
	else if (res->stopped)
		cmd_say(CMD, "stopped after %g s with SIGTERM; it exited %d", after,
			cmd_exit_code(res->wait_status));
	if (a->probe)
		cmd_say(CMD, "probe: %s", res->probe_ok ? "ok" : "failed");
}

/* What stopped a recording, said once: loading, the rings, or the step. */
static int recorder_failed(int err, const struct recorder_error *error, struct rings *rings)
{
	if (error->loading)
		return cmd_load_failed(CMD, err, &error->hooks);
	if (err == rings_failure(rings, NULL))
		return cmd_rings_failed(CMD, rings);
	return cmd_fail(CMD, err, "cannot %s", error->step);
}

static int record(struct record_args *args, struct recorder *rec, struct rings *rings,
		  struct held *verify_held, struct spares *spares)
{
	struct recorder_result res = {};
	struct recorder_error error;
	struct profile *profile = NULL;
	struct outcome recorded;
	bool failed_denied;
	int rc, wrc, err;

	err = recorder_run(rec, rings, &res, &error);
	if (err && error.exec_failed) {
		cmd_fail(CMD, err, "cannot run '%s'", args->argv[0]);
		return 127;
	}
	if (err)
		return recorder_failed(err, &error, rings);
	recorded = (struct outcome){
		.code = run_exit_code(res.wait_status, res.stopped_cleanly),
		.probe_ok = res.probe_ok,
	};
	/* A signal ended the recording; the next one ends verify or minimize. */
	stop_requested = 0;
	err = record_profile_build(&res, args->argv, args->confine.set_user ? args->confine.uid : 0,
				   &profile);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot build the profile");
		goto out;
	}
	failed_denied = failed_on_denial(profile, recorded.code);
	report_stop(args, &res);
	report_summary(&res);
	rc = EXIT_OK;
	if (args->minimize && failed_denied)
		cmd_say(CMD, "minimize: skipped: the recorded run failed on a denied capability");
	else if (args->minimize)
		rc = minimize(spares, args, rings, profile, &recorded);
	/* Written even when minimize failed half-way: the recording stands. */
	wrc = cmd_write_profiles(CMD, args->output_path, &profile, 1, args->format);
	if (rc == EXIT_OK)
		rc = wrc;
	if (rc != EXIT_OK)
		goto out;
	rc = recorded.code;
	if (args->verify && failed_denied) {
		rc = cmd_fail(CMD, 0, "verify: not meaningful: the recorded run failed on a denied "
				      "capability");
	} else if (args->verify) {
		int vrc = verify(verify_held, args, rings, profile_grant_mask(profile), &recorded);

		if (vrc != EXIT_OK)
			rc = vrc;
	}
out:
	profile__free(profile);
	recorder_result_free(&res);
	return rc;
}

/* The workload --container, --pod or --cgroup selects. */
struct selection {
	char cgroup[PATH_MAX]; /* absolute */
	char name[CONTAINER_FIND_NAME_MAX + PATH_MAX]; /* what the profile is named */
	bool containers; /* it holds containers: the runtime rule applies */
};

/* Up to CONTAINER_FIND_MATCHES, "name (id)" each, for an error. */
static void describe_matches(const struct container_found *f, char *buf, size_t size)
{
	size_t n = f->n_matches < CONTAINER_FIND_MATCHES ? f->n_matches : CONTAINER_FIND_MATCHES;
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s (%.12s)", i ? ", " : "",
					f->matches[i].name[0] ? f->matches[i].name : "unnamed",
					f->matches[i].id);
	if (n < f->n_matches && len < size)
		snprintf(buf + len, size - len, " and %zu more", f->n_matches - n);
}

static void selection_roots(const struct record_args *a, struct container_roots *roots)
{
	size_t n = 0, extra = a->n_state_roots;

	container_roots_default(roots);
	while (n < CONTAINER_STATE_ROOTS - 1 && roots->state[n])
		n++;
	/* The user's roots first; the defaults that no longer fit are dropped. */
	if (n + extra > CONTAINER_STATE_ROOTS - 1)
		n = CONTAINER_STATE_ROOTS - 1 - extra;
	memmove(&roots->state[extra], &roots->state[0], n * sizeof(roots->state[0]));
	for (size_t i = 0; i < extra; i++)
		roots->state[i] = a->state_roots[i];
	roots->state[n + extra] = NULL;
}

static int select_found(const struct container_found *f, const char *rel, const char *name,
			struct selection *ret)
{
	if ((size_t)snprintf(ret->cgroup, sizeof(ret->cgroup), "%s%s", f->v2_root, rel) >=
	    sizeof(ret->cgroup))
		return cmd_fail(CMD, -ENAMETOOLONG, "cannot record %s", name);
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	ret->containers = true;
	return -1;
}

static int select_container(const struct record_args *a, struct selection *ret)
{
	struct container_roots roots;
	struct container_found f;
	char list[1024];
	int err;

	selection_roots(a, &roots);
	err = container_find_container(&roots, a->container, &f);
	if (err)
		return cmd_fail(CMD, err, "cannot look for container '%s'", a->container);
	if (f.n_matches == 0)
		return cmd_fail(CMD, 0, "no running container named '%s' or with that id (a "
					"runtime's state elsewhere: --state-root DIR)",
				a->container);
	if (f.n_matches > 1) {
		describe_matches(&f, list, sizeof(list));
		return cmd_fail(CMD, 0, "'%s' names %zu containers: %s; give one's id, or record "
					"them together with --pod or --cgroup", a->container,
				f.n_matches, list);
	}
	return select_found(&f, f.matches[0].cgroup,
			    f.matches[0].name[0] ? f.matches[0].name : a->container, ret);
}

static int select_pod(const struct record_args *a, struct selection *ret)
{
	char ns[PATH_MAX], list[1024], *name;
	struct container_roots roots;
	struct container_found f;
	int err;

	snprintf(ns, sizeof(ns), "%s", a->pod);
	name = strchr(ns, '/');
	*name++ = '\0';
	selection_roots(a, &roots);
	err = container_find_pod(&roots, ns, name, &f);
	if (err == -EINVAL)
		return usage_error("--pod '%s': NAMESPACE/NAME", a->pod);
	if (err)
		return cmd_fail(CMD, err, "cannot look for pod %s", a->pod);
	if (f.n_matches == 0)
		return cmd_fail(CMD, 0, "no running container of pod %s (a runtime's state "
					"elsewhere: --state-root DIR)", a->pod);
	if (f.pod_cgroup[0])
		return select_found(&f, f.pod_cgroup, a->pod, ret);
	if (f.n_matches == 1)
		return select_found(&f, f.matches[0].cgroup, a->pod, ret);
	describe_matches(&f, list, sizeof(list));
	return cmd_fail(CMD, 0, "the containers of pod %s have no common pod cgroup: %s; "
				"record one with --container ID", a->pod, list);
}

static int select_cgroup(const struct record_args *a, struct selection *ret)
{
	char root[PATH_MAX], real_root[PATH_MAX];
	struct container_cgroup cg;
	int err;

	err = container_find_cgroup(NULL, a->cgroup, ret->cgroup, sizeof(ret->cgroup));
	if (err == -EINVAL || err == -ENOTDIR || err == -ENAMETOOLONG)
		return usage_error("--cgroup %s: not a cgroup below the cgroup v2 root", a->cgroup);
	if (err == -ENOENT && cgroup_v2_root(CGROUP_DEFAULT_ROOT, root, sizeof(root), NULL))
		return cmd_fail(CMD, 0, "no cgroup v2 hierarchy under %s", CGROUP_DEFAULT_ROOT);
	if (err == -ENOENT)
		return cmd_fail(CMD, 0, "no cgroup %s under %s", a->cgroup, root);
	if (err)
		return cmd_fail(CMD, err, "cannot open cgroup %s", a->cgroup);
	if (cgroup_v2_root(CGROUP_DEFAULT_ROOT, root, sizeof(root), NULL))
		return cmd_fail(CMD, 0, "no cgroup v2 hierarchy under %s", CGROUP_DEFAULT_ROOT);
	/* container_find_cgroup() resolved symlinks: the root may have had one. */
	if (!realpath(root, real_root))
		return cmd_fail(CMD, errno, "cannot resolve %s", root);
	snprintf(ret->name, sizeof(ret->name), "%s", ret->cgroup + strlen(real_root));
	ret->containers = container_parse_cgroup(ret->name, &cg) == 0;
	return -1;
}

static int select_workload(const struct record_args *a, struct selection *ret)
{
	if (a->container)
		return select_container(a, ret);
	if (a->pod)
		return select_pod(a, ret);
	return select_cgroup(a, ret);
}

static int record_attached(const struct record_args *a, const struct selection *sel,
			   struct recorder *rec, struct rings *rings)
{
	struct recorder_result res = {};
	struct recorder_error error;
	struct profile *profile = NULL;
	double after;
	int rc, err;

	err = recorder_run(rec, rings, &res, &error);
	if (err)
		return recorder_failed(err, &error, rings);
	err = record_profile_attached(&res, sel->name, &profile);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot build the profile");
		goto out;
	}
	after = (double)(long)(res.stopped_after * 10 + 0.5) / 10;
	if (res.workload_ended)
		cmd_say(CMD, "%s ended after %g s: no process left in its cgroup", sel->name,
			after);
	else
		cmd_say(CMD, "recorded %s for %g s%s", sel->name, after,
			res.stopped ? " (stopped by a signal)" : "");
	if (res.runtime)
		cmd_say(CMD, "note: %llu checks of the container runtime's start-up left out",
			(unsigned long long)res.runtime);
	report_summary(&res);
	rc = cmd_write_profiles(CMD, a->output_path, &profile, 1, a->format);
out:
	profile__free(profile);
	recorder_result_free(&res);
	return rc;
}

static int cmd_record_attached(struct record_args *args)
{
	struct recorder_opts ropts = {};
	struct selection sel = {};
	struct recorder *rec = NULL;
	struct rings *rings = NULL;
	int rc, err;

	rc = select_workload(args, &sel);
	if (rc >= 0)
		return rc;
	cmd_say(CMD, "recording %s: cgroup %s and below", sel.name, sel.cgroup);
	ropts.cgroup = sel.cgroup;
	ropts.runtime_rule = sel.containers;
	ropts.procfs_root = "/proc";
	ropts.duration = args->duration;
	ropts.stop = &stop_requested;
	ropts.on_ready = say_ready;
	ropts.ctx = args;
	ropts.hook = args->hook;
	ropts.verbose = args->verbose;
	err = cmd_catch_stop_signals(&stop_requested);
	if (err)
		return cmd_fail(CMD, err, "cannot catch SIGINT and SIGTERM");
	err = recorder__new(&ropts, &rec);
	if (err == -ENOENT)
		return cmd_fail(CMD, 0, "%s is gone: its cgroup %s no longer exists", sel.name,
				sel.cgroup);
	if (err)
		return cmd_fail(CMD, err, "cannot open cgroup %s", sel.cgroup);
	args->rings.ebpf_extra = loader_extra_caps(NULL, args->rings.procfs_root, args->hook);
	rc = cmd_rings_start(CMD, &args->rings, args->verbose,
			     RINGS_NEED_KALLSYMS | RINGS_NEED_PROC, &rings);
	if (rc < 0)
		rc = record_attached(args, &sel, rec, rings);
	recorder__free(rec);
	rings__free(rings);
	return rc;
}

int cmd_record(int argc, char **argv)
{
	struct record_args args = {};
	struct recorder_opts ropts = {};
	struct recorder *rec = NULL;
	struct rings *rings = NULL;
	struct held verify_held = { .go_fd = -1, .err_fd = -1 };
	struct spares spares = {};
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	cmd_libbpf_output(args.verbose);
	if (args.container || args.pod || args.cgroup)
		return cmd_record_attached(&args);
	ropts.argv = args.argv;
	ropts.confine = args.confine;
	ropts.procfs_root = "/proc";
	ropts.duration = args.duration;
	ropts.stop_timeout = args.stop_timeout;
	ropts.probe = args.probe;
	ropts.stop = &stop_requested;
	ropts.on_ready = say_ready;
	ropts.ctx = &args;
	ropts.hook = args.hook;
	ropts.verbose = args.verbose;

	/* Fork what will run the user's command before lowering captrail. */
	err = cmd_catch_stop_signals(&stop_requested);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot catch SIGINT and SIGTERM");
		goto cleanup;
	}
	err = recorder__new(&ropts, &rec);
	if (!err && args.verify)
		err = held_spawn(args.argv, &verify_held);
	if (!err && args.minimize)
		err = spares_spawn(&spares, args.argv, spares_needed(args.confine.last_cap));
	if (err) {
		rc = cmd_fail(CMD, err, "cannot start the command");
		goto cleanup;
	}
	args.rings.ebpf_extra = loader_extra_caps(NULL, args.rings.procfs_root, args.hook);
	rc = cmd_rings_start(CMD, &args.rings, args.verbose,
			     RINGS_NEED_KALLSYMS | RINGS_NEED_PROC | RINGS_NEED_CGROUP |
				     RINGS_NEED_SIGNAL,
			     &rings);
	if (rc < 0)
		rc = record(&args, rec, rings, &verify_held, &spares);
cleanup:
	spares_free(&spares);
	held_abandon(&verify_held);
	recorder__free(rec);
	rings__free(rings);
	return rc;
}
