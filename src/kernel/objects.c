#include "kernel/objects.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/syscalls.h"

enum object_kind {
	OBJECT_PATH, /* the path */
	OBJECT_PATH_OWNER, /* "PATH -> UID:GID" */
	OBJECT_FD_OWNER, /* "fd N -> UID:GID" */
	OBJECT_PATH_MODE, /* "PATH mode 0755" */
	OBJECT_FD_MODE, /* "fd N mode 0755" */
	OBJECT_IDS, /* "uid R/E/S" */
	OBJECT_PORT, /* "port 80" */
	OBJECT_PID, /* "pid 1234" */
};

/* a, b, c: argument numbers of the owner (uid, gid), mode, fd, pid, or
 * the first id and how many (OBJECT_IDS). */
struct object_syscall {
	const char *name;
	enum object_kind kind;
	uint8_t data_arg; /* the path or sockaddr the BPF side reads */
	uint8_t a, b, c;
	const char *prefix; /* OBJECT_IDS: "uid", "gid" */
};

#define PATH(n, arg) { #n, OBJECT_PATH, arg, 0, 0, 0, NULL }
#define PATH_OWNER(n, arg, uid, gid) { #n, OBJECT_PATH_OWNER, arg, uid, gid, 0, NULL }
#define FD_OWNER(n, fd, uid, gid) { #n, OBJECT_FD_OWNER, 0, uid, gid, fd, NULL }
#define PATH_MODE(n, arg, mode) { #n, OBJECT_PATH_MODE, arg, mode, 0, 0, NULL }
#define FD_MODE(n, fd, mode) { #n, OBJECT_FD_MODE, 0, mode, 0, fd, NULL }
#define IDS(n, prefix, first, count) { #n, OBJECT_IDS, 0, first, count, 0, prefix }
#define PORT(n, arg) { #n, OBJECT_PORT, arg, 0, 0, 0, NULL }
#define PID(n, arg) { #n, OBJECT_PID, 0, arg, 0, 0, NULL }

/* The syscalls whose capability checks are about a file, an owner, an id,
 * a port or another process. */
