/* Capability lists: --caps and --grant (caps_parse_list() and the "did
 * you mean" that follows a bad item), --capabilities KEY=VALUE and the
 * CAPABILITIES_* variables (rings). Parts: a list, an option, then the
 * values of CAPABILITIES_BYPASS, _ADD and _DROP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/caps.h"
#include "privilege/rings.h"

#include "fuzz.h"

static char *env[3];

static char *fake_getenv(const char *name)
{
	if (!strcmp(name, "CAPABILITIES_BYPASS"))
		return env[0];
	if (!strcmp(name, "CAPABILITIES_ADD"))
		return env[1];
	if (!strcmp(name, "CAPABILITIES_DROP"))
		return env[2];
	return NULL;
}

/* What a list parses to is what its names say: printed and read again,
 * the same mask. */
static void check_list(const char *list)
{
	char names[CAPS_MAX * CAPS_NAME_LEN], closest[CAPS_NAME_LEN];
	uint64_t mask = 0x5a5a, again = 0;
	const char *bad = (const char *)1;
	int cap, err;

	err = caps_parse_list(list, &mask, &bad);
	if (err) {
		FUZZ_CHECK(err == -EINVAL && mask == 0x5a5a);
		if (bad) {
			caps_closest(bad, closest);
			FUZZ_CHECK(!caps_parse(closest, &cap));
		}
		return;
	}
	FUZZ_CHECK(mask);
	caps_mask_names(mask, ",", names, sizeof(names));
	FUZZ_CHECK(!caps_parse_list(names, &again, NULL) && again == mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rings_config cfg = { 0 };
	char detail[RINGS_DETAIL_LEN], closest[CAPS_NAME_LEN];
	struct fuzz_part parts[5];
	char *list, *option;
	int cap;

	fuzz_split(data, size, parts, 5);
	list = fuzz_part_str(&parts[0]);
	option = fuzz_part_str(&parts[1]);
	for (int i = 0; i < 3; i++)
		env[i] = fuzz_part_str(&parts[2 + i]);

	check_list(list);
	if (!caps_parse(list, &cap))
		FUZZ_CHECK(cap >= 0 && cap < CAPS_MAX);
	caps_closest(list, closest);
	FUZZ_CHECK(!caps_parse(closest, &cap));

	if (!rings_config_parse_option(&cfg, option, detail))
		FUZZ_CHECK(cfg.set);
	if (!rings_config_from_env(&cfg, fake_getenv, detail))
		(void)rings_config_base(&cfg);

	for (int i = 0; i < 3; i++)
		free(env[i]);
	free(option);
	free(list);
	return 0;
}
