/* Turns what the kernel aggregated during a recording into a profile. */
#ifndef CAPTRAIL_RECORD_PROFILE_H
#define CAPTRAIL_RECORD_PROFILE_H

#include <sys/types.h>

#include "profile/profile.h"
#include "record/recorder.h"

/* The user is named from passwd, when uid has an entry. */
int record_profile_build(const struct recorder_result *res, char *const *argv, uid_t uid,
			 struct profile **ret_profile);
/* A running workload's (recorder_opts.cgroup): named workload, with no
 * command, user or exit status, which it did not say. */
int record_profile_attached(const struct recorder_result *res, const char *workload,
			    struct profile **ret_profile);

/* Kernel knowledge --minimize applies without a run: CAP_DAC_READ_SEARCH
 * granted with CAP_DAC_OVERRIDE, when every check of it came from a path
 * permission in a syscall (not open_by_handle_at or name_to_handle_at),
 * is not needed: generic_permission() grants each read or search it
 * allows to CAP_DAC_OVERRIDE too. Marks it in p; 0 or -errno. */
int record_profile_covered(struct profile *p);

#endif
