#include "agent/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/caps.h"
#include "lib/hash.h"
#include "lib/util.h"

#define BUSY_TIMEOUT_MS 2000 /* a reader and the agent briefly contend for the WAL */

/* Identity fields, '\0'-terminated one after the other, then the rest of
 * the row key: a byte string that compares equal exactly when two
 * observations belong to the same row. */
struct row_key {
	int32_t cap;
	int32_t syscall;
	uint32_t flags;
	uint8_t denied;
	uint8_t audit;
	uint8_t pad[2];
};

struct pending {
	UT_hash_handle hh;
	char *key; /* identity strings + struct row_key */
	size_t key_len;
	enum workload_kind kind;
	const char *ident[5]; /* into key: see enum ident */
	char *image;
	char *owner[3]; /* kind, name, how: the latest known */
	char *instance; /* NULL for a check row; set for an instance row */
	struct row_key row;
	uint64_t count;
	uint64_t first_seen;
	uint64_t last_seen;
	struct check_outcome outcome;
};

enum ident { ID_NAMESPACE, ID_POD, ID_CONTAINER, ID_BINARY, ID_UNIT, ID_COUNT };

enum stmt {
	ST_WORKLOAD,
	ST_CHECK,
	ST_INSTANCE,
	ST_N,
};

struct store {
	sqlite3 *db;
	bool rdonly;
	bool no_owners; /* a version 1 file opened read only */
	sqlite3_stmt *stmt[ST_N];
	struct pending *checks; /* uthash */
	struct pending *instances;
	struct store_stats stats;
};

static const char schema[] =
	"CREATE TABLE workloads("
	" id INTEGER PRIMARY KEY,"
	" kind INTEGER NOT NULL,"
	" pod_namespace TEXT NOT NULL,"
	" pod_name TEXT NOT NULL,"
	" container_name TEXT NOT NULL,"
	" binary TEXT NOT NULL,"
	" unit TEXT NOT NULL,"
	" image TEXT NOT NULL DEFAULT '',"
	" owner_kind TEXT NOT NULL DEFAULT '',"
	" owner_name TEXT NOT NULL DEFAULT '',"
	" owner_how TEXT NOT NULL DEFAULT '',"
	" UNIQUE(kind, pod_namespace, pod_name, container_name, binary, unit));"
	"CREATE TABLE instances("
	" workload_id INTEGER NOT NULL REFERENCES workloads(id),"
	" instance TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" PRIMARY KEY(workload_id, instance)) WITHOUT ROWID;"
	"CREATE INDEX instances_by_id ON instances(instance);"
	"CREATE TABLE checks("
	" workload_id INTEGER NOT NULL REFERENCES workloads(id),"
	" cap INTEGER NOT NULL,"
	" denied INTEGER NOT NULL,"
	" audit INTEGER NOT NULL,"
	" syscall INTEGER NOT NULL,"
	" flags INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" eperm INTEGER NOT NULL DEFAULT 0,"
	" eacces INTEGER NOT NULL DEFAULT 0,"
	" success INTEGER NOT NULL DEFAULT 0,"
	" other INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(workload_id, cap, denied, audit, syscall, flags)) WITHOUT ROWID;"
	"PRAGMA user_version = 2;";

static const char upgrade_v1[] =
	"ALTER TABLE workloads ADD COLUMN owner_kind TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE workloads ADD COLUMN owner_name TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE workloads ADD COLUMN owner_how TEXT NOT NULL DEFAULT '';"
	"PRAGMA user_version = 2;";

/* What a query of a version 1 file reads the workloads table as. */
static const char no_owners_prefix[] =
	"WITH workloads AS (SELECT *, '' AS owner_kind, '' AS owner_name, '' AS owner_how"
	" FROM main.workloads) ";

/* col + the new row's col, held at STORE_COUNT_MAX: SQLite would turn an
 * integer overflow into a float. A value that is not an integer (an edited
 * file) is left as it is, for queries to keep skipping and counting. */
