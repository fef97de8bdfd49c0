#include "record/record_profile.h"

#include <errno.h>
#include <string.h>

static int add_kept(struct profile *p, const struct recorder_kept *k)
{
	struct profile_kept kept = { .cap = k->cap, .binary = k->binary, .count = k->count };

	switch (k->how) {
	case CT_PRIV_CAPSET:
		kept.how = PROFILE_KEPT_CAPSET;
		break;
	case CT_PRIV_AMBIENT_RAISE:
		kept.how = PROFILE_KEPT_AMBIENT;
		break;
	default:
		kept.how = PROFILE_KEPT_FILE_CAPS;
		break;
	}
	return profile_add_kept(p, &kept);
}

int record_profile_build(const struct recorder_result *res, char *const *argv, uid_t uid,
			 const char *user_name, struct profile **ret_profile)
{
	struct profile *p = NULL;
	const char *name;
	int err;

	err = profile__new(&p);
	if (err)
		return err;
	name = strrchr(argv[0], '/');
	err = profile_set_workload(p, name ? name + 1 : argv[0]);
	if (!err)
		err = profile_set_command(p, argv);
	if (!err)
		err = profile_set_user(p, uid, user_name);
	if (!err)
		err = profile_add_instance(p, NULL);
	profile_set_exit(p, res->wait_status);
	for (size_t i = 0; !err && i < res->n_entries; i++) {
		const struct recorder_entry *e = &res->entries[i];

		err = profile_add_check_objects(p, &e->check, e->binary, NULL, e->objects,
						e->n_objects);
	}
	for (size_t i = 0; !err && i < res->n_kept; i++)
		err = add_kept(p, &res->kept[i]);
	profile_set_keep_caps(p, res->keep_caps);
	profile_set_exec_gain(p, res->exec_gain);
	if (err) {
		profile__free(p);
		return err;
	}
	*ret_profile = p;
	return 0;
}
