#include "identity/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/util.h"

int cgroup_v2_root(const char *cgroupfs, char *ret_path, size_t size, bool *ret_unified)
{
	char unified[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	const char *root = NULL;

	if (!statfs(cgroupfs, &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC)
		root = cgroupfs;
	else if ((size_t)snprintf(unified, sizeof(unified), "%s/unified", cgroupfs) <
			 sizeof(unified) &&
		 !stat(unified, &st) && S_ISDIR(st.st_mode))
		root = unified;
	if (!root)
		return -ENOENT;
	if ((size_t)snprintf(ret_path, size, "%s", root) >= size)
		return -ENAMETOOLONG;
	if (ret_unified)
		*ret_unified = root == cgroupfs;
	return 0;
}

int cgroup_id(const char *path, uint64_t *ret_id)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*ret_id = st.st_ino;
	return 0;
}

int cgroup_create(const char *parent, const char *name, char *ret_path, size_t size)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, name) >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0755))
		return -errno;
	if ((size_t)snprintf(ret_path, size, "%s", path) >= size) {
		rmdir(path);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

int cgroup_attach(const char *path, pid_t pid)
{
	char text[32];

	snprintf(text, sizeof(text), "%d\n", (int)pid);
	return write_file(path, "cgroup.procs", text);
}

int cgroup_populated(const char *path, bool *ret_populated)
{
	char file[PATH_MAX], buf[256], *p;
	int err;

	snprintf(file, sizeof(file), "%s/cgroup.events", path);
	err = read_small_file(file, buf, sizeof(buf));
	if (err)
		return err;
	p = strstr(buf, "populated ");
	if (!p)
		return -EINVAL;
	*ret_populated = p[strlen("populated ")] == '1';
	return 0;
}

int cgroup_kill(const char *path)
{
	char file[PATH_MAX];
	int err = write_file(path, "cgroup.kill", "1");
	FILE *f;
	int pid;

	if (err != -ENOENT)
		return err;
	/* Kernels before 5.14 have no cgroup.kill. */
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	fclose(f);
	return 0;
}

int cgroup_remove(const char *path)
{
	if (rmdir(path))
		return -errno;
	return 0;
}
