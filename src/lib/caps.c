#include "lib/caps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "lib/util.h"

/* libcap allocates each name it returns; events name capabilities by the
 * dozen (the credential sets), so the table is built from libcap once. */
static char name_table[CAPS_MAX][CAPS_NAME_LEN];
static pthread_once_t name_table_once = PTHREAD_ONCE_INIT;

static void build_name_table(void)
{
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		char *lib = cap_to_name((cap_value_t)cap);

		/* libcap prints unknown numbers as bare digits. */
		if (lib && !isdigit((unsigned char)lib[0])) {
			int n = snprintf(name_table[cap], CAPS_NAME_LEN, "%s", lib);
			for (int i = 0; i < n && i < CAPS_NAME_LEN; i++)
				name_table[cap][i] = (char)toupper((unsigned char)name_table[cap][i]);
		} else {
			snprintf(name_table[cap], CAPS_NAME_LEN, "CAP_%d", cap);
		}
		cap_free(lib);
	}
}

const char *caps_name_static(int cap)
{
	pthread_once(&name_table_once, build_name_table);
	return cap >= 0 && cap < CAPS_MAX ? name_table[cap] : NULL;
}

void caps_name(int cap, char ret_name[CAPS_NAME_LEN])
{
	const char *name = caps_name_static(cap);

	if (name)
		memcpy(ret_name, name, CAPS_NAME_LEN);
	else
		snprintf(ret_name, CAPS_NAME_LEN, "CAP_%d", cap);
}

int caps_parse(const char *text, int *ret_cap)
{
	char lower[CAPS_NAME_LEN + 4] = "cap_";
	cap_value_t value;
	const char *name = text;
	long num;

	if (!text || !*text)
		return -EINVAL;
	if (parse_long(text, 0, CAPS_MAX - 1, &num) == 0) {
		*ret_cap = (int)num;
		return 0;
	}
	if (strncasecmp(name, "cap_", 4) == 0)
		name += 4;
	/* "CAP_40": caps_name() of a capability this libcap does not know. */
	if (name != text && parse_long(name, 0, CAPS_MAX - 1, &num) == 0) {
		*ret_cap = (int)num;
		return 0;
	}
	if (strlen(name) >= CAPS_NAME_LEN)
		return -EINVAL;
	for (size_t i = 0; name[i]; i++)
		lower[4 + i] = (char)tolower((unsigned char)name[i]);
	lower[4 + strlen(name)] = '\0';
	if (cap_from_name(lower, &value) != 0 || value < 0 || value >= CAPS_MAX)
		return -EINVAL;
	*ret_cap = value;
	return 0;
}

int caps_parse_list(const char *list, uint64_t *ret_mask, const char **ret_bad)
{
	static __thread char bad[CAPS_NAME_LEN * 2];
	const char *item = list;
	uint64_t mask = 0;
	int cap;

	if (ret_bad)
		*ret_bad = NULL;
	if (!list || !*list)
		return -EINVAL;
	for (;;) {
		size_t len = strcspn(item, ",");

		if (!len)
			return -EINVAL; /* "", ",", "a,,b", "a,": no item there */
		snprintf(bad, sizeof(bad), "%.*s", (int)(len < sizeof(bad) ? len : sizeof(bad) - 1),
			 item);
		if (len >= sizeof(bad) || caps_parse(bad, &cap) != 0) {
			if (ret_bad)
				*ret_bad = bad;
			return -EINVAL;
		}
		mask |= 1ull << cap;
		if (!item[len])
			break;
		item += len + 1;
	}
	*ret_mask = mask;
	return 0;
}

/* Levenshtein distance over short ASCII names; case-insensitive. */
static int edit_distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[CAPS_NAME_LEN * 2 + 1];

	if (la > CAPS_NAME_LEN * 2 || lb > CAPS_NAME_LEN * 2)
		return INT_MAX;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int up = row[j];
			int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			int best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

void caps_closest(const char *text, char ret_name[CAPS_NAME_LEN])
{
	const char *name = strncasecmp(text, "cap_", 4) == 0 ? text + 4 : text;
	int best = INT_MAX;

	snprintf(ret_name, CAPS_NAME_LEN, "CAP_CHOWN");
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		char candidate[CAPS_NAME_LEN];
		int d;

		caps_name(cap, candidate);
		if (strncmp(candidate, "CAP_", 4) == 0 && isdigit((unsigned char)candidate[4]))
			break;
		/* A prefix ("net_bind") is a better hint than any near miss. */
		d = strncasecmp(candidate + 4, name, strlen(name)) == 0 ?
			    0 : edit_distance(name, candidate + 4);
		if (d < best) {
			best = d;
			memcpy(ret_name, candidate, CAPS_NAME_LEN);
		}
	}
}

int caps_last_cap(const char *procfs_root, int *ret_last)
{
	char path[PATH_MAX], buf[32];
	long last;
	int err;

	snprintf(path, sizeof(path), "%s/sys/kernel/cap_last_cap", procfs_root);
	err = read_small_file(path, buf, sizeof(buf));
	if (err)
		return err;
	err = parse_long(buf, 0, LONG_MAX, &last);
	if (err)
		return err;
	*ret_last = last > CAPS_MAX - 1 ? CAPS_MAX - 1 : (int)last;
	return 0;
}

void caps_mask_names(uint64_t mask, const char *sep, char *buf, size_t size)
{
	size_t used = 0;

	if (size)
		buf[0] = '\0';
	for (int cap = 0; cap < CAPS_MAX && used < size; cap++) {
		char name[CAPS_NAME_LEN];
		int n;

		if (!(mask & (1ull << cap)))
			continue;
		caps_name(cap, name);
		n = snprintf(buf + used, size - used, "%s%s", used ? sep : "", name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
