/* A streaming JSON writer into a stdio stream.
 *
 * Why not json-c here: json-c builds a heap tree per document, and the event
 * stream emits one document per capability check (hundreds of thousands a
 * second); writing straight into a buffer allocates nothing. Measured on an
 * event-shaped document (process, ten namespaces; 200,000 to /dev/null):
 * json-c tree + json_object_to_json_string_ext() 5.8-6.7 us per document,
 * this writer 0.95 us. json-c is still what captrail uses to parse JSON and
 * for small documents. */
#ifndef CAPTRAIL_JSONW_H
#define CAPTRAIL_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSONW_DEPTH 16
#define JSONW_BUFFER 65536 /* one document; a longer one is written in parts */

/* A document is assembled in buf and reaches the stream in one fwrite():
 * per-call stdio overhead was most of the cost of an event. */
struct jsonw {
	FILE *out;
	int depth;
	bool first[JSONW_DEPTH]; /* no comma needed before the next member */
	size_t len;
	char buf[JSONW_BUFFER];
};

void jsonw_init(struct jsonw *w, FILE *out);
/* key is NULL inside arrays and for the top-level value. */
void jsonw_object(struct jsonw *w, const char *key);
void jsonw_array(struct jsonw *w, const char *key);
void jsonw_end(struct jsonw *w, char close); /* '}' or ']' */
/* Strings are written as lib/text.h's TEXT_JSON says: always valid UTF-8.
 * jsonw_string() for captrail's own, unbounded; jsonw_text() for what a
 * workload controls, bounded to max bytes (upstream_cut: see text_write());
 * true when cut. */
void jsonw_string(struct jsonw *w, const char *key, const char *value);
bool jsonw_text(struct jsonw *w, const char *key, const char *value, size_t max,
		bool upstream_cut);
/* A member whose key is a workload's too (labels): both bounded to max;
 * how many of the two were cut. */
unsigned int jsonw_text_pair(struct jsonw *w, const char *key, const char *value, size_t max);
void jsonw_uint(struct jsonw *w, const char *key, uint64_t value);
void jsonw_int(struct jsonw *w, const char *key, int64_t value);
void jsonw_bool(struct jsonw *w, const char *key, bool value);
/* A value already rendered as JSON (a cached fragment). */
void jsonw_raw(struct jsonw *w, const char *key, const char *json, size_t len);
/* Ends a top-level document with a newline (JSON lines) and writes it. */
void jsonw_line_end(struct jsonw *w);

#endif