#define SATURATING_ADD(col)                                                                 \
	" " col " = CASE WHEN typeof(" col ") <> 'integer' THEN " col " WHEN " col             \
	" > 9223372036854775807 - excluded." col " THEN 9223372036854775807 ELSE " col        \
	" + excluded." col " END"

static const char *const statements[ST_N] = {
	[ST_WORKLOAD] =
		"INSERT INTO workloads(kind, pod_namespace, pod_name, container_name, binary,"
		" unit, image, owner_kind, owner_name, owner_how)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
		" ON CONFLICT(kind, pod_namespace, pod_name, container_name, binary, unit)"
		" DO UPDATE SET image = CASE WHEN excluded.image <> '' THEN excluded.image"
		" ELSE image END,"
		" owner_kind = CASE WHEN excluded.owner_kind <> '' THEN excluded.owner_kind"
		" ELSE owner_kind END,"
		" owner_name = CASE WHEN excluded.owner_kind <> '' THEN excluded.owner_name"
		" ELSE owner_name END,"
		" owner_how = CASE WHEN excluded.owner_kind <> '' THEN excluded.owner_how"
		" ELSE owner_how END RETURNING id",
	[ST_CHECK] =
		"INSERT INTO checks(workload_id, cap, denied, audit, syscall, flags, count,"
		" first_seen, last_seen, eperm, eacces, success, other)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT(workload_id, cap, denied, audit, syscall, flags) DO UPDATE SET"
		SATURATING_ADD("count") ","
		" first_seen = min(first_seen, excluded.first_seen),"
		" last_seen = max(last_seen, excluded.last_seen),"
		SATURATING_ADD("eperm") "," SATURATING_ADD("eacces") ","
		SATURATING_ADD("success") "," SATURATING_ADD("other"),
	[ST_INSTANCE] =
		"INSERT INTO instances(workload_id, instance, first_seen, last_seen)"
		" VALUES(?1, ?2, ?3, ?4)"
		" ON CONFLICT(workload_id, instance) DO UPDATE SET"
		" first_seen = min(first_seen, excluded.first_seen),"
		" last_seen = max(last_seen, excluded.last_seen)",
};

static int sqlite_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CORRUPT:
		return -EUCLEAN;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sqlite_err(rc);
}

static int query_int(sqlite3 *db, const char *sql, int64_t *ret_value)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sqlite_err(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sqlite_err(rc);
}

/* SQLite would create the file with the umask's mode; profiles name every
 * workload of the node, so the file is the owner's alone. */
