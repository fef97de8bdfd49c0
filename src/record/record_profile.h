/* Turns what the kernel aggregated during a recording into a profile. */
#ifndef CAPTRAIL_RECORD_PROFILE_H
#define CAPTRAIL_RECORD_PROFILE_H

#include <sys/types.h>

#include "profile/profile.h"
#include "record/recorder.h"

/* user_name NULL: uid's name in passwd, if it has one. */
int record_profile_build(const struct recorder_result *res, char *const *argv, uid_t uid,
			 const char *user_name, struct profile **ret_profile);

#endif
