/* uthash, the one way captrail includes it: with its default, a failed
 * allocation inside HASH_ADD ends the process (exit(-1), no message).
 * Non-fatal instead: the element is not added and hash_add_failed() says
 * so, once, right after the HASH_ADD*() call. */
#ifndef CAPTRAIL_LIB_HASH_H
#define CAPTRAIL_LIB_HASH_H

#include <stdbool.h>

extern __thread bool hash_oom;

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) (hash_oom = true)
#include <uthash.h>

static inline bool hash_add_failed(void)
{
	bool failed = hash_oom;

	hash_oom = false;
	return failed;
}

#endif
