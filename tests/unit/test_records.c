/* What the BPF side sends, decoded: aggregation entries as checks, ring
 * buffer records handed to their callbacks, and exec records' cwd, binary
 * and arguments. Records are built here as the BPF programs lay them out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/records.h"
#include "proc_records.h"

/* Output buffers have a guard after them: a decoder that writes past its
 * RECORDS_*_LEN shows in any build, not only under ASan. */
#define GUARD_LEN 16
#define GUARD_BYTE 0x5a

struct cwd_out {
	char buf[RECORDS_CWD_LEN];
	unsigned char guard[GUARD_LEN];
};

struct binary_out {
	char buf[RECORDS_BINARY_LEN];
	unsigned char guard[GUARD_LEN];
};

struct args_out {
	char buf[RECORDS_ARGS_LEN];
	unsigned char guard[GUARD_LEN];
};

static void guard_set(unsigned char *guard)
{
	memset(guard, GUARD_BYTE, GUARD_LEN);
}

static void guard_check(const unsigned char *guard)
{
	for (size_t i = 0; i < GUARD_LEN; i++)
		assert_int_equal(guard[i], GUARD_BYTE);
}

/* The record mk_exec() resets and proc_records.h's helpers fill. */
static struct ct_proc_event rec;

static struct ct_proc_event *mk_exec(void)
{
	return proc_record(&rec, CT_REC_EXEC, 4242, 0);
}

static bool decode_cwd(const struct ct_proc_event *r, struct cwd_out *out)
{
	bool cut;

	memset(out->buf, '#', sizeof(out->buf));
	guard_set(out->guard);
	cut = records_exec_cwd(r, out->buf);
	guard_check(out->guard);
	return cut;
}

static const char *decode_path(const struct ct_proc_event *r, const char *cwd,
			       struct binary_out *out)
{
	memset(out->buf, '#', sizeof(out->buf));
	guard_set(out->guard);
	records_exec_path(r, cwd, out->buf);
	guard_check(out->guard);
	return out->buf;
}

static const char *decode_args(const struct ct_proc_event *r, struct args_out *out)
{
	memset(out->buf, '#', sizeof(out->buf));
	guard_set(out->guard);
	records_exec_args(r, out->buf);
	guard_check(out->guard);
	return out->buf;
}

/* --- records_check --- */

static void test_check_fields(void **state)
{
	const struct ct_agg_key key = {
		.cgroup_id = 77, .pid = 1234, .exec_gen = 3, .cap = 21, .syscall = 165,
		.flags = CT_AGG_DENIED | CT_AGG_FOREIGN_USERNS,
	};
	const struct ct_agg_value value = {
		.count = 12, .audit_samples = 2, .first_ns = 987654321012ull,
		.last_ns = 987654329999ull,
	};
	struct check c;

	(void)state;
	/* Whatever was in the output before does not leak through. */
	memset(&c, 0xff, sizeof(c));
	records_check(&key, &value, NULL, &c);
	assert_int_equal(c.cap, 21);
	assert_true(c.denied);
	assert_int_equal(c.audit, CHECK_AUDITED);
	assert_int_equal(c.syscall, 165);
	assert_int_equal(c.flags, CHECK_FOREIGN_USERNS);
	assert_true(c.count == 12);
	assert_true(c.first_ns == 987654321012ull);
	assert_true(c.last_ns == 987654329999ull);
	assert_true(c.outcome.eperm == 0 && c.outcome.eacces == 0);
	assert_true(c.outcome.success == 0 && c.outcome.other == 0);
}

/* The verdict is its own field; each credential bit maps to its check flag
 * and nothing else, and bits the kernel may add later are not passed on. */
static void test_check_flag_bits(void **state)
{
	static const struct {
		uint32_t agg;
		bool denied;
		uint32_t flags;
	} cases[] = {
		{ 0, false, 0 },
		{ CT_AGG_DENIED, true, 0 },
		{ CT_AGG_OVERRIDE_CRED, false, CHECK_OVERRIDE_CRED },
		{ CT_AGG_FOREIGN_USERNS, false, CHECK_FOREIGN_USERNS },
		{ CT_AGG_KTHREAD, false, CHECK_KTHREAD },
		{ CT_AGG_DENIED | CT_AGG_KTHREAD, true, CHECK_KTHREAD },
		{ CT_AGG_INSETID, false, CHECK_INSETID },
		{ CT_AGG_DENIED | CT_AGG_OVERRIDE_CRED | CT_AGG_FOREIGN_USERNS | CT_AGG_KTHREAD |
			  CT_AGG_INSETID,
		  true, CHECK_FLAGS },
		/* the audit class and unknown bits never leak into the flags */
		{ CT_AGG_AUDIT_KNOWN | CT_AGG_NOAUDIT | 1u << 31, false, 0 },
		{ CT_AGG_AUDIT_KNOWN | CT_AGG_OVERRIDE_CRED, false, CHECK_OVERRIDE_CRED },
	};
	const struct ct_agg_value value = { .count = 1 };
	struct ct_agg_key key = { .cap = 0, .syscall = CT_NO_SYSCALL };
	struct check c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		key.flags = cases[i].agg;
		records_check(&key, &value, NULL, &c);
		assert_int_equal(c.denied, cases[i].denied);
		assert_int_equal(c.flags, cases[i].flags);
		assert_int_equal(c.syscall, CHECK_NO_SYSCALL);
	}
}

