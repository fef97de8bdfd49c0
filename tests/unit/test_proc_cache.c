/* The process cache: exec ids, flags, lifecycle records, parents across pid
 * reuse, the bound and the grace period, misses; /proc from the fixture
 * tree in tests/fixtures/proc, and the real /proc for the test itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity/proc_cache.h"
#include "kernel/records.h"
#include "proc_records.h"
#include "scratch.h"

#define NODE "kind-control-plane"
/* Makes the reference's exec ktime 12842783350684 its start_time
 * 2023-07-06T10:13:33.834390020Z. */
#define REF_OFFSET 1688625571051039336ll
#define REF_EXEC_ID "a2luZC1jb250cm9sLXBsYW5lOjEyODQyNzgzMzUwNjg0OjczODYw"
#define REF_PARENT_EXEC_ID "a2luZC1jb250cm9sLXBsYW5lOjEyODQyMTI3MTIwOTcyOjczODUw"
#define UNKNOWN_PID 73841 /* in neither the cache nor the fixture tree */

static char root[PATH_MAX];
static struct ct_proc_event rec;

static struct proc_cache *new_cache(size_t max_entries, uint64_t grace_ns)
{
	const struct proc_cache_opts opts = {
		.proc_root = root,
		.node_name = NODE,
		.max_entries = max_entries,
		.grace_ns = grace_ns,
		.boot_offset_ns = REF_OFFSET,
	};
	struct proc_cache *c = NULL;

	assert_int_equal(proc_cache__new(&opts, &c), 0);
	assert_non_null(c);
	return c;
}

/* A record with an empty binary, no arguments, cwd "/". */
static struct ct_proc_event *mk(uint32_t type, uint64_t ktime_ns, uint32_t pid, uint32_t ppid)
{
	proc_record_at(&rec, type, ktime_ns, pid, ppid);
	rec.ns[CT_NS_UTS] = 4026534655u;
	return &rec;
}

static const struct proc_entry *lookup(struct proc_cache *c, uint32_t pid, uint64_t ktime_ns)
{
	const struct proc_entry *e = NULL;

	assert_int_equal(proc_cache_lookup(c, pid, ktime_ns, NULL, &e), 0);
	assert_non_null(e);
	return e;
}

static struct proc_cache_stats stats(struct proc_cache *c)
{
	struct proc_cache_stats st;

	proc_cache_stats(c, &st);
	return st;
}

static void test_exec_id_encoding(void **state)
{
	char id[PROC_EXEC_ID_LEN], name[PROC_NODE_NAME_MAX + 2];

	(void)state;
	assert_int_equal(proc_exec_id(NODE, 12842783350684ull, 73860, id), 0);
	assert_string_equal(id, REF_EXEC_ID);
	assert_int_equal(proc_exec_id(NODE, 12842127120972ull, 73850, id), 0);
	assert_string_equal(id, REF_PARENT_EXEC_ID);
	/* Each padding case. */
	assert_int_equal(proc_exec_id("a", 1, 2, id), 0);
	assert_string_equal(id, "YToxOjI=");
	assert_int_equal(proc_exec_id("ab", 1, 2, id), 0);
	assert_string_equal(id, "YWI6MToy");
	assert_int_equal(proc_exec_id("abc", 1, 2, id), 0);
	assert_string_equal(id, "YWJjOjE6Mg==");
	/* The longest node name with the longest numbers fits. */
	memset(name, 'n', PROC_NODE_NAME_MAX);
	name[PROC_NODE_NAME_MAX] = '\0';
	assert_int_equal(proc_exec_id(name, UINT64_MAX, UINT32_MAX, id), 0);
	assert_true(strlen(id) < PROC_EXEC_ID_LEN);
	name[PROC_NODE_NAME_MAX] = 'n';
	name[PROC_NODE_NAME_MAX + 1] = '\0';
	assert_int_equal(proc_exec_id(name, 1, 1, id), -ENAMETOOLONG);
}

static void test_flags_order(void **state)
{
	char text[PROC_FLAGS_LEN];

	(void)state;
	proc_flags_text(PROC_CLONE | PROC_ROOTCWD | PROC_EXECVE, text);
	assert_string_equal(text, "execve rootcwd clone");
	proc_flags_text(PROC_ERR_CWD | PROC_NOCWD | PROC_MISS | PROC_PROCFS, text);
	assert_string_equal(text, "procFS miss nocwd errorCWD");
	proc_flags_text(0xffffffffu, text);
	assert_string_equal(text, "execve procFS truncArgs miss errorFilename errorArgs nocwd "
				  "rootcwd errorCWD clone");
	proc_flags_text(0, text);
	assert_string_equal(text, "");
}

static void test_new_rejects(void **state)
{
	struct proc_cache_opts opts = { .proc_root = root, .node_name = NODE, .max_entries = 3 };
	struct proc_cache *c = NULL;
	char name[PROC_NODE_NAME_MAX + 2];

	(void)state;
	assert_int_equal(proc_cache__new(&opts, &c), -EINVAL);
	opts.max_entries = 0;
	opts.max_bytes = PROC_CACHE_MIN_BYTES - 1;
	assert_int_equal(proc_cache__new(&opts, &c), -EINVAL);
	opts.max_bytes = 0;
	opts.node_name = NULL;
	assert_int_equal(proc_cache__new(&opts, &c), -EINVAL);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	opts.node_name = name;
	assert_int_equal(proc_cache__new(&opts, &c), -ENAMETOOLONG);
	assert_null(c);
	proc_cache__free(NULL);
}

