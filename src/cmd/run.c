/* captrail run --profile FILE -- CMD: run a command inside a profile. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "lib/caps.h"
#include "privilege/confine.h"
#include "privilege/held.h"
#include "profile/profile.h"

#define CMD "run"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

struct run_args {
	const char *profile_path;
	struct confine_spec confine;
	bool user_given;
	bool verbose;
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
		"Exits with CMD's exit status.\n"
		"\n"
		"      --profile FILE    the JSON profile\n"
		"      --user USER|UID   run as this user (default: the profile's)\n"
		"      --group GROUP|GID run with this group\n"
		"  -v, --verbose         log ring changes\n"
		"      --capabilities KEY=VALUE\n"
		"                        captrail's own capabilities, as for trace\n");
}

enum { OPT_PROFILE = 256, OPT_USER, OPT_GROUP, OPT_CAPABILITIES };

static const struct option long_options[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
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
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "vh",
		.longopts = long_options,
		.operands = true,
		.usage = usage,
		.parse = parse_option,
		.ctx = a,
	};
	int rc, operand;

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

int cmd_run(int argc, char **argv)
{
	char why[PROFILE_WHY_LEN] = "";
	struct run_args args = {};
	struct profile *profile = NULL;
	struct rings *rings = NULL;
	struct held child = { .go_fd = -1, .err_fd = -1 };
	const char *user_name;
	int rc, err, status;
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
	/* Forked before captrail lowers itself, so it can be given the set. */
	err = held_spawn(args.argv, &child);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot start the command");
		goto cleanup;
	}
	rc = cmd_rings_start(CMD, &args.rings, args.verbose, 0, &rings);
	if (rc >= 0)
		goto cleanup;
	err = held_release(&child, &args.confine);
	if (waitpid(child.pid, &status, 0) < 0 && !err)
		err = -errno;
	child.pid = 0;
	if (err) {
		cmd_fail(CMD, err, "cannot run '%s'", args.argv[0]);
		rc = 127;
		goto cleanup;
	}
	rc = cmd_exit_code(status);
cleanup:
	held_abandon(&child);
	rings__free(rings);
	profile__free(profile);
	return rc;
}
