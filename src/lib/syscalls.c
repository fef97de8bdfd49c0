#include "lib/syscalls.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "lib/util.h"

#define UNKNOWN_PREFIX "syscall_"

const char *syscalls_name(int nr, char ret_name[SYSCALLS_NAME_LEN])
{
	char *name;

	if (nr < 0)
		return NULL;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (name && strlen(name) < SYSCALLS_NAME_LEN)
		snprintf(ret_name, SYSCALLS_NAME_LEN, "%s", name);
	else
		snprintf(ret_name, SYSCALLS_NAME_LEN, UNKNOWN_PREFIX "%d", nr);
	free(name);
	return ret_name;
}

int syscalls_number(const char *name, int *ret_nr)
{
	const char *digits;
	long nr;
	int n;

	if (!name || !*name)
		return -EINVAL;
	if (strncmp(name, UNKNOWN_PREFIX, strlen(UNKNOWN_PREFIX)) == 0) {
		digits = name + strlen(UNKNOWN_PREFIX);
		if (!isdigit((unsigned char)*digits) || strchr(digits, '\n') ||
		    parse_long(digits, 0, INT_MAX, &nr) != 0)
			return -ENOENT;
		*ret_nr = (int)nr;
		return 0;
	}
	/* Negative answers are libseccomp's pseudo numbers for syscalls that
	 * exist only on other architectures (socketcall on x86-64). */
	n = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
	if (n < 0)
		return -ENOENT;
	*ret_nr = n;
	return 0;
}

bool syscalls_is_capset(int nr)
{
#ifdef SYS_capset
	return nr == SYS_capset;
#else
	return false;
#endif
}