/* bash (73850) forked and exec'd, forks and execs dmesg (73860): the
 * reference document's process and parent. */
static void test_reference_event(void **state)
{
	struct proc_cache *c = new_cache(0, 0);
	const struct proc_entry *e = NULL, *parent;
	struct ct_cap_event ev = { .type = CT_REC_CAP };
	struct ct_proc_event *r;

	(void)state;
	r = mk(CT_REC_FORK, 12842127000000ull, 73850, UNKNOWN_PID);
	assert_int_equal(proc_cache_apply(c, r), 0);
	r = mk(CT_REC_EXEC, 12842127120972ull, 73850, UNKNOWN_PID);
	set_binary(r, "/bin/bash");
	assert_int_equal(proc_cache_apply(c, r), 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_FORK, 12842783000000ull, 73860, 73850)), 0);
	r = mk(CT_REC_EXEC, 12842783350684ull, 73860, 73850);
	set_binary(r, "/bin/dmesg");
	assert_int_equal(proc_cache_apply(c, r), 0);

	ev.ktime_ns = 12842783400000ull;
	ev.pid = ev.tid = 73860;
	ev.ppid = 73850;
	memcpy(ev.comm, "dmesg", 6);
	assert_int_equal(proc_cache_lookup_cap(c, &ev, &e), 0);
	assert_string_equal(e->exec_id, REF_EXEC_ID);
	assert_int_equal(e->pid, 73860);
	assert_int_equal(e->tid, 73860);
	assert_int_equal(e->uid, 0);
	assert_true(e->auid == 4294967295u);
	assert_string_equal(e->cwd, "/");
	assert_string_equal(e->binary, "/bin/dmesg");
	assert_string_equal(e->arguments, "");
	assert_string_equal(e->flags_text, "execve rootcwd clone");
	assert_string_equal(e->start_time, "2023-07-06T10:13:33.834390020Z");
	assert_string_equal(e->parent_exec_id, REF_PARENT_EXEC_ID);
	assert_int_equal(e->ppid, 73850);
	assert_true(e->ns[CT_NS_UTS] == 4026534655u);
	assert_false(e->exited);

	parent = proc_cache_parent(c, e);
	assert_non_null(parent);
	assert_string_equal(parent->exec_id, e->parent_exec_id);
	assert_int_equal(parent->pid, 73850);
	assert_string_equal(parent->binary, "/bin/bash");
	assert_string_equal(parent->flags_text, "execve rootcwd clone");
	/* Its parent was never seen: no parent, no parent_exec_id. */
	assert_string_equal(parent->parent_exec_id, "");
	assert_null(proc_cache_parent(c, parent));
	assert_true(stats(c).misses == 0);
	proc_cache__free(c);
}

/* A record's time is the kernel's word, not a bound: one past what a
 * signed sum with the boot offset holds wraps like the wall clock it
 * becomes, instead of overflowing (UBSan; found by fuzz_records, whose
 * corpus keeps the input: records/crash-boot-offset-overflow). */
static void test_start_time_past_int64(void **state)
{
	struct proc_cache *c = new_cache(0, 0);
	const uint64_t ktime = INT64_MAX - 5;
	char want[RFC3339_LEN];
	const struct proc_entry *e;

	(void)state;
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXEC, ktime, 4242, UNKNOWN_PID)), 0);
	e = lookup(c, 4242, ktime);
	clock_rfc3339(ktime + (uint64_t)REF_OFFSET, want);
	assert_string_equal(e->start_time, want);
	proc_cache__free(c);
}

