/* Store rows as `captrail profile` reads them back: whatever a store file
 * holds (written by another version, edited, damaged: any SQLite type in
 * any column), through store_query() and store_instances() into profiles
 * (workload_profiles) rendered in every format, and into the API's reply,
 * which a client reads back row by row.
 *
 * The input is rows separated by FUZZ_SEP, each a table name and its
 * values separated by FUZZ_FIELD, given to the table's columns in their
 * order (the rest keep their defaults); a value is typed by its first
 * byte: 'i' integer, 'r' real, 'b' blob, 'n' (or nothing) null, 't' text
 * (the rest of the bytes), anything else text with that byte. The tables and columns
 * are read from the store's schema, whatever it is. */
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "agent/api_protocol.h"
#include "agent/store.h"
#include "agent/workload_profiles.h"
#include "lib/json.h"

#include "fuzz.h"

#define FUZZ_FIELD '\x1f'
#define MAX_TABLES 8
#define MAX_COLUMNS 32
#define MAX_ROWS 64

struct table {
	char name[64];
	char columns[MAX_COLUMNS][64];
	int n_columns;
};

static struct store *store;
static sqlite3 *raw; /* the same file, written as no captrail would */
static struct table tables[MAX_TABLES];
static int n_tables;

static void raw_exec(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(raw, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, err);
		abort();
	}
}

static void read_schema(void)
{
	sqlite3_stmt *st, *cols;
	char sql[128];

	FUZZ_CHECK(sqlite3_prepare_v2(raw, "SELECT name FROM sqlite_schema WHERE type = 'table'"
					   " ORDER BY name", -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n_tables < MAX_TABLES) {
		struct table *t = &tables[n_tables++];

		snprintf(t->name, sizeof(t->name), "%s", sqlite3_column_text(st, 0));
		snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%.64s\")", t->name);
		FUZZ_CHECK(sqlite3_prepare_v2(raw, sql, -1, &cols, NULL) == SQLITE_OK);
		while (sqlite3_step(cols) == SQLITE_ROW && t->n_columns < MAX_COLUMNS)
			snprintf(t->columns[t->n_columns++], sizeof(t->columns[0]), "%s",
				 sqlite3_column_text(cols, 1));
		sqlite3_finalize(cols);
	}
	sqlite3_finalize(st);
	FUZZ_CHECK(n_tables);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("store_rows");
	char path[256];

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/store.db", dir);
	FUZZ_CHECK(!store__new(path, 0, &store));
	FUZZ_CHECK(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	/* Not durable, and no constraint but the column's own NOT NULL and keys:
	 * a damaged file keeps no promise. */
	raw_exec("PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF");
	read_schema();
	return 0;
}

static void bind_value(sqlite3_stmt *st, int i, const uint8_t *v, size_t n)
{
	char *text = fuzz_strndup(v, n);

	switch (n ? v[0] : 'n') {
	case 'i':
		sqlite3_bind_int64(st, i, strtoll(text + 1, NULL, 0));
		break;
	case 'r':
		sqlite3_bind_double(st, i, strtod(text + 1, NULL));
		break;
	case 'b':
		sqlite3_bind_blob(st, i, v + 1, (int)n - 1, SQLITE_TRANSIENT);
		break;
	case 'n':
		sqlite3_bind_null(st, i);
		break;
	case 't':
		sqlite3_bind_text(st, i, (const char *)v + 1, (int)n - 1, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_text(st, i, (const char *)v, (int)n, SQLITE_TRANSIENT);
		break;
	}
	free(text);
}

static void insert_row(const uint8_t *data, size_t size)
{
	struct fuzz_part fields[MAX_COLUMNS + 1];
	size_t n = 0;
	const struct table *t = NULL;
	char sql[4096], *name;
	sqlite3_stmt *st;
	int len;

	while (n < MAX_COLUMNS + 1) {
		const uint8_t *sep = memchr(data, FUZZ_FIELD, size);
		size_t flen = sep ? (size_t)(sep - data) : size;

		fields[n].data = data;
		fields[n++].size = flen;
		if (!sep)
			break;
		data += flen + 1;
		size -= flen + 1;
	}
	name = fuzz_part_str(&fields[0]);
	for (int i = 0; i < n_tables && !t; i++)
		if (!strcmp(name, tables[i].name))
			t = &tables[i];
	free(name);
	if (!t || n < 2 || (int)n - 1 > t->n_columns)
		return;
	len = snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO \"%s\"(", t->name);
	for (size_t i = 1; i < n; i++)
		len += snprintf(sql + len, sizeof(sql) - len, "%s\"%s\"", i > 1 ? "," : "",
				t->columns[i - 1]);
	len += snprintf(sql + len, sizeof(sql) - len, ") VALUES(");
	for (size_t i = 1; i < n; i++)
		len += snprintf(sql + len, sizeof(sql) - len, "%s?", i > 1 ? "," : "");
	snprintf(sql + len, sizeof(sql) - len, ")");
	FUZZ_CHECK(sqlite3_prepare_v2(raw, sql, -1, &st, NULL) == SQLITE_OK);
	for (size_t i = 1; i < n; i++)
		bind_value(st, (int)i, fields[i].data, fields[i].size);
	(void)sqlite3_step(st); /* a row its table's constraints refuse is no row */
	sqlite3_finalize(st);
}

static void fill(const uint8_t *data, size_t size)
{
	struct fuzz_part rows[MAX_ROWS];
	size_t n = fuzz_split(data, size, rows, MAX_ROWS);
	char sql[128];

	raw_exec("BEGIN");
	for (int i = 0; i < n_tables; i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM \"%.64s\"", tables[i].name);
		raw_exec(sql);
	}
	for (size_t i = 0; i < n; i++)
		insert_row(rows[i].data, rows[i].size);
	raw_exec("COMMIT");
}