/* One audited sample makes the capability used for real, however many
 * noaudit probes there were; no sample at all cannot tell. */
static void test_check_audit_class(void **state)
{
	static const struct {
		uint64_t noaudit, audit;
		enum check_audit want;
	} cases[] = {
		{ 0, 0, CHECK_AUDIT_UNKNOWN },
		{ 5, 0, CHECK_NOAUDIT },
		{ 0, 1, CHECK_AUDITED },
		{ 1000, 1, CHECK_AUDITED },
		{ 1, 1000, CHECK_AUDITED },
	};
	const struct ct_agg_key key = { .cap = 12, .syscall = 9 };
	struct ct_agg_value value = { .count = 4000 };
	struct check c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		value.noaudit_samples = cases[i].noaudit;
		value.audit_samples = cases[i].audit;
		records_check(&key, &value, NULL, &c);
		assert_int_equal(c.audit, cases[i].want);
		/* Samples are a subset of the checks: the count is the count. */
		assert_true(c.count == 4000);
	}
}

/* Hooks that see the opts argument know the class exactly: the samples,
 * which only guess from the call chain, do not override it. */
static void test_check_audit_exact(void **state)
{
	struct ct_agg_key key = { .cap = 21, .syscall = CT_NO_SYSCALL };
	const struct ct_agg_value guessed_audited = { .count = 3, .audit_samples = 3 };
	const struct ct_agg_value guessed_noaudit = { .count = 3, .noaudit_samples = 3 };
	struct check c;

	(void)state;
	key.flags = CT_AGG_AUDIT_KNOWN | CT_AGG_NOAUDIT;
	records_check(&key, &guessed_audited, NULL, &c);
	assert_int_equal(c.audit, CHECK_NOAUDIT);
	key.flags = CT_AGG_AUDIT_KNOWN;
	records_check(&key, &guessed_noaudit, NULL, &c);
	assert_int_equal(c.audit, CHECK_AUDITED);
	/* NOAUDIT without AUDIT_KNOWN is not trusted: fall back to samples */
	key.flags = CT_AGG_NOAUDIT;
	records_check(&key, &guessed_audited, NULL, &c);
	assert_int_equal(c.audit, CHECK_AUDITED);
}

static void test_check_outcome(void **state)
{
	const struct ct_agg_key key = { .cap = 0, .flags = CT_AGG_DENIED };
	const struct ct_agg_value value = { .count = 10, .first_ns = 5 };
	const struct ct_outcome outcome = { .eperm = 6, .eacces = 1, .success = 2, .other = 3 };
	struct check c;

	(void)state;
	records_check(&key, &value, &outcome, &c);
	assert_true(c.outcome.eperm == 6);
	assert_true(c.outcome.eacces == 1);
	assert_true(c.outcome.success == 2);
	assert_true(c.outcome.other == 3);
	assert_true(c.first_ns == 5);

	/* Not observed: zeros, not what the previous check held. */
	records_check(&key, &value, NULL, &c);
	assert_true(c.outcome.eperm == 0 && c.outcome.eacces == 0);
	assert_true(c.outcome.success == 0 && c.outcome.other == 0);
}

/* --- records_dispatch --- */

struct calls {
	int cap, proc;
	const void *last;
	uint32_t last_type;
	int ret; /* what each callback returns */
};

/* The callbacks differ only in whose count they raise. */
static int called(struct calls *calls, int *count, const void *record, uint32_t type)
{
	(*count)++;
	calls->last = record;
	calls->last_type = type;
	return calls->ret;
}

static int on_cap(void *ctx, const struct ct_cap_event *e)
{
	struct calls *calls = ctx;

	return called(calls, &calls->cap, e, e->type);
}

static int on_proc(void *ctx, const struct ct_proc_event *e)
{
	struct calls *calls = ctx;

	return called(calls, &calls->proc, e, e->type);
}

