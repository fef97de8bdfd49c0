#include "cmd/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

int cli_parse_pids(const char *text, uint32_t *ret_pids, size_t max, size_t *ret_count)
{
	const char *item = text;
	size_t count = 0;

	if (!text || !*text)
		return -EINVAL;
	while (*item) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);
		char buf[16];
		long pid;

		if (len == 0 || len >= sizeof(buf) || count == max)
			return -EINVAL;
		memcpy(buf, item, len);
		buf[len] = '\0';
		if (parse_long(buf, 1, 0x7fffffff, &pid))
			return -EINVAL;
		ret_pids[count++] = (uint32_t)pid;
		item += len + (comma ? 1 : 0);
		if (comma && !*item)
			return -EINVAL;
	}
	*ret_count = count;
	return 0;
}

int cli_parse_uid(const char *text, uint32_t *ret_uid)
{
	long uid;

	/* 4294967295 is (uid_t)-1, "no uid": not a valid filter. */
	if (parse_long(text, 0, 0xfffffffeL, &uid))
		return -EINVAL;
	*ret_uid = (uint32_t)uid;
	return 0;
}

static int parse_positive(const char *text, double min, double max, double *ret_value)
{
	char *end;
	double value;

	if (!text || !*text)
		return -EINVAL;
	errno = 0;
	value = strtod(text, &end);
	if (errno || *end || !isfinite(value) || value <= 0 || value < min || value > max)
		return -EINVAL;
	*ret_value = value;
	return 0;
}

int cli_parse_seconds(const char *text, double *ret_seconds)
{
	return parse_positive(text, CLI_SECONDS_MIN, CLI_SECONDS_MAX, ret_seconds);
}

int cli_parse_rate(const char *text, double *ret_rate)
{
	return parse_positive(text, 0, CLI_RATE_MAX, ret_rate);
}

void cli_node_name(char *buf, size_t size)
{
	const char *env = getenv("NODE_NAME");

	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return;
	}
	if (gethostname(buf, size) != 0)
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}
