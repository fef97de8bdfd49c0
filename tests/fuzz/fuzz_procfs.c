/* /proc records of a process, which the process shapes itself: its comm
 * (prctl), its argv and its cwd and executable's paths; read for processes
 * that ran before captrail attached, with /proc/stat's btime and
 * cap_last_cap beside them. Parts: /proc/1/stat, status, loginuid,
 * cmdline, the exe and cwd link targets, the ns link targets (one a line,
 * in procfs_ns_name() order), /proc/stat, /proc/sys/kernel/cap_last_cap. */
#include <stdint.h>
#include <stdlib.h>

#include "identity/procfs.h"
#include "lib/caps.h"
#include "lib/clock.h"

#include "fuzz.h"

enum { STAT, STATUS, LOGINUID, CMDLINE, EXE, CWD, NS, PROC_STAT, CAP_LAST_CAP, PARTS };

static char root[256], pid1[256], ns_dir[256], kernel[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("procfs");

	(void)argc;
	(void)argv;
	fuzz_mkdirs(dir, "proc", root, sizeof(root));
	fuzz_mkdirs(dir, "proc/1", pid1, sizeof(pid1));
	fuzz_mkdirs(dir, "proc/1/ns", ns_dir, sizeof(ns_dir));
	fuzz_mkdirs(dir, "proc/sys/kernel", kernel, sizeof(kernel));
	return 0;
}

/* A link whose target is the part (none for an empty one, which symlink()
 * refuses). */
static void link_to(const char *dir, const char *name, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FUZZ_CHECK(!unlink(path) || errno == ENOENT);
	if (*target && strlen(target) < 4096)
		FUZZ_CHECK(!symlink(target, path));
}

static void file(const char *dir, const char *name, const struct fuzz_part *p, bool present)
{
	if (present)
		fuzz_write(dir, name, p->data, p->size);
	else
		fuzz_unlink(dir, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procfs_process *p = malloc(sizeof(*p));
	struct fuzz_part parts[PARTS];
	size_t n = fuzz_split(data, size, parts, PARTS);
	char *exe, *cwd, *ns, *line, *next;
	uint64_t btime;
	int last;

	FUZZ_CHECK(p);
	file(pid1, "stat", &parts[STAT], n > STAT);
	file(pid1, "status", &parts[STATUS], n > STATUS);
	file(pid1, "loginuid", &parts[LOGINUID], n > LOGINUID);
	file(pid1, "cmdline", &parts[CMDLINE], n > CMDLINE);
	file(root, "stat", &parts[PROC_STAT], n > PROC_STAT);
	file(kernel, "cap_last_cap", &parts[CAP_LAST_CAP], n > CAP_LAST_CAP);
	exe = fuzz_part_str(&parts[EXE]);
	cwd = fuzz_part_str(&parts[CWD]);
	ns = fuzz_part_str(&parts[NS]);
	link_to(pid1, "exe", exe);
	link_to(pid1, "cwd", cwd);
	line = ns;
	for (int i = 0; i < CT_NS_COUNT; i++) {
		next = line ? strchr(line, '\n') : NULL;
		if (next)
			*next++ = '\0';
		link_to(ns_dir, procfs_ns_name(i), line ? line : "");
		line = next;
	}

	if (!procfs_read_process(root, 1, p)) {
		FUZZ_CHECK(p->pid == 1 && memchr(p->comm, '\0', sizeof(p->comm)));
		FUZZ_CHECK(memchr(p->exe, '\0', sizeof(p->exe)));
		FUZZ_CHECK(memchr(p->args, '\0', sizeof(p->args)));
		FUZZ_CHECK(memchr(p->cwd, '\0', sizeof(p->cwd)));
	}
	(void)clock_read_btime(root, &btime);
	if (!caps_last_cap(root, &last))
		FUZZ_CHECK(last >= 0 && last < CAPS_MAX);

	free(ns);
	free(cwd);
	free(exe);
	free(p);
	return 0;
}