static int create_file(const char *path)
{
	int fd, err = make_parent_dir(path);

	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* A damaged page would otherwise show only when a query reaches it, or be
 * written over: the agent would go on adding to a store it cannot read back.
 * quick_check reads every page (not the indexes' agreement with the
 * tables, which integrity_check would add at several times the cost), and
 * the first problem is enough. */
static int quick_check(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	bool ok = false;

	if (rc != SQLITE_OK)
		return sqlite_err(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *verdict = sqlite3_column_text(st, 0);

		ok = verdict && !strcmp((const char *)verdict, "ok");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return sqlite_err(rc);
	return ok ? 0 : -EUCLEAN;
}

static int upgrade(struct store *s)
{
	int err = exec_sql(s->db, "BEGIN IMMEDIATE");

	if (err)
		return err;
	err = exec_sql(s->db, upgrade_v1);
	if (!err)
		err = exec_sql(s->db, "COMMIT");
	if (err)
		exec_sql(s->db, "ROLLBACK");
	return err;
}

static int check_schema(struct store *s)
{
	int64_t version, tables;
	int err;

	err = query_int(s->db, "PRAGMA user_version", &version);
	if (err)
		return err;
	if (version > STORE_SCHEMA_VERSION)
		return -EPROTO;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (version == 1 && s->rdonly) {
		s->no_owners = true;
		return 0;
	}
	if (version == 1)
		return upgrade(s);
	err = query_int(s->db, "SELECT count(*) FROM sqlite_schema", &tables);
	if (err)
		return err;
	if (tables || s->rdonly) /* somebody else's database, or an empty file */
		return -EBADMSG;
	err = exec_sql(s->db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = exec_sql(s->db, schema);
	if (!err)
		err = exec_sql(s->db, "COMMIT");
	if (err)
		exec_sql(s->db, "ROLLBACK");
	return err;
}

int store__new(const char *path, unsigned flags, struct store **ret_store)
{
	struct store *s;
	int64_t rows = 0;
	int rc, err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rdonly = flags & STORE_RDONLY;
	if (s->rdonly) {
		if (access(path, R_OK)) {
			err = -errno;
			goto fail;
		}
	} else {
		err = create_file(path);
		if (err)
			goto fail;
	}
	rc = sqlite3_open_v2(path, &s->db,
			     s->rdonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		err = sqlite_err(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	err = quick_check(s->db);
	if (err)
		goto fail;
	if (!s->rdonly) {
		/* WAL: the agent's flushes do not block readers (captrail profile);
		 * NORMAL sync: a crash of the process loses nothing committed. */
		err = exec_sql(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
				      "PRAGMA foreign_keys = ON");
		if (err)
			goto fail;
	}
	err = check_schema(s);
	if (err)
		goto fail;
	if (!s->rdonly) {
		for (int i = 0; i < ST_N; i++) {
			rc = sqlite3_prepare_v3(s->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT,
						&s->stmt[i], NULL);
			if (rc != SQLITE_OK) {
				err = sqlite_err(rc);
				goto fail;
			}
		}
	}
	err = query_int(s->db, "SELECT count(*) FROM checks", &rows);
	if (err)
		goto fail;
	s->stats.rows = (uint64_t)rows;
	*ret_store = s;
	return 0;
fail:
	store__free(s);
	return err;
}

static void pending_free(struct pending *p)
{
	free(p->key);
	free(p->image);
	for (int i = 0; i < 3; i++)
		free(p->owner[i]);
	free(p->instance);
	free(p);
}

static void drop_pending(struct pending **head)
{
	struct pending *p, *tmp;

	HASH_ITER(hh, *head, p, tmp) {
		HASH_DEL(*head, p);
		pending_free(p);
	}
}

void store__free(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close_v2(s->db);
	drop_pending(&s->checks);
	drop_pending(&s->instances);
	free(s);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

/* The identity fields of a workload of this kind; the others are "". */
static void identity(const struct workload *w, const char *ret_ident[ID_COUNT])
{
	for (int i = 0; i < ID_COUNT; i++)
		ret_ident[i] = "";
	switch (w->kind) {
	case WORKLOAD_POD_CONTAINER:
		ret_ident[ID_NAMESPACE] = str(w->pod_namespace);
		ret_ident[ID_POD] = str(w->pod_name);
		ret_ident[ID_CONTAINER] = workload_container(w);
		break;
	case WORKLOAD_CONTAINER:
		ret_ident[ID_CONTAINER] = workload_container(w);
		break;
	case WORKLOAD_HOST_BINARY:
		ret_ident[ID_BINARY] = str(w->binary);
		break;
	case WORKLOAD_UNIT:
		ret_ident[ID_UNIT] = str(w->unit);
		break;
	}
}

/* key = kind byte, identity strings each '\0'-terminated, then tail. */
static char *make_key(enum workload_kind kind, const char *const ident[ID_COUNT], const void *tail,
		      size_t tail_len, size_t *ret_len)
{
	size_t len = 1 + tail_len, off = 1;
	char *key;

	for (int i = 0; i < ID_COUNT; i++)
		len += strlen(ident[i]) + 1;
	key = malloc(len);
	if (!key)
		return NULL;
	key[0] = (char)kind;
	for (int i = 0; i < ID_COUNT; i++) {
		size_t n = strlen(ident[i]) + 1;

		memcpy(key + off, ident[i], n);
		off += n;
	}
	memcpy(key + off, tail, tail_len);
	*ret_len = len;
	return key;
}

static void point_ident(struct pending *p)
{
	const char *at = p->key + 1;

	for (int i = 0; i < ID_COUNT; i++) {
		p->ident[i] = at;
		at += strlen(at) + 1;
	}
}

static int set_image(struct pending *p, const char *image)
{
	char *copy;

	if (!image || !*image || (p->image && !strcmp(p->image, image)))
		return 0;
	copy = strdup(image);
	if (!copy)
		return -ENOMEM;
	free(p->image);
	p->image = copy;
	return 0;
}

/* A workload's owner as last derived: a label read late may correct a
 * name pattern. */
static int set_owner(struct pending *p, const struct workload *w)
{
	const char *owner[3] = { w->owner_kind, w->owner_name, w->owner_how };
	char *copy[3] = { NULL };

	if (!owner[0] || !*owner[0])
		return 0;
	for (int i = 0; i < 3; i++) {
		copy[i] = strdup(owner[i] ? owner[i] : "");
		if (!copy[i]) {
			while (i--)
				free(copy[i]);
			return -ENOMEM;
		}
	}
	for (int i = 0; i < 3; i++) {
		free(p->owner[i]);
		p->owner[i] = copy[i];
	}
	return 0;
}

static void merge_times(struct pending *p, uint64_t first, uint64_t last)
{
	if (first < p->first_seen)
		p->first_seen = first;
	if (last > p->last_seen)
		p->last_seen = last;
}

/* Finds or inserts the entry of key (consumed); *ret_new tells which. */
static int upsert_pending(struct store *s, struct pending **head, char *key, size_t key_len,
			  enum workload_kind kind, struct pending **ret_p)
{
	struct pending *p;
	int err;

	HASH_FIND(hh, *head, key, key_len, p);
	if (p) {
		free(key);
		*ret_p = p;
		return 0;
	}
	if (HASH_COUNT(s->checks) + HASH_COUNT(s->instances) >= STORE_MAX_PENDING) {
		err = store_flush(s);
		if (err) {
			free(key);
			return -ENOBUFS;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(key);
		return -ENOMEM;
	}
	p->key = key;
	p->key_len = key_len;
	p->kind = kind;
	p->first_seen = UINT64_MAX;
	point_ident(p);
	HASH_ADD_KEYPTR(hh, *head, p->key, p->key_len, p);
	if (hash_add_failed()) {
		pending_free(p);
		return -ENOMEM;
	}
	*ret_p = p;
	return 0;
}

static int add_instance(struct store *s, const struct store_obs *obs,
			const char *const ident[ID_COUNT])
{
	const char *id = obs->workload.container_id;
	struct pending *p;
	size_t len;
	char *key;
	int err;

	if (!id || !*id)
		return 0;
	key = make_key(obs->workload.kind, ident, id, strlen(id) + 1, &len);
	if (!key)
		return -ENOMEM;
	err = upsert_pending(s, &s->instances, key, len, obs->workload.kind, &p);
	if (err)
		return err;
	if (!p->instance) {
		p->instance = strdup(id);
		if (!p->instance) {
			HASH_DEL(s->instances, p);
			pending_free(p);
			return -ENOMEM;
		}
	}
	merge_times(p, obs->check.first_ns, obs->check.last_ns);
	return set_image(p, obs->workload.image);
}

int store_add(struct store *s, const struct store_obs *obs)
{
	const struct check *c = &obs->check;
	const char *ident[ID_COUNT];
	struct row_key row = {
		.cap = c->cap,
		.syscall = c->syscall,
		.flags = c->flags & CHECK_FLAGS,
		.denied = c->denied,
		.audit = (uint8_t)c->audit,
	};
	struct pending *p;
	size_t len;
	char *key;
	int err;

	if (s->rdonly)
		return -EROFS;
	if (!workload_kind_name(obs->workload.kind) || !check_audit_name(c->audit))
		return -EINVAL;
	identity(&obs->workload, ident);
	key = make_key(obs->workload.kind, ident, &row, sizeof(row), &len);
	if (!key)
		return -ENOMEM;
	err = upsert_pending(s, &s->checks, key, len, obs->workload.kind, &p);
	if (!err) {
		p->row = row;
		p->count = check_count_add(p->count, c->count);
		merge_times(p, c->first_ns, c->last_ns);
		check_outcome_add(&p->outcome, &c->outcome);
		err = set_image(p, obs->workload.image);
	}
	if (!err)
		err = set_owner(p, &obs->workload);
	if (!err)
		err = add_instance(s, obs, ident);
	if (err)
		s->stats.dropped++;
	return err;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_err(rc);
}

static int upsert_workload(struct store *s, const struct pending *p, int64_t *ret_id)
{
	sqlite3_stmt *st = s->stmt[ST_WORKLOAD];
	int rc;

	sqlite3_bind_int(st, 1, p->kind);
	for (int i = 0; i < ID_COUNT; i++)
		sqlite3_bind_text(st, 2 + i, p->ident[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, p->image ? p->image : "", -1, SQLITE_STATIC);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_text(st, 8 + i, p->owner[i] ? p->owner[i] : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(st, 0);
	/* Run the statement to completion rather than leave it for reset. */
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : sqlite_err(rc);
}

/* A count or time as the store keeps it: at most STORE_COUNT_MAX, never a
 * negative number. */
static int64_t stored(uint64_t value)
{
	return (int64_t)(value < STORE_COUNT_MAX ? value : STORE_COUNT_MAX);
}

static int flush_check(struct store *s, const struct pending *p)
{
	sqlite3_stmt *st = s->stmt[ST_CHECK];
	int64_t id;
	int err = upsert_workload(s, p, &id);

	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, p->row.cap);
	sqlite3_bind_int(st, 3, p->row.denied);
	sqlite3_bind_int(st, 4, p->row.audit);
	sqlite3_bind_int(st, 5, p->row.syscall);
	sqlite3_bind_int64(st, 6, p->row.flags);
	sqlite3_bind_int64(st, 7, stored(p->count));
	sqlite3_bind_int64(st, 8, stored(p->first_seen));
	sqlite3_bind_int64(st, 9, stored(p->last_seen));
	sqlite3_bind_int64(st, 10, stored(p->outcome.eperm));
	sqlite3_bind_int64(st, 11, stored(p->outcome.eacces));
	sqlite3_bind_int64(st, 12, stored(p->outcome.success));
	sqlite3_bind_int64(st, 13, stored(p->outcome.other));
	return step_done(st);
}

static int flush_instance(struct store *s, const struct pending *p)
{
	sqlite3_stmt *st = s->stmt[ST_INSTANCE];
	int64_t id;
	int err = upsert_workload(s, p, &id);

	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, p->instance, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, stored(p->first_seen));
	sqlite3_bind_int64(st, 4, stored(p->last_seen));
	return step_done(st);
}

int store_flush(struct store *s)
{
	struct pending *p, *tmp;
	int64_t rows = 0;
	int err;

	if (!s->checks && !s->instances)
		return 0;
	if (s->rdonly)
		return -EROFS;
	err = exec_sql(s->db, "BEGIN IMMEDIATE");
	if (err)
		goto fail;
	HASH_ITER(hh, s->checks, p, tmp) {
		err = flush_check(s, p);
		if (err)
			goto rollback;
	}
	HASH_ITER(hh, s->instances, p, tmp) {
		err = flush_instance(s, p);
		if (err)
			goto rollback;
	}
	err = query_int(s->db, "SELECT count(*) FROM checks", &rows);
	if (err)
		goto rollback;
	err = exec_sql(s->db, "COMMIT");
	if (err)
		goto rollback;
	drop_pending(&s->checks);
	drop_pending(&s->instances);
	s->stats.flushes++;
	s->stats.flush_err = 0;
	s->stats.rows = (uint64_t)rows;
	return 0;
rollback:
	exec_sql(s->db, "ROLLBACK");
fail:
	s->stats.flush_errors++;
	s->stats.flush_err = err;
	return err;
}

static const char query_head[] =
	"SELECT w.id, w.kind, w.pod_namespace, w.pod_name, w.container_name, w.image,"
	" w.binary, w.unit,"
	" (SELECT count(*) FROM instances i WHERE i.workload_id = w.id),"
	" c.cap, c.denied, c.audit, c.syscall, c.flags, c.count, c.first_seen, c.last_seen,"
	" c.eperm, c.eacces, c.success, c.other, w.owner_kind, w.owner_name, w.owner_how"
	" FROM checks c JOIN workloads w ON w.id = c.workload_id WHERE ";

_Static_assert(WORKLOAD_POD_CONTAINER == 1 && WORKLOAD_CONTAINER == 2 &&
		       WORKLOAD_HOST_BINARY == 3 && WORKLOAD_UNIT == 4,
	       "the queries name workload kinds by their stored numbers");

static const char *const query_where[] = {
	[STORE_SELECT_ALL] = "1",
	[STORE_SELECT_POD] = "w.kind = 1 AND w.pod_namespace = ?1 AND w.pod_name = ?2",
	[STORE_SELECT_CONTAINER] =
		"(w.kind IN (1, 2) AND w.container_name = ?1) OR EXISTS (SELECT 1 FROM"
		" instances i WHERE i.workload_id = w.id AND (i.instance = ?1 OR"
		" (length(?1) >= 12 AND substr(i.instance, 1, length(?1)) = ?1)))",
	[STORE_SELECT_BINARY] = "w.kind = 3 AND w.binary = ?1",
	[STORE_SELECT_UNIT] = "w.kind = 4 AND w.unit = ?1",
	/* Parenthesized: clang takes a lone split literal for a missing comma. */
	[STORE_SELECT_WORKLOAD] = ("w.kind IN (1, 2) AND w.pod_namespace = ?1 AND"
				   " w.owner_kind = ?2 AND w.owner_name = ?3"),
};

static const char query_tail[] =
	" ORDER BY w.id, c.cap, c.denied, c.audit, c.syscall, c.flags";

static const char instances_head[] =
	"SELECT w.id, inst.instance FROM instances inst JOIN workloads w"
	" ON w.id = inst.workload_id WHERE ";

static const char instances_tail[] = " ORDER BY w.id, inst.instance";

static const char *column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);

	return text ? (const char *)text : "";
}

bool store_row_valid(const struct store_row *r)
{
	const struct check *c = &r->check;

	return workload_kind_name(r->workload.kind) && c->cap >= 0 && c->cap < CAPS_MAX &&
	       check_audit_name(c->audit) && c->syscall >= CHECK_NO_SYSCALL &&
	       !(c->flags & ~(uint32_t)CHECK_FLAGS) && c->count <= STORE_COUNT_MAX &&
	       c->first_ns <= STORE_COUNT_MAX && c->last_ns <= STORE_COUNT_MAX &&
	       c->outcome.eperm <= STORE_COUNT_MAX && c->outcome.eacces <= STORE_COUNT_MAX &&
	       c->outcome.success <= STORE_COUNT_MAX && c->outcome.other <= STORE_COUNT_MAX;
}

enum { COL_TEXT_FIRST = 2, COL_TEXT_LAST = 7, COL_OWNER = 21, COL_COUNT = 24 };

/* Column col as an integer if it is one within min..max. */
static bool column_in(sqlite3_stmt *st, int col, int64_t min, int64_t max, int64_t *ret_value)
{
	int64_t v = sqlite3_column_int64(st, col);

	if (v < min || v > max)
		return false;
	*ret_value = v;
	return true;
}

/* False for a row the store never wrote: a column of the wrong type (SQLite
 * would convert it to 0 or to text without a word), a number out of its
 * field's range, or what store_row_valid() refuses. */
static bool read_row(sqlite3_stmt *st, struct store_row *r)
{
	struct workload *w = &r->workload;
	struct check *c = &r->check;
	int64_t kind, cap, denied, audit, syscall, flags;

	for (int col = 0; col < COL_COUNT; col++) {
		int want = (col >= COL_TEXT_FIRST && col <= COL_TEXT_LAST) || col >= COL_OWNER ?
				   SQLITE_TEXT : SQLITE_INTEGER;

		if (sqlite3_column_type(st, col) != want)
			return false;
	}
	if (!column_in(st, 1, 0, INT_MAX, &kind) || !column_in(st, 9, INT_MIN, INT_MAX, &cap) ||
	    !column_in(st, 10, 0, 1, &denied) || !column_in(st, 11, 0, INT_MAX, &audit) ||
	    !column_in(st, 12, INT_MIN, INT_MAX, &syscall) ||
	    !column_in(st, 13, 0, UINT32_MAX, &flags))
		return false;
	r->workload_id = sqlite3_column_int64(st, 0);
	w->kind = (enum workload_kind)kind;
	w->pod_namespace = column_text(st, 2);
	w->pod_name = column_text(st, 3);
	w->container_name = column_text(st, 4);
	w->container_id = NULL;
	w->image = column_text(st, 5);
	w->binary = column_text(st, 6);
	w->unit = column_text(st, 7);
	w->owner_kind = column_text(st, COL_OWNER);
	w->owner_name = column_text(st, COL_OWNER + 1);
	w->owner_how = column_text(st, COL_OWNER + 2);
	r->instances = (uint64_t)sqlite3_column_int64(st, 8);
	c->cap = (int)cap;
	c->denied = denied;
	c->audit = (enum check_audit)audit;
	c->syscall = (int)syscall;
	c->flags = (uint32_t)flags;
	/* Negative ones become more than STORE_COUNT_MAX: refused below. */
	c->count = (uint64_t)sqlite3_column_int64(st, 14);
	c->first_ns = (uint64_t)sqlite3_column_int64(st, 15);
	c->last_ns = (uint64_t)sqlite3_column_int64(st, 16);
	c->outcome.eperm = (uint64_t)sqlite3_column_int64(st, 17);
	c->outcome.eacces = (uint64_t)sqlite3_column_int64(st, 18);
	c->outcome.success = (uint64_t)sqlite3_column_int64(st, 19);
	c->outcome.other = (uint64_t)sqlite3_column_int64(st, 20);
	return store_row_valid(r);
}

/* "containerd://<id>" as events print it, or the bare id. */
static const char *strip_runtime(const char *container)
{
	const char *sep = strstr(container, "://");

	return sep ? sep + 3 : container;
}

static int prepare_select(struct store *s, const struct store_filter *f, const char *head,
			  const char *tail, sqlite3_stmt **ret_st)
{
	char sql[2048];
	sqlite3_stmt *st;
	int rc;

	if ((unsigned)f->select >= sizeof(query_where) / sizeof(query_where[0]))
		return -EINVAL;
	snprintf(sql, sizeof(sql), "%s%s%s%s", s->no_owners ? no_owners_prefix : "", head,
		 query_where[f->select], tail);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_err(rc);
	switch (f->select) {
	case STORE_SELECT_ALL:
		break;
	case STORE_SELECT_POD:
		sqlite3_bind_text(st, 1, str(f->pod_namespace), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, str(f->pod_name), -1, SQLITE_STATIC);
		break;
	case STORE_SELECT_CONTAINER:
		sqlite3_bind_text(st, 1, strip_runtime(str(f->container)), -1, SQLITE_STATIC);
		break;
	case STORE_SELECT_BINARY:
		sqlite3_bind_text(st, 1, str(f->binary), -1, SQLITE_STATIC);
		break;
	case STORE_SELECT_UNIT:
		sqlite3_bind_text(st, 1, str(f->unit), -1, SQLITE_STATIC);
		break;
	case STORE_SELECT_WORKLOAD:
		sqlite3_bind_text(st, 1, str(f->pod_namespace), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, str(f->owner_kind), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, str(f->owner_name), -1, SQLITE_STATIC);
		break;
	}
	*ret_st = st;
	return 0;
}

int store_query(struct store *s, const struct store_filter *f,
		int (*fn)(void *ctx, const struct store_row *row), void *ctx)
{
	sqlite3_stmt *st;
	int rc, err;

	err = prepare_select(s, f, query_head, query_tail, &st);
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_row row;

		if (!read_row(st, &row)) {
			s->stats.invalid++;
			continue;
		}
		err = fn(ctx, &row);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = sqlite_err(rc);
	sqlite3_finalize(st);
	return err;
}

int store_instances(struct store *s, const struct store_filter *f,
		    int (*fn)(void *ctx, int64_t workload_id, const char *instance), void *ctx)
{
	sqlite3_stmt *st;
	int rc, err;

	err = prepare_select(s, f, instances_head, instances_tail, &st);
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 1) != SQLITE_TEXT) {
			s->stats.invalid++;
			continue;
		}
		err = fn(ctx, sqlite3_column_int64(st, 0), column_text(st, 1));
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = sqlite_err(rc);
	sqlite3_finalize(st);
	return err;
}

void store_stats(const struct store *s, struct store_stats *ret_stats)
{
	*ret_stats = s->stats;
	ret_stats->pending = HASH_COUNT(s->checks) + HASH_COUNT(s->instances);
}

void store_gaps(const struct store *s, uint64_t invalid_before, struct store_gaps *ret_gaps)
{
	*ret_gaps = (struct store_gaps){
		.unstored = HASH_COUNT(s->checks) + HASH_COUNT(s->instances),
		.lost = s->stats.dropped,
		.invalid = s->stats.invalid - invalid_before,
		.flush_err = s->stats.flush_err,
	};
}

int store_filter_pod(const char *text, struct store_filter *ret_filter, char *buf, size_t size)
{
	char *slash;

	if (!text || snprintf(buf, size, "%s", text) >= (int)size)
		return -EINVAL;
	slash = strchr(buf, '/');
	if (!slash || slash == buf || !slash[1] || strchr(slash + 1, '/'))
		return -EINVAL;
	*slash = '\0';
	*ret_filter = (struct store_filter){
		.select = STORE_SELECT_POD,
		.pod_namespace = buf,
		.pod_name = slash + 1,
	};
	return 0;
}

int store_filter_workload(const char *text, struct store_filter *ret_filter, char *buf,
			  size_t size)
{
	char *kind, *name;
	const char *canonical;

	if (!text || snprintf(buf, size, "%s", text) >= (int)size)
		return -EINVAL;
	kind = strchr(buf, '/');
	name = kind ? strchr(kind + 1, '/') : NULL;
	if (!name || !name[1] || strchr(name + 1, '/'))
		return -EINVAL;
	*kind++ = '\0';
	*name++ = '\0';
	canonical = workload_owner_kind(kind);
	/* Only a plain container is outside every namespace. */
	if (!canonical || !*buf != !strcmp(canonical, WORKLOAD_OWNER_CONTAINER))
		return -EINVAL;
	*ret_filter = (struct store_filter){
		.select = STORE_SELECT_WORKLOAD,
		.pod_namespace = buf,
		.owner_kind = canonical,
		.owner_name = name,
	};
	return 0;
}
