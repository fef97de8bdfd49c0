/* Syscall numbers and names of the build architecture, from libseccomp's
 * table (the kernel's own numbering, kept current by its maintainers).
 *
 * A 32-bit (compat) task's numbers belong to another table; the aggregation
 * key does not say which table a number came from, so such numbers are
 * named as if they were native. */
#ifndef CAPTRAIL_SYSCALLS_H
#define CAPTRAIL_SYSCALLS_H

#include <stdbool.h>

#define SYSCALLS_NAME_LEN 32

/* Returns ret_name filled with "openat", or "syscall_<nr>" for a number the
 * table does not know (a syscall newer than libseccomp); NULL for nr < 0
 * (the check was not made in a syscall), ret_name untouched. Allocates
 * inside libseccomp: not for a per-event hot path. */
const char *syscalls_name(int nr, char ret_name[SYSCALLS_NAME_LEN]);

/* The reverse: "openat" or "syscall_<nr>" (what syscalls_name() writes).
 * -ENOENT for a name this architecture does not have. */
int syscalls_number(const char *name, int *ret_nr);

/* Whether nr is capset(2), whose checks a profile shows apart. */
bool syscalls_is_capset(int nr);

#endif
