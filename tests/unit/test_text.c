/* Workload strings: UTF-8 units (maximal subparts), cuts at character
 * boundaries with the mark, and the escaping of each style. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"

#define MARK TEXT_CUT_MARK
#define FFFD "\xef\xbf\xbd"

/* text_write() into a malloc'd string. */
struct collect {
	char *buf;
	size_t len;
};

static void collect_put(void *ctx, const char *data, size_t len)
{
	struct collect *c = ctx;

	c->buf = realloc(c->buf, c->len + len + 1);
	assert_non_null(c->buf);
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->buf[c->len] = '\0';
}

static char *write_text(const char *s, size_t max, bool upstream_cut, enum text_style style,
			bool *ret_cut)
{
	struct collect c = { .buf = calloc(1, 1) };
	const struct text_sink sink = { collect_put, &c };
	bool cut = text_write(&sink, s, strlen(s), max, upstream_cut, style);

	if (ret_cut)
		*ret_cut = cut;
	return c.buf;
}

static void assert_styled(const char *in, enum text_style style, const char *want)
{
	char *out = write_text(in, SIZE_MAX, false, style, NULL);

	if (strcmp(out, want))
		fail_msg("style %d: got \"%s\", want \"%s\"", style, out, want);
	free(out);
}

static int unit(const char *s, size_t avail)
{
	uint32_t cp = 0;

	return text_utf8_unit((const unsigned char *)s, avail, &cp);
}

