#include "identity/proc_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/images.h"
#include "identity/procfs.h"
#include "kernel/records.h"
#include "lib/util.h"

#include "lib/hash.h"

struct list {
	struct list *prev, *next;
};

static void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static bool list_empty(const struct list *l)
{
	return l->next == l;
}

/* Links n before at. */
static void list_insert(struct list *at, struct list *n)
{
	n->prev = at->prev;
	n->next = at;
	at->prev->next = n;
	at->prev = n;
}

static void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* A process image: exec_id names it, so (pid, ktime) is its identity. */
struct key {
	uint64_t ktime_ns;
	uint32_t pid;
	uint32_t zero; /* hashed with the rest: no undefined padding */
};

/* One allocation: the strings follow the struct at their exact size, but
 * for parent_exec_id, which may be linked later (scanned processes, whose
 * parents are read after them): it has room for any exec_id of the node. */
struct entry {
	struct proc_entry pub;
	struct key key;
	struct key parent_key; /* valid when has_parent */
	uint64_t exit_ktime;
	struct list lru; /* in cache->lru, least recently used first */
	struct list exits; /* in cache->exits while waiting for its grace to end */
	UT_hash_handle hh_pid, hh_key;
	uint32_t kernel_ppid; /* the latest ppid records or events gave */
	uint32_t children; /* cached entries whose parent_key is this key */
	uint32_t size; /* of the allocation */
	bool has_parent;
	bool current; /* the pid's latest image, in by_pid */
	bool need_parent; /* scanned: linked once the whole scan is read */
	/* parent_exec_id, exec_id, start_time, flags_text, binary, arguments, cwd */
	char strings[];
};

#define entry_of(ptr, member) ((struct entry *)((char *)(ptr) - offsetof(struct entry, member)))

struct proc_cache {
	char root[PATH_MAX];
	char node_name[PROC_NODE_NAME_MAX + 1];
	size_t exec_id_size; /* the longest exec_id of node_name, NUL included */
	size_t max_entries;
	size_t max_bytes;
	size_t count;
	size_t entry_bytes; /* the entries' allocations */
	uint64_t grace_ns;
	int64_t boot_offset_ns;
	void (*around_miss)(void *ctx, bool begin);
	void *around_miss_ctx;
	uint64_t tick_ns;
	uint64_t now; /* latest ktime seen: the clock of the grace period */
	struct entry *by_pid;
	struct entry *by_key;
	struct list lru;
	/* Exited entries by exit time (roughly: records arrive in order). One
	 * that still has children when its grace ends leaves the queue, and
	 * comes back at its head when its last child is dropped. */
	struct list exits;
	struct proc_cache_stats stats;
};

/* The bytes bound must hold the cache, its hash tables (a few KiB at that
 * size) and two of the largest entries: see insert(). */
#define MAX_ENTRY_SIZE                                                                   \
	(sizeof(struct entry) + 2 * PROC_EXEC_ID_LEN + RFC3339_LEN + PROC_FLAGS_LEN +    \
	 RECORDS_BINARY_LEN + RECORDS_ARGS_LEN + RECORDS_CWD_LEN)
_Static_assert(sizeof(struct proc_cache) + (8 << 10) + 2 * MAX_ENTRY_SIZE <= PROC_CACHE_MIN_BYTES,
	       "PROC_CACHE_MIN_BYTES too small");

static const char *const flag_names[] = {
	"execve", "procFS", "truncArgs", "miss", "errorFilename",
	"errorArgs", "nocwd", "rootcwd", "errorCWD", "clone",
};

void proc_flags_text(uint32_t flags, char ret_text[PROC_FLAGS_LEN])
{
	size_t i, len = 0;

	ret_text[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(flag_names); i++) {
		size_t n = strlen(flag_names[i]);

		if (!(flags & (1u << i)) || len + !!len + n >= PROC_FLAGS_LEN)
			continue;
		if (len)
			ret_text[len++] = ' ';
		memcpy(ret_text + len, flag_names[i], n + 1);
		len += n;
	}
}

