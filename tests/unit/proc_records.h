/* Lifecycle records (struct ct_proc_event) laid out as the BPF programs
 * write them, for the tests of what reads them: the decoders, the process
 * cache, identity, images and the ledger. */
#ifndef CAPTRAIL_TEST_PROC_RECORDS_H
#define CAPTRAIL_TEST_PROC_RECORDS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bpf/captrail.h"
#include "identity/procfs.h"

/* r emptied, then a record of type for pid (its main thread) and ppid: no
 * binary, no arguments, cwd "/". */
static inline struct ct_proc_event *proc_record(struct ct_proc_event *r, uint32_t type,
						uint32_t pid, uint32_t ppid)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->pid = r->tid = pid;
	r->ppid = ppid;
	return r;
}

/* As the process cache keeps one: at ktime_ns, no login uid, "p" and the
 * pid for a comm so that whose it was shows. */
static inline struct ct_proc_event *proc_record_at(struct ct_proc_event *r, uint32_t type,
						   uint64_t ktime_ns, uint32_t pid,
						   uint32_t ppid)
{
	proc_record(r, type, pid, ppid);
	r->ktime_ns = ktime_ns;
	r->auid = PROCFS_AUID_UNSET;
	snprintf(r->comm, sizeof(r->comm), "p%u", pid);
	return r;
}

/* As images and the ledger key one: pid's image exec_gen, exec'd (or, for
 * a fork, inherited) in cgroup and mount namespace mntns. */
static inline struct ct_proc_event *proc_record_image(struct ct_proc_event *r, uint32_t type,
						      uint32_t pid, uint32_t ppid,
						      uint32_t exec_gen, uint64_t cgroup,
						      uint32_t mntns)
{
	proc_record(r, type, pid, ppid);
	r->exec_gen = exec_gen;
	r->cgroup_id = cgroup;
	r->ns[CT_NS_MNT] = mntns;
	return r;
}

static inline void set_binary(struct ct_proc_event *r, const char *binary)
{
	size_t n = strlen(binary);

	memcpy(r->binary, binary, n + 1);
	r->binary_len = (uint16_t)(n + 1);
}

/* argv[1..] as read_args() leaves them: each NUL-terminated. */
static inline void set_args(struct ct_proc_event *r, const char *const *args, size_t count)
{
	size_t len = 0;

	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(args[i]);

		memcpy(r->args + len, args[i], n + 1);
		len += n + 1;
	}
	r->args_len = (uint16_t)len;
}

/* "/a/b" as the dentry walk records it: "b\0a\0", leaf first. */
static inline void set_cwd(struct ct_proc_event *r, const char *path)
{
	char copy[CT_PATH_MAX], *parts[CT_PATH_DEPTH], *save = NULL, *part;
	size_t count = 0, len = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save))
		parts[count++] = part;
	r->cwd_parts = (uint16_t)count;
	while (count--) {
		size_t n = strlen(parts[count]);

		memcpy(r->cwd + len, parts[count], n + 1);
		len += n + 1;
	}
	r->cwd_len = (uint16_t)len;
}

/* The longest cwd the record holds: 10 components of 99, one of 23, each
 * with its NUL, is 1024 bytes of record and of path. */
static inline void set_longest_cwd(struct ct_proc_event *r)
{
	for (size_t i = 0; i < 10; i++) {
		memset(r->cwd + 100 * i, 'x', 99);
		r->cwd[100 * i + 99] = '\0';
	}
	memset(r->cwd + 1000, 'z', 23);
	r->cwd[1023] = '\0';
	r->cwd_len = CT_PATH_MAX;
	r->cwd_parts = 11;
}

#endif
