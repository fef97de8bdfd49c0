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
	UT_hash_handle hh;
};

struct images {
	struct entry *table;
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
	struct entry *e, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, t->table, e, tmp) {
		HASH_DEL(t->table, e);
		entry_free(e);
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
		e = calloc(1, sizeof(*e));
		if (!e) {
			free(copy);
			return -ENOMEM;
		}
		e->id = image_id(pid, exec_gen);
		HASH_ADD(hh, t->table, id, sizeof(e->id), e);
		if (hash_add_failed()) {
			free(e);
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
	struct entry *e, *tmp;

	HASH_ITER(hh, t->table, e, tmp) {
		if (e->id >> 32 != pid)
			continue;
		HASH_DEL(t->table, e);
		entry_free(e);
	}
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
