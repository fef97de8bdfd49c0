#include "privilege/held.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_main(char *const *argv, int go_fd, int err_fd)
{
	struct confine_spec spec;
	int err;

	if (read(go_fd, &spec, sizeof(spec)) != sizeof(spec))
		_exit(127); /* captrail gave up on us */
	err = confine_apply(&spec);
	if (!err) {
		execvp(argv[0], argv);
		err = -errno;
	}
	err = -err;
	if (write(err_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int held_spawn(char *const *argv, struct held *ret_held)
{
	int go[2], errp[2], err;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		goto close_go;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto close_err;
	}
	if (pid == 0) {
		close(go[1]);
		close(errp[0]);
		child_main(argv, go[0], errp[1]);
	}
	close(go[0]);
	close(errp[1]);
	*ret_held = (struct held){ .pid = pid, .go_fd = go[1], .err_fd = errp[0] };
	return 0;

close_err:
	close(errp[0]);
	close(errp[1]);
close_go:
	close(go[0]);
	close(go[1]);
	return err;
}

int held_release(struct held *h, const struct confine_spec *spec)
{
	int child_errno = 0, err = 0;
	ssize_t n;

	if (write(h->go_fd, spec, sizeof(*spec)) != sizeof(*spec))
		err = -errno;
	close(h->go_fd);
	h->go_fd = -1;
	n = read(h->err_fd, &child_errno, sizeof(child_errno));
	close(h->err_fd);
	h->err_fd = -1;
	if (err)
		return err;
	return n == sizeof(child_errno) ? -child_errno : 0;
}

void held_abandon(struct held *h)
{
	if (h->go_fd >= 0)
		close(h->go_fd);
	if (h->err_fd >= 0)
		close(h->err_fd);
	h->go_fd = h->err_fd = -1;
	if (h->pid > 0)
		waitpid(h->pid, NULL, 0);
	h->pid = 0;
}
