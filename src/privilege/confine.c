#include "privilege/confine.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/util.h"
#include "privilege/capset.h"

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

/* The user's own environment, as a login gives it: HOME, USER, LOGNAME and
 * SHELL of the passwd entry and, for a user other than root, a PATH
 * without sbin. Root's HOME would send the command to /root, where it is
 * denied what it never touches under its own user. A uid without an entry
 * keeps all but PATH. */
static int user_environment(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	if (uid != 0 && setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1))
		return -errno;
	if (!pw)
		return 0;
	if (setenv("HOME", pw->pw_dir, 1) || setenv("USER", pw->pw_name, 1) ||
	    setenv("LOGNAME", pw->pw_name, 1) ||
	    setenv("SHELL", pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh", 1))
		return -errno;
	return 0;
}

int confine_apply(const struct confine_spec *spec)
{
	/* Permitted and inheritable: inheritable lets them become ambient. */
	struct capset sets = { spec->caps, spec->caps, spec->caps };
	int err;

	if (spec->set_caps) {
		err = capset_drop_bounding(spec->last_cap, spec->caps);
		if (err)
			return err;
	}
	if (spec->set_group && !spec->set_user && setresgid(spec->gid, spec->gid, spec->gid))
		return -errno;
	if (spec->set_user) {
		err = switch_user(spec);
		if (!err)
			err = user_environment(spec->uid);
		if (err)
			return err;
	}
	if (!spec->set_caps)
		return 0;
	err = capset_set(spec->last_cap, &sets);
	if (err)
		return err;
	/* Another user keeps them across exec only as ambient; root's exec
	 * recomputes permitted from the bounding set just cut. */
	return capset_set_ambient(spec->last_cap, spec->set_user && spec->uid != 0 ? spec->caps : 0);
}
