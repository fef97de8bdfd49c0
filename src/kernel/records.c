#include "kernel/records.h"

#include <errno.h>
#include <string.h>

/* The kernel's aggregation flags are the store's and the API's check flags,
 * bit for bit: the mapping is a mask, and these keep it one. */
_Static_assert((unsigned)CT_AGG_OVERRIDE_CRED == (unsigned)CHECK_OVERRIDE_CRED, "flag bits differ");
_Static_assert((unsigned)CT_AGG_FOREIGN_USERNS == (unsigned)CHECK_FOREIGN_USERNS, "flag bits differ");
_Static_assert((unsigned)CT_AGG_KTHREAD == (unsigned)CHECK_KTHREAD, "flag bits differ");
_Static_assert((unsigned)CT_AGG_INSETID == (unsigned)CHECK_INSETID, "flag bits differ");
_Static_assert(!(((unsigned)CT_AGG_AUDIT_KNOWN | (unsigned)CT_AGG_NOAUDIT) & CHECK_FLAGS),
	       "the audit class is not a check flag");
_Static_assert(!((unsigned)CT_AGG_DENIED & CHECK_FLAGS), "the verdict is not a check flag");
_Static_assert(CT_NO_SYSCALL == CHECK_NO_SYSCALL, "no-syscall markers differ");
_Static_assert(CT_EPERM == EPERM && CT_EACCES == EACCES, "the BPF side's errnos differ");

/* Hooks that see opts put the class in the key. Else, sampled: one audited
 * sample is enough, the capability is used for real on some path, whatever
 * else probes it. */
static enum check_audit audit_class(const struct ct_agg_key *k, const struct ct_agg_value *v)
{
	if (k->flags & CT_AGG_AUDIT_KNOWN)
		return k->flags & CT_AGG_NOAUDIT ? CHECK_NOAUDIT : CHECK_AUDITED;
	if (v->audit_samples)
		return CHECK_AUDITED;
	if (v->noaudit_samples)
		return CHECK_NOAUDIT;
	return CHECK_AUDIT_UNKNOWN;
}

void records_check(const struct ct_agg_key *key, const struct ct_agg_value *value,
		   const struct ct_outcome *outcome, struct check *ret_check)
{
	*ret_check = (struct check){
		.cap = key->cap,
		.denied = key->flags & CT_AGG_DENIED,
		.audit = audit_class(key, value),
		.syscall = key->syscall,
		.flags = key->flags & CHECK_FLAGS,
		.count = value->count,
		.first_ns = value->first_ns,
		.last_ns = value->last_ns,
	};
	if (outcome)
		ret_check->outcome = (struct check_outcome){
			.eperm = outcome->eperm,
			.eacces = outcome->eacces,
			.success = outcome->success,
			.other = outcome->other,
		};
}

int records_dispatch(const struct records_handlers *h, const void *data, size_t size)
{
	__u32 type;

	if (size < sizeof(type))
		return -EBADMSG;
	memcpy(&type, data, sizeof(type));
	switch (type) {
	case CT_REC_CAP:
		if (size < sizeof(struct ct_cap_event))
			return -EBADMSG;
		return h->on_cap ? h->on_cap(h->ctx, data) : 0;
	case CT_REC_EXEC:
	case CT_REC_FORK:
	case CT_REC_EXIT:
		if (size < sizeof(struct ct_proc_event))
			return -EBADMSG;
		return h->on_proc ? h->on_proc(h->ctx, data) : 0;
	case CT_REC_PRIV:
		if (size < sizeof(struct ct_priv_event))
			return -EBADMSG;
		return h->on_priv ? h->on_priv(h->ctx, data) : 0;
	case CT_REC_OBJECT:
		if (size < sizeof(struct ct_object_event))
			return -EBADMSG;
		return h->on_object ? h->on_object(h->ctx, data) : 0;
	default:
		return -EBADMSG;
	}
}

void records_priv(const struct ct_priv_event *e, struct records_priv *ret_priv)
{
	struct records_priv priv = {};

	switch (e->kind) {
	case CT_PRIV_CAPSET:
		if (e->flags & CT_PRIV_UNREAD)
			break;
		/* What it asks for and does not hold, the request cannot get: a
		 * program that ran on after that failure did not need it. Raising
		 * the whole permitted set into the effective one (setpriv and
		 * libcap-ng after a uid change with keepcaps) chooses nothing. */
		if (e->asked_permitted != e->held_permitted)
			priv.kept = e->asked_permitted & e->held_permitted;
		else if ((e->asked_effective & e->held_permitted) != e->held_permitted)
			priv.kept = e->asked_effective & ~e->held_effective & e->held_permitted;
		break;
	case CT_PRIV_AMBIENT_RAISE:
		if (e->arg < 64)
			priv.kept = 1ull << e->arg;
		break;
	case CT_PRIV_KEEPCAPS:
		priv.keep_caps = e->arg != 0;
		break;
	case CT_PRIV_SECUREBITS:
		priv.keep_caps = e->arg & CT_SECBIT_KEEP_CAPS;
		break;
	case CT_PRIV_EXEC:
		priv.exec_gain = e->euid == 0 || e->held_permitted != 0;
		if (e->euid != 0)
			priv.kept = e->held_permitted;
		break;
	}
	*ret_priv = priv;
}

