#include "lib/line_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 4096

void line_reader_init(struct line_reader *r, int fd, size_t max_line)
{
	*r = (struct line_reader){ .fd = fd, .max_line = max_line };
}

void line_reader_free(struct line_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->start = r->len = r->cap = 0;
}

static int reader_fill(struct line_reader *r)
{
	ssize_t n;

	if (r->start) { /* consumed lines make room at the front */
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < READ_CHUNK) {
		size_t cap = r->cap ? r->cap * 2 : 4 * READ_CHUNK;
		char *buf = realloc(r->buf, cap + 1);

		if (!buf)
			return -ENOMEM;
		r->buf = buf;
		r->cap = cap;
	}
	n = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->eof = true;
	r->len += (size_t)n;
	return 0;
}

int line_reader_next(struct line_reader *r, char **ret_line, size_t *ret_len)
{
	for (;;) {
		char *start = r->buf + r->start;
		size_t avail = r->len - r->start;
		char *nl = avail ? memchr(start, '\n', avail) : NULL;
		int err;

		if (nl || (r->eof && avail)) {
			size_t len = nl ? (size_t)(nl - start) : avail;
			bool skipped = r->skipping;

			r->start += len + (nl != NULL);
			r->skipping = false;
			if (skipped || len > r->max_line)
				return -E2BIG;
			start[len] = '\0'; /* the buffer keeps one spare byte */
			*ret_line = start;
			*ret_len = len;
			return 0;
		}
		if (r->eof && r->skipping) { /* a last, too long line without a newline */
			r->skipping = false;
			return -E2BIG;
		}
		if (r->eof) {
			*ret_line = NULL;
			*ret_len = 0;
			return 0;
		}
		if (avail > r->max_line) { /* too long: drop what we have, find its end */
			r->skipping = true;
			r->start = r->len;
		}
		err = reader_fill(r);
		if (err)
			return err;
	}
}
