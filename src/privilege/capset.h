/* The calling thread's capability sets as masks (bit n: capability n), read
 * and written through libcap. */
#ifndef CAPTRAIL_PRIVILEGE_CAPSET_H
#define CAPTRAIL_PRIVILEGE_CAPSET_H

#include <stdint.h>

struct capset {
	uint64_t effective;
	uint64_t permitted;
	uint64_t inheritable;
};

/* Capabilities 0..last_cap (at most 63). */
int capset_get(int last_cap, struct capset *ret_sets);
int capset_set(int last_cap, const struct capset *sets);

/* Drops every capability 0..last_cap not in keep from the bounding set
 * (needs CAP_SETPCAP); numbers the kernel does not know are skipped. */
int capset_drop_bounding(int last_cap, uint64_t keep);

/* Clears the ambient set, then raises caps into it (each must be permitted
 * and inheritable). */
int capset_set_ambient(int last_cap, uint64_t caps);

#endif
