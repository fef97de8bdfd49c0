/* captrail: records which capabilities programs, containers and pods use. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "lib/util.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	bool rings; /* takes --capabilities: it lowers captrail's own */
	const char *summary;
};

static const struct command commands[] = {
	{ "trace", cmd_trace, true, "stream capability checks as they happen" },
	{ "record", cmd_record, true, "run a command and print the capabilities it needs" },
	{ "run", cmd_run, true, "run a command inside a recorded (or edited) profile" },
	{ "agent", cmd_agent, true, "record every workload's capability checks (daemon)" },
	{ "events", cmd_events, false, "stream checks from the agent, or filter JSON lines on stdin" },
	{ "profile", cmd_profile, false, "least-privilege profile of a workload the agent watched" },
	{ "hooks", cmd_hooks, true, "which hooks on cap_capable() this kernel offers" },
	{ "capabilities", cmd_help_capabilities, true, NULL }, /* "help capabilities" */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: captrail [--capabilities KEY=VALUE]... COMMAND [OPTIONS]\n\n"
		     "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].summary)
			fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "  %-10s %s\n", "version", "print captrail's version");
	fprintf(out, "\n'captrail COMMAND --help' describes a command's options;\n"
		     "'captrail help capabilities' lists captrail's own capabilities.\n");
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].summary && !strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* The --capabilities options before the command (as the tracee reference
 * writes them): how many argv entries they take, or -1 when one lacks its
 * value. */
static int leading_rings_options(int argc, char **argv)
{
	int i = 1;

	while (i < argc) {
		if (!strncmp(argv[i], "--capabilities=", 15))
			i++;
		else if (!strcmp(argv[i], "--capabilities") && i + 1 < argc)
			i += 2;
		else if (!strcmp(argv[i], "--capabilities"))
			return -1;
		else
			break;
	}
	return i - 1;
}

/* Runs cmd with the leading options moved after its name, where its own
 * option parser reads them. */
static int run(const struct command *cmd, int argc, char **argv, int n_lead, int at)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int n = 0, rc;

	if (!args) {
		fprintf(stderr, "captrail: out of memory\n");
		return EXIT_RUNTIME;
	}
	args[n++] = argv[at];
	for (int i = 1; i <= n_lead; i++)
		args[n++] = argv[i];
	for (int i = at + 1; i < argc; i++)
		args[n++] = argv[i];
	rc = cmd->run(n, args);
	free(args);
	return rc;
}

int main(int argc, char **argv)
{
	int n_lead = leading_rings_options(argc, argv), at = n_lead + 1;
	const struct command *cmd;
	bool help;

	if (n_lead < 0) {
		fprintf(stderr, "captrail: option '--capabilities' needs a value\n");
		return EXIT_USAGE;
	}
	if (at >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	help = !strcmp(argv[at], "--help") || !strcmp(argv[at], "-h") || !strcmp(argv[at], "help");
	if (help && at + 1 < argc && !strcmp(argv[at + 1], "capabilities"))
		return run(&commands[ARRAY_SIZE(commands) - 1], argc, argv, n_lead, at + 1);
	if (help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[at], "--version") || !strcmp(argv[at], "version")) {
		if (n_lead || at + 1 < argc) {
			fprintf(stderr, "captrail: version takes no options\n");
			return EXIT_USAGE;
		}
		printf("captrail %s\n", CAPTRAIL_VERSION);
		return EXIT_OK;
	}
	cmd = find(argv[at]);
	if (!cmd) {
		fprintf(stderr, "captrail: unknown command '%s' (see 'captrail --help')\n", argv[at]);
		return EXIT_USAGE;
	}
	if (n_lead && !cmd->rings) {
		fprintf(stderr, "captrail: --capabilities applies to trace, record, run, agent, hooks "
				"and help capabilities, not %s\n",
			cmd->name);
		return EXIT_USAGE;
	}
	return run(cmd, argc, argv, n_lead, at);
}
