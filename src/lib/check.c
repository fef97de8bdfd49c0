#include "lib/check.h"

#include <errno.h>
#include <string.h>

static const char *const audit_names[CHECK_AUDIT_COUNT] = {
	[CHECK_AUDIT_UNKNOWN] = "unknown",
	[CHECK_AUDITED] = "audited",
	[CHECK_NOAUDIT] = "noaudit",
};

const char *check_audit_name(enum check_audit audit)
{
	return (unsigned int)audit < CHECK_AUDIT_COUNT ? audit_names[audit] : NULL;
}

int check_audit_parse(const char *name, enum check_audit *ret_audit)
{
	for (int a = 0; a < CHECK_AUDIT_COUNT; a++) {
		if (!strcmp(name, audit_names[a])) {
			*ret_audit = (enum check_audit)a;
			return 0;
		}
	}
	/* The agent's API spelt it "audit" before the name was shared: an
	 * agent still running the older binary answers that way. */
	if (!strcmp(name, "audit")) {
		*ret_audit = CHECK_AUDITED;
		return 0;
	}
	return -EINVAL;
}

void check_outcome_add(struct check_outcome *sum, const struct check_outcome *more)
{
	sum->eperm = check_count_add(sum->eperm, more->eperm);
	sum->eacces = check_count_add(sum->eacces, more->eacces);
	sum->success = check_count_add(sum->success, more->success);
	sum->other = check_count_add(sum->other, more->other);
}

static uint64_t since(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

void check_outcome_since(const struct check_outcome *now, const struct check_outcome *before,
			 struct check_outcome *ret_delta)
{
	*ret_delta = (struct check_outcome){
		.eperm = since(now->eperm, before->eperm),
		.eacces = since(now->eacces, before->eacces),
		.success = since(now->success, before->success),
		.other = since(now->other, before->other),
	};
}
