/* Lines from a blocking fd (a socket, or stdin), each at most max_line
 * bytes; longer ones are skipped whole and said so. */
#ifndef CAPTRAIL_LIB_LINE_READER_H
#define CAPTRAIL_LIB_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>

struct line_reader {
	int fd;
	char *buf;
	size_t start, len, cap;
	size_t max_line;
	bool skipping; /* inside a line longer than max_line */
	bool eof;
};

void line_reader_init(struct line_reader *r, int fd, size_t max_line);
void line_reader_free(struct line_reader *r);
/* The next line, newline stripped and NUL-terminated, valid until the next
 * call; a last line without a newline counts. *ret_line NULL at the end.
 * -E2BIG: a line longer than max_line (it is skipped); -EINTR: a signal. */
int line_reader_next(struct line_reader *r, char **ret_line, size_t *ret_len);

#endif
