/* captrail: records which capabilities programs, containers and pods use. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "lib/util.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "trace", cmd_trace, "stream capability checks as they happen" },
	{ "record", cmd_record, "run a command and print the capabilities it needs" },
	{ "run", cmd_run, "run a command inside a recorded (or edited) profile" },
	{ "agent", cmd_agent, "record every workload's capability checks (daemon)" },
	{ "events", cmd_events, "stream checks from the agent, or filter JSON lines on stdin" },
	{ "profile", cmd_profile, "least-privilege profile of a workload the agent watched" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: captrail COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'captrail COMMAND --help' describes a command's options;\n"
		     "'captrail help capabilities' lists captrail's own capabilities.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) && argc > 2 &&
	    !strcmp(argv[2], "capabilities"))
		return cmd_help_capabilities(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "captrail: unknown command '%s' (see 'captrail --help')\n", argv[1]);
	return EXIT_USAGE;
}