static void test_dispatch_by_type(void **state)
{
	static const uint32_t proc_types[] = { CT_REC_EXEC, CT_REC_FORK, CT_REC_EXIT };
	struct calls calls = { 0 };
	const struct records_handlers h = {
		.on_cap = on_cap, .on_proc = on_proc, .ctx = &calls,
	};
	struct ct_cap_event cap = { .type = CT_REC_CAP, .pid = 9 };
	struct {
		struct ct_cap_event e;
		char pad[8];
	} padded = { .e = { .type = CT_REC_CAP } };

	(void)state;
	assert_int_equal(records_dispatch(&h, &cap, sizeof(cap)), 0);
	assert_int_equal(calls.cap, 1);
	assert_ptr_equal(calls.last, &cap);
	assert_int_equal(calls.last_type, CT_REC_CAP);

	for (size_t i = 0; i < 3; i++) {
		mk_exec()->type = proc_types[i];
		assert_int_equal(records_dispatch(&h, &rec, sizeof(rec)), 0);
		assert_int_equal(calls.proc, (int)i + 1);
		assert_ptr_equal(calls.last, &rec);
		assert_int_equal(calls.last_type, proc_types[i]);
	}

	/* Each record went to its own callback only. */
	assert_int_equal(calls.cap, 1);
	assert_int_equal(calls.proc, 3);

	/* The ring buffer may round a record up: more than its type needs is
	 * still the record. */
	assert_int_equal(records_dispatch(&h, &padded, sizeof(padded)), 0);
	assert_int_equal(calls.cap, 2);
	assert_ptr_equal(calls.last, &padded.e);
}

static void test_dispatch_null_callbacks(void **state)
{
	struct calls calls = { 0 };
	const struct records_handlers none = { .ctx = &calls };
	const struct records_handlers only_cap = { .on_cap = on_cap, .ctx = &calls };
	struct ct_cap_event cap = { .type = CT_REC_CAP };

	(void)state;
	assert_int_equal(records_dispatch(&none, &cap, sizeof(cap)), 0);
	mk_exec();
	assert_int_equal(records_dispatch(&none, &rec, sizeof(rec)), 0);
	assert_int_equal(calls.cap + calls.proc, 0);

	/* A kind without a callback is skipped, not handed to another. */
	assert_int_equal(records_dispatch(&only_cap, &rec, sizeof(rec)), 0);
	assert_int_equal(calls.cap + calls.proc, 0);
	assert_int_equal(records_dispatch(&only_cap, &cap, sizeof(cap)), 0);
	assert_int_equal(calls.cap, 1);
	/* Still checked without a callback: a short record is a bug either way. */
	assert_int_equal(records_dispatch(&none, &cap, sizeof(cap) - 1), -EBADMSG);
}

static void test_dispatch_callback_error(void **state)
{
	struct calls calls = { .ret = -ENOSPC };
	const struct records_handlers h = {
		.on_cap = on_cap, .on_proc = on_proc, .ctx = &calls,
	};
	struct ct_cap_event cap = { .type = CT_REC_CAP };

	(void)state;
	assert_int_equal(records_dispatch(&h, &cap, sizeof(cap)), -ENOSPC);
	calls.ret = -EIO;
	mk_exec()->type = CT_REC_FORK;
	assert_int_equal(records_dispatch(&h, &rec, sizeof(rec)), -EIO);
	/* A positive return is the callback's business too. */
	calls.ret = 1;
	assert_int_equal(records_dispatch(&h, &cap, sizeof(cap)), 1);
	assert_int_equal(calls.cap + calls.proc, 3);
}

static void test_dispatch_bad_records(void **state)
{
	static const uint32_t unknown[] = { 0, 7, 0x100, UINT32_MAX };
	struct calls calls = { 0 };
	const struct records_handlers h = {
		.on_cap = on_cap, .on_proc = on_proc, .ctx = &calls,
	};
	struct ct_cap_event cap = { .type = CT_REC_CAP };
	uint32_t type = CT_REC_CAP;

	(void)state;
	/* Not even a type. */
	assert_int_equal(records_dispatch(&h, &type, 0), -EBADMSG);
	assert_int_equal(records_dispatch(&h, &type, sizeof(type) - 1), -EBADMSG);
	/* A type, then less than it says. */
	assert_int_equal(records_dispatch(&h, &type, sizeof(type)), -EBADMSG);
	assert_int_equal(records_dispatch(&h, &cap, sizeof(cap) - 1), -EBADMSG);
	mk_exec();
	assert_int_equal(records_dispatch(&h, &rec, sizeof(rec) - 1), -EBADMSG);
	/* A cap event's size is not a proc record's. */
	assert_int_equal(records_dispatch(&h, &rec, sizeof(struct ct_cap_event)), -EBADMSG);
	/* A type this build does not know, whatever its size. */
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		rec.type = unknown[i];
		assert_int_equal(records_dispatch(&h, &rec, sizeof(rec)), -EBADMSG);
	}
	assert_int_equal(calls.cap + calls.proc, 0);
}