static void test_exec_decoding(void **state)
{
	static const char *const args[] = { "-v", "", "a b" };
	struct proc_cache *c = new_cache(0, 0);
	struct ct_proc_event *r;
	const struct proc_entry *e;

	(void)state;
	/* Relative filename: joined to cwd, "./" dropped. */
	r = mk(CT_REC_EXEC, 1000, 6001, 0);
	set_cwd(r, "/home/user/src");
	set_binary(r, "./build/run");
	set_args(r, args, 3);
	assert_int_equal(proc_cache_apply(c, r), 0);
	e = lookup(c, 6001, 1001);
	assert_string_equal(e->cwd, "/home/user/src");
	assert_string_equal(e->binary, "/home/user/src/build/run");
	assert_string_equal(e->arguments, "-v  \"a b\"");
	assert_string_equal(e->flags_text, "execve");
	assert_string_equal(e->comm, "p6001");

	/* Relative to "/". */
	r = mk(CT_REC_EXEC, 1100, 6002, 0);
	set_binary(r, "sbin/tool");
	assert_int_equal(proc_cache_apply(c, r), 0);
	assert_string_equal(lookup(c, 6002, 1101)->binary, "/sbin/tool");

	/* cwd unreadable: a relative filename stays relative. */
	r = mk(CT_REC_EXEC, 1200, 6003, 0);
	set_binary(r, "rel");
	r->flags = CT_PROC_ERR_CWD;
	assert_int_equal(proc_cache_apply(c, r), 0);
	e = lookup(c, 6003, 1201);
	assert_string_equal(e->cwd, "");
	assert_string_equal(e->binary, "rel");
	assert_string_equal(e->flags_text, "execve nocwd errorCWD");

	/* cwd deeper than the walk: the leaf end, not an absolute path. */
	r = mk(CT_REC_EXEC, 1300, 6004, 0);
	set_cwd(r, "/b/c");
	r->flags = CT_PROC_TRUNC_CWD;
	assert_int_equal(proc_cache_apply(c, r), 0);
	e = lookup(c, 6004, 1301);
	assert_string_equal(e->cwd, "b/c");
	assert_string_equal(e->flags_text, "execve errorCWD");

	r = mk(CT_REC_EXEC, 1400, 6005, 0);
	r->flags = CT_PROC_TRUNC_ARGS | CT_PROC_ERR_FILENAME | CT_PROC_ERR_ARGS;
	assert_int_equal(proc_cache_apply(c, r), 0);
	assert_string_equal(lookup(c, 6005, 1401)->flags_text,
			    "execve truncArgs errorFilename errorArgs rootcwd");

	/* The longest cwd and the longest relative filename fit. */
	r = mk(CT_REC_EXEC, 1500, 6006, 0);
	set_longest_cwd(r);
	memset(r->binary, 'y', CT_PATH_MAX - 1);
	r->binary[CT_PATH_MAX - 1] = '\0';
	r->binary_len = CT_PATH_MAX;
	memset(r->args, 'a', CT_ARGS_MAX);
	r->args_len = CT_ARGS_MAX;
	r->flags = CT_PROC_TRUNC_ARGS;
	assert_int_equal(proc_cache_apply(c, r), 0);
	e = lookup(c, 6006, 1501);
	assert_int_equal(strlen(e->cwd), CT_PATH_MAX);
	assert_int_equal(e->cwd[1], 'z');
	assert_int_equal(strlen(e->binary), 2 * CT_PATH_MAX);
	assert_int_equal(strlen(e->arguments), CT_ARGS_MAX);

	/* A component without its terminator at the very end is cut. */
	r = mk(CT_REC_EXEC, 1600, 6007, 0);
	memset(r->cwd, 'x', CT_PATH_MAX);
	r->cwd_len = CT_PATH_MAX;
	r->cwd_parts = 1;
	assert_int_equal(proc_cache_apply(c, r), 0);
	e = lookup(c, 6007, 1601);
	assert_true(e->flags & PROC_ERR_CWD);
	assert_true(strlen(e->cwd) < RECORDS_CWD_LEN);
	proc_cache__free(c);
}

static void test_fork_exec_exit(void **state)
{
	static const char *const args[] = { "all" };
	struct proc_cache *c = new_cache(0, 1000);
	const struct proc_entry *make, *child, *parent;
	char make_id[PROC_EXEC_ID_LEN], clone_id[PROC_EXEC_ID_LEN];
	struct ct_proc_event *r;

	(void)state;
	r = mk(CT_REC_EXEC, 100, 3000, 0);
	set_binary(r, "/usr/bin/make");
	set_args(r, args, 1);
	set_cwd(r, "/src");
	assert_int_equal(proc_cache_apply(c, r), 0);
	make = lookup(c, 3000, 101);
	strcpy(make_id, make->exec_id);

	/* A new thread is not a process. */
	r = mk(CT_REC_FORK, 150, 3000, 3000);
	r->tid = 3001;
	assert_int_equal(proc_cache_apply(c, r), 0);
	assert_true(stats(c).entries == 1);
	assert_string_equal(lookup(c, 3000, 151)->exec_id, make_id);

	/* Forked: the parent's binary, arguments and cwd. */
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_FORK, 200, 3100, 3000)), 0);
	child = lookup(c, 3100, 201);
	assert_string_equal(child->binary, "/usr/bin/make");
	assert_string_equal(child->arguments, "all");
	assert_string_equal(child->cwd, "/src");
	assert_string_equal(child->flags_text, "clone");
	assert_string_equal(child->parent_exec_id, make_id);
	assert_int_equal(child->ppid, 3000);
	assert_true(child->ktime_ns == 200);
	strcpy(clone_id, child->exec_id);
	parent = proc_cache_parent(c, child);
	assert_non_null(parent);
	assert_string_equal(parent->exec_id, make_id);

	/* Exec'd: a new image, still make's child, still "clone". */
	r = mk(CT_REC_EXEC, 300, 3100, 3000);
	set_binary(r, "/bin/sh");
	set_cwd(r, "/src");
	assert_int_equal(proc_cache_apply(c, r), 0);
	child = lookup(c, 3100, 301);
	assert_string_equal(child->binary, "/bin/sh");
	assert_string_equal(child->arguments, "");
	assert_string_equal(child->flags_text, "execve clone");
	assert_string_equal(child->parent_exec_id, make_id);
	assert_string_not_equal(child->exec_id, clone_id);
	assert_string_equal(proc_cache_parent(c, child)->exec_id, make_id);

	/* Exits: still found during the grace period, then reaped. */
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 400, 3100, 3000)), 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 500, 3000, 0)), 0);
	child = lookup(c, 3100, 600);
	assert_true(child->exited);
	assert_string_equal(child->binary, "/bin/sh");
	assert_string_equal(proc_cache_parent(c, child)->exec_id, make_id);
	assert_true(stats(c).misses == 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 100000, UNKNOWN_PID, 0)), 0);
	assert_true(stats(c).entries == 0);
	assert_true(stats(c).reaped == 3); /* make, sh, and the clone image sh replaced */
	proc_cache__free(c);
}

