/* A profile file (`captrail run --profile`): written by captrail, then
 * edited by hand or handed over by someone else. What parses is rendered
 * in every format, as the commands print it, and must read back. */
#include <stdint.h>
#include <stdlib.h>

#include "profile/profile.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *out, why[PROFILE_WHY_LEN];
	struct profile *p = NULL, *again = NULL;

	if (!profile_parse_json(text, &p, why)) {
		for (int f = 0; f < PROFILE_FORMAT_COUNT; f++) {
			FUZZ_CHECK(!profile_render_string(p, f, &out));
			free(out);
		}
		FUZZ_CHECK(!profile_render_string(p, PROFILE_FORMAT_JSON, &out));
		if (profile_parse_json(out, &again, why)) {
			fprintf(stderr, "a rendered profile does not read back: %s\n%s\n", why, out);
			abort();
		}
		profile__free(again);
		free(out);
	}
	profile__free(p);
	free(text);
	return 0;
}
