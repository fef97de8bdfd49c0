/* An OCI bundle's config.json, as a containerd shim keeps it beside the
 * task (io.containerd.runtime.v2.task/<ns>/<id>/): written from what a
 * pod's spec says, annotations included. Parts: config.json, init.pid. */
#include <stdint.h>

#include "container_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_make("oci_config");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[2];

	if (fuzz_split(data, size, parts, 2) > 1)
		fuzz_write(fx.task, "init.pid", parts[1].data, parts[1].size);
	else
		fuzz_unlink(fx.task, "init.pid");
	fuzz_write(fx.task, "config.json", parts[0].data, parts[0].size);
	fixture_lookup();
	return 0;
}
