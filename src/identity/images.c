#include "identity/images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/records.h"
#include "lib/hash.h"

struct entry {
	uint64_t id; /* pid << 32 | exec_gen */
	struct image pub;
	char *binary;
	struct entry *next_of_pid;
	UT_hash_handle hh;
};

/* The images of one pid: forgotten together when it exits. */
struct pid_images {
	uint32_t pid;
	struct entry *images;
	UT_hash_handle hh;
};

struct images {
	struct entry *table;
	struct pid_images *pids;
	size_t max;
	uint64_t untracked;
};

/* s after prefix, or NULL. */
static const char *after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* The digits at *s, moved past; false when there are none or too many. */
static bool number(const char **s, unsigned long *ret)
{
	char *end;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	*ret = strtoul(*s, &end, 10);
	if (errno)
		return false;
	*s = end;
	return true;
}

enum image_exec_name image_exec_name(const char *binary, uint32_t pid)
{
	const char *p, *rest;
	unsigned long n;
	bool self = false;

	if ((p = after(binary, "/dev/fd/")))
		return number(&p, &n) && !*p ? IMAGE_EXEC_INDIRECT : IMAGE_EXEC_PATH;
	if (!(p = after(binary, "/proc/")))
		return IMAGE_EXEC_PATH;
	if ((rest = after(p, "self/")) || (rest = after(p, "thread-self/")))
		self = true;
	else if (number(&p, &n) && *p == '/')
		self = n == pid, rest = p + 1;
	else
		return IMAGE_EXEC_PATH;
	if (!strcmp(rest, "exe"))
		return self ? IMAGE_EXEC_SELF : IMAGE_EXEC_INDIRECT;
	if ((p = after(rest, "fd/")) && number(&p, &n) && !*p)
		return IMAGE_EXEC_INDIRECT;
	return IMAGE_EXEC_PATH;
}

int images__new(size_t max, struct images **ret_images)
{
	struct images *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->max = max ? max : IMAGES_DEFAULT_MAX;
	*ret_images = t;
	return 0;
}

static void entry_free(struct entry *e)
{
	free(e->binary);
	free(e);
}

void images__free(struct images *t)
{
	struct pid_images *p, *ptmp;
	struct entry *e, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, t->table, e, tmp) {
		HASH_DEL(t->table, e);
		entry_free(e);
	}
	HASH_ITER(hh, t->pids, p, ptmp) {
		HASH_DEL(t->pids, p);
		free(p);
	}
	free(t);
}

static uint64_t image_id(uint32_t pid, uint32_t exec_gen)
{
	return (uint64_t)pid << 32 | exec_gen;
}

static struct entry *find(const struct images *t, uint32_t pid, uint32_t exec_gen)
{
	uint64_t id = image_id(pid, exec_gen);
	struct entry *e;

	HASH_FIND(hh, t->table, &id, sizeof(id), e);
	return e;
}

static struct pid_images *pid_images(struct images *t, uint32_t pid, bool add)
{
	struct pid_images *p;

	HASH_FIND(hh, t->pids, &pid, sizeof(pid), p);
	if (p || !add)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	HASH_ADD(hh, t->pids, pid, sizeof(p->pid), p);
	if (hash_add_failed()) {
		free(p);
		return NULL;
	}
	return p;
}

/* A new entry for (pid, exec_gen) in both tables. */
static struct entry *add(struct images *t, uint32_t pid, uint32_t exec_gen)
{
	struct pid_images *p = pid_images(t, pid, true);
	struct entry *e = p ? calloc(1, sizeof(*e)) : NULL;

	if (e) {
		e->id = image_id(pid, exec_gen);
		HASH_ADD(hh, t->table, id, sizeof(e->id), e);
		if (!hash_add_failed()) {
			e->next_of_pid = p->images;
			p->images = e;
			return e;
		}
		free(e);
	}
	if (p && !p->images) {
		HASH_DEL(t->pids, p);
		free(p);
	}
	return NULL;
}

/* Sets the image of (pid, exec_gen), replacing what a reused pid left. */
static int set(struct images *t, uint32_t pid, uint32_t exec_gen, const char *binary,
	       uint64_t exec_cgroup, uint32_t exec_mntns)
{
	struct entry *e = find(t, pid, exec_gen);
	char *copy = NULL;

	if (binary && !(copy = strdup(binary)))
		return -ENOMEM;
	if (!e) {
		if (HASH_COUNT(t->table) >= t->max) {
			t->untracked++;
			free(copy);
			return 0;
		}
		e = add(t, pid, exec_gen);
		if (!e) {
			free(copy);
			return -ENOMEM;
		}
	}
	free(e->binary);
	e->binary = copy;
	e->pub = (struct image){ .binary = copy, .exec_cgroup = exec_cgroup,
				 .exec_mntns = exec_mntns };
	return 0;
}

int images_apply(struct images *t, const struct ct_proc_event *rec)
{
	char binary[RECORDS_BINARY_LEN];
	const struct entry *parent; /* the image it came from: the forking or the exec'ing one */
	const char *name;

	switch (rec->type) {
	case CT_REC_EXEC:
		name = NULL;
		if (rec->binary_len) {
			records_exec_binary(rec, binary);
			name = binary;
		}
		/* The image before this exec has the exec count before it. */
		if (name && image_exec_name(name, rec->pid) != IMAGE_EXEC_PATH) {
			parent = find(t, rec->pid, rec->exec_gen - 1);
			name = parent ? parent->binary : NULL;
		}
		return set(t, rec->pid, rec->exec_gen, name, rec->cgroup_id, rec->ns[CT_NS_MNT]);
	case CT_REC_FORK:
		/* A new process: what its pid ran before was another's, and
		 * must not stand for its own when its parent's is not known. */
		images_forget(t, rec->pid);
		parent = find(t, rec->ppid, rec->exec_gen);
		if (!parent)
			return 0;
		return set(t, rec->pid, rec->exec_gen, parent->binary, parent->pub.exec_cgroup,
			   parent->pub.exec_mntns);
	default:
		return 0;
	}
}

const struct image *images_find(const struct images *t, uint32_t pid, uint32_t exec_gen)
{
	const struct entry *e = find(t, pid, exec_gen);

	return e ? &e->pub : NULL;
}

void images_forget(struct images *t, uint32_t pid)
{
	struct pid_images *p = pid_images(t, pid, false);
	struct entry *e, *next;

	if (!p)
		return;
	for (e = p->images; e; e = next) {
		next = e->next_of_pid;
		HASH_DEL(t->table, e);
		entry_free(e);
	}
	HASH_DEL(t->pids, p);
	free(p);
}

uint64_t images_untracked(const struct images *t)
{
	return t->untracked;
}

bool image_is_runtime_start(const struct image *img, uint64_t cgroup_id, uint32_t host_mntns)
{
	if (img->exec_cgroup != cgroup_id)
		return true;
	return host_mntns && img->exec_mntns == host_mntns;
}
