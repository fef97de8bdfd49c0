/* Parsing of option values shared by the commands. Returns 0 or -EINVAL;
 * never prints: the caller names the bad value. */
#ifndef CAPTRAIL_CLI_H
#define CAPTRAIL_CLI_H

#include <stddef.h>
#include <stdint.h>

/* "12,34" into at most max pids (each > 0). */
int cli_parse_pids(const char *text, uint32_t *ret_pids, size_t max, size_t *ret_count);
int cli_parse_uid(const char *text, uint32_t *ret_uid);
/* A duration or period (-d, --flush-interval): CLI_SECONDS_MIN to
 * CLI_SECONDS_MAX. Its nanoseconds must fit 64 bits (1e20 did not, and the
 * conversion made a stop time that had already passed), and a year is more
 * than any run asks for; below a millisecond, a period rounds to a timer
 * that never fires. */
#define CLI_SECONDS_MIN 0.001
#define CLI_SECONDS_MAX (365.0 * 24 * 3600)
int cli_parse_seconds(const char *text, double *ret_seconds);
/* A rate (events per second): a positive finite number up to CLI_RATE_MAX. */
#define CLI_RATE_MAX 1e9
int cli_parse_rate(const char *text, double *ret_rate);

/* NODE_NAME from the environment, else the host name. */
void cli_node_name(char *buf, size_t size);

#endif