static void base64(const unsigned char *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = alphabet[(v >> 6) & 63];
		*out++ = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);

		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static size_t exec_id_size(size_t node_name_len)
{
	/* "<node>:<20-digit ktime>:<10-digit pid>" in base64, and a NUL */
	return (node_name_len + 32 + 2) / 3 * 4 + 1;
}

int proc_exec_id(const char *node_name, uint64_t ktime_ns, uint32_t pid,
		 char ret_exec_id[PROC_EXEC_ID_LEN])
{
	char raw[PROC_NODE_NAME_MAX + 34];
	int n;

	if (strlen(node_name) > PROC_NODE_NAME_MAX)
		return -ENAMETOOLONG;
	n = snprintf(raw, sizeof(raw), "%s:%" PRIu64 ":%" PRIu32, node_name, ktime_ns, pid);
	if (n < 0 || (size_t)n >= sizeof(raw))
		return -ENAMETOOLONG;
	base64((const unsigned char *)raw, (size_t)n, ret_exec_id);
	return 0;
}

static struct entry *find_pid(struct proc_cache *c, uint32_t pid)
{
	struct entry *e;

	HASH_FIND(hh_pid, c->by_pid, &pid, sizeof(pid), e);
	return e;
}

static struct entry *find_key(struct proc_cache *c, const struct key *key)
{
	struct entry *e;

	HASH_FIND(hh_key, c->by_key, key, sizeof(*key), e);
	return e;
}

static size_t table_bytes(const UT_hash_table *t)
{
	return t ? sizeof(*t) + t->num_buckets * sizeof(UT_hash_bucket) : 0;
}

static size_t cache_bytes(const struct proc_cache *c)
{
	return sizeof(*c) + c->entry_bytes + table_bytes(c->by_pid ? c->by_pid->hh_pid.tbl : NULL) +
	       table_bytes(c->by_key ? c->by_key->hh_key.tbl : NULL);
}

static void touch(struct proc_cache *c, struct entry *e)
{
	list_del(&e->lru);
	list_insert(&c->lru, &e->lru);
}

/* Marks an entry exited (or replaced by a new image) as of ktime. */
static void retire(struct proc_cache *c, struct entry *e, uint64_t ktime_ns)
{
	if (e->pub.exited)
		return;
	e->pub.exited = true;
	e->exit_ktime = ktime_ns;
	list_insert(&c->exits, &e->exits);
}

static void drop(struct proc_cache *c, struct entry *e)
{
	struct entry *parent;

	if (e->current)
		HASH_DELETE(hh_pid, c->by_pid, e);
	HASH_DELETE(hh_key, c->by_key, e);
	list_del(&e->lru);
	list_del(&e->exits);
	c->count--;
	c->entry_bytes -= e->size;
	if (e->has_parent) {
		parent = find_key(c, &e->parent_key);
		if (parent && parent->children && --parent->children == 0 && parent->pub.exited &&
		    list_empty(&parent->exits))
			list_insert(c->exits.next, &parent->exits);
	}
	free(e);
}

static void reap(struct proc_cache *c)
{
	while (!list_empty(&c->exits)) {
		struct entry *e = entry_of(c->exits.next, exits);

		if (e->exit_ktime > c->now || c->now - e->exit_ktime <= c->grace_ns)
			break;
		list_del(&e->exits);
		if (e->children)
			continue;
		drop(c, e);
		c->stats.reaped++;
	}
}

static void advance(struct proc_cache *c, uint64_t ktime_ns)
{
	if (ktime_ns > c->now)
		c->now = ktime_ns;
}

static char *put(char **pos, const char *str, size_t len)
{
	char *at = *pos;

	memcpy(at, str, len);
	at[len] = '\0';
	*pos += len + 1;
	return at;
}

/* The entry of the facts in draft, whose strings (NULL: "") may be anywhere:
 * scratch buffers, a /proc read, the parent's entry. */
