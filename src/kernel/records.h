/* What the BPF programs send, in user space's terms: aggregation entries as
 * checks (lib/check.h), exec records decoded into paths and arguments, and
 * ring buffer records handed to typed callbacks. */
#ifndef CAPTRAIL_KERNEL_RECORDS_H
#define CAPTRAIL_KERNEL_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/captrail.h"
#include "lib/check.h"

/* An aggregation entry as a check: flags, audit class (from the samples of
 * the call chain), first and last times (CLOCK_BOOTTIME; last as
 * ct_agg_value says), outcome zeros unless given (NULL: not observed). */
void records_check(const struct ct_agg_key *key, const struct ct_agg_value *value,
		   const struct ct_outcome *outcome, struct check *ret_check);

/* Typed callbacks for the records of the ring buffer, in their order; NULL
 * ignores that kind. A callback's error stops the drain and is returned. */
struct records_handlers {
	int (*on_cap)(void *ctx, const struct ct_cap_event *e);
	int (*on_proc)(void *ctx, const struct ct_proc_event *e); /* exec, fork, exit */
	int (*on_priv)(void *ctx, const struct ct_priv_event *e);
	int (*on_object)(void *ctx, const struct ct_object_event *e);
	void *ctx;
};

/* Hands one record to its callback. A record shorter than its type says,
 * or of a type this build does not know, is -EBADMSG: both sides are built
 * from one header, so it means a bug, never a workload's doing. */
int records_dispatch(const struct records_handlers *h, const void *data, size_t size);

/* What a privilege record says a process comes to hold on purpose. */
struct records_priv {
	/* capset: what the request keeps of what the process holds. A request
	 * that changes the permitted set keeps the part of it it asks for;
	 * one that leaves it as it is keeps what it raises into the effective
	 * set, unless it raises all of it (a program re-setting what it has,
	 * or raising everything it kept, chooses nothing). ambient: the raised
	 * capability. exec: the new permitted set, when file capabilities and
	 * not a set-user-ID root binary gave it. */
	uint64_t kept;
	bool keep_caps; /* PR_SET_KEEPCAPS 1, or SECBIT_KEEP_CAPS set */
	bool exec_gain; /* an exec by a non-root user gained capabilities */
};

void records_priv(const struct ct_priv_event *e, struct records_priv *ret_priv);

/* The longest strings an exec record decodes into, NUL included. */
#define RECORDS_BINARY_LEN (2 * CT_PATH_MAX + 1) /* a relative filename joined to cwd */
/* Quoting at most doubles the arguments: one-byte arguments holding a space,
 * each written as ` " "`. */
#define RECORDS_ARGS_LEN (2 * CT_ARGS_MAX + 3)
#define RECORDS_CWD_LEN (CT_PATH_MAX + 1)

/* The cwd an exec record carries, as a path. True when it is not whole (the
 * walk failed or was cut): then what is left is not absolute, or empty. */
bool records_exec_cwd(const struct ct_proc_event *rec, char ret_cwd[RECORDS_CWD_LEN]);
/* The filename given to execve, joined to cwd (records_exec_cwd()) when
 * relative. */
void records_exec_path(const struct ct_proc_event *rec, const char *cwd,
		       char ret_binary[RECORDS_BINARY_LEN]);
/* Both at once: the absolute path of what was exec'd, where the record allows. */
void records_exec_binary(const struct ct_proc_event *rec, char ret_binary[RECORDS_BINARY_LEN]);
/* argv[1..] as records_args_join() writes them. */
void records_exec_args(const struct ct_proc_event *rec, char ret_args[RECORDS_ARGS_LEN]);
/* NUL-separated arguments (len bytes of raw) as the reference format writes
 * them, for its consumers compare arguments as strings: trailing empty
 * arguments dropped, one holding a space in double quotes (nothing inside
 * escaped) after a space, even when it comes first, any other after a space
 * unless nothing was written yet (so a leading empty argument vanishes).
 * True when out (size > 0, NUL-terminated) could not hold it all. */
bool records_args_join(const char *raw, size_t len, char *out, size_t size);

#endif
