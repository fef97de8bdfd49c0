/* A seccomp filter that makes the calls which drop capabilities fail with
 * EPERM, as some sandboxes do: capset(2) and prctl(PR_CAPBSET_DROP). Shared
 * by the seccomp_exec helper and the unit tests of the rings module. */
#ifndef CAPTRAIL_TEST_SECCOMP_DENY_H
#define CAPTRAIL_TEST_SECCOMP_DENY_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define SECCOMP_DENY_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_DENY_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp_deny.h: add this architecture's AUDIT_ARCH_*"
#endif

/* The low 32 bits of the first argument: PR_CAPBSET_DROP fits in them. */
#define SECCOMP_DENY_ARG0_LO                                \
	(offsetof(struct seccomp_data, args[0]) +           \
	 (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0))

enum { SECCOMP_DENY_CAPSET = 1, SECCOMP_DENY_BOUNDING = 2 };

/* what: SECCOMP_DENY_* bits. Inherited by children and kept across exec.
 * Without CAP_SYS_ADMIN the kernel wants no_new_privs first. */
static inline int seccomp_deny(int what)
{
	const __u32 eperm = SECCOMP_RET_ERRNO | EPERM;
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_DENY_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_capset, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 what & SECCOMP_DENY_CAPSET ? eperm : SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prctl, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SECCOMP_DENY_ARG0_LO),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_CAPBSET_DROP, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 what & SECCOMP_DENY_BOUNDING ? eperm : SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
		return 0;
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) ? -errno : 0;
}

#endif
