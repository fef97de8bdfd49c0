/* RFC 3339 times from outside: a runtime's "created" in state.json, and
 * the times of events and profiles read back. What parses must print and
 * parse again to the same nanosecond. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/clock.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), again[RFC3339_LEN];
	uint64_t ns = 42, ns2 = 0;

	if (clock_parse_rfc3339(text, &ns)) {
		FUZZ_CHECK(ns == 42);
	} else {
		clock_rfc3339(ns, again);
		FUZZ_CHECK(!clock_parse_rfc3339(again, &ns2));
		if (ns2 != ns) {
			fprintf(stderr, "%s -> %llu -> %s -> %llu\n", text, (unsigned long long)ns,
				again, (unsigned long long)ns2);
			abort();
		}
	}
	free(text);
	return 0;
}
