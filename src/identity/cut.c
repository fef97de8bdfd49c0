#include "identity/cut.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UTF8_MAX_CONTINUATION 3

static bool continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t cut_keep(const char *s, size_t len, size_t max)
{
	size_t keep, back;

	if (len <= max)
		return len;
	keep = max - CUT_MARK_LEN;
	/* s[keep] starts the first character dropped. Invalid input has no
	 * boundary to find: then the cut is where the bound puts it. */
	for (back = 0; back < UTF8_MAX_CONTINUATION && keep > back &&
	     continuation((unsigned char)s[keep - back]); back++)
		;
	if (!continuation((unsigned char)s[keep - back]))
		keep -= back;
	return keep;
}

int cut_dup(const char *s, size_t max, char **ret, bool *ret_cut)
{
	size_t len = strnlen(s, max + 1), keep = cut_keep(s, len, max);
	bool cut = keep < len;
	char *copy = malloc(keep + (cut ? CUT_MARK_LEN : 0) + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, s, keep);
	if (cut)
		memcpy(copy + keep, CUT_MARK, CUT_MARK_LEN);
	copy[keep + (cut ? CUT_MARK_LEN : 0)] = '\0';
	*ret = copy;
	*ret_cut = cut;
	return 0;
}
