#include "jsonw.h"

#include <inttypes.h>

void jsonw_init(struct jsonw *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->first[0] = true;
}

static void write_escaped(FILE *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	putc_unlocked('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs_unlocked("\\\"", out); break;
		case '\\': fputs_unlocked("\\\\", out); break;
		case '\n': fputs_unlocked("\\n", out); break;
		case '\t': fputs_unlocked("\\t", out); break;
		case '\r': fputs_unlocked("\\r", out); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fputs_unlocked("\\u00", out);
				putc_unlocked(hex[c >> 4], out);
				putc_unlocked(hex[c & 0xf], out);
			} else {
				putc_unlocked(c, out);
			}
		}
	}
	putc_unlocked('"', out);
}

static void member(struct jsonw *w, const char *key)
{
	if (!w->first[w->depth])
		putc_unlocked(',', w->out);
	w->first[w->depth] = false;
	if (key) {
		write_escaped(w->out, key);
		putc_unlocked(':', w->out);
	}
}

static void open_nested(struct jsonw *w, const char *key, char open)
{
	member(w, key);
	putc_unlocked(open, w->out);
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
	putc_unlocked(close, w->out);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_string(struct jsonw *w, const char *key, const char *value)
{
	member(w, key);
	write_escaped(w->out, value ? value : "");
}

void jsonw_uint(struct jsonw *w, const char *key, uint64_t value)
{
	member(w, key);
	fprintf(w->out, "%" PRIu64, value);
}

void jsonw_int(struct jsonw *w, const char *key, int64_t value)
{
	member(w, key);
	fprintf(w->out, "%" PRId64, value);
}

void jsonw_bool(struct jsonw *w, const char *key, bool value)
{
	member(w, key);
	fputs_unlocked(value ? "true" : "false", w->out);
}

void jsonw_line_end(struct jsonw *w)
{
	putc_unlocked('\n', w->out);
	w->depth = 0;
	w->first[0] = true;
}