static struct entry *entry_new(struct proc_cache *c, const struct proc_entry *draft)
{
	const char *binary = draft->binary ? draft->binary : "";
	const char *arguments = draft->arguments ? draft->arguments : "";
	const char *cwd = draft->cwd ? draft->cwd : "";
	char exec_id[PROC_EXEC_ID_LEN], start_time[RFC3339_LEN], flags_text[PROC_FLAGS_LEN];
	size_t exec_id_len, start_time_len, flags_len, binary_len, arguments_len, cwd_len, size;
	uint32_t flags = draft->flags & ~(uint32_t)(PROC_NOCWD | PROC_ROOTCWD);
	struct entry *e;
	char *pos;

	if (!cwd[0])
		flags |= PROC_NOCWD;
	else if (strcmp(cwd, "/") == 0)
		flags |= PROC_ROOTCWD;
	/* Cannot fail: the node name was checked when the cache was made. */
	(void)proc_exec_id(c->node_name, draft->ktime_ns, draft->pid, exec_id);
	clock_rfc3339(draft->ktime_ns + (uint64_t)c->boot_offset_ns, start_time);
	proc_flags_text(flags, flags_text);
	exec_id_len = strlen(exec_id);
	start_time_len = strlen(start_time);
	flags_len = strlen(flags_text);
	binary_len = strnlen(binary, RECORDS_BINARY_LEN - 1);
	arguments_len = strnlen(arguments, RECORDS_ARGS_LEN - 1);
	cwd_len = strnlen(cwd, RECORDS_CWD_LEN - 1);
	size = sizeof(*e) + c->exec_id_size + exec_id_len + start_time_len + flags_len +
	       binary_len + arguments_len + cwd_len + 6;
	e = malloc(size);
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->pub = *draft;
	e->pub.flags = flags;
	e->key = (struct key){ .ktime_ns = draft->ktime_ns, .pid = draft->pid };
	e->kernel_ppid = draft->ppid;
	e->size = (uint32_t)size;
	list_init(&e->lru);
	list_init(&e->exits);
	e->strings[0] = '\0';
	e->pub.parent_exec_id = e->strings;
	pos = e->strings + c->exec_id_size;
	e->pub.exec_id = put(&pos, exec_id, exec_id_len);
	e->pub.start_time = put(&pos, start_time, start_time_len);
	e->pub.flags_text = put(&pos, flags_text, flags_len);
	e->pub.binary = put(&pos, binary, binary_len);
	e->pub.arguments = put(&pos, arguments, arguments_len);
	e->pub.cwd = put(&pos, cwd, cwd_len);
	return e;
}

/* Makes e the pid's latest image; the one it replaces is retired. */
static int make_current(struct proc_cache *c, struct entry *e)
{
	struct entry *old = find_pid(c, e->pub.pid);

	if (old == e)
		return 0;
	if (old) {
		HASH_DELETE(hh_pid, c->by_pid, old);
		old->current = false;
		retire(c, old, e->pub.ktime_ns);
	}
	HASH_ADD(hh_pid, c->by_pid, pub.pid, sizeof(e->pub.pid), e);
	if (hash_add_failed())
		return -ENOMEM;
	e->current = true;
	return 0;
}

/* Adds a filled entry (freed on failure), evicting at the bound. */
static int insert(struct proc_cache *c, struct entry *e, bool current)
{
	struct entry *same = find_key(c, &e->key);
	int err;

	/* Only a reread of the same process can collide: the newer facts win. */
	if (same)
		drop(c, same);
	/* It takes two of the largest entries (see MAX_ENTRY_SIZE): this never
	 * evicts the entry used last, as callers rely on. */
	while (c->count && (c->count >= c->max_entries ||
			    cache_bytes(c) + e->size > c->max_bytes)) {
		drop(c, entry_of(c->lru.next, lru));
		c->stats.evictions++;
	}
	HASH_ADD(hh_key, c->by_key, key, sizeof(e->key), e);
	if (hash_add_failed()) {
		free(e);
		return -ENOMEM;
	}
	list_insert(&c->lru, &e->lru);
	c->count++;
	c->entry_bytes += e->size;
	if (current) {
		err = make_current(c, e);
		if (err) {
			drop(c, e);
			return err;
		}
	}
	return 0;
}

