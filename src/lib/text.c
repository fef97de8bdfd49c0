#include "lib/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define REPLACEMENT_LEN 3
/* json-c takes an int length; a replacement can triple a byte. */
#define JSON_C_MAX ((size_t)INT32_MAX / REPLACEMENT_LEN - TEXT_CUT_MARK_LEN)

const bool text_plain[][256] = {
	[TEXT_JSON] = { [0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true },
	[TEXT_LINE] = { [0x20 ... 0x5b] = true, [0x5d ... 0x7e] = true },
	[TEXT_PROM] = { [0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true },
	[TEXT_UTF8] = { [0x01 ... 0x7f] = true },
};

static const char hex[] = "0123456789abcdef";

/* Unicode's table 3-7: the second byte's range depends on the first.
 * Inlined in the loops that run over every character. */
static inline __attribute__((always_inline)) int utf8_unit(const unsigned char *s,
							   size_t avail, uint32_t *ret_cp)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	uint32_t cp;
	int need;

	if (b < 0x80) {
		*ret_cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		cp = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		cp = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0; /* overlong below */
		else if (b == 0xed)
			hi = 0x9f; /* surrogates above */
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		cp = b & 0x07;
		if (b == 0xf0)
			lo = 0x90; /* overlong below */
		else if (b == 0xf4)
			hi = 0x8f; /* past U+10FFFF above */
	} else {
		return -1; /* a continuation byte, C0/C1 (overlong) or F5..FF */
	}
	for (int k = 1; k <= need; k++) {
		if ((size_t)k >= avail || s[k] < lo || s[k] > hi)
			return -k;
		cp = cp << 6 | (s[k] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*ret_cp = cp;
	return need + 1;
}

int text_utf8_unit(const unsigned char *s, size_t avail, uint32_t *ret_cp)
{
	return utf8_unit(s, avail, ret_cp);
}

static size_t unit_len(const unsigned char *s, size_t avail)
{
	uint32_t cp;
	int n;

	if (s[0] < 0x80)
		return 1;
	n = utf8_unit(s, avail, &cp);
	return (size_t)(n < 0 ? -n : n);
}

/* The longest prefix of s[0..len) of whole units within limit bytes. */
static size_t boundary(const char *s, size_t len, size_t limit)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	if (len <= limit)
		return len;
	while (i < len) {
		n = unit_len(u + i, len - i);
		if (i + n > limit)
			break;
		i += n;
	}
	return i;
}

static size_t mark_room(size_t max)
{
	return max > TEXT_CUT_MARK_LEN ? max - TEXT_CUT_MARK_LEN : 0;
}

size_t text_cut_len(const char *s, size_t len, size_t max)
{
	return len <= max ? len : boundary(s, len, mark_room(max));
}

/* s[0..len) ends with the start of a character whose other bytes are
 * missing: the length without it. */
static size_t drop_partial_tail(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char b = u[len - back];

		if (b >= 0x80 && b <= 0xbf)
			continue;
		if (b >= 0xc2 && b <= 0xf4 && utf8_unit(u + len - back, back, &cp) == -(int)back)
			return len - back;
		break;
	}
	return len;
}

const char *text_echo(const char *s, char *buf, size_t size)
{
	text_render(buf, size, s ? s : "", TEXT_ECHO_MAX, TEXT_UTF8, NULL);
	return buf;
}

int text_dup(const char *s, size_t max, char **ret_copy, bool *ret_cut)
{
	size_t len = strnlen(s, max + 1), keep = text_cut_len(s, len, max);
	bool cut = keep < len;
	char *copy = malloc(keep + (cut ? TEXT_CUT_MARK_LEN : 0) + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, s, keep);
	if (cut)
		memcpy(copy + keep, TEXT_CUT_MARK, TEXT_CUT_MARK_LEN);
	copy[keep + (cut ? TEXT_CUT_MARK_LEN : 0)] = '\0';
	*ret_copy = copy;
	*ret_cut = cut;
	return 0;
}

bool text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t i = 0;
	int n;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_unit(u + i, len - i, &cp);
		if (n < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

/* Code points from U+0080 that a terminal or a log viewer acts on. */
static bool is_control(uint32_t cp)
{
	return cp < 0xa0 || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Either a caller's sink, or a buffer of cap bytes that, once full, takes
 * nothing more: a run of plain units is cut at a unit boundary, an escape
 * is never split. */
struct out {
	const struct text_sink *sink;
	char *buf;
	size_t len, cap;
	bool full;
};

static void emit(struct out *o, const char *data, size_t len, bool divisible)
{
	if (!len)
		return;
	if (!o->buf) {
		o->sink->put(o->sink->ctx, data, len);
		return;
	}
	if (o->full)
		return;
	if (len > o->cap - o->len) {
		o->full = true;
		if (!divisible)
			return;
		len = boundary(data, len, o->cap - o->len);
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
}

static void emit_ascii(struct out *o, unsigned char b, enum text_style style)
{
	char e[6] = { '\\', 0 };
	size_t n = 2;

	switch (b) {
	case '\\': e[1] = '\\'; break;
	case '"': e[1] = '"'; break;
	case '\n': e[1] = 'n'; break;
	case '\t': e[1] = 't'; break;
	case '\r': e[1] = 'r'; break;
	default:
		if (style == TEXT_JSON) {
			memcpy(e + 1, "u00", 3);
			e[4] = hex[b >> 4];
			e[5] = hex[b & 0xf];
			n = 6;
		} else {
			e[1] = 'x';
			e[2] = hex[b >> 4];
			e[3] = hex[b & 0xf];
			n = 4;
		}
	}
	/* The exposition format escapes backslash, quote and newline only. */
	if (style == TEXT_PROM && b != '\\' && b != '"' && b != '\n')
		emit(o, REPLACEMENT, REPLACEMENT_LEN, false);
	else
		emit(o, e, n, false);
}

static void emit_control(struct out *o, uint32_t cp, enum text_style style)
{
	char e[6] = { '\\', 'u', hex[cp >> 12 & 0xf], hex[cp >> 8 & 0xf], hex[cp >> 4 & 0xf],
		      hex[cp & 0xf] };

	if (style == TEXT_PROM)
		emit(o, REPLACEMENT, REPLACEMENT_LEN, false);
	else
		emit(o, e, sizeof(e), false);
}

static void emit_ill_formed(struct out *o, const unsigned char *s, size_t n,
			    enum text_style style)
{
	if (style != TEXT_LINE) {
		emit(o, REPLACEMENT, REPLACEMENT_LEN, false);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char e[4] = { '\\', 'x', hex[s[i] >> 4], hex[s[i] & 0xf] };

		emit(o, e, sizeof(e), false);
	}
}

/* Runs of units that need nothing are emitted whole: most strings are one
 * run. */
static void emit_units(struct out *o, const char *text, size_t len, enum text_style style)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len, *run;
	const bool *copied = text_plain[style];
	uint32_t cp;
	int n;

	while (p < end) {
		run = p;
		for (;;) {
			while (p < end && copied[*p])
				p++;
			if (p == end || *p < 0x80)
				break;
			n = utf8_unit(p, (size_t)(end - p), &cp);
			if (n < 0 || (style != TEXT_UTF8 && is_control(cp)))
				break;
			p += n;
		}
		emit(o, (const char *)run, (size_t)(p - run), true);
		if (p == end)
			break;
		if (*p < 0x80) {
			emit_ascii(o, *p, style);
			p++;
			continue;
		}
		n = utf8_unit(p, (size_t)(end - p), &cp);
		if (n < 0) {
			emit_ill_formed(o, p, (size_t)-n, style);
			p += -n;
		} else {
			emit_control(o, cp, style);
			p += n;
		}
	}
}

/* How much of s is written, and whether it ends with the mark. */
static size_t kept(const char *s, size_t len, size_t max, bool upstream_cut, bool *ret_cut)
{
	size_t keep = text_cut_len(s, len, max);

	*ret_cut = keep < len || upstream_cut;
	if (keep == len && upstream_cut) {
		keep = drop_partial_tail(s, len);
		if (keep > mark_room(max))
			keep = boundary(s, keep, mark_room(max));
	}
	return keep;
}

bool text_write(const struct text_sink *sink, const char *s, size_t len, size_t max,
		bool upstream_cut, enum text_style style)
{
	struct out o = { .sink = sink };
	size_t keep;
	bool cut;

	keep = kept(s, len, max, upstream_cut, &cut);
	emit_units(&o, s, keep, style);
	if (cut)
		emit(&o, TEXT_CUT_MARK, TEXT_CUT_MARK_LEN, false);
	return cut;
}

size_t text_render(char *buf, size_t size, const char *s, size_t max, enum text_style style,
		   bool *ret_cut)
{
	struct out o = { .buf = buf };
	size_t keep;
	bool cut;

	if (!s)
		s = "";
	keep = kept(s, strlen(s), max, false, &cut);
	/* Room for the mark is kept back when a cut is known, else only when
	 * the whole did not fit (then the text is written again). */
	o.cap = cut ? mark_room(size - 1) : size - 1;
	emit_units(&o, s, keep, style);
	if (o.full && !cut) {
		cut = true;
		o = (struct out){ .buf = buf, .cap = mark_room(size - 1) };
		emit_units(&o, s, keep, style);
	}
	if (cut && size - 1 - o.len >= TEXT_CUT_MARK_LEN) {
		memcpy(buf + o.len, TEXT_CUT_MARK, TEXT_CUT_MARK_LEN);
		o.len += TEXT_CUT_MARK_LEN;
	}
	buf[o.len] = '\0';
	if (ret_cut)
		*ret_cut = cut;
	return o.len;
}

static void file_put(void *ctx, const char *data, size_t len)
{
	fwrite_unlocked(data, 1, len, ctx);
}

bool text_fput_len(FILE *out, const char *s, size_t len, size_t max, enum text_style style)
{
	const struct text_sink sink = { file_put, out };

	return text_write(&sink, s, len, max, false, style);
}

bool text_fput(FILE *out, const char *s, size_t max, enum text_style style)
{
	if (!s)
		s = "";
	return text_fput_len(out, s, strlen(s), max, style);
}

json_object *text_json_string(const char *s, size_t max, bool *ret_cut)
{
	size_t len, size;
	json_object *obj;
	char *buf;
	bool cut;

	if (!s)
		s = "";
	len = strlen(s);
	if (max > JSON_C_MAX)
		max = JSON_C_MAX;
	if (len <= max && text_utf8_valid(s, len)) {
		if (ret_cut)
			*ret_cut = false;
		return json_object_new_string_len(s, (int)len);
	}
	/* Each byte kept becomes at most one U+FFFD. */
	size = text_cut_len(s, len, max) * REPLACEMENT_LEN + TEXT_CUT_MARK_LEN + 1;
	buf = malloc(size);
	if (!buf)
		return NULL;
	len = text_render(buf, size, s, max, TEXT_UTF8, &cut);
	obj = json_object_new_string_len(buf, (int)len);
	free(buf);
	if (obj && ret_cut)
		*ret_cut = cut;
	return obj;
}
