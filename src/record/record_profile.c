#include "record/record_profile.h"

#include <errno.h>
#include <string.h>

#include "lib/syscalls.h"

static enum profile_audit audit_class(const struct ct_agg_value *v)
{
	/* One audited sample is enough: the capability is used for real on
	 * some path, whatever else probes it. */
	if (v->audit_samples)
		return PROFILE_AUDITED;
	if (v->noaudit_samples)
		return PROFILE_NOAUDIT;
	return PROFILE_AUDIT_UNKNOWN;
}

static int add_entry(struct profile *p, const struct recorder_entry *e)
{
	const struct ct_agg_key *k = &e->key;
	struct profile_obs obs = {
		.cap = k->cap,
		.granted = !(k->flags & CT_AGG_DENIED),
		.audit = audit_class(&e->value),
		.override_cred = k->flags & CT_AGG_OVERRIDE_CRED,
		.foreign_userns = k->flags & CT_AGG_FOREIGN_USERNS,
		.via_capset = syscalls_is_capset(k->syscall),
		.syscall = k->syscall,
		.count = e->value.count,
		.first_ns = e->value.first_ns,
		.binary = e->binary,
	};

	if (k->flags & CT_AGG_KTHREAD)
		return 0; /* a kernel thread working for the cgroup, not the workload */
	if (!obs.granted)
		return profile_add_denied(p, &obs, e->outcome_known ? &e->outcome : NULL);
	return profile_add(p, &obs);
}

int record_profile_build(const struct recorder_result *res, char *const *argv, uid_t uid,
			 const char *user_name, struct profile **ret_profile)
{
	struct profile *p = profile__new();
	const char *name;
	int err;

	if (!p)
		return -ENOMEM;
	name = strrchr(argv[0], '/');
	err = profile_set_workload(p, name ? name + 1 : argv[0]);
	if (!err)
		err = profile_set_command(p, argv);
	if (!err)
		err = profile_set_user(p, uid, user_name);
	if (!err)
		err = profile_add_instance(p, NULL);
	profile_set_exit(p, res->wait_status);
	for (size_t i = 0; !err && i < res->n_entries; i++)
		err = add_entry(p, &res->entries[i]);
	if (err) {
		profile__free(p);
		return err;
	}
	*ret_profile = p;
	return 0;
}
