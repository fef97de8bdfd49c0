#include "privilege/capset.h"

#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "lib/caps.h"

#define BIT(cap) (1ull << (cap))

static int last(int last_cap)
{
	return last_cap < CAPS_MAX ? last_cap : CAPS_MAX - 1;
}

int capset_get(int last_cap, struct capset *ret_sets)
{
	struct capset sets = {};
	cap_t state = cap_get_proc();
	cap_flag_value_t v;

	if (!state)
		return -errno;
	for (int cap = 0; cap <= last(last_cap); cap++) {
		if (cap_get_flag(state, cap, CAP_EFFECTIVE, &v) == 0 && v)
			sets.effective |= BIT(cap);
		if (cap_get_flag(state, cap, CAP_PERMITTED, &v) == 0 && v)
			sets.permitted |= BIT(cap);
		if (cap_get_flag(state, cap, CAP_INHERITABLE, &v) == 0 && v)
			sets.inheritable |= BIT(cap);
	}
	cap_free(state);
	*ret_sets = sets;
	return 0;
}

static int set_flag(cap_t state, cap_flag_t flag, uint64_t mask, int cap)
{
	cap_value_t value = cap;

	if (!(mask & BIT(cap)))
		return 0;
	return cap_set_flag(state, flag, 1, &value, CAP_SET) ? -errno : 0;
}

int capset_set(int last_cap, const struct capset *sets)
{
	cap_t state = cap_init();
	int err = 0;

	if (!state)
		return -errno;
	for (int cap = 0; cap <= last(last_cap) && !err; cap++) {
		err = set_flag(state, CAP_EFFECTIVE, sets->effective, cap);
		if (!err)
			err = set_flag(state, CAP_PERMITTED, sets->permitted, cap);
		if (!err)
			err = set_flag(state, CAP_INHERITABLE, sets->inheritable, cap);
	}
	if (!err && cap_set_proc(state))
		err = -errno;
	cap_free(state);
	return err;
}

int capset_drop_bounding(int last_cap, uint64_t keep)
{
	for (int cap = 0; cap <= last(last_cap); cap++) {
		if (keep & BIT(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	}
	return 0;
}

int capset_set_ambient(int last_cap, uint64_t caps)
{
	if (cap_reset_ambient())
		return -errno;
	for (int cap = 0; cap <= last(last_cap); cap++)
		if ((caps & BIT(cap)) && cap_set_ambient(cap, CAP_SET))
			return -errno;
	return 0;
}
