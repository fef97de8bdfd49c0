/* What the subcommands share: the only layer that prints.
 *
 * Every message goes to stderr as "captrail CMD: ...": status lines
 * ("ready, ..."), warnings ("warning: what failed: why"), and the one line
 * a runtime failure prints before the command exits 1 ("what failed: why").
 * Usage errors exit 2. */
#ifndef CAPTRAIL_CMD_CMD_H
#define CAPTRAIL_CMD_CMD_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "event/evfilter.h"
#include "kernel/loader.h"
#include "privilege/confine.h"
#include "privilege/rings.h"
#include "profile/profile.h"

#define CMD_FORMAT(i) __attribute__((format(printf, i, i + 1)))

/* A status line; returns nothing. */
void cmd_say(const char *cmd, const char *fmt, ...) CMD_FORMAT(2);
/* "warning: <what>[: strerror(-err)]" (err 0: no cause). */
void cmd_warn(const char *cmd, int err, const char *fmt, ...) CMD_FORMAT(3);
/* "<what>[: strerror(-err)]"; returns EXIT_RUNTIME. */
int cmd_fail(const char *cmd, int err, const char *fmt, ...) CMD_FORMAT(3);
/* "<message>"; returns EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) CMD_FORMAT(2);

/* libbpf's messages on stderr: everything with verbose, warnings otherwise. */
void cmd_libbpf_output(bool verbose);

/* SIGINT and SIGTERM set *flag to their number, interrupting blocking calls (no
 * SA_RESTART) so a loop sees it; a closed pipe is an EPIPE, not a signal. */
int cmd_catch_stop_signals(volatile sig_atomic_t *flag);
/* SIGHUP sets *flag to 1, for a command that passes it on. */
int cmd_catch_hangup(volatile sig_atomic_t *flag);

/* Why the BPF programs could not be loaded, hook by hook, on one line;
 * returns EXIT_RUNTIME. */
int cmd_load_failed(const char *cmd, int err, const struct loader_report *report);

/* " (hook fexit)", for the ready line. */
const char *cmd_hook_note(const struct loader_report *report);
/* With verbose, why each hook before the one used was not. */
void cmd_say_hooks(const char *cmd, const struct loader_report *report, bool verbose);
/* --hook auto|tracepoint|fexit|kprobe */
int cmd_hook_option(const char *cmd, const char *text, enum hook *ret_hook);

/* The failed ring change that stopped a command; returns EXIT_RUNTIME. */
int cmd_rings_failed(const char *cmd, struct rings *rings);

/* The exit status a shell would give for a wait status. */
int cmd_exit_code(int wait_status);

/* A command's options: getopt_long over argv, parse() called for each of
 * the command's own, the shared cases here: -h/--help prints usage, a
 * missing value or an unknown option is a usage error. */
struct cmd_options {
	const char *cmd;
	const char *shortopts; /* getopt's, without the leading ':' (added) */
	const struct option *longopts;
	bool operands; /* a command to run follows (stops at the first operand) */
	bool files; /* operands are files, options may come after them */
	void (*usage)(FILE *out);
	int (*parse)(void *ctx, int opt, const char *arg); /* -1: go on; else an exit code */
	void *ctx;
};

/* Returns -1 to go on, with *ret_operand the index of the first operand
 * (with neither operands nor files, an operand is a usage error), or the
 * exit code. */
int cmd_parse_options(const struct cmd_options *o, int argc, char **argv, int *ret_operand);

/* Option values: each returns -1 to go on, or EXIT_USAGE after saying why. */
/* --capabilities KEY=VALUE */
int cmd_rings_option(const char *cmd, struct rings_config *cfg, const char *text);
/* --user USER|UID and --group GROUP|GID of the commands that run one */
int cmd_user_option(const char *cmd, struct confine_spec *spec, const char *text);
int cmd_group_option(const char *cmd, struct confine_spec *spec, const char *text);
/* A list of capabilities (--caps, --grant): names, with or without CAP_, or
 * numbers, comma-separated; an unknown one gets a "did you mean". */
int cmd_caps_option(const char *cmd, const char *option, const char *text, uint64_t *ret_mask);
/* --namespaces, --pods, --containers, --processes (field), or --host
 * (EVFILTER_FIELDS), into *filter, made at the first. */
int cmd_filter_option(const char *cmd, struct evfilter **filter, enum evfilter_field field,
		      const char *value);
/* -d, --duration and other positive numbers of seconds. */
int cmd_seconds_option(const char *cmd, const char *what, const char *text, double *ret_seconds);

/* -o, --format of a profile: text, json, k8s, docker, compose, systemd, oci. */
int cmd_format_option(const char *cmd, const char *text, enum profile_format *ret_format);

/* Writes profiles to path (NULL: stdout); returns EXIT_OK or EXIT_RUNTIME
 * after saying why. */
int cmd_write_profiles(const char *cmd, const char *path, struct profile *const *profiles,
		       size_t n, enum profile_format format);

/* Why the store at path could not be opened (store__new()'s err) and, for
 * a corrupt or foreign file, how to move it aside; returns EXIT_RUNTIME. */
int cmd_store_open_failed(const char *cmd, const char *path, int err);

/* Reads CAPABILITIES_* for the keys no flag set, then lowers captrail to
 * what it can need (needed | the EBPF ring). Returns -1 to go on, or the
 * exit code after printing why. */
int cmd_rings_start(const char *cmd, struct rings_config *cfg, bool verbose, uint64_t needed,
		    struct rings **ret_rings);

#endif