static int on_priv(void *ctx, const struct ct_priv_event *e)
{
	struct calls *calls = ctx;

	return called(calls, &calls->cap, e, e->type);
}

static void test_dispatch_priv(void **state)
{
	struct calls calls = { 0 };
	const struct records_handlers h = { .on_priv = on_priv, .ctx = &calls };
	struct ct_priv_event e = { .type = CT_REC_PRIV, .kind = CT_PRIV_CAPSET };

	(void)state;
	assert_int_equal(records_dispatch(&h, &e, sizeof(e) - 1), -EBADMSG);
	assert_int_equal(records_dispatch(&h, &e, sizeof(e)), 0);
	assert_int_equal(calls.cap, 1);
	assert_ptr_equal(calls.last, &e);
}

static int on_object(void *ctx, const struct ct_object_event *e)
{
	struct calls *calls = ctx;

	return called(calls, &calls->proc, e, e->type);
}

static void test_dispatch_object(void **state)
{
	struct calls calls = { 0 };
	const struct records_handlers h = { .on_object = on_object, .ctx = &calls };
	static struct ct_object_event e = { .type = CT_REC_OBJECT };

	(void)state;
	assert_int_equal(records_dispatch(&h, &e, sizeof(e) - 1), -EBADMSG);
	assert_int_equal(records_dispatch(&h, &e, sizeof(e)), 0);
	assert_int_equal(calls.proc, 1);
	assert_ptr_equal(calls.last, &e);
}

static struct records_priv priv_of(struct ct_priv_event e)
{
	struct records_priv priv;

	memset(&priv, 0xff, sizeof(priv));
	records_priv(&e, &priv);
	return priv;
}

/* What each privilege record keeps. */
static void test_priv_kept(void **state)
{
	const uint64_t all = (1ull << 41) - 1, nbs = 1ull << 10, raw = 1ull << 13;
	struct records_priv r;

	(void)state;
	/* chronyd: full permitted after setuid with keepcaps, asks for one. */
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_CAPSET, .asked_permitted = nbs,
					    .asked_effective = nbs, .held_permitted = all });
	assert_true(r.kept == nbs && !r.keep_caps && !r.exec_gain);
	/* What it does not hold, the request cannot keep (setpriv re-applying
	 * its first sets after a uid change without keepcaps: it fails, and
	 * the program runs on). */
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_CAPSET, .asked_permitted = all,
					    .asked_effective = all, .held_permitted = 0 });
	assert_true(r.kept == 0);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_CAPSET, .asked_permitted = nbs | raw,
					    .held_permitted = nbs | (1ull << 1) });
	assert_true(r.kept == nbs);
	/* Permitted left as it is: only what it raises into effective. */
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_CAPSET, .asked_permitted = all,
					    .asked_effective = raw | nbs, .held_permitted = all,
					    .held_effective = nbs });
	assert_true(r.kept == raw);
	/* setpriv after its setresuid with keepcaps: everything back into
	 * effective, chosen by no one. */
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_CAPSET, .asked_permitted = all,
					    .asked_effective = all, .held_permitted = all });
	assert_true(r.kept == 0);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_CAPSET, .asked_permitted = all,
					    .held_permitted = all, .flags = CT_PRIV_UNREAD,
					    .asked_effective = raw });
	assert_true(r.kept == 0);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_AMBIENT_RAISE, .arg = 10 });
	assert_true(r.kept == nbs);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_AMBIENT_RAISE, .arg = 64 });
	assert_true(r.kept == 0);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_KEEPCAPS, .arg = 1 });
	assert_true(r.keep_caps && !r.kept);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_KEEPCAPS, .arg = 0 });
	assert_false(r.keep_caps);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_SECUREBITS,
					    .arg = CT_SECBIT_KEEP_CAPS | 1 });
	assert_true(r.keep_caps);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_SECUREBITS, .arg = 1 });
	assert_false(r.keep_caps);
	/* File capabilities: the new permitted set is kept; a set-user-ID
	 * root binary gains everything, which says nothing about a need. */
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_EXEC, .uid = 1000, .euid = 1000,
					    .held_permitted = nbs });
	assert_true(r.exec_gain && r.kept == nbs);
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_EXEC, .uid = 1000, .euid = 0,
					    .held_permitted = all });
	assert_true(r.exec_gain && !r.kept);
	/* A set-user-ID binary of another user gains no capability. */
	r = priv_of((struct ct_priv_event){ .kind = CT_PRIV_EXEC, .uid = 1000, .euid = 33 });
	assert_false(r.exec_gain);
}

