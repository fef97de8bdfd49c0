/* cgroup v2 operations for following a command and all its descendants:
 * the command runs in a cgroup of its own, so the BPF filter is a single
 * comparison with bpf_get_current_cgroup_id(). */
#ifndef CAPTRAIL_CGROUP_H
#define CAPTRAIL_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Mount point of the cgroup v2 hierarchy, from <procfs_root>/self/mountinfo
 * (/sys/fs/cgroup on unified systems, /sys/fs/cgroup/unified on hybrid). */
int cgroup_v2_mount(const char *procfs_root, char *ret_path, size_t size);

/* The cgroup id the kernel reports for a cgroup directory: its inode. */
int cgroup_id(const char *path, uint64_t *ret_id);

/* mkdir <parent>/<name>; on success ret_path holds the new directory. */
int cgroup_create(const char *parent, const char *name, char *ret_path, size_t size);
int cgroup_attach(const char *path, pid_t pid);
/* Whether any process is left in the cgroup or below (cgroup.events). */
int cgroup_populated(const char *path, bool *ret_populated);
/* SIGKILL to every process in the cgroup (cgroup.kill, else one by one). */
int cgroup_kill(const char *path);
int cgroup_remove(const char *path);

#endif
