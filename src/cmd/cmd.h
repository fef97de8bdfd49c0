/* Helpers shared by the subcommands: the only layer that prints. */
#ifndef CAPTRAIL_CMD_COMMON_H
#define CAPTRAIL_CMD_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "privilege/confine.h"
#include "privilege/rings.h"

/* "captrail CMD: <message>" on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* libbpf's messages on stderr: everything with verbose, warnings otherwise. */
void cmd_libbpf_output(bool verbose);

/* SIGINT and SIGTERM set *flag. */
int cmd_catch_stop_signals(volatile sig_atomic_t *flag);

/* Why the BPF programs could not be loaded, on stderr. */
void cmd_report_load_error(int err);

/* --capabilities KEY=VALUE; returns -1 to go on, or EXIT_USAGE. */
int cmd_rings_option(const char *cmd, struct rings_config *cfg, const char *text);

/* --user USER|UID and --group GROUP|GID of the commands that run one
 * (record, run); return -1 to go on, or EXIT_USAGE. */
int cmd_user_option(const char *cmd, struct confine_spec *spec, const char *text);
int cmd_group_option(const char *cmd, struct confine_spec *spec, const char *text);

/* Reads CAPABILITIES_* for the keys no flag set, then lowers captrail to
 * what it can need (needed | the EBPF ring). Returns -1 to go on, or the
 * exit code after printing why. */
int cmd_rings_start(const char *cmd, struct rings_config *cfg, bool verbose, uint64_t needed,
		    struct rings **ret_rings);

/* For struct identity_opts.around_miss, with the struct rings as ctx: reads
 * of a process missing from the cache run in the ring the start-up scan
 * uses, not in Base. */
void cmd_proc_miss_ring(void *rings, bool begin);

#endif