/* The parent execs again after forking: the child's parent stays the image
 * that forked it, kept while the child is cached. */
static void test_parent_execs_again(void **state)
{
	struct proc_cache *c = new_cache(0, 10);
	const struct proc_entry *child, *parent;
	char first_id[PROC_EXEC_ID_LEN];
	struct ct_proc_event *r;

	(void)state;
	r = mk(CT_REC_EXEC, 100, 4000, 0);
	set_binary(r, "/bin/first");
	assert_int_equal(proc_cache_apply(c, r), 0);
	strcpy(first_id, lookup(c, 4000, 101)->exec_id);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_FORK, 200, 4100, 4000)), 0);
	r = mk(CT_REC_EXEC, 300, 4000, 0);
	set_binary(r, "/bin/second");
	assert_int_equal(proc_cache_apply(c, r), 0);
	r = mk(CT_REC_EXEC, 400, 4100, 4000);
	set_binary(r, "/bin/child");
	assert_int_equal(proc_cache_apply(c, r), 0);
	/* Long after the grace period. */
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 1000000, UNKNOWN_PID, 0)), 0);

	child = lookup(c, 4100, 1000001);
	assert_string_equal(child->parent_exec_id, first_id);
	parent = proc_cache_parent(c, child);
	assert_non_null(parent);
	assert_string_equal(parent->binary, "/bin/first");
	assert_true(parent->exited);
	assert_string_equal(lookup(c, 4000, 1000002)->binary, "/bin/second");
	assert_true(stats(c).entries == 3);

	/* The child goes: so does the image it kept. */
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 2000000, 4100, 4000)), 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 3000000, UNKNOWN_PID, 0)), 0);
	assert_true(stats(c).entries == 1);
	assert_string_equal(lookup(c, 4000, 3000001)->binary, "/bin/second");
	proc_cache__free(c);
}

/* The parent exits and its pid is reused: the child's parent is never the
 * newer process. */
static void test_pid_reuse_no_wrong_parent(void **state)
{
	struct proc_cache *c = new_cache(0, 1000);
	const struct proc_entry *child, *parent, *orphan = NULL;
	char p_id[PROC_EXEC_ID_LEN], q_id[PROC_EXEC_ID_LEN];
	struct proc_hint hint = { .ppid = 7000, .comm = "orphan" };
	struct ct_proc_event *r;

	(void)state;
	r = mk(CT_REC_EXEC, 1000, 7000, 0);
	set_binary(r, "/bin/p");
	assert_int_equal(proc_cache_apply(c, r), 0);
	strcpy(p_id, lookup(c, 7000, 1001)->exec_id);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_FORK, 2000, 7100, 7000)), 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 3000, 7000, 0)), 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_FORK, 4000, 7000, 0)), 0);
	r = mk(CT_REC_EXEC, 4100, 7000, 0);
	set_binary(r, "/bin/q");
	assert_int_equal(proc_cache_apply(c, r), 0);
	strcpy(q_id, lookup(c, 7000, 4101)->exec_id);
	assert_string_not_equal(p_id, q_id);

	child = lookup(c, 7100, 4200);
	parent = proc_cache_parent(c, child);
	assert_non_null(parent);
	assert_string_equal(parent->exec_id, p_id);
	assert_string_equal(parent->binary, "/bin/p");

	/* Reparented child execs: its parent is still the one that forked it. */
	r = mk(CT_REC_EXEC, 5000, 7100, 1);
	set_binary(r, "/bin/c");
	assert_int_equal(proc_cache_apply(c, r), 0);
	child = lookup(c, 7100, 5001);
	assert_string_equal(child->parent_exec_id, p_id);
	assert_int_equal(child->ppid, 7000);
	assert_string_equal(proc_cache_parent(c, child)->binary, "/bin/p");

	/* An unknown process whose event (at 3500, before q started) names
	 * pid 7000 as parent: not q. */
	assert_int_equal(proc_cache_lookup(c, 7200, 3500, &hint, &orphan), 0);
	assert_string_equal(orphan->flags_text, "miss nocwd");
	assert_string_equal(orphan->parent_exec_id, "");
	assert_null(proc_cache_parent(c, orphan));

	/* Long after: p is kept while its child is. */
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 1000000, UNKNOWN_PID, 0)), 0);
	child = lookup(c, 7100, 1000001);
	assert_string_equal(proc_cache_parent(c, child)->exec_id, p_id);
	proc_cache__free(c);
}

static void test_eviction_at_bound(void **state)
{
	struct proc_cache *c = new_cache(4, 0);
	const struct proc_entry *e = NULL;
	struct proc_cache_stats st;
	uint32_t pid;

	(void)state;
	for (pid = 1001; pid <= 1004; pid++)
		assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXEC, pid, pid, 0)), 0);
	/* Used last: 1001 outlives 1002. */
	lookup(c, 1001, 2000);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXEC, 2001, 1005, 0)), 0);
	st = stats(c);
	assert_true(st.entries == 4 && st.evictions == 1);
	lookup(c, 1001, 2002);
	assert_int_equal(proc_cache_lookup(c, 1002, 2003, NULL, &e), -ENOENT);
	assert_null(e);

	for (pid = 1006; pid <= 1010; pid++)
		assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXEC, 3000 + pid, pid, 0)), 0);
	st = stats(c);
	assert_true(st.entries == 4);
	assert_true(st.evictions == 6);
	assert_true(st.misses == 1);
	for (pid = 1007; pid <= 1010; pid++)
		assert_int_equal(lookup(c, pid, 5000)->pid, pid);
	proc_cache__free(c);
}

