/* cgroup v2 operations for following a command and all its descendants:
 * the command runs in a cgroup of its own, so the BPF filter is a single
 * comparison with bpf_get_current_cgroup_id(). */
#ifndef CAPTRAIL_CGROUP_H
#define CAPTRAIL_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_DEFAULT_ROOT "/sys/fs/cgroup"

/* Where the cgroup v2 hierarchy is under a cgroupfs root: the root itself
 * on unified systems (*ret_unified true), <root>/unified on hybrid ones (a
 * directory there is taken for the v2 mount, as fixture trees have no
 * mounts). -ENOENT when there is none: cgroup v1 only. */
int cgroup_v2_root(const char *cgroupfs, char *ret_path, size_t size, bool *ret_unified);

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