/* rec->cwd holds components leaf first, each NUL-terminated ("b\0a\0" is
 * /a/b): they are laid out from the end of cwd, then moved to its start. */
bool records_exec_cwd(const struct ct_proc_event *rec, char cwd[RECORDS_CWD_LEN])
{
	size_t len = rec->cwd_len < CT_PATH_MAX ? rec->cwd_len : CT_PATH_MAX;
	size_t pos = 0, end = RECORDS_CWD_LEN - 1;
	bool cut = rec->flags & CT_PROC_TRUNC_CWD;
	unsigned int parts = 0;

	if (rec->flags & CT_PROC_ERR_CWD) {
		cwd[0] = '\0';
		return true;
	}
	cwd[end] = '\0';
	while (pos < len && parts < rec->cwd_parts) {
		size_t n = strnlen(rec->cwd + pos, len - pos);

		if (n + 1 > end) {
			cut = true;
			break;
		}
		end -= n;
		memcpy(cwd + end, rec->cwd + pos, n);
		cwd[--end] = '/';
		pos += n + 1;
		parts++;
	}
	if (end == RECORDS_CWD_LEN - 1 && !cut)
		cwd[--end] = '/';
	/* Cut at the root end: what is left is not an absolute path. */
	if (cut && cwd[end] == '/')
		end++;
	memmove(cwd, cwd + end, RECORDS_CWD_LEN - end);
	return cut;
}

/* Appends n bytes of s, or what fits of them. False when cut. */
static bool put(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
	size_t room = size - 1 - *pos;

	memcpy(out + *pos, s, n < room ? n : room);
	*pos += n < room ? n : room;
	return n <= room;
}

bool records_args_join(const char *raw, size_t len, char *out, size_t size)
{
	size_t pos = 0, at = 0;
	bool whole = true;

	while (len && !raw[len - 1])
		len--;
	while (whole && at < len) {
		const char *arg = raw + at;
		size_t n = strnlen(arg, len - at);

		if (memchr(arg, ' ', n)) {
			whole = put(out, size, &pos, " \"", 2) && put(out, size, &pos, arg, n) &&
				put(out, size, &pos, "\"", 1);
		} else {
			if (pos)
				whole = put(out, size, &pos, " ", 1);
			whole = whole && put(out, size, &pos, arg, n);
		}
		at += n + 1;
	}
	out[pos] = '\0';
	return !whole;
}

void records_exec_args(const struct ct_proc_event *rec, char arguments[RECORDS_ARGS_LEN])
{
	size_t len = rec->args_len < CT_ARGS_MAX ? rec->args_len : CT_ARGS_MAX;

	/* Cannot be cut: RECORDS_ARGS_LEN holds the longest. */
	(void)records_args_join(rec->args, len, arguments, RECORDS_ARGS_LEN);
}

/* The filename as given to execve, joined to cwd when relative. */
void records_exec_path(const struct ct_proc_event *rec, const char *cwd,
		       char binary[RECORDS_BINARY_LEN])
{
	/* The BPF side NUL-terminates what it copies: a whole filename is at
	 * most CT_PATH_MAX - 1 bytes, and one that claims more is cut there. */
	size_t max = rec->binary_len < CT_PATH_MAX ? rec->binary_len : CT_PATH_MAX - 1;
	const char *name = rec->binary;
	size_t n = strnlen(name, max), cwd_len = strnlen(cwd, RECORDS_CWD_LEN - 1);

	if (!n || name[0] == '/' || !cwd_len) {
		memcpy(binary, name, n);
		binary[n] = '\0';
		return;
	}
	while (n >= 2 && name[0] == '.' && name[1] == '/') {
		name += 2;
		n -= 2;
		while (n && name[0] == '/') {
			name++;
			n--;
		}
	}
	if (strcmp(cwd, "/") == 0)
		cwd_len = 0;
	/* Fits: RECORDS_BINARY_LEN holds a whole cwd, '/', and a whole filename. */
	memcpy(binary, cwd, cwd_len);
	binary[cwd_len] = '/';
	memcpy(binary + cwd_len + 1, name, n);
	binary[cwd_len + 1 + n] = '\0';
}

void records_exec_binary(const struct ct_proc_event *rec, char ret_binary[RECORDS_BINARY_LEN])
{
	char cwd[RECORDS_CWD_LEN];

	records_exec_cwd(rec, cwd);
	records_exec_path(rec, cwd, ret_binary);
}