/* A sleeping process of the RSS benchmark, exec'd by parent ppid. */
static struct ct_proc_event *mk_sleeper(uint64_t ktime_ns, uint32_t pid, uint32_t ppid)
{
	static const char *const args[] = { "infinity" };
	struct ct_proc_event *r = mk(CT_REC_EXEC, ktime_ns, pid, ppid);

	set_binary(r, "/usr/bin/sleep");
	set_args(r, args, 1);
	set_cwd(r, "/home/user");
	return r;
}

/* 10,000 live processes in the default cache: what the cache allocates for
 * them (its own count, not RSS) stays under 640 bytes each, see
 * PROC_CACHE_DEFAULT_ENTRIES; all of it is given back as they go. */
static void test_bytes_per_entry(void **state)
{
	struct proc_cache *c = new_cache(0, 1000);
	const struct proc_entry *e, *parent;
	uint64_t empty, per_entry;
	struct proc_cache_stats st;
	struct ct_proc_event *r;
	uint32_t i;

	(void)state;
	empty = stats(c).bytes;
	assert_true(empty > 0);
	assert_int_equal(proc_cache_apply(c, mk_sleeper(1000000000000ull, 99999, UNKNOWN_PID)), 0);
	for (i = 0; i < 10000; i++) {
		r = mk_sleeper(1000000001000ull + 1000ull * i, 100000 + i, 99999);
		assert_int_equal(proc_cache_apply(c, r), 0);
	}
	st = stats(c);
	assert_true(st.entries == 10001);
	assert_true(st.evictions == 0 && st.misses == 0);
	per_entry = (st.bytes - empty) / st.entries;
	print_message("proc cache: %llu bytes per entry\n", (unsigned long long)per_entry);
	assert_true(per_entry < 640);

	e = lookup(c, 109999, 2000000000000ull);
	assert_string_equal(e->binary, "/usr/bin/sleep");
	assert_string_equal(e->arguments, "infinity");
	assert_string_equal(e->cwd, "/home/user");
	assert_string_equal(e->flags_text, "execve");
	parent = proc_cache_parent(c, e);
	assert_non_null(parent);
	assert_string_equal(e->parent_exec_id, parent->exec_id);

	for (i = 0; i <= 10000; i++) {
		r = mk(CT_REC_EXIT, 3000000000000ull, 99999 + i, 0);
		assert_int_equal(proc_cache_apply(c, r), 0);
	}
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 4000000000000ull, UNKNOWN_PID, 0)), 0);
	st = stats(c);
	assert_true(st.entries == 0 && st.reaped == 10001);
	assert_true(st.bytes == empty);
	proc_cache__free(c);
}

/* Entries with the longest strings: the byte bound evicts before the count
 * bound does, and holds. */
static void test_byte_bound(void **state)
{
	const struct proc_cache_opts opts = {
		.proc_root = root,
		.node_name = NODE,
		.max_bytes = PROC_CACHE_MIN_BYTES,
		.boot_offset_ns = REF_OFFSET,
	};
	struct proc_cache *c = NULL;
	struct proc_cache_stats st;
	struct ct_proc_event *r;
	uint32_t pid;

	(void)state;
	assert_int_equal(proc_cache__new(&opts, &c), 0);
	for (pid = 8000; pid < 8100; pid++) {
		r = mk(CT_REC_EXEC, pid, pid, 0);
		memset(r->binary, 'b', CT_PATH_MAX - 1);
		r->binary_len = CT_PATH_MAX;
		memset(r->args, 'a', CT_ARGS_MAX);
		r->args_len = CT_ARGS_MAX;
		assert_int_equal(proc_cache_apply(c, r), 0);
		st = stats(c);
		assert_true(st.bytes <= PROC_CACHE_MIN_BYTES);
	}
	assert_true(st.evictions > 0);
	assert_true(st.entries + st.evictions == 100);
	assert_int_equal(strlen(lookup(c, 8099, 9000)->arguments), CT_ARGS_MAX);
	proc_cache__free(c);
}

/* parent_exec_id is linked after the entry is made: its room fits the
 * longest exec_id of the node. */
static void test_longest_exec_ids(void **state)
{
	struct proc_cache_opts opts = { .proc_root = root, .boot_offset_ns = REF_OFFSET };
	char name[PROC_NODE_NAME_MAX + 1], id[PROC_EXEC_ID_LEN];
	const struct proc_entry *e;
	struct proc_cache *c = NULL;

	(void)state;
	memset(name, 'n', PROC_NODE_NAME_MAX);
	name[PROC_NODE_NAME_MAX] = '\0';
	opts.node_name = name;
	assert_int_equal(proc_cache__new(&opts, &c), 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXEC, UINT64_MAX - 1, UINT32_MAX, 0)), 0);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_FORK, UINT64_MAX, 4000000000u, UINT32_MAX)),
			 0);
	e = lookup(c, 4000000000u, UINT64_MAX);
	assert_int_equal(proc_exec_id(name, UINT64_MAX - 1, UINT32_MAX, id), 0);
	assert_int_equal(strlen(id), PROC_EXEC_ID_LEN - 1);
	assert_string_equal(e->parent_exec_id, id);
	assert_string_equal(proc_cache_parent(c, e)->exec_id, id);
	proc_cache__free(c);
}

