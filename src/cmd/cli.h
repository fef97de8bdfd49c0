/* Parsing of option values shared by the commands. Returns 0 or -EINVAL;
 * never prints: the caller names the bad value. */
#ifndef CAPTRAIL_CLI_H
#define CAPTRAIL_CLI_H

#include <stddef.h>
#include <stdint.h>

/* "12,34" into at most max pids (each > 0). */
int cli_parse_pids(const char *text, uint32_t *ret_pids, size_t max, size_t *ret_count);
int cli_parse_uid(const char *text, uint32_t *ret_uid);
int cli_parse_seconds(const char *text, double *ret_seconds);

/* NODE_NAME from the environment, else the host name. */
void cli_node_name(char *buf, size_t size);

#endif
