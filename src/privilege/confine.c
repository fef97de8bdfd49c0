#include "privilege/confine.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/util.h"

int confine_lookup_user(const char *text, uid_t *ret_uid, gid_t *ret_gid)
{
	struct passwd *pw = getpwnam(text);
	long id;

	if (pw) {
		*ret_uid = pw->pw_uid;
		*ret_gid = pw->pw_gid;
		return 0;
	}
	if (parse_long(text, 0, 0xfffffffeL, &id))
		return -ENOENT;
	pw = getpwuid((uid_t)id);
	*ret_uid = (uid_t)id;
	*ret_gid = pw ? pw->pw_gid : (gid_t)id;
	return 0;
}

int confine_lookup_group(const char *text, gid_t *ret_gid)
{
	struct group *gr = getgrnam(text);
	long id;

	if (gr) {
		*ret_gid = gr->gr_gid;
		return 0;
	}
	if (parse_long(text, 0, 0xfffffffeL, &id))
		return -ENOENT;
	*ret_gid = (gid_t)id;
	return 0;
}

static int drop_bounding(uint64_t keep, int last_cap)
{
	for (int cap = 0; cap <= last_cap; cap++) {
		if (cap < 64 && (keep & (1ull << cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	}
	return 0;
}

static int set_sets(uint64_t caps, int last_cap, bool effective)
{
	cap_t state = cap_init();
	int err = 0;

	if (!state)
		return -errno;
	for (cap_value_t cap = 0; cap <= last_cap && cap < 64; cap++) {
		if (!(caps & (1ull << cap)))
			continue;
		cap_set_flag(state, CAP_PERMITTED, 1, &cap, CAP_SET);
		cap_set_flag(state, CAP_INHERITABLE, 1, &cap, CAP_SET);
		if (effective)
			cap_set_flag(state, CAP_EFFECTIVE, 1, &cap, CAP_SET);
	}
	if (cap_set_proc(state))
		err = -errno;
	cap_free(state);
	return err;
}

static int raise_ambient(uint64_t caps, int last_cap)
{
	if (cap_reset_ambient())
		return -errno;
	for (cap_value_t cap = 0; cap <= last_cap && cap < 64; cap++)
		if ((caps & (1ull << cap)) && cap_set_ambient(cap, CAP_SET))
			return -errno;
	return 0;
}

static int switch_user(const struct confine_spec *spec)
{
	gid_t gid = spec->gid;
	struct passwd *pw = getpwuid(spec->uid);

	/* Keep permitted across setuid so the granted caps can become
	 * ambient afterwards. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return -errno;
	if (pw ? initgroups(pw->pw_name, gid) : setgroups(0, NULL))
		return -errno;
	if (setresgid(gid, gid, gid) || setresuid(spec->uid, spec->uid, spec->uid))
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		return -errno;
	return 0;
}

int confine_apply(const struct confine_spec *spec)
{
	int err;

	if (spec->set_caps) {
		err = drop_bounding(spec->caps, spec->last_cap);
		if (err)
			return err;
	}
	if (spec->set_group && !spec->set_user && setresgid(spec->gid, spec->gid, spec->gid))
		return -errno;
	if (spec->set_user) {
		err = switch_user(spec);
		if (err)
			return err;
	}
	if (!spec->set_caps)
		return 0;
	if (spec->set_user && spec->uid != 0) {
		err = set_sets(spec->caps, spec->last_cap, true);
		if (!err)
			err = raise_ambient(spec->caps, spec->last_cap);
		return err;
	}
	/* Root: exec recomputes permitted from the bounding set just cut. */
	err = set_sets(spec->caps, spec->last_cap, true);
	if (!err)
		err = raise_ambient(0, spec->last_cap);
	return err;
}