static void test_grace_period(void **state)
{
	struct proc_cache *c = new_cache(0, 1000);
	const struct proc_entry *e = NULL;
	char id[PROC_EXEC_ID_LEN];
	struct proc_hint hint = { .ppid = 0 };

	(void)state;
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXEC, 10000, 2001, 0)), 0);
	strcpy(id, lookup(c, 2001, 10001)->exec_id);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 20000, 2001, 0)), 0);
	/* A late event, during the grace period. */
	e = lookup(c, 2001, 20500);
	assert_string_equal(e->exec_id, id);
	assert_true(e->exited);
	/* Same pid, but another parent: a process whose fork was missed. */
	hint.ppid = 99999;
	assert_int_equal(proc_cache_lookup(c, 2001, 20600, &hint, &e), 0);
	assert_string_not_equal(e->exec_id, id);
	assert_string_equal(e->flags_text, "miss nocwd");
	assert_true(stats(c).misses == 1);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 20700, 2001, 99999)), 0);

	/* After it, nothing to say; and the next record reaps. */
	assert_int_equal(proc_cache_lookup(c, 2001, 30000, NULL, &e), -ENOENT);
	assert_true(stats(c).entries == 2);
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXIT, 30001, UNKNOWN_PID, 0)), 0);
	assert_true(stats(c).entries == 0);
	assert_true(stats(c).reaped == 2);
	proc_cache__free(c);
}

/* Events before their process's records: "miss", then the exec record. */
static void test_miss_then_exec(void **state)
{
	struct proc_cache *c = new_cache(0, 0);
	struct ct_cap_event ev = { .type = CT_REC_CAP, .ktime_ns = 1000, .pid = 5000, .tid = 5001,
				   .ppid = UNKNOWN_PID, .euid = 1000, .cgroup_id = 42 };
	const struct proc_entry *e = NULL, *again = NULL;
	struct ct_proc_event *r;

	(void)state;
	memcpy(ev.comm, "dmesg", 6);
	ev.ns[CT_NS_NET] = 4026534512u;
	assert_int_equal(proc_cache_lookup_cap(c, &ev, &e), 0);
	assert_string_equal(e->flags_text, "miss nocwd");
	assert_string_equal(e->comm, "dmesg");
	assert_string_equal(e->binary, "");
	assert_int_equal(e->pid, 5000);
	assert_int_equal(e->tid, 5001);
	assert_int_equal(e->ppid, UNKNOWN_PID);
	assert_int_equal(e->uid, 1000);
	assert_true(e->cgroup_id == 42);
	assert_true(e->ns[CT_NS_NET] == 4026534512u);
	assert_string_equal(e->parent_exec_id, "");
	assert_true(stats(c).misses == 1);
	ev.ktime_ns = 1100;
	assert_int_equal(proc_cache_lookup_cap(c, &ev, &again), 0);
	assert_ptr_equal(again, e);
	assert_true(stats(c).misses == 1);

	r = mk(CT_REC_EXEC, 2000, 5000, UNKNOWN_PID);
	set_binary(r, "/bin/dmesg");
	assert_int_equal(proc_cache_apply(c, r), 0);
	e = lookup(c, 5000, 2001);
	assert_string_equal(e->binary, "/bin/dmesg");
	assert_string_equal(e->flags_text, "execve rootcwd");

	/* No hint and nothing in /proc. */
	assert_int_equal(proc_cache_lookup(c, 5555, 3000, NULL, &e), -ENOENT);
	assert_true(stats(c).misses == 2);
	proc_cache__free(c);
}

/* An unknown pid is read from /proc on the spot, with its parent. */
static void test_lookup_reads_procfs(void **state)
{
	struct proc_cache *c = new_cache(0, 0);
	struct proc_hint hint = { .ppid = 200, .comm = "prog" };
	const struct proc_entry *e = NULL, *parent;

	(void)state;
	/* Started at 60 s (6000 ticks), before the event. */
	assert_int_equal(proc_cache_lookup(c, 300, 100000000000ull, &hint, &e), 0);
	assert_string_equal(e->flags_text, "procFS miss");
	assert_string_equal(e->binary, "/usr/bin/prog");
	assert_string_equal(e->arguments, "-x  y");
	assert_string_equal(e->cwd, "/tmp");
	assert_int_equal(e->uid, 1001);
	assert_int_equal(e->auid, 1000);
	assert_true(e->ktime_ns == 60000000000ull);
	assert_string_equal(e->start_time, "2023-07-06T06:40:31.051039336Z");
	parent = proc_cache_parent(c, e);
	assert_non_null(parent);
	assert_int_equal(parent->pid, 200);
	assert_string_equal(parent->comm, "a) b (c");
	assert_string_equal(parent->binary, "/usr/bin/foo");
	assert_true(parent->binary_deleted);
	assert_string_equal(parent->flags_text, "procFS truncArgs miss");
	assert_string_equal(parent->start_time, "2023-07-06T06:40:21.051039336Z");
	assert_true(stats(c).entries == 2);
	proc_cache__free(c);

	/* An event from before /proc's process 300 started is not its own. */
	c = new_cache(0, 0);
	assert_int_equal(proc_cache_lookup(c, 300, 30000000000ull, &hint, &e), 0);
	assert_string_equal(e->flags_text, "miss nocwd");
	assert_string_equal(e->binary, "");
	assert_null(proc_cache_parent(c, e));
	assert_int_equal(proc_cache_lookup(c, 300, 30000000000ull + 1, NULL, &e), 0);
	assert_string_equal(e->flags_text, "miss nocwd");
	proc_cache__free(c);
}

