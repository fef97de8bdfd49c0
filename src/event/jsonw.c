#include "event/jsonw.h"

#include <stdint.h>
#include <string.h>

#include "lib/text.h"


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

static void sink_put(void *ctx, const char *data, size_t len)
{
	put(ctx, data, len);
}

/* Out of line: put_text() stays small for the strings that need nothing. */
static __attribute__((noinline)) bool put_text_escaped(struct jsonw *w, const char *s, size_t max,
							bool upstream_cut)
{
	const struct text_sink sink = { sink_put, w };

	return text_write(&sink, s, strlen(s), max, upstream_cut, TEXT_JSON);
}

/* lib/text decides what a string may hold: the writer only quotes it. Most
 * strings (and every key) are plain ASCII, copied whole. */
static bool put_text(struct jsonw *w, const char *s, size_t max, bool upstream_cut)
{
	size_t plain = text_plain_len(s, TEXT_JSON);
	bool cut = false;

	put_char(w, '"');
	if (!s[plain] && plain <= max && !upstream_cut)
		put(w, s, plain);
	else
		cut = put_text_escaped(w, s, max, upstream_cut);
	put_char(w, '"');
	return cut;
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
		put_text(w, key, SIZE_MAX, false);
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
	put_text(w, value ? value : "", SIZE_MAX, false);
}

bool jsonw_text(struct jsonw *w, const char *key, const char *value, size_t max,
		bool upstream_cut)
{
	member(w, key);
	return put_text(w, value ? value : "", max, upstream_cut);
}

unsigned int jsonw_text_pair(struct jsonw *w, const char *key, const char *value, size_t max)
{
	unsigned int cut;

	if (!w->first[w->depth])
		put_char(w, ',');
	w->first[w->depth] = false;
	cut = put_text(w, key ? key : "", max, false);
	put_char(w, ':');
	return cut + put_text(w, value ? value : "", max, false);
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
