/* captrail record -- CMD: run a command, print its least-privilege profile. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "cmd/options.h"
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
		"  -v, --verbose         libbpf debug output and ring changes\n"
		"      --capabilities KEY=VALUE\n"
		"                        captrail's own capabilities, as for trace\n");
}

#define usage_error(...) cmd_usage_error("record", __VA_ARGS__)

enum { OPT_OUTPUT = 256, OPT_USER, OPT_GROUP, OPT_GRANT, OPT_VERIFY, OPT_CAPABILITIES };

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
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_args(int argc, char **argv, struct record_args *a)
{
	const char *bad;
	int opt, rc;

	a->format = PROFILE_FORMAT_TEXT;
	if (caps_last_cap("/proc", &a->confine.last_cap))
		a->confine.last_cap = CAPS_MAX - 1;
	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option, which starts the command. */
	while ((opt = getopt_long(argc, argv, "+:o:d:vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			if (profile_format_parse(optarg, &a->format))
				return usage_error("unknown format '%s' (text, json, k8s, docker, "
						   "compose, systemd, oci)",
						   optarg);
			break;
		case OPT_OUTPUT: a->output_path = optarg; break;
		case OPT_USER:
			rc = cmd_user_option("record", &a->confine, optarg);
			if (rc >= 0)
				return rc;
			a->user_name = optarg;
			break;
		case OPT_GROUP:
			rc = cmd_group_option("record", &a->confine, optarg);
			if (rc >= 0)
				return rc;
			break;
		case OPT_GRANT:
			if (caps_parse_list(optarg, &a->confine.caps, &bad)) {
				char closest[CAPS_NAME_LEN];

				caps_closest(bad, closest);
				return usage_error("unknown capability '%s' (did you mean %s?)", bad,
						   closest);
			}
			a->confine.set_caps = true;
			break;
		case 'd':
			if (cli_parse_seconds(optarg, &a->duration))
				return usage_error("invalid duration '%s' (seconds > 0)", optarg);
			break;
		case OPT_VERIFY: a->verify = true; break;
		case 'v': a->verbose = true; break;
		case OPT_CAPABILITIES:
			rc = cmd_rings_option("record", &a->rings, optarg);
			if (rc >= 0)
				return rc;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command to record (captrail record [OPTIONS] -- CMD)");
	if (a->confine.set_caps && (!a->confine.set_user || a->confine.uid == 0))
		return usage_error("--grant needs --user with a non-root user "
				   "(root already has every capability)");
	a->argv = argv + optind;
	return -1;
}

static int exit_code_of(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return EXIT_RUNTIME;
}

static bool say_ready(void *ctx)
{
	(void)ctx;
	fprintf(stderr, "captrail: ready, recording\n");
	return true;
}

static int write_profile(const struct record_args *a, struct profile *p)
{
	FILE *out = stdout;
	int err;

	if (a->output_path) {
		out = fopen(a->output_path, "we");
		if (!out) {
			fprintf(stderr, "captrail: cannot write '%s': %s\n", a->output_path,
				strerror(errno));
			return -errno;
		}
	}
	err = profile_render(p, a->format, out);
	if (a->output_path) {
		if (fclose(out) && !err)
			err = -errno;
	} else if (fflush(out) && !err) {
		err = -errno;
	}
	if (err)
		fprintf(stderr, "captrail: cannot write the profile: %s\n", strerror(-err));
	return err;
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
	if (err) {
		fprintf(stderr, "captrail: verify: cannot run the command: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	if (exit_code_of(status) != exit_code_of(recorded_status)) {
		fprintf(stderr,
			"captrail: verify: FAILED: with the recommended set the command exited %d, "
			"recorded run exited %d\n",
			exit_code_of(status), exit_code_of(recorded_status));
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "captrail: verify: ok, the command exits %d with the recommended set too\n",
		exit_code_of(status));
	return EXIT_OK;
}

/* The same summary line as trace's, so scripts read both alike. */
static void report_summary(const struct recorder_result *res)
{
	const struct loader_stats *s = &res->stats;
	unsigned long long seen = 0, denied = 0;

	for (size_t i = 0; i < res->n_entries; i++) {
		seen += res->entries[i].value.count;
		if (res->entries[i].key.flags & CT_AGG_DENIED)
			denied += res->entries[i].value.count;
	}
	fprintf(stderr, "captrail: %llu checks seen, %llu granted, %llu denied, %llu lost\n", seen,
		seen - denied, denied, (unsigned long long)(s->agg_full + s->missed));
	if (s->agg_full || s->missed || s->track_full || s->outcome_full || s->proc_lost)
		fprintf(stderr,
			"captrail: warning: %llu checks not counted (map full), %llu missed by the "
			"kernel, %llu descendants not followed, %llu denial outcomes and %llu "
			"process records lost\n",
			(unsigned long long)s->agg_full, (unsigned long long)s->missed,
			(unsigned long long)s->track_full,
			(unsigned long long)s->outcome_full, (unsigned long long)s->proc_lost);
	if (res->untracked)
		fprintf(stderr, "captrail: warning: %llu processes or program images past the "
				"recorder's bound: their checks are counted without a binary\n",
			(unsigned long long)res->untracked);
	if (!res->used_cgroup)
		fprintf(stderr, "captrail: note: no writable cgroup v2; followed descendants by "
				"fork tracking\n");
}

int cmd_record(int argc, char **argv)
{
	struct record_args args = {};
	struct recorder_opts ropts = {};
	struct recorder_result res = {};
	struct recorder *rec = NULL;
	struct profile *profile = NULL;
	struct rings *rings = NULL;
	struct held rerun = { .go_fd = -1, .err_fd = -1 };
	bool exec_failed = false;
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

	/* Fork what will run the user's command before lowering captrail. */
	err = cmd_catch_stop_signals(&stop_requested);
	if (!err)
		err = recorder__new(&ropts, &rec);
	if (!err && args.verify)
		err = held_spawn(args.argv, &rerun);
	if (err) {
		fprintf(stderr, "captrail: cannot start the command: %s\n", strerror(-err));
		rc = EXIT_RUNTIME;
		goto cleanup;
	}
	rc = cmd_rings_start("record", &args.rings, args.verbose,
			     RINGS_NEED_KALLSYMS | RINGS_NEED_PROC | RINGS_NEED_CGROUP, &rings);
	if (rc >= 0)
		goto cleanup;
	err = recorder_run(rec, rings, &res, &exec_failed);
	if (exec_failed) {
		fprintf(stderr, "captrail: cannot run '%s': %s\n", args.argv[0], strerror(-err));
		rc = 127;
		goto cleanup;
	}
	if (err) {
		cmd_report_load_error(err);
		rc = EXIT_RUNTIME;
		goto cleanup;
	}
	report_summary(&res);
	err = record_profile_build(&res, args.argv, args.confine.set_user ? args.confine.uid : 0,
				   args.user_name, &profile);
	if (!err)
		err = write_profile(&args, profile);
	if (err) {
		rc = EXIT_RUNTIME;
		goto cleanup;
	}
	rc = exit_code_of(res.wait_status);
	if (args.verify) {
		int vrc = verify(&rerun, &args, profile_grant_mask(profile), res.wait_status);

		if (vrc != EXIT_OK)
			rc = vrc;
	}
cleanup:
	held_abandon(&rerun);
	profile__free(profile);
	recorder_result_free(&res);
	recorder__free(rec);
	rings__free(rings);
	return rc;
}
