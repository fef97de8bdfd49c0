/* Kernel address ranges of the functions that check capabilities without
 * auditing (CAP_OPT_NOAUDIT). The cap_capable tracepoint does not carry
 * the audit flag, so the BPF side tells noaudit checks apart by whether
 * their call chain passes through one of these. */
#ifndef CAPTRAIL_KALLSYMS_H
#define CAPTRAIL_KALLSYMS_H

#include <stddef.h>

#include "bpf/captrail.h"

/* The functions looked for. */
extern const char *const kallsyms_noaudit_functions[];
extern const size_t kallsyms_n_noaudit_functions;

/* Reads <procfs_root>/kallsyms: one range per function found, in address
 * order, at most max (those past it are left out); aliases at one address
 * share a range. Functions the kernel lacks are skipped; -EPERM when
 * addresses are hidden (kptr_restrict without CAP_SYSLOG). */
int kallsyms_noaudit_ranges(const char *procfs_root, struct ct_noaudit_range *ret_ranges,
			    size_t max, size_t *ret_count);

#endif
