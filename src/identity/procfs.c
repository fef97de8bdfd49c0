#include "identity/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

#define DELETED_SUFFIX " (deleted)"

/* Names of /proc/PID/ns entries, in enum ct_ns order. */
static const char *const ns_names[CT_NS_COUNT] = {
	[CT_NS_UTS] = "uts",
	[CT_NS_IPC] = "ipc",
	[CT_NS_MNT] = "mnt",
	[CT_NS_PID] = "pid",
	[CT_NS_PID_FOR_CHILDREN] = "pid_for_children",
	[CT_NS_NET] = "net",
	[CT_NS_TIME] = "time",
	[CT_NS_TIME_FOR_CHILDREN] = "time_for_children",
	[CT_NS_CGROUP] = "cgroup",
	[CT_NS_USER] = "user",
};

const char *procfs_ns_name(enum ct_ns ns)
{
	return ns_names[ns];
}

static int pid_path(char *buf, size_t size, const char *root, uint32_t pid, const char *name)
{
	int n = snprintf(buf, size, "%s/%" PRIu32 "/%s", root, pid, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A file of the process is missing: -ENOENT if the process is gone too,
 * -ENODATA if only the file is (no exe for kernel threads, no loginuid
 * without audit). */
static int enoent_if_gone(const char *root, uint32_t pid, int err)
{
	char path[PATH_MAX];
	struct stat st;

	if (err != -ENOENT)
		return err;
	if (pid_path(path, sizeof(path), root, pid, "") == 0 && stat(path, &st) == 0)
		return -ENODATA;
	return -ENOENT;
}

static int parse_u64(const char **pos, int base, uint64_t *ret_value)
{
	const char *p = *pos;
	unsigned long long value;
	char *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isxdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	value = strtoull(p, &end, base);
	if (errno || end == p)
		return -EINVAL;
	*pos = end;
	*ret_value = value;
	return 0;
}

int procfs_read_stat(const char *root, uint32_t pid, struct procfs_stat *ret_stat)
{
	char path[PATH_MAX], buf[1024];
	struct procfs_stat st = { 0 };
	const char *open_paren, *close_paren, *p;
	uint64_t value;
	size_t comm_len;
	int err, field;

	err = pid_path(path, sizeof(path), root, pid, "stat");
	if (err)
		return err;
	err = read_small_file(path, buf, sizeof(buf));
	if (err)
		return err;
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	comm_len = (size_t)(close_paren - open_paren - 1);
	if (comm_len > sizeof(st.comm) - 1)
		comm_len = sizeof(st.comm) - 1;
	memcpy(st.comm, open_paren + 1, comm_len);

	/* Fields from 3 (state) on; ppid is 4, starttime 22. */
	p = close_paren + 1;
	while (*p == ' ')
		p++;
	if (!*p)
		return -EINVAL;
	st.state = *p++;
	for (field = 4; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (field == 4 || field == 22) {
			if (!isdigit((unsigned char)*p) || parse_u64(&p, 10, &value))
				return -EINVAL;
			if (field == 4) {
				if (value > UINT32_MAX)
					return -EINVAL;
				st.ppid = (uint32_t)value;
			} else {
				st.starttime = value;
			}
			continue;
		}
		while (*p && *p != ' ')
			p++;
		if (!*p)
			return -EINVAL;
	}
	*ret_stat = st;
	return 0;
}

/* What follows "<key>:" on its own line. */
static const char *status_field(const char *text, const char *key)
{
	size_t key_len = strlen(key);
	const char *line = text;

	while (line) {
		if (strncmp(line, key, key_len) == 0 && line[key_len] == ':')
			return line + key_len + 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

static int status_u64(const char *text, const char *key, int base, uint64_t *ret_value)
{
	const char *p = status_field(text, key);

	return p ? parse_u64(&p, base, ret_value) : -EINVAL;
}

int procfs_read_status(const char *root, uint32_t pid, struct procfs_status *ret_status)
{
	char path[PATH_MAX], buf[4096];
	struct procfs_status st = { 0 };
	uint64_t tgid, uid_real, uid_eff;
	const char *uids;
	int err;

	err = pid_path(path, sizeof(path), root, pid, "status");
	if (err)
		return err;
	err = read_small_file(path, buf, sizeof(buf));
	if (err)
		return err;
	/* "Uid:" lists the real, effective, saved and filesystem uids. */
	uids = status_field(buf, "Uid");
	if (!uids || parse_u64(&uids, 10, &uid_real) || parse_u64(&uids, 10, &uid_eff) ||
	    status_u64(buf, "Tgid", 10, &tgid) ||
	    status_u64(buf, "CapInh", 16, &st.cap_inheritable) ||
	    status_u64(buf, "CapPrm", 16, &st.cap_permitted) ||
	    status_u64(buf, "CapEff", 16, &st.cap_effective))
		return -EINVAL;
	if (tgid > UINT32_MAX || uid_eff > UINT32_MAX)
		return -EINVAL;
	st.tgid = (uint32_t)tgid;
	st.euid = (uint32_t)uid_eff;
	*ret_status = st;
	return 0;
}

int procfs_read_loginuid(const char *root, uint32_t pid, uint32_t *ret_auid)
{
	char path[PATH_MAX], buf[32];
	long value;
	int err;

	err = pid_path(path, sizeof(path), root, pid, "loginuid");
	if (err)
		return err;
	err = enoent_if_gone(root, pid, read_small_file(path, buf, sizeof(buf)));
	if (err == -ENODATA) {
		*ret_auid = PROCFS_AUID_UNSET;
		return 0;
	}
	if (err)
		return err;
	err = parse_long(buf, 0, UINT32_MAX, &value);
	if (err)
		return -EINVAL;
	*ret_auid = (uint32_t)value;
	return 0;
}

static int read_link(const char *root, uint32_t pid, const char *name, char *buf, size_t size,
		     bool *ret_deleted)
{
	char path[PATH_MAX], target[PATH_MAX + 1];
	size_t suffix_len = strlen(DELETED_SUFFIX);
	bool deleted = false;
	ssize_t n;
	int err;

	err = pid_path(path, sizeof(path), root, pid, name);
	if (err)
		return err;
	n = readlink(path, target, sizeof(target));
	if (n < 0)
		return enoent_if_gone(root, pid, -errno);
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	target[n] = '\0';
	if ((size_t)n > suffix_len && strcmp(target + n - suffix_len, DELETED_SUFFIX) == 0) {
		n -= (ssize_t)suffix_len;
		target[n] = '\0';
		deleted = true;
	}
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, target, (size_t)n + 1);
	if (ret_deleted)
		*ret_deleted = deleted;
	return 0;
}

int procfs_read_exe(const char *root, uint32_t pid, char *buf, size_t size, bool *ret_deleted)
{
	return read_link(root, pid, "exe", buf, size, ret_deleted);
}

int procfs_read_cwd(const char *root, uint32_t pid, char *buf, size_t size)
{
	return read_link(root, pid, "cwd", buf, size, NULL);
}

int procfs_read_cmdline(const char *root, uint32_t pid, char *buf, size_t size,
			bool *ret_truncated)
{
	char path[PATH_MAX], chunk[4096], raw[CT_ARGS_MAX + 1];
	bool in_argv0 = true, truncated = false;
	size_t len = 0;
	ssize_t n = 0, i;
	int fd, err;

	if (size == 0)
		return -EINVAL;
	err = pid_path(path, sizeof(path), root, pid, "cmdline");
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return enoent_if_gone(root, pid, -errno);
	/* Read in chunks: argv[0] alone can be longer than what is kept. As
	 * much of the rest as an exec record carries is kept, and the last
	 * argument's terminator (which is no cut). */
	while (!truncated && (n = read(fd, chunk, sizeof(chunk))) > 0) {
		for (i = 0; i < n && in_argv0; i++)
			in_argv0 = chunk[i] != '\0';
		if (len + (size_t)(n - i) > sizeof(raw))
			truncated = true;
		n -= i;
		if ((size_t)n > sizeof(raw) - len)
			n = (ssize_t)(sizeof(raw) - len);
		memcpy(raw + len, chunk + i, (size_t)n);
		len += (size_t)n;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	/* Cut as an exec record is: its first CT_ARGS_MAX bytes. */
	if (truncated)
		len = CT_ARGS_MAX;
	truncated |= records_args_join(raw, len, buf, size);
	*ret_truncated = truncated;
	return 0;
}

int procfs_read_ns(const char *root, uint32_t pid, uint32_t ret_ns[CT_NS_COUNT])
{
	uint32_t ns[CT_NS_COUNT] = { 0 };
	char path[PATH_MAX], target[64];
	unsigned long long inum;
	size_t i;
	int err;

	for (i = 0; i < CT_NS_COUNT; i++) {
		const char *open_bracket;
		char *end;
		ssize_t n;

		err = snprintf(path, sizeof(path), "%s/%" PRIu32 "/ns/%s", root, pid, ns_names[i]);
		if (err < 0 || (size_t)err >= sizeof(path))
			return -ENAMETOOLONG;
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0) {
			if (enoent_if_gone(root, pid, -errno) == -ENOENT)
				return -ENOENT;
			continue;
		}
		target[n] = '\0';
		/* "uts:[4026531838]" */
		open_bracket = strchr(target, '[');
		if (!open_bracket || !isdigit((unsigned char)open_bracket[1]))
			continue;
		errno = 0;
		inum = strtoull(open_bracket + 1, &end, 10);
		if (errno || *end != ']' || inum > UINT32_MAX)
			continue;
		ns[i] = (uint32_t)inum;
	}
	memcpy(ret_ns, ns, sizeof(ns));
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int procfs_list_pids(const char *root, uint32_t **ret_pids, size_t *ret_count)
{
	uint32_t *pids = NULL, *grown;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int err = 0;

	dir = opendir(root);
	if (!dir)
		return -errno;
	for (errno = 0; (de = readdir(dir)); errno = 0) {
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]) ||
		    parse_long(de->d_name, 1, UINT32_MAX, &pid))
			continue;
		if (count == cap) {
			cap = cap ? 2 * cap : 256;
			grown = realloc(pids, cap * sizeof(*pids));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			pids = grown;
		}
		pids[count++] = (uint32_t)pid;
	}
	if (!err && errno)
		err = -errno;
	closedir(dir);
	if (err) {
		free(pids);
		return err;
	}
	if (count)
		qsort(pids, count, sizeof(*pids), cmp_u32);
	*ret_pids = pids;
	*ret_count = count;
	return 0;
}

uint64_t procfs_tick_ns(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	/* USER_HZ is 100 on every Linux architecture; sysconf cannot fail there. */
	return 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
}

int procfs_read_process(const char *root, uint32_t pid, struct procfs_process *ret_process)
{
	struct procfs_process p = { .pid = pid };
	struct procfs_status status;
	struct procfs_stat stat;
	bool deleted = false, truncated = false;
	int err;

	err = procfs_read_stat(root, pid, &stat);
	if (!err)
		err = procfs_read_status(root, pid, &status);
	if (!err)
		err = procfs_read_loginuid(root, pid, &p.auid);
	if (!err)
		err = procfs_read_ns(root, pid, p.ns);
	if (err)
		return err;
	/* A thread id: /proc/TID exists but names its thread group's leader. */
	if (status.tgid != pid)
		return -ENOENT;
	p.ppid = stat.ppid;
	p.starttime = stat.starttime;
	memcpy(p.comm, stat.comm, sizeof(p.comm));
	p.euid = status.euid;
	p.cap_inheritable = status.cap_inheritable;
	p.cap_permitted = status.cap_permitted;
	p.cap_effective = status.cap_effective;

	err = procfs_read_exe(root, pid, p.exe, sizeof(p.exe), &deleted);
	if (err == -ENOENT)
		return err;
	if (err)
		p.flags |= PROCFS_ERR_EXE;
	else if (deleted)
		p.flags |= PROCFS_EXE_DELETED;
	err = procfs_read_cmdline(root, pid, p.args, sizeof(p.args), &truncated);
	if (err == -ENOENT)
		return err;
	if (err)
		p.flags |= PROCFS_ERR_ARGS;
	else if (truncated)
		p.flags |= PROCFS_TRUNC_ARGS;
	err = procfs_read_cwd(root, pid, p.cwd, sizeof(p.cwd));
	if (err == -ENOENT)
		return err;
	if (err)
		p.flags |= PROCFS_ERR_CWD;
	*ret_process = p;
	return 0;
}
