#include "record/record_profile.h"

#include <errno.h>
#include <pwd.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

/* The passwd name of uid into *ret_name (free() it); NULL when it has none.
 * From the uid, not from what --user said: "65534" is named "nobody". */
static int passwd_name(uid_t uid, char **ret_name)
{
	struct passwd *pw = getpwuid(uid);

	*ret_name = pw ? strdup(pw->pw_name) : NULL;
	return pw && !*ret_name ? -ENOMEM : 0;
}

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

/* What every recording adds: the checks and the capabilities kept. */
static int add_result(struct profile *p, const struct recorder_result *res)
{
	int err = profile_add_instance(p, NULL);

	for (size_t i = 0; !err && i < res->n_entries; i++) {
		const struct recorder_entry *e = &res->entries[i];

		err = profile_add_check_objects(p, &e->check, e->binary, NULL, e->objects,
						e->n_objects);
	}
	for (size_t i = 0; !err && i < res->n_kept; i++)
		err = add_kept(p, &res->kept[i]);
	profile_set_keep_caps(p, res->keep_caps);
	profile_set_exec_gain(p, res->exec_gain);
	return err;
}

int record_profile_build(const struct recorder_result *res, char *const *argv, uid_t uid,
			 struct profile **ret_profile)
{
	struct profile *p = NULL;
	char *user_name = NULL;
	const char *name;
	int err;

	err = passwd_name(uid, &user_name);
	if (err)
		return err;
	err = profile__new(&p);
	if (err) {
		free(user_name);
		return err;
	}
	name = strrchr(argv[0], '/');
	err = profile_set_workload(p, name ? name + 1 : argv[0]);
	if (!err)
		err = profile_set_command(p, argv);
	if (!err)
		err = profile_set_user(p, uid, user_name);
	free(user_name);
	profile_set_exit(p, res->wait_status);
	if (!err)
		err = add_result(p, res);
	if (err) {
		profile__free(p);
		return err;
	}
	*ret_profile = p;
	return 0;
}

int record_profile_attached(const struct recorder_result *res, const char *workload,
			    struct profile **ret_profile)
{
	struct profile *p = NULL;
	int err = profile__new(&p);

	if (err)
		return err;
	err = profile_set_workload(p, workload);
	if (!err)
		err = add_result(p, res);
	if (err) {
		profile__free(p);
		return err;
	}
	*ret_profile = p;
	return 0;
}

int record_profile_covered(struct profile *p)
{
	const uint64_t both = (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_DAC_READ_SEARCH);
	struct profile_obs *obs;
	bool paths_only = true;
	size_t n;
	int err;

	if ((profile_grant_mask(p) & both) != both)
		return 0;
	err = profile_entries(p, &obs, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (obs[i].cap != CAP_DAC_READ_SEARCH)
			continue;
		if (obs[i].syscall < 0 || obs[i].syscall == SYS_open_by_handle_at ||
		    obs[i].syscall == SYS_name_to_handle_at)
			paths_only = false;
	}
	free(obs);
	if (!paths_only)
		return 0;
	return profile_set_not_needed(p, CAP_DAC_READ_SEARCH, "covered by CAP_DAC_OVERRIDE");
}
