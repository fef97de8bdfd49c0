#include "kernel/kallsyms.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Callers of cap_capable() that pass CAP_OPT_NOAUDIT: the overcommit
 * probe every mmap/brk/execve makes (cap_vm_enough_memory is usually
 * inlined into its LSM caller, so both are listed), the *_noaudit()
 * helpers, and kallsyms' own "may this reader see addresses" question. */
const char *const kallsyms_noaudit_functions[] = {
	"security_vm_enough_memory_mm",
	"cap_vm_enough_memory",
	"ns_capable_noaudit",
	"has_ns_capability_noaudit",
	"has_capability_noaudit",
	"kallsyms_show_value",
};
const size_t kallsyms_n_noaudit_functions =
	sizeof(kallsyms_noaudit_functions) / sizeof(kallsyms_noaudit_functions[0]);

static int wanted_index(const char *name)
{
	for (size_t i = 0; i < kallsyms_n_noaudit_functions; i++)
		if (!strcmp(name, kallsyms_noaudit_functions[i]))
			return (int)i;
	return -1;
}

/* /proc/kallsyms lists the core kernel's symbols sorted by address, so a
 * function ends where the next higher address begins. */
int kallsyms_noaudit_ranges(const char *procfs_root, struct ct_noaudit_range *ret_ranges,
			    size_t max, size_t *ret_count)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES] = {};
	char path[PATH_MAX], line[512], name[256], type;
	size_t count = 0;
	int open_range = -1;
	uint64_t addr, nonzero = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kallsyms", procfs_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		int idx;

		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) != 3)
			continue;
		nonzero |= addr;
		if (open_range >= 0 && addr > ranges[open_range].start) {
			ranges[open_range].end = addr;
			open_range = -1;
		}
		if (type != 'T' && type != 't')
			continue;
		idx = wanted_index(name);
		if (idx < 0 || count >= max || count >= CT_NOAUDIT_RANGES)
			continue;
		/* An alias of the function whose range is open: one range. */
		if (open_range >= 0 && ranges[open_range].start == addr)
			continue;
		ranges[count].start = addr;
		open_range = (int)count++;
	}
	fclose(f);
	if (!nonzero)
		return -EPERM;
	if (open_range >= 0) /* the last symbol of the file: no known end */
		count--;
	memcpy(ret_ranges, ranges, count * sizeof(ranges[0]));
	*ret_count = count;
	return 0;
}