static void render(struct profile **profiles, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int f = 0; f < PROFILE_FORMAT_COUNT; f++) {
			char *out = NULL;

			if (!profile_render_string(profiles[i], f, &out))
				free(out);
		}
		profile__free(profiles[i]);
	}
	free(profiles);
}

/* As `captrail profile` does, from the store or from the API's reply. */
static void build(struct workload_profiles *wp)
{
	struct profile **profiles;
	size_t n;

	if (!workload_profiles_build(wp, NULL, &profiles, &n))
		render(profiles, n);
	if (!workload_profiles_build(wp, "merged", &profiles, &n))
		render(profiles, n);
}

static void from_reply(const char *text)
{
	struct workload_profiles *wp;
	json_object *reply, *rows;
	struct store_row row;

	FUZZ_CHECK(!json_parse_object(text, strlen(text), &reply, NULL, 0));
	rows = json_member(reply, "profile", json_type_array);
	FUZZ_CHECK(rows);
	FUZZ_CHECK(!workload_profiles__new(&wp));
	for (size_t i = 0; i < json_object_array_length(rows); i++)
		if (!api_row_from_json(json_object_array_get_idx(rows, i), &row))
			(void)workload_profiles_add_row(wp, &row);
	build(wp);
	workload_profiles__free(wp);
	json_object_put(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_filter all = { .select = STORE_SELECT_ALL };
	struct workload_profiles *wp;
	json_object *reply;

	fill(data, size);
	FUZZ_CHECK(!workload_profiles__new(&wp));
	if (!store_query(store, &all, workload_profiles_add_row, wp) &&
	    !store_instances(store, &all, workload_profiles_add_instance, wp))
		build(wp);
	workload_profiles__free(wp);
	if (!api_profile_reply(store, &all, &reply)) {
		from_reply(json_object_to_json_string_ext(reply, API_JSON_FLAGS));
		json_object_put(reply);
	}
	return 0;
}