static void test_units(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(text_utf8_unit((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(text_utf8_unit((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(text_utf8_unit((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(text_utf8_unit((const unsigned char *)"\xf0\x9f\x9a\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f680);
	assert_int_equal(text_utf8_unit((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(text_utf8_unit((const unsigned char *)"\xed\x9f\xbf", 3, &cp), 3);
	assert_int_equal(cp, 0xd7ff); /* the last before the surrogates */

	/* Ill-formed: minus the maximal subpart's length. */
	assert_int_equal(unit("\x80", 1), -1); /* a lone continuation */
	assert_int_equal(unit("\xbf", 1), -1);
	assert_int_equal(unit("\xc0\xaf", 2), -1); /* overlong '/' */
	assert_int_equal(unit("\xc1\xbf", 2), -1);
	assert_int_equal(unit("\xe0\x80\xaf", 3), -1); /* overlong, 3 bytes */
	assert_int_equal(unit("\xe0\x9f\xbf", 3), -1);
	assert_int_equal(unit("\xf0\x80\x80\xaf", 4), -1); /* overlong, 4 bytes */
	assert_int_equal(unit("\xf0\x8f\xbf\xbf", 4), -1);
	assert_int_equal(unit("\xed\xa0\x80", 3), -1); /* surrogate D800 */
	assert_int_equal(unit("\xed\xbf\xbf", 3), -1); /* surrogate DFFF */
	assert_int_equal(unit("\xf4\x90\x80\x80", 4), -1); /* above U+10FFFF */
	assert_int_equal(unit("\xf5\x80\x80\x80", 4), -1);
	assert_int_equal(unit("\xff", 1), -1);
	assert_int_equal(unit("\xe2\x82", 2), -2); /* cut short */
	assert_int_equal(unit("\xe2\x82" "A", 3), -2); /* a character missing its last byte */
	assert_int_equal(unit("\xf0\x9f\x9a", 3), -3);
	assert_int_equal(unit("\xf0\x9f\x9a" "A", 4), -3);
	assert_int_equal(unit("\xc3" "A", 2), -1);

	assert_true(text_utf8_valid("", 0));
	assert_true(text_utf8_valid("plain é € 🚀", strlen("plain é € 🚀")));
	assert_false(text_utf8_valid("a\xff", 2));
	assert_false(text_utf8_valid("\xe2\x82", 2));
	assert_false(text_utf8_valid("\xed\xa0\x80", 3));
}

/* JSON and the exposition format replace each maximal subpart with one
 * U+FFFD (as Python's "replace" does); lines show the bytes. */
static void test_ill_formed(void **state)
{
	(void)state;
	assert_styled("a\xff" "b", TEXT_JSON, "a" FFFD "b");
	assert_styled("\xe2\x82" "A", TEXT_JSON, FFFD "A");
	assert_styled("x\xf0\x9f\x98", TEXT_JSON, "x" FFFD);
	assert_styled("\xc0\xaf", TEXT_JSON, FFFD FFFD);
	assert_styled("\xe0\x80\xaf", TEXT_JSON, FFFD FFFD FFFD);
	assert_styled("\xed\xa0\x80", TEXT_JSON, FFFD FFFD FFFD);
	assert_styled("\xf4\x90\x80\x80", TEXT_JSON, FFFD FFFD FFFD FFFD);
	assert_styled("\xf1\x80\x80\xe1\x80\xc2", TEXT_JSON, FFFD FFFD FFFD);
	assert_styled("é€🚀", TEXT_JSON, "é€🚀");
	assert_styled("a\xff" "b", TEXT_PROM, "a" FFFD "b");
	assert_styled("a\xff" "b\xe2\x82", TEXT_UTF8, "a" FFFD "b" FFFD);
	assert_styled("a\xff" "b\xe2\x82" "é", TEXT_LINE, "a\\xffb\\xe2\\x82é");
	assert_styled("\xed\xa0\x80", TEXT_LINE, "\\xed\\xa0\\x80");
}

static void test_controls(void **state)
{
	(void)state;
	/* A line: nothing ends it or reaches the terminal; backslash is
	 * doubled so the escapes read back. */
	assert_styled("a\nb\r\tc", TEXT_LINE, "a\\nb\\r\\tc");
	assert_styled("\x1b[2J\x1b]0;x\x07\x7f", TEXT_LINE, "\\x1b[2J\\x1b]0;x\\x07\\x7f");
	assert_styled("\x01\x1f", TEXT_LINE, "\\x01\\x1f");
	assert_styled("C:\\x1b \"q\"", TEXT_LINE, "C:\\\\x1b \"q\"");
	assert_styled("\xc2\x9b" "31m\xc2\x85", TEXT_LINE, "\\u009b31m\\u0085"); /* C1: CSI, NEL */
	assert_styled("\xc2\xa0", TEXT_LINE, "\xc2\xa0"); /* NBSP is no control */
	assert_styled("a\xe2\x80\xa8" "b\xe2\x80\xa9", TEXT_LINE, "a\\u2028b\\u2029");
	assert_styled("\xe2\x80\xae" "gnp.exe", TEXT_LINE, "\\u202egnp.exe"); /* RLO */
	assert_styled("\xe2\x81\xa6\xd8\x9c\xe2\x80\x8f", TEXT_LINE, "\\u2066\\u061c\\u200f");

	/* JSON: the same characters, escaped so the line stays printable. */
	assert_styled("a\"b\\c\nd\te\rf", TEXT_JSON, "a\\\"b\\\\c\\nd\\te\\rf");
	assert_styled("\x1b[1m\x7f\x01", TEXT_JSON, "\\u001b[1m\\u007f\\u0001");
	assert_styled("\xc2\x9b\xe2\x80\xae\xe2\x80\xa8", TEXT_JSON, "\\u009b\\u202e\\u2028");

	/* The exposition format escapes three; the rest becomes U+FFFD. */
	assert_styled("a\"b\\c\nd", TEXT_PROM, "a\\\"b\\\\c\\nd");
	assert_styled("\r\t\x1b\x7f\xc2\x9b\xe2\x80\xae", TEXT_PROM,
		      FFFD FFFD FFFD FFFD FFFD FFFD);

	/* For json-c, which escapes by itself: only well-formedness. */
	assert_styled("a\"\n\x1b\xc2\x9b", TEXT_UTF8, "a\"\n\x1b\xc2\x9b");
}

/* Strings whose cut falls inside a 1- to 4-byte character, at every
 * offset: what is kept is a prefix of whole characters, the mark follows,
 * and the whole is within the bound. */
static void test_cut_boundaries(void **state)
{
	static const char *const chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x9a\x80" };
	char s[256];

	(void)state;
	for (size_t c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
		size_t w = strlen(chars[c]);

		for (size_t pad = 0; pad < 4; pad++) {
			size_t len = pad;

			memset(s, 'x', pad);
			while (len + w < 64) {
				memcpy(s + len, chars[c], w);
				len += w;
			}
			s[len] = '\0';
			for (size_t max = TEXT_CUT_MARK_LEN; max <= len + 1; max++) {
				bool cut;
				char *out = write_text(s, max, false, TEXT_JSON, &cut);
				size_t n = strlen(out);

				assert_int_equal(cut, len > max);
				assert_true(text_utf8_valid(out, n));
				if (!cut) {
					assert_string_equal(out, s);
					free(out);
					continue;
				}
				assert_true(n <= max);
				assert_memory_equal(out + n - TEXT_CUT_MARK_LEN, MARK,
						    TEXT_CUT_MARK_LEN);
				n -= TEXT_CUT_MARK_LEN;
				assert_memory_equal(out, s, n);
				/* whole characters: past the padding, a multiple of w */
				if (n > pad)
					assert_int_equal((n - pad) % w, 0);
				/* and as many as fit */
				assert_true(n + w + TEXT_CUT_MARK_LEN > max || n < pad);
				assert_int_equal(text_cut_len(s, len, max), n);
				free(out);
			}
		}
	}
}

static void test_cut_ill_formed(void **state)
{
	char *out;
	bool cut;

	(void)state;
	/* An ill-formed unit is one unit: cut before it or after it whole. */
	out = write_text("abc\xe2\x82" "defgh", 7, false, TEXT_LINE, &cut);
	assert_true(cut);
	assert_string_equal(out, "abc" MARK);
	free(out);
	out = write_text("abc\xe2\x82" "defgh", 8, false, TEXT_LINE, &cut);
	assert_string_equal(out, "abc\\xe2\\x82" MARK);
	free(out);
	/* The bound counts the bytes given, not their escapes. */
	out = write_text("\n\n\n\n\n\n", 6, false, TEXT_LINE, &cut);
	assert_false(cut);
	assert_string_equal(out, "\\n\\n\\n\\n\\n\\n");
	free(out);
}

/* Cut by whoever read it (argv past the kernel's record): the partial
 * character at the end goes, the mark comes. */
static void test_upstream_cut(void **state)
{
	char *out;
	bool cut;

	(void)state;
	out = write_text("args \xe2\x82", 100, true, TEXT_JSON, &cut);
	assert_true(cut);
	assert_string_equal(out, "args " MARK);
	free(out);
	out = write_text("args \xf0\x9f\x9a", 100, true, TEXT_JSON, &cut);
	assert_string_equal(out, "args " MARK);
	free(out);
	out = write_text("args \xe2\x82\xac", 100, true, TEXT_JSON, &cut);
	assert_string_equal(out, "args \xe2\x82\xac" MARK);
	free(out);
	/* ill-formed in itself, not cut short: kept as its U+FFFD */
	out = write_text("args \xe0\x80", 100, true, TEXT_JSON, &cut);
	assert_string_equal(out, "args " FFFD FFFD MARK);
	free(out);
	/* and the mark still fits the bound */
	out = write_text("abcdefgh", 8, true, TEXT_JSON, &cut);
	assert_string_equal(out, "abcde" MARK);
	free(out);
	out = write_text("", 8, true, TEXT_JSON, &cut);
	assert_string_equal(out, MARK);
	free(out);
}

/* A buffer smaller than TEXT_BUF(max) cuts sooner, never inside an escape
 * or a character, and always ends with the NUL. */
static void test_render_small_buffer(void **state)
{
	const char *s = "ab\x1b\xc3\xa9" "cd\n\xe2\x82\xac" "ef";
	/* "ab" "\x1b" "é" "cd" "\n" "€" "ef": where a cut may end */
	static const char ends[] = { 0, 1, 2, 6, 8, 9, 10, 12, 15, 16 };
	char buf[TEXT_BUF(64)];
	size_t full, n;
	bool cut;

	(void)state;
	full = text_render(buf, sizeof(buf), s, 64, TEXT_LINE, &cut);
	assert_false(cut);
	assert_string_equal(buf, "ab\\x1b\xc3\xa9" "cd\\n\xe2\x82\xac" "ef");
	assert_int_equal(full, strlen(buf));
	for (size_t size = 1; size <= full + 1; size++) {
		char *small = malloc(size);

		n = text_render(small, size, s, 64, TEXT_LINE, &cut);
		assert_true(n < size);
		assert_int_equal(strlen(small), n);
		assert_true(text_utf8_valid(small, n));
		if (size > full) {
			assert_false(cut);
			assert_string_equal(small, buf);
		} else {
			assert_true(cut);
			/* what precedes the mark is a prefix of the full rendering
			 * that ends between two escapes or characters */
			if (n >= TEXT_CUT_MARK_LEN &&
			    !memcmp(small + n - TEXT_CUT_MARK_LEN, MARK, TEXT_CUT_MARK_LEN))
				n -= TEXT_CUT_MARK_LEN;
			assert_memory_equal(small, buf, n);
			assert_non_null(memchr(ends, (int)n, sizeof(ends)));
		}
		free(small);
	}
	assert_int_equal(text_render(buf, sizeof(buf), NULL, 64, TEXT_LINE, NULL), 0);
	assert_string_equal(buf, "");
}

static void test_json_string(void **state)
{
	json_object *obj;
	bool cut = true;

	(void)state;
	obj = text_json_string("/usr/bin/ping", TEXT_PATH_MAX, &cut);
	assert_false(cut);
	assert_string_equal(json_object_get_string(obj), "/usr/bin/ping");
	json_object_put(obj);
	obj = text_json_string("/tmp/\xff\nx", TEXT_PATH_MAX, &cut);
	assert_false(cut);
	assert_string_equal(json_object_get_string(obj), "/tmp/" FFFD "\nx");
	assert_string_equal(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN),
			    "\"\\/tmp\\/" FFFD "\\nx\"");
	json_object_put(obj);
	obj = text_json_string("abcdef\xe2\x82\xac", 8, &cut);
	assert_true(cut);
	assert_string_equal(json_object_get_string(obj), "abcde" MARK);
	json_object_put(obj);
	obj = text_json_string(NULL, 8, NULL);
	assert_string_equal(json_object_get_string(obj), "");
	json_object_put(obj);
}

/* Any bytes at all: JSON output parses and is well-formed, a line holds no
 * control byte, a label no raw quote or newline. */
static void test_random_bytes(void **state)
{
	uint32_t seed = 14;
	char s[96], *out;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(round % 90);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = (char)((seed >> 16) % 255 + 1);
			if (round % 3 == 0 && s[i] & 0x80) /* more near-valid sequences */
				s[i] = (char)(0x80 | (s[i] & 0x3f) | (i % 4 == 0 ? 0x40 : 0));
		}
		s[len] = '\0';
		for (int style = TEXT_JSON; style <= TEXT_UTF8; style++) {
			size_t max = (size_t)(round % 7 == 0 ? 20 : 200);
			size_t n;

			out = write_text(s, max, false, (enum text_style)style, NULL);
			n = strlen(out);
			assert_true(text_utf8_valid(out, n));
			if (style == TEXT_JSON) {
				char *doc = malloc(n + 3);
				json_object *parsed;

				sprintf(doc, "\"%s\"", out);
				parsed = json_tokener_parse(doc);
				assert_non_null(parsed);
				assert_true(json_object_is_type(parsed, json_type_string));
				json_object_put(parsed);
				free(doc);
			}
			for (size_t i = 0; style != TEXT_UTF8 && i < n; i++) {
				unsigned char b = (unsigned char)out[i];

				assert_true(b >= 0x20 && b != 0x7f);
				if (b == 0xc2 && i + 1 < n)
					assert_true((unsigned char)out[i + 1] >= 0xa0);
			}
			if (style == TEXT_PROM) {
				for (size_t i = 0; i < n; i++) {
					if (out[i] == '\\')
						assert_non_null(strchr("\\\"n", out[++i]));
					else
						assert_true(out[i] != '"');
				}
			}
			free(out);
		}
	}
}

/* text_dup(): what the resolver keeps, cut once to the output's bound. */
static void test_dup(void **state)
{
	static const struct {
		const char *s, *want;
		size_t max;
	} cases[] = {
		{ "short", "short", 10 },
		{ "exactly-10", "exactly-10", 10 },
		{ "eleven-char", "eleven-" TEXT_CUT_MARK, 10 }, /* 7 + the 3-byte mark */
		/* é is two bytes: 6 of them, not 7 */
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9" TEXT_CUT_MARK, 10 },
		{ "a\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", "a\xe2\x82\xac" TEXT_CUT_MARK, 9 },
	};
	char *copy = NULL;
	bool cut = true;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(text_dup(cases[i].s, cases[i].max, &copy, &cut), 0);
		assert_string_equal(copy, cases[i].want);
		assert_true(cut == (strcmp(cases[i].s, cases[i].want) != 0));
		assert_true(strlen(copy) <= cases[i].max);
		/* already bounded: the output's cut leaves it alone */
		assert_int_equal(text_cut_len(copy, strlen(copy), cases[i].max), strlen(copy));
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_ill_formed),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_cut_boundaries),
		cmocka_unit_test(test_cut_ill_formed),
		cmocka_unit_test(test_upstream_cut),
		cmocka_unit_test(test_render_small_buffer),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