/* Counts begin/end calls; a read must happen between a begin and its end. */
struct miss_calls {
	int begins, ends;
};

static void count_miss(void *ctx, bool begin)
{
	struct miss_calls *calls = ctx;

	if (begin)
		calls->begins++;
	else
		calls->ends++;
}

/* The caller's hook brackets the /proc reads of a miss, and only those. */
static void test_miss_hook(void **state)
{
	struct miss_calls calls = { 0 };
	const struct proc_cache_opts opts = {
		.proc_root = root,
		.node_name = NODE,
		.boot_offset_ns = REF_OFFSET,
		.around_miss = count_miss,
		.around_miss_ctx = &calls,
	};
	struct proc_hint hint = { .ppid = 200, .comm = "prog" };
	const struct proc_entry *e = NULL;
	struct proc_cache *c = NULL;

	(void)state;
	assert_int_equal(proc_cache__new(&opts, &c), 0);
	assert_int_equal(proc_cache_lookup(c, 300, 100000000000ull, &hint, &e), 0);
	assert_int_equal(calls.begins, 1);
	assert_int_equal(calls.ends, 1);
	/* Now a hit: no reads, no calls. */
	assert_int_equal(proc_cache_lookup(c, 300, 100000000000ull + 1, &hint, &e), 0);
	assert_int_equal(calls.begins, 1);
	/* A miss that finds nothing still ends what it began. */
	assert_int_equal(proc_cache_lookup(c, UNKNOWN_PID, 100000000000ull, NULL, &e), -ENOENT);
	assert_int_equal(calls.begins, 2);
	assert_int_equal(calls.ends, 2);
	proc_cache__free(c);
}

static void test_scan_fixture(void **state)
{
	struct proc_cache *c = new_cache(0, 0);
	const struct proc_entry *e, *parent;

	(void)state;
	assert_int_equal(proc_cache_scan(c), 0);
	assert_true(stats(c).entries == 4); /* 1, 200, 300, 500; 400 is a thread */

	e = lookup(c, 300, 100000000000ull);
	assert_string_equal(e->flags_text, "procFS");
	assert_true(e->ns[CT_NS_NET] == 4026532008u);
	parent = proc_cache_parent(c, e);
	assert_non_null(parent);
	assert_int_equal(parent->pid, 200);
	assert_string_equal(e->parent_exec_id, parent->exec_id);
	assert_string_equal(parent->flags_text, "procFS truncArgs");
	assert_true(parent->auid == 4294967295u);
	assert_int_equal(strlen(parent->arguments), CT_ARGS_MAX - 1);
	parent = proc_cache_parent(c, parent);
	assert_non_null(parent);
	assert_int_equal(parent->pid, 1);
	assert_string_equal(parent->flags_text, "procFS rootcwd");
	assert_string_equal(parent->binary, "/usr/lib/systemd/systemd");
	assert_string_equal(parent->arguments, "splash");
	assert_null(proc_cache_parent(c, parent));

	e = lookup(c, 500, 100000000000ull);
	assert_string_equal(e->flags_text, "procFS errorFilename rootcwd");
	assert_null(proc_cache_parent(c, e)); /* kthreadd was not listed */
	assert_true(stats(c).misses == 0);

	/* An exec record replaces a scanned image. */
	assert_int_equal(proc_cache_apply(c, mk(CT_REC_EXEC, 200000000000ull, 300, 200)), 0);
	e = lookup(c, 300, 200000000001ull);
	assert_string_equal(e->flags_text, "execve rootcwd");
	assert_int_equal(proc_cache_parent(c, e)->pid, 200);
	proc_cache__free(c);
}

/* The real /proc: this process is found by the scan, with its parent. */
static void test_scan_real_proc(void **state)
{
	const struct proc_cache_opts opts = { .node_name = "node" };
	const struct proc_entry *e = NULL, *parent;
	struct proc_cache *c = NULL;
	char exe[PATH_MAX];
	struct timespec now;
	uint64_t ktime_ns;
	ssize_t n;

	(void)state;
	assert_int_equal(proc_cache__new(&opts, &c), 0);
	assert_int_equal(proc_cache_scan(c), 0);
	assert_true(stats(c).entries > 1);
	assert_int_equal(clock_gettime(CLOCK_BOOTTIME, &now), 0);
	ktime_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	assert_int_equal(proc_cache_lookup(c, (uint32_t)getpid(), ktime_ns, NULL, &e), 0);
	assert_true(e->flags & PROC_PROCFS);
	assert_false(e->flags & PROC_MISS);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(e->binary, exe);
	assert_int_equal(e->uid, geteuid());
	parent = proc_cache_parent(c, e);
	assert_non_null(parent);
	assert_int_equal(parent->pid, getppid());
	assert_string_equal(e->parent_exec_id, parent->exec_id);
	assert_true(stats(c).misses == 0);
	proc_cache__free(c);
}