/* --- exec records: cwd --- */

static void test_exec_cwd_components(void **state)
{
	struct ct_proc_event *r = mk_exec();
	struct cwd_out out;

	(void)state;
	/* Leaf first in the record: "src\0user\0home\0". */
	memcpy(r->cwd, "src\0user\0home\0", 15);
	r->cwd_len = 15;
	r->cwd_parts = 3;
	assert_false(decode_cwd(r, &out));
	assert_string_equal(out.buf, "/home/user/src");

	set_cwd(r, "/a");
	assert_false(decode_cwd(r, &out));
	assert_string_equal(out.buf, "/a");

	/* Only as many components as the walk counted. */
	set_cwd(r, "/x/y/z");
	r->cwd_parts = 2;
	assert_false(decode_cwd(r, &out));
	assert_string_equal(out.buf, "/y/z");
	/* And only what cwd_len covers. */
	set_cwd(r, "/x/y/z");
	r->cwd_len = 4; /* "z\0y\0" */
	assert_false(decode_cwd(r, &out));
	assert_string_equal(out.buf, "/y/z");
}

/* The walk reached the root at once: no components. */
static void test_exec_cwd_root(void **state)
{
	struct ct_proc_event *r = mk_exec();
	struct cwd_out out;

	(void)state;
	assert_false(decode_cwd(r, &out));
	assert_string_equal(out.buf, "/");
}

struct cwd_case {
	const char *cwd;
	uint32_t flags;
	bool cut;
	const char *want;
};

/* Each case decoded in turn from one record, so that what an earlier one
 * left in it must not show. */
static void check_cwd_cases(const struct cwd_case *cases, size_t n)
{
	struct ct_proc_event *r = mk_exec();
	struct cwd_out out;

	for (size_t i = 0; i < n; i++) {
		set_cwd(r, cases[i].cwd);
		r->flags = cases[i].flags;
		assert_int_equal(decode_cwd(r, &out), cases[i].cut);
		assert_string_equal(out.buf, cases[i].want);
	}
}

/* Cut (deeper than CT_PATH_DEPTH, or out of room): what is left is the
 * leaf end, without a '/' that would pass it for absolute. */
