/* Strings a workload controls (binary paths, cwd, argv, comm, pod,
 * namespace and container names, images, labels): their bound, and how
 * they are escaped for each place they are written, decided here once.
 *
 * A string longer than its bound is cut at a UTF-8 character boundary and
 * ends with TEXT_CUT_MARK, the mark counted in the bound; the writers say
 * when they cut so the caller can count it. Ill-formed UTF-8 is read unit
 * by unit as Unicode's "substitution of maximal subparts" does (what
 * Python's "replace" error handler and the WHATWG decoder do): each
 * maximal ill-formed subpart is one unit, shown as one U+FFFD or escaped
 * byte by byte.
 *
 * Controls are C0, DEL, C1 (U+0080-U+009F), the line and paragraph
 * separators and the bidirectional formatting characters (which reorder
 * what a terminal shows). Per style:
 *   TEXT_JSON  inside a JSON string: '"' and '\' escaped, \n \t \r, every
 *              other control as \u00XX / \uXXXX (so the line stays
 *              printable and decodes to the same text), ill-formed units
 *              as U+FFFD: always valid UTF-8.
 *   TEXT_LINE  one line for a terminal or a log: '\' as "\\", \n \t \r,
 *              the other C0 controls, DEL and every byte of an ill-formed
 *              unit as \xNN, the other controls as \uXXXX. Nothing can end
 *              the line or reach the terminal as a control, and the text
 *              reads back unambiguously.
 *   TEXT_PROM  a Prometheus label value (text exposition format): '\', '"'
 *              and newline escaped as the format says; it has no escape
 *              for anything else, so other controls and ill-formed units
 *              become U+FFFD.
 *   TEXT_UTF8  for a serializer that escapes by itself (json-c): only
 *              ill-formed units replaced by U+FFFD. */
#ifndef CAPTRAIL_TEXT_H
#define CAPTRAIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#define TEXT_CUT_MARK "\xe2\x80\xa6" /* U+2026 HORIZONTAL ELLIPSIS */
#define TEXT_CUT_MARK_LEN 3

/* Bounds, in bytes of the string as the workload gave it, mark included.
 * Paths and arguments stay below what the kernel's records keep (1023
 * bytes, cut there without regard to characters), so a string the kernel
 * cut is always cut again here, visibly and at a character boundary. */
#define TEXT_PATH_MAX 1000 /* binary, cwd */
#define TEXT_ARGS_MAX 1000 /* arguments joined */
#define TEXT_NAME_MAX 256 /* pod namespace, name and uid, container id and name, comm, unit */
#define TEXT_IMAGE_MAX 512 /* "registry:port/path/name@sha256:<64 hex>" fits */
#define TEXT_LABEL_MAX 320 /* a label's key ("prefix/name": 253 + 1 + 63) or value */
#define TEXT_WORKLOAD_MAX 1024 /* a workload's name as a metrics label */
#define TEXT_ECHO_MAX 64 /* input quoted back in an error message */

/* Bytes one input byte can become (TEXT_JSON: "\u001b"). */
#define TEXT_ESCAPE_MAX 6
/* A buffer that holds any string of bound max rendered in any style. */
#define TEXT_BUF(max) ((max) * TEXT_ESCAPE_MAX + TEXT_CUT_MARK_LEN + 1)

enum text_style { TEXT_JSON, TEXT_LINE, TEXT_PROM, TEXT_UTF8 };

/* Where text_write() puts its output, piece by piece. */
struct text_sink {
	void (*put)(void *ctx, const char *data, size_t len);
	void *ctx;
};

/* One unit at s (avail > 0 bytes): the length of a well-formed character
 * (*ret_cp its code point), or minus the length of a maximal ill-formed
 * subpart (*ret_cp untouched). */
int text_utf8_unit(const unsigned char *s, size_t avail, uint32_t *ret_cp);

/* Bytes of s[0..len) kept when it is bounded to max bytes: len when it
 * fits, else the longest prefix ending at a unit boundary that leaves room
 * for the mark. */
size_t text_cut_len(const char *s, size_t len, size_t max);

/* Input quoted back in an error message: bounded to TEXT_ECHO_MAX at a
 * character boundary and made valid UTF-8, not escaped (the message is,
 * where it is printed). Returns buf. */
#define TEXT_ECHO_BUF TEXT_BUF(TEXT_ECHO_MAX)
const char *text_echo(const char *s, char *buf, size_t size);

/* A malloc'd copy of s bounded to max bytes (NUL excluded): cut as
 * text_cut_len() says and marked when longer; *ret_cut says whether it was.
 * For what a workload says that is kept (container names, labels), so what
 * is stored is already what every output shows. -ENOMEM; the outputs are
 * untouched then. */
int text_dup(const char *s, size_t max, char **ret_copy, bool *ret_cut);

/* Whether s[0..len) is well-formed UTF-8. */
bool text_utf8_valid(const char *s, size_t len);

/* The ASCII bytes each style writes as they are (NUL and every byte from
 * 0x80 are not). */
extern const bool text_plain[][256];

/* The length of the run at the start of s that style writes as it is: when
 * s[len] is the NUL and len <= max, s can be copied whole. Inline: writers
 * call it for every string, and most strings are that. */
static inline size_t text_plain_len(const char *s, enum text_style style)
{
	const unsigned char *p = (const unsigned char *)s;
	const bool *copied = text_plain[style];

	while (copied[*p])
		p++;
	return (size_t)(p - (const unsigned char *)s);
}

/* s[0..len) bounded to max bytes (SIZE_MAX: unbounded) and escaped for
 * style, to sink. upstream_cut: s was already cut by whoever read it (a
 * flag says so): a trailing incomplete character is dropped and the mark
 * added all the same. Returns true when the output ends with the mark. */
bool text_write(const struct text_sink *sink, const char *s, size_t len, size_t max,
		bool upstream_cut, enum text_style style);

/* The same into buf (size > 0; always NUL-terminated): a buffer smaller
 * than TEXT_BUF(max) lowers the bound to what it holds. Returns the length
 * written; *ret_cut (when not NULL) true when the text was cut. */
size_t text_render(char *buf, size_t size, const char *s, size_t max, enum text_style style,
		   bool *ret_cut);

/* The same to a stdio stream, s (NULL: "") or s[0..len); true when cut. */
bool text_fput(FILE *out, const char *s, size_t max, enum text_style style);
bool text_fput_len(FILE *out, const char *s, size_t len, size_t max, enum text_style style);

/* A json-c string of s (NULL: ""), bounded to max and well-formed (json-c
 * escapes the rest); NULL without memory. *ret_cut as above. */
json_object *text_json_string(const char *s, size_t max, bool *ret_cut);

#endif
