/* captrail record -- CMD: run a command, print its least-privilege profile. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "kernel/loader.h"
#include "lib/caps.h"
#include "privilege/confine.h"
#include "privilege/held.h"
#include "profile/profile.h"
#include "record/record_profile.h"
#include "record/recorder.h"

struct record_args {
	struct confine_spec confine;
	const char *user_name;
	enum profile_format format;
	const char *output_path;
	double duration;
	bool verify;
	bool verbose;
	enum hook hook;
	struct rings_config rings;
	char **argv;
};

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail record [OPTIONS] -- CMD [ARGS...]\n"
		"\n"
		"Runs CMD and everything it spawns, then prints the smallest capability set\n"
		"it needs. Exits with CMD's exit status.\n"
		"\n"
		"  -o, --format FORMAT   text (default), json, k8s, docker, compose, systemd, oci\n"
		"      --output FILE     write the profile to FILE instead of stdout\n"
		"      --user USER|UID   run CMD as this user\n"
		"      --group GROUP|GID run CMD with this group (default: the user's)\n"
		"      --grant LIST      give CMD these capabilities (ambient; needs --user)\n"
		"  -d, --duration SECS   stop after SECS seconds (for daemons)\n"
		"      --verify          re-run CMD with exactly the recommended set and\n"
		"                        fail unless it exits the same way\n"
		"      --hook HOOK       auto (default), tracepoint, fexit or kprobe\n"
		"  -v, --verbose         libbpf debug output, ring changes, hooks not used\n"
		"      --capabilities KEY=VALUE\n"
		"                        captrail's own capabilities, as for trace\n");
}

#define CMD "record"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

enum { OPT_OUTPUT = 256, OPT_USER, OPT_GROUP, OPT_GRANT, OPT_VERIFY, OPT_CAPABILITIES, OPT_HOOK };

static const struct option long_options[] = {
	{ "format", required_argument, NULL, 'o' },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "grant", required_argument, NULL, OPT_GRANT },
	{ "duration", required_argument, NULL, 'd' },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct record_args *a = ctx;
	int rc = -1;

	switch (opt) {
	case 'o': return cmd_format_option(CMD, arg, &a->format);
	case OPT_OUTPUT: a->output_path = arg; break;
	case OPT_USER:
		rc = cmd_user_option(CMD, &a->confine, arg);
		a->user_name = arg;
		break;
	case OPT_GROUP: return cmd_group_option(CMD, &a->confine, arg);
	case OPT_GRANT:
		a->confine.set_caps = true;
		return cmd_caps_option(CMD, "--grant", arg, &a->confine.caps);
	case 'd': return cmd_seconds_option(CMD, "duration", arg, &a->duration);
	case OPT_VERIFY: a->verify = true; break;
	case 'v': a->verbose = true; break;
	case OPT_HOOK: return cmd_hook_option(CMD, arg, &a->hook);
	case OPT_CAPABILITIES: return cmd_rings_option(CMD, &a->rings, arg);
	}
	return rc;
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
	/* Unreadable: every number the bounding set can hold is dropped but
	 * the granted ones. */
	if (caps_last_cap("/proc", &a->confine.last_cap))
		a->confine.last_cap = CAPS_MAX - 1;
	rc = cmd_parse_options(&options, argc, argv, &operand);
	if (rc >= 0)
		return rc;
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

/* Re-runs the command (forked at start, while captrail still had every
 * capability to give) confined to the recommended set. */
static int verify(struct held *rerun, const struct record_args *a, uint64_t required,
		  int recorded_status)
{
	struct confine_spec spec = a->confine;
	int status = 0, err;

	spec.set_caps = true;
	spec.caps = required;
	err = held_release(rerun, &spec);
	if (waitpid(rerun->pid, &status, 0) < 0 && !err)
		err = -errno;
	rerun->pid = 0;
	if (err)
		return cmd_fail(CMD, err, "verify: cannot run the command");
	if (cmd_exit_code(status) != cmd_exit_code(recorded_status))
		return cmd_fail(CMD, 0, "verify: FAILED: with the recommended set the command "
					"exited %d, recorded run exited %d",
				cmd_exit_code(status), cmd_exit_code(recorded_status));
	cmd_say(CMD, "verify: ok, the command exits %d with the recommended set too",
		cmd_exit_code(status));
	return EXIT_OK;
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

static int record(struct record_args *args, struct recorder *rec, struct rings *rings,
		  struct held *rerun)
{
	struct recorder_result res = {};
	struct recorder_error error;
	struct profile *profile = NULL;
	int rc, err;

	err = recorder_run(rec, rings, &res, &error);
	if (err && error.exec_failed) {
		cmd_fail(CMD, err, "cannot run '%s'", args->argv[0]);
		return 127;
	}
	if (err && error.loading)
		return cmd_load_failed(CMD, err, &error.hooks);
	if (err && err == rings_failure(rings, NULL))
		return cmd_rings_failed(CMD, rings);
	if (err)
		return cmd_fail(CMD, err, "cannot %s", error.step);
	report_summary(&res);
	err = record_profile_build(&res, args->argv, args->confine.set_user ? args->confine.uid : 0,
				   args->user_name, &profile);
	if (err)
		rc = cmd_fail(CMD, err, "cannot build the profile");
	else
		rc = cmd_write_profiles(CMD, args->output_path, &profile, 1, args->format);
	if (rc == EXIT_OK)
		rc = cmd_exit_code(res.wait_status);
	if (rc == cmd_exit_code(res.wait_status) && args->verify) {
		int vrc = verify(rerun, args, profile_grant_mask(profile), res.wait_status);

		if (vrc != EXIT_OK)
			rc = vrc;
	}
	profile__free(profile);
	recorder_result_free(&res);
	return rc;
}

int cmd_record(int argc, char **argv)
{
	struct record_args args = {};
	struct recorder_opts ropts = {};
	struct recorder *rec = NULL;
	struct rings *rings = NULL;
	struct held rerun = { .go_fd = -1, .err_fd = -1 };
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	cmd_libbpf_output(args.verbose);
	ropts.argv = args.argv;
	ropts.confine = args.confine;
	ropts.procfs_root = "/proc";
	ropts.duration = args.duration;
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
		err = held_spawn(args.argv, &rerun);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot start the command");
		goto cleanup;
	}
	args.rings.ebpf_extra = loader_extra_caps(NULL, args.rings.procfs_root, args.hook);
	rc = cmd_rings_start(CMD, &args.rings, args.verbose,
			     RINGS_NEED_KALLSYMS | RINGS_NEED_PROC | RINGS_NEED_CGROUP, &rings);
	if (rc < 0)
		rc = record(&args, rec, rings, &rerun);
cleanup:
	held_abandon(&rerun);
	recorder__free(rec);
	rings__free(rings);
	return rc;
}