/* A new entry from draft, in the tables (current: as its pid's latest
 * image). */
static int add_entry(struct proc_cache *c, const struct proc_entry *draft, bool current,
		     struct entry **ret_entry)
{
	struct entry *e = entry_new(c, draft);
	int err;

	if (!e)
		return -ENOMEM;
	err = insert(c, e, current);
	if (err)
		return err;
	*ret_entry = e;
	return 0;
}

/* Names the parent by its identity, so that a later process reusing its
 * pid can never be taken for it; the parent entry may be gone already. */
static void link_parent(struct proc_cache *c, struct entry *e, const struct key *parent_key)
{
	struct entry *parent = find_key(c, parent_key);

	e->has_parent = true;
	e->parent_key = *parent_key;
	e->pub.ppid = parent_key->pid;
	(void)proc_exec_id(c->node_name, parent_key->ktime_ns, parent_key->pid, e->strings);
	if (parent)
		parent->children++;
}

/* Was e (a cached image of pid) running at ktime? An exited one counts for
 * the grace period: its children's records may still name it as parent. */
static bool alive_at(const struct proc_cache *c, const struct entry *e, uint64_t ktime_ns)
{
	if (e->key.ktime_ns > ktime_ns)
		return false;
	return !e->pub.exited || ktime_ns <= e->exit_ktime ||
	       ktime_ns - e->exit_ktime <= c->grace_ns;
}

