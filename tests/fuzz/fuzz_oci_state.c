/* A runtime's state of one container: runc's state.json (crun's status
 * reads the same way), with the annotations runc copied into its labels,
 * the creation time and the bundle, whose config.json is read next.
 * Parts: state.json, then <root>/bundle/config.json (a relative "bundle"
 * of "bundle" leads there). */
#include <stdint.h>

#include "container_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_make("oci_state");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[2];

	if (fuzz_split(data, size, parts, 2) > 1)
		fuzz_write(fx.bundle, "config.json", parts[1].data, parts[1].size);
	else
		fuzz_unlink(fx.bundle, "config.json");
	fuzz_write(fx.state, "state.json", parts[0].data, parts[0].size);
	fixture_lookup();
	return 0;
}
