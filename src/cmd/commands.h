/* Subcommands: each parses its own options, prints, and returns an exit
 * code (0 ok, 1 runtime error, 2 bad usage). */
#ifndef CAPTRAIL_COMMANDS_H
#define CAPTRAIL_COMMANDS_H

enum exit_code { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

int cmd_trace(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_help_capabilities(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_hooks(int argc, char **argv);

#endif
