/* One process's facts from /proc, for processes that ran before captrail
 * attached (and for those whose lifecycle records were missed). Every
 * function takes the proc root ("/proc", or a fixture tree). Readers return
 * 0 or a negative errno, -ENOENT when the process is gone, and never print. */
#ifndef CAPTRAIL_PROCFS_H
#define CAPTRAIL_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/captrail.h"
#include "kernel/records.h"

#define PROCFS_AUID_UNSET 4294967295u

/* /proc/PID/stat, parsed after the last ')' (comm may hold ')' and spaces). */
struct procfs_stat {
	uint32_t ppid;
	char state;
	uint64_t starttime; /* clock ticks since boot (CLOCK_BOOTTIME) */
	char comm[CT_COMM_LEN]; /* cut to CT_COMM_LEN - 1 */
};

int procfs_read_stat(const char *root, uint32_t pid, struct procfs_stat *ret_stat);

/* /proc/PID/status. */
struct procfs_status {
	uint32_t tgid;
	uint32_t euid; /* second field of "Uid:" */
	uint64_t cap_inheritable;
	uint64_t cap_permitted;
	uint64_t cap_effective;
};

int procfs_read_status(const char *root, uint32_t pid, struct procfs_status *ret_status);

/* PROCFS_AUID_UNSET when the file is missing (no audit) but the process is not. */
int procfs_read_loginuid(const char *root, uint32_t pid, uint32_t *ret_auid);

/* readlink of /proc/PID/exe without the " (deleted)" suffix, which sets
 * *ret_deleted. -ENAMETOOLONG when the path does not fit in size. */
int procfs_read_exe(const char *root, uint32_t pid, char *buf, size_t size, bool *ret_deleted);

/* readlink of /proc/PID/cwd, same rules as procfs_read_exe(). */
int procfs_read_cwd(const char *root, uint32_t pid, char *buf, size_t size);

/* /proc/PID/cmdline without argv[0], its first CT_ARGS_MAX bytes as
 * records_args_join() writes them, cut to size - 1 bytes (*ret_truncated
 * then true, as when bytes past CT_ARGS_MAX were dropped). */
int procfs_read_cmdline(const char *root, uint32_t pid, char *buf, size_t size,
			bool *ret_truncated);

/* "uts", "pid_for_children"...: the /proc/PID/ns entry of ns, which is
 * also its key in the event format. */
const char *procfs_ns_name(enum ct_ns ns);

/* Inode numbers of /proc/PID/ns/<name>, in enum ct_ns order; 0 for a
 * namespace the kernel lacks or that could not be read. */
int procfs_read_ns(const char *root, uint32_t pid, uint32_t ret_ns[CT_NS_COUNT]);

/* The numeric entries of root, ascending, in a malloc'd array. */
int procfs_list_pids(const char *root, uint32_t **ret_pids, size_t *ret_count);

/* Nanoseconds per clock tick of /proc/PID/stat times. */
uint64_t procfs_tick_ns(void);

enum procfs_flag {
	PROCFS_EXE_DELETED = 1u << 0,
	PROCFS_TRUNC_ARGS = 1u << 1,
	PROCFS_ERR_EXE = 1u << 2,
	PROCFS_ERR_ARGS = 1u << 3,
	PROCFS_ERR_CWD = 1u << 4,
};

/* Everything above for one process. Only stat and status must be readable;
 * a part that is not leaves its field empty and sets a PROCFS_ERR_* flag
 * (exe and cwd are unreadable without CAP_SYS_PTRACE for others' processes,
 * and missing for kernel threads). */
struct procfs_process {
	uint32_t pid;
	uint32_t ppid;
	uint32_t euid;
	uint32_t auid;
	uint64_t starttime; /* clock ticks since boot */
	uint64_t cap_inheritable;
	uint64_t cap_permitted;
	uint64_t cap_effective;
	uint32_t ns[CT_NS_COUNT];
	uint32_t flags; /* enum procfs_flag */
	char comm[CT_COMM_LEN];
	char exe[2 * CT_PATH_MAX + 1];
	char args[RECORDS_ARGS_LEN];
	char cwd[CT_PATH_MAX + 1];
};

int procfs_read_process(const char *root, uint32_t pid, struct procfs_process *ret_process);

#endif