static void exe_link(const char *dir, uint32_t pid, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%u", dir, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%u/exe", dir, pid);
	assert_int_equal(symlink(target, path), 0);
}

/* An exec of binary, the file exe_ino on device 7 (0: unknown). */
static const char *exec_file(struct proc_cache *c, uint64_t ktime_ns, uint32_t pid,
			     const char *binary, uint64_t exe_ino)
{
	struct ct_proc_event *r = mk(CT_REC_EXEC, ktime_ns, pid, 1);

	set_binary(r, binary);
	r->exe_ino = exe_ino;
	r->exe_dev = exe_ino ? 7 : 0;
	assert_int_equal(proc_cache_apply(c, r), 0);
	return lookup(c, pid, ktime_ns)->binary;
}

static const char *exec_as(struct proc_cache *c, uint64_t ktime_ns, uint32_t pid,
			   const char *binary)
{
	return exec_file(c, ktime_ns, pid, binary, 0);
}

/* Names of /proc and /dev/fd are no program's: runc runs itself through
 * /proc/self/exe, then its sealed copy (a memfd) through /dev/fd/N. */
static void test_exec_self_names(void **state)
{
	char dir[SCRATCH_DIR_LEN], saved[PATH_MAX];
	struct proc_cache *c;

	(void)state;
	assert_int_equal(scratch_dir_make(dir, "proc-self"), 0);
	exe_link(dir, 650, "/memfd:runc_cloned:/proc/self/exe (deleted)");
	exe_link(dir, 651, "/usr/libexec/real");
	exe_link(dir, 653, "/");
	exe_link(dir, 654, "/usr/bin/other");
	exe_link(dir, 655, "/var/lib/bundle/rootfs/bin/sh");
	/* new_cache() reads root */
	memcpy(saved, root, sizeof(root));
	snprintf(root, sizeof(root), "%s", dir);
	c = new_cache(0, 0);

	assert_string_equal(exec_as(c, 100, 650, "/usr/sbin/runc"), "/usr/sbin/runc");
	assert_string_equal(exec_as(c, 200, 650, "/proc/self/exe"), "/usr/sbin/runc");
	/* a sealed copy has no name: what ran before */
	assert_string_equal(exec_as(c, 300, 650, "/dev/fd/6"), "/usr/sbin/runc");
	assert_string_equal(exec_as(c, 400, 650, "/proc/self/fd/7"), "/usr/sbin/runc");
	/* a file opened and run: what /proc/PID/exe names */
	assert_string_equal(exec_as(c, 100, 651, "/dev/fd/3"), "/usr/libexec/real");
	assert_string_equal(exec_as(c, 200, 651, "/proc/651/exe"), "/usr/libexec/real");
	/* nothing tells: left as the record said */
	assert_string_equal(exec_as(c, 100, 652, "/proc/self/exe"), "/proc/self/exe");
	/* names that only look alike are paths */
	assert_string_equal(exec_as(c, 500, 650, "/proc/self/exe2"), "/proc/self/exe2");
	/* runc 1.1's read-only bind of itself: the same file, which
	 * /proc/PID/exe shows as "/" (its mount is detached) */
	assert_string_equal(exec_file(c, 100, 653, "/usr/sbin/runc", 42), "/usr/sbin/runc");
	assert_string_equal(exec_file(c, 200, 653, "/dev/fd/5", 42), "/usr/sbin/runc");
	assert_string_equal(exec_file(c, 300, 653, "/dev/fd/5", 43), "/usr/sbin/runc");
	/* the same file, though the process ran another since: the file, not
	 * what /proc/PID/exe names by the time the record is read */
	assert_string_equal(exec_file(c, 100, 655, "/usr/sbin/runc", 42), "/usr/sbin/runc");
	assert_string_equal(exec_file(c, 200, 655, "/dev/fd/5", 42), "/usr/sbin/runc");
	/* another file, by the same name: the exec'd file's own */
	assert_string_equal(exec_file(c, 100, 654, "/usr/sbin/runc", 42), "/usr/sbin/runc");
	assert_string_equal(exec_file(c, 200, 654, "/dev/fd/4", 44), "/usr/bin/other");
	proc_cache__free(c);
	memcpy(root, saved, sizeof(root));
	assert_int_equal(scratch_dir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_id_encoding),
		cmocka_unit_test(test_flags_order),
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test(test_reference_event),
		cmocka_unit_test(test_start_time_past_int64),
		cmocka_unit_test(test_exec_decoding),
		cmocka_unit_test(test_fork_exec_exit),
		cmocka_unit_test(test_parent_execs_again),
		cmocka_unit_test(test_pid_reuse_no_wrong_parent),
		cmocka_unit_test(test_eviction_at_bound),
		cmocka_unit_test(test_bytes_per_entry),
		cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_longest_exec_ids),
		cmocka_unit_test(test_miss_hook),
		cmocka_unit_test(test_grace_period),
		cmocka_unit_test(test_miss_then_exec),
		cmocka_unit_test(test_lookup_reads_procfs),
		cmocka_unit_test(test_scan_fixture),
		cmocka_unit_test(test_scan_real_proc),
		cmocka_unit_test(test_exec_self_names),
	};
	const char *src = getenv("CAPTRAIL_SRC");

	snprintf(root, sizeof(root), "%s/tests/fixtures/proc", src ? src : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