static const struct object_syscall table[] = {
	PATH(open, 0), PATH(creat, 0), PATH(truncate, 0), PATH(mkdir, 0), PATH(rmdir, 0),
	PATH(unlink, 0), PATH(chdir, 0), PATH(chroot, 0), PATH(mknod, 0), PATH(execve, 0),
	PATH(acct, 0), PATH(swapon, 0), PATH(swapoff, 0), PATH(umount2, 0), PATH(setxattr, 0),
	PATH(lsetxattr, 0), PATH(removexattr, 0), PATH(lremovexattr, 0), PATH(utime, 0),
	PATH(utimes, 0), PATH(rename, 0), PATH(link, 0), PATH(stat, 0), PATH(lstat, 0),
	PATH(access, 0), PATH(statfs, 0), PATH(pivot_root, 0), PATH(symlink, 1), PATH(mount, 1),
	PATH(openat, 1), PATH(openat2, 1), PATH(newfstatat, 1), PATH(statx, 1),
	PATH(faccessat, 1), PATH(faccessat2, 1), PATH(mkdirat, 1), PATH(mknodat, 1),
	PATH(unlinkat, 1), PATH(utimensat, 1), PATH(futimesat, 1), PATH(execveat, 1),
	PATH(name_to_handle_at, 1), PATH(renameat, 1), PATH(renameat2, 1), PATH(linkat, 1),
	PATH(open_tree, 1), PATH(symlinkat, 2),
	PATH_OWNER(chown, 0, 1, 2), PATH_OWNER(lchown, 0, 1, 2), PATH_OWNER(fchownat, 1, 2, 3),
	FD_OWNER(fchown, 0, 1, 2),
	PATH_MODE(chmod, 0, 1), PATH_MODE(fchmodat, 1, 2), PATH_MODE(fchmodat2, 1, 2),
	FD_MODE(fchmod, 0, 1),
	IDS(setuid, "uid", 0, 1), IDS(setgid, "gid", 0, 1), IDS(setreuid, "uid", 0, 2),
	IDS(setregid, "gid", 0, 2), IDS(setresuid, "uid", 0, 3), IDS(setresgid, "gid", 0, 3),
	IDS(setfsuid, "uid", 0, 1), IDS(setfsgid, "gid", 0, 1),
	PORT(bind, 1),
	PID(kill, 0), PID(tkill, 0), PID(tgkill, 0), PID(rt_sigqueueinfo, 0),
	PID(rt_tgsigqueueinfo, 0), PID(ptrace, 1), PID(process_vm_readv, 0),
	PID(process_vm_writev, 0), PID(pidfd_open, 0), PID(kcmp, 0), PID(sched_setscheduler, 0),
	PID(sched_setparam, 0), PID(sched_setaffinity, 0), PID(sched_setattr, 0),
	PID(prlimit64, 0), PID(migrate_pages, 0), PID(move_pages, 0),
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

static enum ct_object_read read_of(enum object_kind kind)
{
	switch (kind) {
	case OBJECT_PATH:
	case OBJECT_PATH_OWNER:
	case OBJECT_PATH_MODE: return CT_OBJECT_STRING;
	case OBJECT_PORT: return CT_OBJECT_SOCKADDR;
	default: return CT_OBJECT_ARGS_ONLY;
	}
}

int objects_specs(int (*fn)(void *ctx, int nr, const struct ct_object_spec *spec), void *ctx)
{
	for (size_t i = 0; i < TABLE_LEN; i++) {
		struct ct_object_spec spec = { .read = read_of(table[i].kind),
					       .arg = table[i].data_arg };
		int nr, err;

		/* Syscalls this architecture does not have (open on arm64). */
		if (syscalls_number(table[i].name, &nr) || nr >= CT_OBJECT_SYSCALLS)
			continue;
		err = fn(ctx, nr, &spec);
		if (err)
			return err;
	}
	return 0;
}

static const struct object_syscall *lookup(int nr)
{
	char name[SYSCALLS_NAME_LEN];

	if (!syscalls_name(nr, name))
		return NULL;
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

/* An id as the kernel reads it: 32 bits, -1 leaves it as it is. */
static void put_id(char *buf, size_t len, uint64_t arg)
{
	if ((uint32_t)arg == UINT32_MAX)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%u", (unsigned int)(uint32_t)arg);
}

/* The path, "..." after it when the read filled the buffer (cut). */
static int put_path(const struct ct_object_event *e, char *buf, size_t len)
{
	size_t n = e->data_len < CT_OBJECT_DATA ? e->data_len : CT_OBJECT_DATA;

	if (!(e->flags & CT_OBJECT_DATA_READ) || !n)
		return -ENOENT;
	n = strnlen(e->data, n);
	snprintf(buf, len, "%.*s%s", (int)n, e->data, e->data_len >= CT_OBJECT_DATA ? "..." : "");
	return 0;
}

static int put_port(const struct ct_object_event *e, char *buf, size_t len)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;
	sa_family_t family;

	if (!(e->flags & CT_OBJECT_DATA_READ) || e->data_len < sizeof(in))
		return -ENOENT;
	memcpy(&family, e->data, sizeof(family));
	if (family == AF_INET) {
		memcpy(&in, e->data, sizeof(in));
		snprintf(buf, len, "port %u", ntohs(in.sin_port));
		return 0;
	}
	if (family == AF_INET6 && e->data_len >= sizeof(in6)) {
		memcpy(&in6, e->data, sizeof(in6));
		snprintf(buf, len, "port %u", ntohs(in6.sin6_port));
		return 0;
	}
	return -ENOENT;
}

int objects_render(const struct ct_object_event *e, char text[OBJECTS_TEXT_LEN])
{
	const struct object_syscall *s = lookup(e->key.syscall);
	char path[CT_OBJECT_DATA + 4], uid[16], gid[16];
	int err = 0;

	if (!s)
		return -ENOENT;
	switch (s->kind) {
	case OBJECT_PATH:
		return put_path(e, text, OBJECTS_TEXT_LEN);
	case OBJECT_PATH_OWNER:
		err = put_path(e, path, sizeof(path));
		put_id(uid, sizeof(uid), e->args[s->a]);
		put_id(gid, sizeof(gid), e->args[s->b]);
		if (!err)
			snprintf(text, OBJECTS_TEXT_LEN, "%s -> %s:%s", path, uid, gid);
		return err;
	case OBJECT_FD_OWNER:
		put_id(uid, sizeof(uid), e->args[s->a]);
		put_id(gid, sizeof(gid), e->args[s->b]);
		snprintf(text, OBJECTS_TEXT_LEN, "fd %d -> %s:%s", (int)e->args[s->c], uid, gid);
		return 0;
	case OBJECT_PATH_MODE:
		err = put_path(e, path, sizeof(path));
		if (!err)
			snprintf(text, OBJECTS_TEXT_LEN, "%s mode %04o", path,
				 (unsigned int)(e->args[s->a] & 07777));
		return err;
	case OBJECT_FD_MODE:
		snprintf(text, OBJECTS_TEXT_LEN, "fd %d mode %04o", (int)e->args[s->c],
			 (unsigned int)(e->args[s->a] & 07777));
		return 0;
	case OBJECT_IDS:
		snprintf(text, OBJECTS_TEXT_LEN, "%s ", s->prefix);
		for (unsigned int i = 0; i < s->b; i++) {
			put_id(uid, sizeof(uid), e->args[s->a + i]);
			strncat(text, i ? "/" : "", OBJECTS_TEXT_LEN - strlen(text) - 1);
			strncat(text, uid, OBJECTS_TEXT_LEN - strlen(text) - 1);
		}
		return 0;
	case OBJECT_PORT:
		return put_port(e, text, OBJECTS_TEXT_LEN);
	default:
		snprintf(text, OBJECTS_TEXT_LEN, "pid %d", (int)e->args[s->a]);
		return 0;
	}
}