static void test_exec_cwd_cut(void **state)
{
	static const struct cwd_case cases[] = {
		{ "/b/c", CT_PROC_TRUNC_CWD, true, "b/c" },
		{ "/c", CT_PROC_TRUNC_CWD, true, "c" },
		/* Nothing recorded before the cut: empty, not "/". */
		{ "/", CT_PROC_TRUNC_CWD, true, "" },
	};

	(void)state;
	check_cwd_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A failed walk: nothing of it is trusted, whatever it recorded. */
static void test_exec_cwd_failed(void **state)
{
	static const struct cwd_case cases[] = {
		{ "/var/lib", CT_PROC_ERR_CWD, true, "" },
		{ "/", CT_PROC_ERR_CWD | CT_PROC_TRUNC_CWD, true, "" },
		/* The other flags are not about the cwd. */
		{ "/var/lib", CT_PROC_TRUNC_ARGS | CT_PROC_ERR_ARGS | CT_PROC_ERR_FILENAME, false,
		  "/var/lib" },
	};

	(void)state;
	check_cwd_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_exec_cwd_bounds(void **state)
{
	struct ct_proc_event *r = mk_exec();
	struct cwd_out out;

	(void)state;
	set_longest_cwd(r);
	assert_false(decode_cwd(r, &out));
	assert_int_equal(strlen(out.buf), RECORDS_CWD_LEN - 1);
	assert_memory_equal(out.buf, "/zzz", 4);
	assert_int_equal(out.buf[24], '/');
	assert_int_equal(out.buf[RECORDS_CWD_LEN - 2], 'x');

	/* A length beyond the array is bounded by it. */
	r->cwd_len = UINT16_MAX;
	r->cwd_parts = UINT16_MAX;
	assert_false(decode_cwd(r, &out));
	assert_int_equal(strlen(out.buf), RECORDS_CWD_LEN - 1);

	/* One component without a terminator fills the array: it does not fit
	 * with its '/', and is reported cut. */
	memset(r->cwd, 'q', CT_PATH_MAX);
	r->cwd_len = CT_PATH_MAX;
	r->cwd_parts = 1;
	assert_true(decode_cwd(r, &out));
	assert_true(strlen(out.buf) < RECORDS_CWD_LEN);
	assert_null(strchr(out.buf, '/'));
}

/* --- exec records: binary --- */

static void test_exec_path_relative(void **state)
{
	static const struct {
		const char *binary, *cwd, *want;
	} cases[] = {
		{ "./build/run", "/home/user/src", "/home/user/src/build/run" },
		{ "build/run", "/home/user/src", "/home/user/src/build/run" },
		/* Every leading "./", and the slashes after one. */
		{ ".//././x", "/srv", "/srv/x" },
		/* ".." is the kernel's to resolve, not ours: kept. */
		{ "../bin/y", "/srv/app", "/srv/app/../bin/y" },
		/* A hidden file is not "./". */
		{ ".hidden", "/srv", "/srv/.hidden" },
		/* In "/": one slash, not two. */
		{ "./sbin/tool", "/", "/sbin/tool" },
		/* A cut cwd: joined all the same, and not absolute. */
		{ "x", "b/c", "b/c/x" },
	};
	struct ct_proc_event *r = mk_exec();
	struct binary_out out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_binary(r, cases[i].binary);
		assert_string_equal(decode_path(r, cases[i].cwd, &out), cases[i].want);
	}
}

static void test_exec_path_absolute_or_unknown(void **state)
{
	struct ct_proc_event *r = mk_exec();
	struct binary_out out;

	(void)state;
	set_binary(r, "/usr/bin/id");
	assert_string_equal(decode_path(r, "/home/user", &out), "/usr/bin/id");
	assert_string_equal(decode_path(r, "", &out), "/usr/bin/id");
	/* No cwd to join to: kept as given, "./" included. */
	set_binary(r, "./x");
	assert_string_equal(decode_path(r, "", &out), "./x");
	/* No filename (CT_PROC_ERR_FILENAME): empty, not the cwd. */
	mk_exec()->flags = CT_PROC_ERR_FILENAME;
	assert_string_equal(decode_path(r, "/home/user", &out), "");
	/* binary_len bounds what is read of the name, NUL or not. */
	set_binary(r, "/usr/bin/identity");
	r->binary_len = 12;
	decode_path(r, "/", &out);
	assert_true(strlen(out.buf) <= 12);
	assert_memory_equal(out.buf, "/usr/bin/id", 11);
}

static void test_exec_path_bounds(void **state)
{
	struct ct_proc_event *r = mk_exec();
	struct binary_out out;
	static char cwd[RECORDS_CWD_LEN];

	(void)state;
	/* The longest absolute name, with a length past the array. */
	memset(r->binary, 'a', CT_PATH_MAX - 1);
	r->binary[0] = '/';
	r->binary[CT_PATH_MAX - 1] = '\0';
	r->binary_len = UINT16_MAX;
	assert_int_equal(strlen(decode_path(r, "/x", &out)), CT_PATH_MAX - 1);

	/* The longest cwd records_exec_cwd() gives and the longest relative
	 * name the BPF side reads (NUL-terminated) fill RECORDS_BINARY_LEN. */
	memset(cwd, 'c', sizeof(cwd) - 1);
	cwd[0] = '/';
	cwd[sizeof(cwd) - 1] = '\0';
	memset(r->binary, 'b', CT_PATH_MAX - 1);
	r->binary[CT_PATH_MAX - 1] = '\0';
	r->binary_len = CT_PATH_MAX;
	decode_path(r, cwd, &out);
	assert_int_equal(strlen(out.buf), RECORDS_BINARY_LEN - 1);
	assert_int_equal(out.buf[RECORDS_CWD_LEN - 1], '/');
	assert_int_equal(out.buf[RECORDS_CWD_LEN], 'b');
}

/* records_exec_binary() is records_exec_cwd() then records_exec_path(). */
static void test_exec_binary(void **state)
{
	struct ct_proc_event *r = mk_exec();
	struct binary_out out;

	(void)state;
	set_cwd(r, "/opt/app");
	set_binary(r, "./bin/server");
	guard_set(out.guard);
	records_exec_binary(r, out.buf);
	guard_check(out.guard);
	assert_string_equal(out.buf, "/opt/app/bin/server");

	set_binary(r, "/usr/bin/env");
	records_exec_binary(r, out.buf);
	assert_string_equal(out.buf, "/usr/bin/env");

	/* cwd unknown: the relative name stays relative. */
	set_binary(r, "./bin/server");
	r->flags = CT_PROC_ERR_CWD;
	records_exec_binary(r, out.buf);
	assert_string_equal(out.buf, "./bin/server");

	/* cwd cut: joined to what is left of it. */
	r->flags = CT_PROC_TRUNC_CWD;
	records_exec_binary(r, out.buf);
	assert_string_equal(out.buf, "opt/app/bin/server");

	/* In "/". */
	mk_exec();
	set_binary(r, "tool");
	records_exec_binary(r, out.buf);
	assert_string_equal(out.buf, "/tool");
	guard_check(out.guard);
}

/* The longest cwd the record holds (set_longest_cwd()) and a
 * relative name of CT_PATH_MAX bytes without a NUL whose binary_len claims
 * all of them: records_exec_path() wrote its terminator one byte past
 * RECORDS_BINARY_LEN, as only the BPF side's NUL had kept the name to
 * CT_PATH_MAX - 1. Decoded into a buffer of exactly RECORDS_BINARY_LEN
 * from malloc, so ASan sees a byte past it, and into a guarded one, so
 * any build does. */
static void test_exec_binary_longest(void **state)
{
	struct ct_proc_event *r = mk_exec();
	char *heap = malloc(RECORDS_BINARY_LEN), cwd[RECORDS_CWD_LEN];
	struct binary_out out;

	(void)state;
	assert_non_null(heap);
	set_longest_cwd(r);
	assert_false(records_exec_cwd(r, cwd));
	assert_int_equal(strlen(cwd), RECORDS_CWD_LEN - 1);
	memset(r->binary, 'b', CT_PATH_MAX);
	r->binary_len = CT_PATH_MAX;

	memset(heap, '#', RECORDS_BINARY_LEN);
	records_exec_binary(r, heap);
	assert_non_null(memchr(heap, '\0', RECORDS_BINARY_LEN));
	assert_int_equal(strlen(heap), RECORDS_BINARY_LEN - 1);
	assert_memory_equal(heap, cwd, RECORDS_CWD_LEN - 1);
	assert_int_equal(heap[RECORDS_CWD_LEN - 1], '/');
	/* What is left of the name is its first CT_PATH_MAX - 1 bytes. */
	assert_int_equal(strspn(heap + RECORDS_CWD_LEN, "b"), CT_PATH_MAX - 1);
	free(heap);

	memset(out.buf, '#', sizeof(out.buf));
	guard_set(out.guard);
	records_exec_binary(r, out.buf);
	guard_check(out.guard);
	assert_int_equal(strlen(out.buf), RECORDS_BINARY_LEN - 1);
	assert_memory_equal(out.buf, cwd, RECORDS_CWD_LEN - 1);
}

/* --- exec records: arguments --- */

static void test_exec_args(void **state)
{
	static const char *const args[] = { "-v", "", "a b", "--x=1" };
	struct ct_proc_event *r = mk_exec();
	struct args_out out;

	(void)state;
	assert_string_equal(decode_args(r, &out), "");
	set_args(r, args, 1);
	assert_string_equal(decode_args(r, &out), "-v");
	/* An empty argument is two spaces; the last terminator is not one. */
	set_args(r, args, 4);
	assert_string_equal(decode_args(r, &out), "-v  \"a b\" --x=1");
	/* Cut mid-argument (CT_PROC_TRUNC_ARGS): no terminator to drop. */
	r->args_len = 7;
	assert_string_equal(decode_args(r, &out), "-v  \"a b\"");
	r->args_len = 5;
	assert_string_equal(decode_args(r, &out), "-v  a");
	/* Cut right after a separator: that one was not the last argument's
	 * terminator, but nothing follows it to tell. */
	r->args_len = 3;
	assert_string_equal(decode_args(r, &out), "-v");
}

static void test_exec_args_bounds(void **state)
{
	struct ct_proc_event *r = mk_exec();
	struct args_out out;
	size_t i;

	(void)state;
	/* A full array without a terminator, and a length past it. */
	memset(r->args, 'a', CT_ARGS_MAX);
	r->args_len = UINT16_MAX;
	assert_int_equal(strlen(decode_args(r, &out)), CT_ARGS_MAX);

	/* 128 arguments of 7 bytes: the last NUL is the array's last byte. */
	for (i = 0; i < 128; i++)
		snprintf(r->args + 8 * i, 8, "arg%04zu", i);
	r->args_len = CT_ARGS_MAX;
	decode_args(r, &out);
	assert_int_equal(strlen(out.buf), CT_ARGS_MAX - 1);
	assert_memory_equal(out.buf, "arg0000 arg0001 ", 16);
	assert_string_equal(out.buf + CT_ARGS_MAX - 8, "arg0127");
}

/* Raw arguments as a literal (sizeof - 1 bytes: NULs inside), joined. */
#define JOIN(raw, out) join(raw, sizeof(raw) - 1, out)

static const char *join(const char *raw, size_t len, struct args_out *out)
{
	memset(out->buf, '#', sizeof(out->buf));
	guard_set(out->guard);
	assert_false(records_args_join(raw, len, out->buf, sizeof(out->buf)));
	guard_check(out->guard);
	return out->buf;
}

/* Tetragon's ArgsDecoder, case by case: what its consumers compare. */
static void test_args_join(void **state)
{
	struct args_out out;
	char raw[CT_ARGS_MAX], small[8];
	size_t i;

	(void)state;
	assert_string_equal(JOIN("", &out), "");
	assert_string_equal(JOIN("-l\0/tmp", &out), "-l /tmp");
	/* A space inside: quoted, after a space even when first. */
	assert_string_equal(JOIN("-c\0echo a b\0x", &out), "-c \"echo a b\" x");
	assert_string_equal(JOIN("a b\0c", &out), " \"a b\" c");
	assert_string_equal(JOIN(" ", &out), " \" \"");
	/* Quotes inside are not escaped, nor is an argument without a space
	 * quoted for them or for another blank. */
	assert_string_equal(JOIN("say \"hi\"", &out), " \"say \"hi\"\"");
	assert_string_equal(JOIN("a\"b\0c\td", &out), "a\"b c\td");
	/* Empty arguments: two spaces in the middle, nothing first or last. */
	assert_string_equal(JOIN("a\0\0b", &out), "a  b");
	assert_string_equal(JOIN("\0b", &out), "b");
	assert_string_equal(JOIN("\0\0b\0\0", &out), "b");
	assert_string_equal(JOIN("\0a b", &out), " \"a b\"");

	/* The longest: one-byte arguments holding a space, the array full. */
	for (i = 0; i < CT_ARGS_MAX; i++)
		raw[i] = i % 2 ? '\0' : ' ';
	assert_int_equal(strlen(join(raw, sizeof(raw), &out)), 2 * CT_ARGS_MAX);

	/* Cut: what fits, terminated, and said. */
	memset(small, '#', sizeof(small));
	assert_true(records_args_join("ab\0c d", 6, small, 7));
	assert_string_equal(small, "ab \"c ");
	assert_int_equal(small[7], '#');
	assert_true(records_args_join("abc", 3, small, 1));
	assert_string_equal(small, "");
	assert_false(records_args_join("abc", 3, small, 4));
	assert_string_equal(small, "abc");
}

/* read_args() reads argv[0] into args[] to find its end, then overwrites
 * only args_len bytes with the arguments: what is left of argv[0] after
 * them, or all of it when no argument (or no end) was found, is never
 * decoded. */
static void test_exec_args_argv0_scratch(void **state)
{
	static const char *const args[] = { "real-arg", "", "x" };
	struct ct_proc_event *r = mk_exec();
	struct args_out out;

	(void)state;
	memset(r->args, 'A', CT_ARGS_MAX - 8);
	memcpy(r->args + CT_ARGS_MAX - 8, "SPOOFED", 8);
	assert_string_equal(decode_args(r, &out), "");
	r->flags = CT_PROC_TRUNC_ARGS; /* argv[0] had no end in the arguments' area */
	assert_string_equal(decode_args(r, &out), "");
	r->flags = 0;
	set_args(r, args, 3);
	assert_string_equal(decode_args(r, &out), "real-arg  x");
	assert_null(strstr(out.buf, "A"));
	assert_null(strstr(out.buf, "SPOOFED"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_fields),
		cmocka_unit_test(test_check_flag_bits),
		cmocka_unit_test(test_check_audit_class),
		cmocka_unit_test(test_check_audit_exact),
		cmocka_unit_test(test_check_outcome),
		cmocka_unit_test(test_dispatch_by_type),
		cmocka_unit_test(test_dispatch_null_callbacks),
		cmocka_unit_test(test_dispatch_callback_error),
		cmocka_unit_test(test_dispatch_bad_records),
		cmocka_unit_test(test_exec_cwd_components),
		cmocka_unit_test(test_exec_cwd_root),
		cmocka_unit_test(test_exec_cwd_cut),
		cmocka_unit_test(test_exec_cwd_failed),
		cmocka_unit_test(test_exec_cwd_bounds),
		cmocka_unit_test(test_exec_path_relative),
		cmocka_unit_test(test_exec_path_absolute_or_unknown),
		cmocka_unit_test(test_exec_path_bounds),
		cmocka_unit_test(test_exec_binary),
		cmocka_unit_test(test_exec_binary_longest),
		cmocka_unit_test(test_dispatch_priv),
		cmocka_unit_test(test_priv_kept),
		cmocka_unit_test(test_dispatch_object),
		cmocka_unit_test(test_exec_args),
		cmocka_unit_test(test_exec_args_bounds),
		cmocka_unit_test(test_exec_args_argv0_scratch),
		cmocka_unit_test(test_args_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
