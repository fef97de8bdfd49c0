/* captrail run --profile FILE -- CMD: run a command inside a profile. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "lib/caps.h"
#include "privilege/confine.h"
#include "privilege/held.h"
#include "profile/profile.h"
#include "record/supervise.h"

#define CMD "run"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

struct run_args {
	const char *profile_path;
	struct confine_spec confine;
	bool user_given;
	bool verbose;
	double duration;
	double stop_timeout;
	struct rings_config rings;
	char **argv;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail run --profile FILE [OPTIONS] -- CMD [ARGS...]\n"
		"\n"
		"Runs CMD with exactly the capabilities a profile grants (the \"grant\" list of\n"
		"'captrail record -o json', which may be edited by hand), as --verify does.\n"
		"CMD runs in a cgroup of its own: SIGINT, SIGTERM and SIGHUP are passed on to\n"
		"it, and whatever is left of it is killed when captrail ends.\n"
		"Exits with CMD's exit status.\n"
		"\n"
		"      --profile FILE    the JSON profile\n"
		"  -d, --duration SECS   stop CMD after SECS seconds: SIGTERM to every process,\n"
		"                        SIGKILL after --stop-timeout (exit 0 if it exits on it)\n"
		"      --stop-timeout SECS  grace period after SIGTERM (default 10)\n"
		"      --user USER|UID   run as this user (default: the profile's)\n"
		"      --group GROUP|GID run with this group\n"
		"  -v, --verbose         log ring changes\n"
		"      --capabilities KEY=VALUE\n"
		"                        captrail's own capabilities, as for trace\n");
}

enum { OPT_PROFILE = 256, OPT_USER, OPT_GROUP, OPT_CAPABILITIES, OPT_STOP_TIMEOUT };

static const struct option long_options[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
	{ "duration", required_argument, NULL, 'd' },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct run_args *a = ctx;

	switch (opt) {
	case OPT_PROFILE: a->profile_path = arg; break;
	case OPT_USER:
		a->user_given = true;
		return cmd_user_option(CMD, &a->confine, arg);
	case OPT_GROUP: return cmd_group_option(CMD, &a->confine, arg);
	case OPT_CAPABILITIES: return cmd_rings_option(CMD, &a->rings, arg);
	case 'v': a->verbose = true; break;
	case 'd': return cmd_seconds_option(CMD, "duration", arg, &a->duration);
	case OPT_STOP_TIMEOUT:
		return cmd_seconds_option(CMD, "stop timeout", arg, &a->stop_timeout);
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "d:vh",
		.longopts = long_options,
		.operands = true,
		.usage = usage,
		.parse = parse_option,
		.ctx = a,
	};
	int rc, operand;

	a->stop_timeout = SUPERVISE_STOP_TIMEOUT;
	rc = cmd_parse_options(&options, argc, argv, &operand);
	if (rc >= 0)
		return rc;
	if (!a->profile_path)
		return usage_error("--profile FILE is required");
	if (operand >= argc)
		return usage_error("no command to run (captrail run --profile FILE -- CMD)");
	a->argv = argv + operand;
	return -1;
}

static volatile sig_atomic_t stop_signal, hangup;

/* Runs the held child to its end under supervision; returns the exit code. */
static int supervise_command(const struct run_args *a, struct held *child, struct rings *rings)
{
	const struct supervise_opts opts = {
		.name = "run",
		.duration = a->duration,
		.stop_timeout = a->stop_timeout,
		.forward_stop = true,
	};
	struct supervise sv;
	int err;

	err = supervise_run(&sv, &opts, child, &a->confine, rings, &stop_signal, &hangup);
	if (err && !sv.start_ns) {
		cmd_fail(CMD, err, "cannot run '%s'", a->argv[0]);
		return 127;
	}
	if (err)
		return cmd_fail(CMD, err, "cannot follow the command");
	if (sv.signal_errors)
		cmd_warn(CMD, sv.signal_errors, "cannot signal every process of the command");
	if (sv.killed)
		cmd_warn(CMD, 0, "processes of the command did not exit within %g s of signal %d; "
				 "killed",
			 a->stop_timeout, sv.stop_signal);
	/* At the deadline, a daemon that exits on SIGTERM ran as it should
	 * (as for record -d); a signal from outside gets the command's status. */
	if (supervise_stopped_cleanly(&sv) && !stop_signal) {
		cmd_say(CMD, "stopped after %g s with SIGTERM; it exited cleanly",
			(double)(long)(supervise_stopped_after(&sv) * 10 + 0.5) / 10);
		return EXIT_OK;
	}
	return cmd_exit_code(sv.wait_status);
}

int cmd_run(int argc, char **argv)
{
	char why[PROFILE_WHY_LEN] = "";
	struct run_args args = {};
	struct profile *profile = NULL;
	struct rings *rings = NULL;
	struct held child = { .go_fd = -1, .err_fd = -1 };
	const char *user_name;
	int rc, err;
	uid_t uid;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	err = profile_load_json(args.profile_path, &profile, why);
	if (err == -EINVAL)
		return usage_error("cannot read profile '%s': %s", args.profile_path, why);
	if (err)
		return cmd_fail(CMD, err, "cannot read profile '%s'", args.profile_path);
	/* Unreadable: every number the bounding set can hold is dropped but the
	 * granted ones, which is what the profile asks for. */
	if (caps_last_cap("/proc", &args.confine.last_cap))
		args.confine.last_cap = CAPS_MAX - 1;
	args.confine.set_caps = true;
	args.confine.caps = profile_grant_mask(profile);
	if (!args.user_given && profile_user(profile, &uid, &user_name) && uid != 0) {
		args.confine.set_user = true;
		args.confine.uid = uid;
		args.confine.gid = uid;
		/* The profile's uid stands when its name is unknown here. */
		if (user_name &&
		    confine_lookup_user(user_name, &args.confine.uid, &args.confine.gid))
			cmd_warn(CMD, 0, "the profile's user '%s' is unknown here; running as uid %u",
				 user_name, (unsigned)uid);
	}
	err = cmd_catch_stop_signals(&stop_signal);
	if (!err)
		err = cmd_catch_hangup(&hangup);
	if (err)
		return cmd_fail(CMD, err, "cannot catch SIGINT, SIGTERM and SIGHUP");
	/* Forked before captrail lowers itself, so it can be given the set. */
	err = held_spawn(args.argv, &child);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot start the command");
		goto cleanup;
	}
	rc = cmd_rings_start(CMD, &args.rings, args.verbose, RINGS_NEED_CGROUP | RINGS_NEED_SIGNAL,
			     &rings);
	if (rc < 0)
		rc = supervise_command(&args, &child, rings);
cleanup:
	held_abandon(&child);
	rings__free(rings);
	profile__free(profile);
	return rc;
}
