#include "agent/export.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"

struct export {
	struct export_opts opts;
	char *path;
	int fd;
	char buf[EXPORT_BUFFER];
	size_t buf_len;
	double tokens;
	uint64_t last_refill;
	uint64_t unreported; /* drops not yet written as a notice */
	struct export_stats stats;
};

static uint64_t monotonic_ns(void *ctx)
{
	(void)ctx;
	return clock_monotonic_ns();
}

static int open_file(struct export *x, bool truncate)
{
	struct stat st;
	int fd, err = 0;

	fd = open(x->path,
		  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0),
		  0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	x->fd = fd;
	x->stats.bytes = (uint64_t)st.st_size;
	return 0;
}

int export__new(const struct export_opts *opts, struct export **ret_export)
{
	struct export *x;
	int err;

	if (!opts->path || !*opts->path || opts->rate < 0 || opts->burst < 0)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->opts = *opts;
	if (!x->opts.now_ns)
		x->opts.now_ns = monotonic_ns;
	if (x->opts.rate > 0 && x->opts.burst == 0)
		x->opts.burst = x->opts.rate < 1 ? 1 : x->opts.rate;
	x->tokens = x->opts.burst;
	x->last_refill = x->opts.now_ns(x->opts.clock_ctx);
	x->fd = -1;
	x->path = strdup(opts->path);
	x->opts.path = x->path;
	if (!x->path) {
		free(x);
		return -ENOMEM;
	}
	err = open_file(x, false);
	if (err) {
		free(x->path);
		free(x);
		return err;
	}
	*ret_export = x;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int export_flush(struct export *x)
{
	int err;

	if (!x->buf_len)
		return 0;
	err = write_all(x->fd, x->buf, x->buf_len);
	if (err) {
		/* The agent cannot wait for a full disk: what did not fit is lost
		 * and counted; the size is re-read so rotation stays right. */
		struct stat st;

		x->stats.write_errors++;
		if (!fstat(x->fd, &st))
			x->stats.bytes = (uint64_t)st.st_size;
	}
	x->buf_len = 0;
	return err;
}

/* FILE.N-1 -> FILE.N, ..., FILE -> FILE.1, then a new FILE. */
static int rotate(struct export *x)
{
	char from[PATH_MAX], to[PATH_MAX];
	int err = export_flush(x), open_err;

	close(x->fd);
	x->fd = -1;
	for (unsigned i = x->opts.max_backups; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", x->path);
		else
			snprintf(from, sizeof(from), "%s.%u", x->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", x->path, i);
		if (rename(from, to) && errno != ENOENT && !err)
			err = -errno;
	}
	x->stats.rotations++;
	/* Without backups the file restarts empty; with them FILE is gone. */
	open_err = open_file(x, x->opts.max_backups == 0);

	return open_err ? open_err : err;
}

static int append(struct export *x, const char *line, size_t len)
{
	bool newline = !len || line[len - 1] != '\n';
	size_t total = len + newline;
	int err;

	if (x->fd < 0) { /* a rotation could not reopen the file: try again */
		err = open_file(x, false);
		if (err)
			return err;
	}
	if (x->opts.max_size && x->stats.bytes > 0 && x->stats.bytes + total > x->opts.max_size) {
		err = rotate(x);
		if (x->fd < 0) {
			x->stats.write_errors++;
			return err;
		}
	}
	if (x->buf_len + total > sizeof(x->buf)) {
		err = export_flush(x);
		if (err)
			return err;
	}
	if (total > sizeof(x->buf)) { /* longer than the buffer: straight out */
		err = write_all(x->fd, line, len);
		if (!err && newline)
			err = write_all(x->fd, "\n", 1);
		if (err) {
			x->stats.write_errors++;
			return err;
		}
	} else {
		memcpy(x->buf + x->buf_len, line, len);
		x->buf_len += len;
		if (newline)
			x->buf[x->buf_len++] = '\n';
	}
	x->stats.bytes += total;
	return 0;
}

static int write_notice(struct export *x)
{
	struct timespec ts;
	char line[160], time[RFC3339_LEN];
	int n, err;

	clock_gettime(CLOCK_REALTIME, &ts);
	clock_rfc3339((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, time);
	n = snprintf(line, sizeof(line),
		     "{\"notice\":\"rate limit dropped %llu events\",\"time\":\"%s\"}\n",
		     (unsigned long long)x->unreported, time);
	err = append(x, line, (size_t)n);
	if (!err)
		x->unreported = 0;
	return err;
}

static bool take_token(struct export *x)
{
	uint64_t now;

	if (x->opts.rate <= 0)
		return true;
	now = x->opts.now_ns(x->opts.clock_ctx);
	if (now > x->last_refill) {
		x->tokens += (double)(now - x->last_refill) * x->opts.rate / (double)NSEC_PER_SEC;
		if (x->tokens > x->opts.burst)
			x->tokens = x->opts.burst;
		x->last_refill = now;
	}
	if (x->tokens < 1)
		return false;
	x->tokens -= 1;
	return true;
}

int export_write(struct export *x, const char *line, size_t len)
{
	int err;

	if (!take_token(x)) {
		x->stats.rate_dropped++;
		x->unreported++;
		return -ENOBUFS;
	}
	if (x->unreported) {
		err = write_notice(x);
		if (err)
			return err;
	}
	err = append(x, line, len);
	if (!err)
		x->stats.events++;
	return err;
}

void export_stats(const struct export *x, struct export_stats *ret_stats)
{
	*ret_stats = x->stats;
}

void export__free(struct export *x)
{
	if (!x)
		return;
	if (x->unreported)
		write_notice(x);
	if (x->fd >= 0) {
		export_flush(x);
		close(x->fd);
	}
	free(x->path);
	free(x);
}
