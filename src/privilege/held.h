/* A command forked early and held on a pipe until it is told how to run.
 *
 * captrail forks every command it runs (the recorded one, the --verify
 * re-run, `captrail run`) before it lowers its own capabilities, so the
 * command can still be given any set; only later, once tracing is attached
 * or the profile is known, does it release the child with the user and
 * capability set to apply before exec. */
#ifndef CAPTRAIL_HELD_H
#define CAPTRAIL_HELD_H

#include <sys/types.h>

#include "privilege/confine.h"

struct held {
	pid_t pid;
	int go_fd; /* the confine_spec goes down this pipe */
	int err_fd; /* the child's errno comes back, or EOF once it exec'd */
};

int held_spawn(char *const *argv, struct held *ret_held);
/* Returns once the child exec'd (0) or failed to confine or exec (its
 * -errno; the child has exited then). */
int held_release(struct held *h, const struct confine_spec *spec);
/* Closes the pipe without releasing: the child exits 127. Reaps it. */
void held_abandon(struct held *h);

#endif
