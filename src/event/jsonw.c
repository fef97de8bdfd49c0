#include "event/jsonw.h"

#include <string.h>


void jsonw_init(struct jsonw *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->first[0] = true;
	w->len = 0;
}

static void spill(struct jsonw *w)
{
	fwrite_unlocked(w->buf, 1, w->len, w->out);
	w->len = 0;
}

static void put(struct jsonw *w, const char *data, size_t len)
{
	if (w->len + len > sizeof(w->buf)) {
		spill(w);
		if (len > sizeof(w->buf)) {
			fwrite_unlocked(data, 1, len, w->out);
			return;
		}
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
}

static void put_char(struct jsonw *w, char c)
{
	if (w->len == sizeof(w->buf))
		spill(w);
	w->buf[w->len++] = c;
}

/* One load per byte: the terminating NUL is marked too, so the scan for
 * the end of a plain span needs no second test. */
static const bool stops_span[256] = {
	[0x00 ... 0x1f] = true, ['"'] = true, ['\\'] = true, [0x7f] = true,
};

/* Plain spans are copied whole; only the rare special byte is escaped
 * piecewise. */
static void put_escaped(struct jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put_char(w, '"');
	for (;;) {
		const char *span = s;

		while (!stops_span[(unsigned char)*s])
			s++;
		put(w, span, (size_t)(s - span));
		if (!*s)
			break;
		switch (*s) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\t': put(w, "\\t", 2); break;
		case '\r': put(w, "\\r", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[(unsigned char)*s >> 4],
				      hex[(unsigned char)*s & 0xf] };

			put(w, u, sizeof(u));
		}
		}
		s++;
	}
	put_char(w, '"');
}

/* printf's format parsing is most of the cost of a number. */
static void put_u64(struct jsonw *w, uint64_t value)
{
	char digits[20];
	int n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	put(w, digits + n, sizeof(digits) - (size_t)n);
}

static void member(struct jsonw *w, const char *key)
{
	if (!w->first[w->depth])
		put_char(w, ',');
	w->first[w->depth] = false;
	if (key) {
		put_escaped(w, key);
		put_char(w, ':');
	}
}

static void open_nested(struct jsonw *w, const char *key, char open)
{
	member(w, key);
	put_char(w, open);
	if (w->depth < JSONW_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

void jsonw_object(struct jsonw *w, const char *key)
{
	open_nested(w, key, '{');
}

void jsonw_array(struct jsonw *w, const char *key)
{
	open_nested(w, key, '[');
}

void jsonw_end(struct jsonw *w, char close)
{
	put_char(w, close);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_string(struct jsonw *w, const char *key, const char *value)
{
	member(w, key);
	put_escaped(w, value ? value : "");
}

void jsonw_uint(struct jsonw *w, const char *key, uint64_t value)
{
	member(w, key);
	put_u64(w, value);
}

void jsonw_int(struct jsonw *w, const char *key, int64_t value)
{
	member(w, key);
	if (value < 0) {
		put_char(w, '-');
		put_u64(w, (uint64_t)0 - (uint64_t)value);
	} else {
		put_u64(w, (uint64_t)value);
	}
}

void jsonw_raw(struct jsonw *w, const char *key, const char *json, size_t len)
{
	member(w, key);
	put(w, json, len);
}

void jsonw_bool(struct jsonw *w, const char *key, bool value)
{
	member(w, key);
	if (value)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jsonw_line_end(struct jsonw *w)
{
	put_char(w, '\n');
	spill(w);
	w->depth = 0;
	w->first[0] = true;
}