static void copy_str(char *dst, size_t size, const char *src, size_t max_len)
{
	size_t n = strnlen(src, max_len);

	if (n > size - 1)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void fill_from_procfs(struct proc_cache *c, struct proc_entry *d,
			     const struct procfs_process *p)
{
	d->pid = d->tid = p->pid;
	d->ppid = p->ppid;
	d->uid = p->euid;
	d->auid = p->auid;
	d->ktime_ns = p->starttime * c->tick_ns;
	memcpy(d->ns, p->ns, sizeof(d->ns));
	copy_str(d->comm, sizeof(d->comm), p->comm, sizeof(p->comm));
	d->flags = PROC_PROCFS;
	if (p->flags & PROCFS_ERR_EXE)
		d->flags |= PROC_ERR_FILENAME;
	d->binary = p->exe;
	d->binary_deleted = p->flags & PROCFS_EXE_DELETED;
	if (p->flags & PROCFS_ERR_ARGS)
		d->flags |= PROC_ERR_ARGS;
	if (p->flags & PROCFS_TRUNC_ARGS)
		d->flags |= PROC_TRUNC_ARGS;
	d->arguments = p->args;
	if (p->flags & PROCFS_ERR_CWD)
		d->flags |= PROC_ERR_CWD;
	d->cwd = p->cwd;
}

/* Links e to the cached image of ppid running when e started, if any. */
static void link_cached_parent(struct proc_cache *c, struct entry *e)
{
	struct entry *parent = find_pid(c, e->pub.ppid);

	if (e->pub.ppid && parent && parent != e && alive_at(c, parent, e->pub.ktime_ns))
		link_parent(c, e, &parent->key);
}

static struct entry *parent_at(struct proc_cache *c, uint32_t ppid, uint32_t pid,
			       uint64_t ktime_ns);

/* Reads /proc/PID now for a process that was not cached, and keeps it if it
 * started by ktime (else the pid was reused since) and, when ppid is not 0,
 * is ppid's child. With with_parent, its parent may be read too; never
 * further up, so that one unknown process costs at most two reads. */
static int procfs_entry(struct proc_cache *c, uint32_t pid, uint64_t ktime_ns, uint32_t ppid,
			bool with_parent, struct entry **ret_entry)
{
	struct proc_entry draft = { 0 };
	struct procfs_process p;
	struct entry *e, *parent;
	int err;

	err = procfs_read_process(c->root, pid, &p);
	if (err)
		return err;
	if (p.starttime * c->tick_ns > ktime_ns || (ppid && p.ppid != ppid))
		return -ESRCH;
	fill_from_procfs(c, &draft, &p);
	draft.flags |= PROC_MISS;
	err = add_entry(c, &draft, true, &e);
	if (err)
		return err;
	if (with_parent) {
		/* e was added last: adding its parent cannot evict it. */
		parent = parent_at(c, e->pub.ppid, pid, e->pub.ktime_ns);
		if (parent)
			link_parent(c, e, &parent->key);
	} else {
		link_cached_parent(c, e);
	}
	*ret_entry = e;
	return 0;
}

/* The image of ppid that was running at ktime: cached, else read from /proc
 * (touched, so that adding its child cannot evict it). */
static struct entry *parent_at(struct proc_cache *c, uint32_t ppid, uint32_t pid,
			       uint64_t ktime_ns)
{
	struct entry *parent;

	if (!ppid || ppid == pid)
		return NULL;
	parent = find_pid(c, ppid);
	if (parent && alive_at(c, parent, ktime_ns)) {
		touch(c, parent);
		return parent;
	}
	/* Started after ktime: the pid was reused, the parent is gone. */
	if (parent && parent->key.ktime_ns > ktime_ns)
		return NULL;
	if (procfs_entry(c, ppid, ktime_ns, 0, false, &parent))
		return NULL;
	return parent;
}

/* The fields every record carries. */
static void fill_from_record(struct proc_entry *d, const struct ct_proc_event *rec)
{
	d->pid = rec->pid;
	d->tid = rec->tid;
	d->ppid = rec->ppid;
	d->uid = rec->uid;
	d->auid = rec->auid;
	d->ktime_ns = rec->ktime_ns;
	d->cgroup_id = rec->cgroup_id;
	memcpy(d->ns, rec->ns, sizeof(d->ns));
	copy_str(d->comm, sizeof(d->comm), rec->comm, sizeof(rec->comm));
}

/* What /proc/PID/exe names, when it names a file: not a sealed copy (a
 * memfd) or a file deleted since. Read now: the process may have exec'd
 * again meanwhile, which its next record will tell. */
static bool exe_now(struct proc_cache *c, uint32_t pid, char exe[RECORDS_BINARY_LEN])
{
	bool deleted = false;
	int err;

	if (c->around_miss)
		c->around_miss(c->around_miss_ctx, true);
	err = procfs_read_exe(c->root, pid, exe, RECORDS_BINARY_LEN, &deleted);
	if (c->around_miss)
		c->around_miss(c->around_miss_ctx, false);
	return !err && !deleted && exe[0] == '/' && exe[1] && strncmp(exe, "/memfd:", 7);
}

/* binary, when the exec's name is no program's (identity/images.h): the
 * image it replaced (old, NULL when unknown) ran itself again, or its own
 * file by another name (runc 1.1's read-only bind of itself, which
 * /proc/PID/exe shows as "/"), else a file it opened: the file
 * /proc/PID/exe names, or, for a sealed copy, what ran before. Left as it
 * was when nothing tells. Which file was exec'd comes from the exec
 * program (bprm->file), which cannot name it: bpf_d_path() is not allowed
 * from tracepoints, a dentry walk would cost every exec for the few that
 * name no path, and a sealed copy (a memfd) has no path to walk. */
static void resolve_exec_name(struct proc_cache *c, const struct ct_proc_event *rec,
			      const struct proc_entry *old, char binary[RECORDS_BINARY_LEN])
{
	enum image_exec_name name = image_exec_name(binary, rec->pid);
	const char *before = old ? old->binary : NULL;
	char exe[RECORDS_BINARY_LEN];

	if (name == IMAGE_EXEC_PATH)
		return;
	if (before && (!before[0] || image_exec_name(before, rec->pid) != IMAGE_EXEC_PATH))
		before = NULL;
	if (before && (name == IMAGE_EXEC_SELF ||
		       (rec->exe_ino && rec->exe_ino == old->exe_ino && rec->exe_dev == old->exe_dev)))
		copy_str(binary, RECORDS_BINARY_LEN, before, RECORDS_BINARY_LEN);
	else if (exe_now(c, rec->pid, exe))
		memcpy(binary, exe, RECORDS_BINARY_LEN);
	else if (before)
		copy_str(binary, RECORDS_BINARY_LEN, before, RECORDS_BINARY_LEN);
}

static int apply_exec(struct proc_cache *c, const struct ct_proc_event *rec)
{
	char binary[RECORDS_BINARY_LEN], arguments[RECORDS_ARGS_LEN], cwd[RECORDS_CWD_LEN];
	struct entry *old = find_pid(c, rec->pid), *parent, *e;
	struct proc_entry draft = { 0 };
	struct key parent_key = { 0 };
	bool inherit = false, same = old && !old->pub.exited && old->key.ktime_ns <= rec->ktime_ns;
	uint32_t clone = 0;
	int err;

	fill_from_record(&draft, rec);
	draft.image_cgroup = rec->cgroup_id;
	draft.image_mntns = rec->ns[CT_NS_MNT];
	draft.exe_ino = rec->exe_ino;
	draft.exe_dev = rec->exe_dev;
	if (records_exec_cwd(rec, cwd))
		draft.flags |= PROC_ERR_CWD;
	records_exec_path(rec, cwd, binary);
	/* Before parent_at() below, which may evict old. */
	resolve_exec_name(c, rec, same ? &old->pub : NULL, binary);
	/* The image this exec replaces keeps its parent (the one that forked
	 * it, even if it was reparented since) and its "clone". */
	if (same) {
		clone = old->pub.flags & PROC_CLONE;
		inherit = old->has_parent;
		parent_key = old->parent_key;
		retire(c, old, rec->ktime_ns);
	}
	if (inherit) {
		parent = find_key(c, &parent_key);
		if (parent)
			touch(c, parent);
	} else {
		parent = parent_at(c, rec->ppid, rec->pid, rec->ktime_ns);
		if (parent) {
			parent_key = parent->key;
			inherit = true;
		}
	}
	draft.flags |= PROC_EXECVE | clone;
	if (rec->flags & CT_PROC_TRUNC_ARGS)
		draft.flags |= PROC_TRUNC_ARGS;
	if (rec->flags & CT_PROC_ERR_FILENAME)
		draft.flags |= PROC_ERR_FILENAME;
	if (rec->flags & CT_PROC_ERR_ARGS)
		draft.flags |= PROC_ERR_ARGS;
	records_exec_args(rec, arguments);
	draft.cwd = cwd;
	draft.binary = binary;
	draft.arguments = arguments;
	err = add_entry(c, &draft, true, &e);
	if (err)
		return err;
	if (inherit)
		link_parent(c, e, &parent_key);
	return 0;
}

static int apply_fork(struct proc_cache *c, const struct ct_proc_event *rec)
{
	const uint32_t inherited = PROC_TRUNC_ARGS | PROC_ERR_FILENAME | PROC_ERR_ARGS |
				   PROC_ERR_CWD;
	struct proc_entry draft = { 0 };
	struct entry *parent, *e;
	struct key parent_key;
	int err;

	/* A new thread, not a new process. */
	if (rec->tid != rec->pid || rec->pid == rec->ppid)
		return 0;
	parent = parent_at(c, rec->ppid, rec->pid, rec->ktime_ns);
	fill_from_record(&draft, rec);
	draft.flags = PROC_CLONE;
	if (parent) {
		parent_key = parent->key;
		draft.flags |= parent->pub.flags & inherited;
		draft.binary_deleted = parent->pub.binary_deleted;
		draft.binary = parent->pub.binary;
		draft.arguments = parent->pub.arguments;
		draft.cwd = parent->pub.cwd;
		draft.image_cgroup = parent->pub.image_cgroup;
		draft.image_mntns = parent->pub.image_mntns;
		draft.exe_ino = parent->pub.exe_ino;
		draft.exe_dev = parent->pub.exe_dev;
	}
	/* The parent was touched last: adding its child cannot evict it. */
	err = add_entry(c, &draft, true, &e);
	if (err)
		return err;
	if (parent)
		link_parent(c, e, &parent_key);
	return 0;
}

int proc_cache_apply(struct proc_cache *c, const struct ct_proc_event *rec)
{
	struct entry *e;

	advance(c, rec->ktime_ns);
	reap(c);
	switch (rec->type) {
	case CT_REC_EXEC:
		return apply_exec(c, rec);
	case CT_REC_FORK:
		return apply_fork(c, rec);
	case CT_REC_EXIT:
		e = find_pid(c, rec->pid);
		if (e && e->key.ktime_ns <= rec->ktime_ns) {
			e->kernel_ppid = rec->ppid;
			retire(c, e, rec->ktime_ns);
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int proc_cache_scan(struct proc_cache *c)
{
	uint32_t *pids;
	size_t count, i;
	int err;

	err = procfs_list_pids(c->root, &pids, &count);
	if (err)
		return err;
	for (i = 0; i < count; i++) {
		struct proc_entry draft = { 0 };
		struct procfs_process p;
		struct entry *e, *same;
		struct key key;

		if (procfs_read_process(c->root, pids[i], &p))
			continue;
		fill_from_procfs(c, &draft, &p);
		key = (struct key){ .ktime_ns = draft.ktime_ns, .pid = draft.pid };
		same = find_key(c, &key);
		if (same && same->current && !same->pub.exited)
			continue;
		err = add_entry(c, &draft, true, &e);
		if (err)
			break;
		e->need_parent = true;
	}
	/* Parents after everything is read: /proc lists pids, not ages. */
	for (i = 0; i < count; i++) {
		struct entry *e = find_pid(c, pids[i]);

		if (e && e->need_parent) {
			e->need_parent = false;
			link_cached_parent(c, e);
		}
	}
	free(pids);
	return err;
}

/* Is the cached image e of pid the one an event at ktime comes from? An
 * exited one only during its grace period and, given the event's ppid, if
 * it matches (else the pid was reused by a process we missed). */
static bool usable(const struct proc_cache *c, const struct entry *e, uint64_t ktime_ns,
		   const struct proc_hint *hint)
{
	if (!e->pub.exited)
		return true;
	return alive_at(c, e, ktime_ns) && (!hint || hint->ppid == e->kernel_ppid);
}

/* An entry from what the event says, when /proc has nothing better. */
static int hint_entry(struct proc_cache *c, uint32_t pid, uint64_t ktime_ns,
		      const struct proc_hint *hint, struct entry **ret_entry)
{
	struct proc_entry draft = { 0 };
	struct entry *cur, *parent, *e;
	struct key parent_key;
	bool current;
	int err;

	parent = parent_at(c, hint->ppid, pid, ktime_ns);
	if (parent)
		parent_key = parent->key;
	draft.pid = pid;
	draft.tid = hint->tid ? hint->tid : pid;
	draft.ppid = hint->ppid;
	draft.uid = hint->uid;
	draft.auid = PROCFS_AUID_UNSET;
	draft.ktime_ns = ktime_ns;
	draft.cgroup_id = hint->cgroup_id;
	if (hint->ns)
		memcpy(draft.ns, hint->ns, sizeof(draft.ns));
	if (hint->comm)
		copy_str(draft.comm, sizeof(draft.comm), hint->comm, sizeof(draft.comm) - 1);
	draft.flags = PROC_MISS;
	/* An event older than the pid's cached image (records raced): it is
	 * kept aside, exited, rather than replacing the newer process. Looked
	 * up only now: reading the parent may have evicted entries. */
	cur = find_pid(c, pid);
	current = !cur || cur->key.ktime_ns <= ktime_ns;
	err = add_entry(c, &draft, current, &e);
	if (err)
		return err;
	if (!current)
		retire(c, e, ktime_ns);
	if (parent)
		link_parent(c, e, &parent_key);
	*ret_entry = e;
	return 0;
}

int proc_cache_lookup(struct proc_cache *c, uint32_t pid, uint64_t ktime_ns,
		      const struct proc_hint *hint, const struct proc_entry **ret_entry)
{
	struct entry *e = find_pid(c, pid);
	int err;

	if (!ktime_ns)
		ktime_ns = c->now;
	advance(c, ktime_ns);
	if (e && usable(c, e, ktime_ns, hint)) {
		touch(c, e);
		*ret_entry = &e->pub;
		return 0;
	}
	c->stats.misses++;
	if (c->around_miss)
		c->around_miss(c->around_miss_ctx, true);
	err = procfs_entry(c, pid, ktime_ns, hint ? hint->ppid : 0, true, &e);
	if (c->around_miss)
		c->around_miss(c->around_miss_ctx, false);
	if (err && err != -ENOMEM && hint)
		err = hint_entry(c, pid, ktime_ns, hint, &e);
	if (err)
		return err == -ESRCH ? -ENOENT : err;
	*ret_entry = &e->pub;
	return 0;
}

int proc_cache_lookup_cap(struct proc_cache *c, const struct ct_cap_event *ev,
			  const struct proc_entry **ret_entry)
{
	const struct proc_hint hint = {
		.tid = ev->tid,
		.ppid = ev->ppid,
		.uid = ev->euid,
		.cgroup_id = ev->cgroup_id,
		.ns = ev->ns,
		.comm = ev->comm,
	};

	return proc_cache_lookup(c, ev->pid, ev->ktime_ns, &hint, ret_entry);
}

const struct proc_entry *proc_cache_parent(struct proc_cache *c, const struct proc_entry *entry)
{
	const struct entry *e = (const struct entry *)entry;
	struct entry *parent;

	if (!e->has_parent)
		return NULL;
	parent = find_key(c, &e->parent_key);
	if (!parent)
		return NULL;
	touch(c, parent);
	return &parent->pub;
}

void proc_cache_stats(const struct proc_cache *c, struct proc_cache_stats *ret_stats)
{
	*ret_stats = c->stats;
	ret_stats->entries = c->count;
	ret_stats->bytes = cache_bytes(c);
}

int proc_cache__new(const struct proc_cache_opts *opts, struct proc_cache **ret_cache)
{
	const char *root = opts->proc_root ? opts->proc_root : "/proc";
	struct proc_cache *c;

	if (!opts->node_name || (opts->max_entries && opts->max_entries < 4) ||
	    (opts->max_bytes && opts->max_bytes < PROC_CACHE_MIN_BYTES))
		return -EINVAL;
	if (strlen(opts->node_name) > PROC_NODE_NAME_MAX || strlen(root) >= PATH_MAX)
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	strcpy(c->root, root);
	strcpy(c->node_name, opts->node_name);
	c->exec_id_size = exec_id_size(strlen(c->node_name));
	c->max_entries = opts->max_entries ? opts->max_entries : PROC_CACHE_DEFAULT_ENTRIES;
	c->max_bytes = opts->max_bytes ? opts->max_bytes : PROC_CACHE_DEFAULT_BYTES;
	c->grace_ns = opts->grace_ns ? opts->grace_ns : PROC_CACHE_DEFAULT_GRACE_NS;
	c->around_miss = opts->around_miss;
	c->around_miss_ctx = opts->around_miss_ctx;
	c->boot_offset_ns = opts->boot_offset_ns ? opts->boot_offset_ns : clock_boot_offset_ns();
	c->tick_ns = procfs_tick_ns();
	list_init(&c->lru);
	list_init(&c->exits);
	*ret_cache = c;
	return 0;
}

void proc_cache__free(struct proc_cache *c)
{
	struct entry *e, *tmp;

	if (!c)
		return;
	HASH_CLEAR(hh_pid, c->by_pid);
	HASH_ITER(hh_key, c->by_key, e, tmp) {
		HASH_DELETE(hh_key, c->by_key, e);
		free(e);
	}
	free(c);
}
