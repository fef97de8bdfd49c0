/* One bound for strings a workload controls that the resolver keeps
 * (annotations, labels, names from directory entries): a longer one is cut
 * at a UTF-8 character boundary and ends with CUT_MARK, so readers see
 * that it was cut. Output escaping is another matter (lib/text, once it
 * exists, should take this over). */
#ifndef CAPTRAIL_IDENTITY_CUT_H
#define CAPTRAIL_IDENTITY_CUT_H

#include <stdbool.h>
#include <stddef.h>

#define CUT_MARK "\xe2\x80\xa6" /* U+2026 HORIZONTAL ELLIPSIS */
#define CUT_MARK_LEN (sizeof(CUT_MARK) - 1)

/* How many of the first len bytes of s to keep before CUT_MARK so that the
 * whole fits in max bytes: never inside a multi-byte character. max must
 * be at least CUT_MARK_LEN. */
size_t cut_keep(const char *s, size_t len, size_t max);

/* A malloc'd copy of s of at most max bytes (NUL excluded, max >=
 * CUT_MARK_LEN), cut as above when longer; *ret_cut says whether it was.
 * -ENOMEM; *ret and *ret_cut are untouched then. */
int cut_dup(const char *s, size_t max, char **ret, bool *ret_cut);

#endif
