/* A containerd task's options.json, which names the runc root its shim was
 * given, and runc's state.json there (read for the start time), beside a
 * sandbox's bundle. Parts: options.json, then state.json (at
 * <root>/shimroot/k8s.io/<id>/: an options "root" of "shimroot" leads
 * there). */
#include <stdint.h>

#include "container_fixture.h"

#define SANDBOX_CONFIG "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\"," \
	"\"io.kubernetes.cri.sandbox-name\":\"web-0\"}}"

static char shim_state[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixture_make("containerd_task");
	fuzz_mkdirs(".", "shimroot/k8s.io/" FIXTURE_ID, shim_state, sizeof(shim_state));
	fuzz_write(fx.task, "config.json", SANDBOX_CONFIG, strlen(SANDBOX_CONFIG));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[2];

	if (fuzz_split(data, size, parts, 2) > 1)
		fuzz_write(shim_state, "state.json", parts[1].data, parts[1].size);
	else
		fuzz_unlink(shim_state, "state.json");
	fuzz_write(fx.task, "options.json", parts[0].data, parts[0].size);
	fixture_lookup();
	return 0;
}
