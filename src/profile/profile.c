#include "profile/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/capability.h>
#include <uthash.h>

#include "lib/syscalls.h"
#include "lib/util.h"

struct str_item {
	char *s;
	UT_hash_handle hh;
};

/* Everything an observation is merged on. Strings are interned, so their
 * pointers compare; the key is zeroed before filling (padding is hashed). */
struct entry_key {
	int32_t cap;
	int32_t syscall;
	uint8_t granted;
	uint8_t audit;
	uint8_t override_cred;
	uint8_t foreign_userns;
	uint8_t via_capset;
	uint8_t outcome;
	const char *binary;
	const char *instance;
};

struct entry {
	struct entry_key key;
	uint64_t count;
	uint64_t first_ns;
	uint64_t last_ns;
	UT_hash_handle hh;
};

struct profile {
	struct entry *entries;
	struct str_item *binaries;
	struct str_item *instances; /* the instance set, also interning ids */
	bool unnamed_instance;
	uint64_t folded;
	char *workload;
	bool has_user;
	uid_t uid;
	char *user_name;
	char **argv;
	bool has_exit;
	int wait_status;
	bool exec_gain;
	bool has_grant; /* a hand-edited "grant" that differs from the checks */
	uint64_t grant;
};

int profile__new(struct profile **ret_profile)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*ret_profile = p;
	return 0;
}

static void free_strings(struct str_item **table)
{
	struct str_item *item, *tmp;

	HASH_ITER(hh, *table, item, tmp) {
		HASH_DEL(*table, item);
		free(item->s);
		free(item);
	}
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

void profile__free(struct profile *p)
{
	struct entry *e, *tmp;

	if (!p)
		return;
	HASH_ITER(hh, p->entries, e, tmp) {
		HASH_DEL(p->entries, e);
		free(e);
	}
	free_strings(&p->binaries);
	free_strings(&p->instances);
	free(p->workload);
	free(p->user_name);
	free_argv(p->argv);
	free(p);
}

static const char *find_str(struct str_item *table, const char *s)
{
	struct str_item *item;

	HASH_FIND_STR(table, s, item);
	return item ? item->s : NULL;
}

static const char *intern(struct str_item **table, const char *s)
{
	struct str_item *item;
	const char *found = find_str(*table, s);

	if (found)
		return found;
	item = calloc(1, sizeof(*item));
	if (!item)
		return NULL;
	item->s = strdup(s);
	if (!item->s) {
		free(item);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, *table, item->s, strlen(item->s), item);
	return item->s;
}

static bool str_ok(const char *s)
{
	return !s || strnlen(s, PROFILE_STR_MAX) < PROFILE_STR_MAX;
}

/* Registers a named instance; NULL (and no error) when the set is full. */
static int add_instance(struct profile *p, const char *id, const char **ret_id)
{
	const char *found = find_str(p->instances, id);

	if (!found && HASH_COUNT(p->instances) < PROFILE_MAX_INSTANCES) {
		found = intern(&p->instances, id);
		if (!found)
			return -ENOMEM;
	}
	*ret_id = found;
	return 0;
}

int profile_add_denied(struct profile *p, const struct profile_obs *obs,
		       const struct check_outcome *outcome)
{
	const struct check_outcome none = { 0 };
	const struct check_outcome *o = outcome ? outcome : &none;
	struct {
		enum profile_outcome outcome;
		uint64_t count;
	} parts[] = {
		{ PROFILE_OUTCOME_MATTERED, o->eperm + o->eacces },
		{ PROFILE_OUTCOME_FALLBACK, o->success },
		{ PROFILE_OUTCOME_OTHER_ERROR, o->other },
	};
	struct profile_obs part = *obs;
	uint64_t seen = 0;
	int err;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t left = obs->count - seen;
		uint64_t n = parts[i].count < left ? parts[i].count : left;

		if (!n)
			continue;
		part.outcome = parts[i].outcome;
		part.count = n;
		err = profile_add(p, &part);
		if (err)
			return err;
		seen += n;
	}
	if (seen == obs->count)
		return 0;
	part.outcome = PROFILE_OUTCOME_UNOBSERVED;
	part.count = obs->count - seen;
	return profile_add(p, &part);
}

int profile_add_instance(struct profile *p, const char *instance)
{
	const char *id;
	int err;

	if (!str_ok(instance))
		return -EINVAL;
	if (!instance) {
		p->unnamed_instance = true;
		return 0;
	}
	err = add_instance(p, instance, &id);
	if (err)
		return err;
	return id ? 0 : -ENOSPC;
}

static void entry_account(struct entry *e, const struct profile_obs *obs)
{
	e->count += obs->count;
	if (obs->first_ns && (!e->first_ns || obs->first_ns < e->first_ns))
		e->first_ns = obs->first_ns;
	if (obs->last_ns > e->last_ns)
		e->last_ns = obs->last_ns;
}

int profile_add(struct profile *p, const struct profile_obs *obs)
{
	struct entry_key key;
	struct entry *e = NULL;
	bool fold = false;
	int err;

	if (obs->cap < 0 || obs->cap >= CAPS_MAX || obs->syscall < CHECK_NO_SYSCALL ||
	    !check_audit_name(obs->audit) ||
	    (unsigned int)obs->outcome >= PROFILE_OUTCOME_COUNT || !str_ok(obs->binary) ||
	    !str_ok(obs->instance))
		return -EINVAL;
	if (!obs->count)
		return 0;

	memset(&key, 0, sizeof(key));
	key.cap = obs->cap;
	key.syscall = obs->syscall;
	key.granted = obs->granted;
	key.audit = (uint8_t)obs->audit;
	key.override_cred = obs->override_cred;
	key.foreign_userns = obs->foreign_userns;
	key.via_capset = obs->via_capset;
	key.outcome = obs->granted ? PROFILE_OUTCOME_UNOBSERVED : (uint8_t)obs->outcome;
	if (obs->instance) {
		err = add_instance(p, obs->instance, &key.instance);
		if (err)
			return err;
		fold = !key.instance;
	} else {
		p->unnamed_instance = true;
	}
	if (!fold && obs->binary) {
		key.binary = find_str(p->binaries, obs->binary);
		/* A binary not interned yet has no entry yet. */
		if (!key.binary && HASH_COUNT(p->entries) >= PROFILE_MAX_ENTRIES)
			fold = true;
		else if (!key.binary && !(key.binary = intern(&p->binaries, obs->binary)))
			return -ENOMEM;
	}
	if (!fold) {
		HASH_FIND(hh, p->entries, &key, sizeof(key), e);
		fold = !e && HASH_COUNT(p->entries) >= PROFILE_MAX_ENTRIES;
	}
	if (fold) {
		/* Without binary and instance the keys are few (capability x
		 * flags x syscall), so these entries may pass the bound. */
		key.binary = NULL;
		key.instance = NULL;
		p->folded += obs->count;
		HASH_FIND(hh, p->entries, &key, sizeof(key), e);
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = key;
		HASH_ADD(hh, p->entries, key, sizeof(e->key), e);
	}
	entry_account(e, obs);
	return 0;
}

int profile_add_check(struct profile *p, const struct check *c, const char *binary,
		      const char *instance)
{
	struct profile_obs obs = {
		.cap = c->cap,
		.granted = !c->denied,
		.audit = c->audit,
		.override_cred = c->flags & CHECK_OVERRIDE_CRED,
		.foreign_userns = c->flags & CHECK_FOREIGN_USERNS,
		.via_capset = syscalls_is_capset(c->syscall),
		.syscall = c->syscall,
		.count = c->count,
		.first_ns = c->first_ns,
		.last_ns = c->last_ns,
		.binary = binary,
		.instance = instance,
	};

	if (c->flags & CHECK_KTHREAD)
		return 0;
	return c->denied ? profile_add_denied(p, &obs, &c->outcome) : profile_add(p, &obs);
}

static void entry_obs(const struct entry *e, struct profile_obs *ret_obs)
{
	*ret_obs = (struct profile_obs){
		.cap = e->key.cap,
		.granted = e->key.granted,
		.audit = (enum check_audit)e->key.audit,
		.override_cred = e->key.override_cred,
		.foreign_userns = e->key.foreign_userns,
		.via_capset = e->key.via_capset,
		.syscall = e->key.syscall,
		.outcome = (enum profile_outcome)e->key.outcome,
		.count = e->count,
		.first_ns = e->first_ns,
		.last_ns = e->last_ns,
		.binary = e->key.binary,
		.instance = e->key.instance,
	};
}

static int set_str(char **field, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

int profile_set_workload(struct profile *p, const char *name)
{
	return set_str(&p->workload, name);
}

int profile_set_user(struct profile *p, uid_t uid, const char *name)
{
	int err = set_str(&p->user_name, name);

	if (err)
		return err;
	p->has_user = true;
	p->uid = uid;
	return 0;
}

int profile_set_command(struct profile *p, char *const *argv)
{
	size_t n = 0;
	char **copy;

	while (argv && argv[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		copy[i] = strdup(argv[i]);
		if (!copy[i]) {
			free_argv(copy);
			return -ENOMEM;
		}
	}
	free_argv(p->argv);
	p->argv = copy;
	return 0;
}

void profile_set_exit(struct profile *p, int wait_status)
{
	p->has_exit = true;
	p->wait_status = wait_status;
}

void profile_set_exec_gain(struct profile *p, bool gained)
{
	p->exec_gain = gained;
}

const char *profile_workload(const struct profile *p)
{
	return p->workload;
}

bool profile_user(const struct profile *p, uid_t *ret_uid, const char **ret_name)
{
	if (!p->has_user)
		return false;
	if (ret_uid)
		*ret_uid = p->uid;
	if (ret_name)
		*ret_name = p->user_name;
	return true;
}

char *const *profile_command(const struct profile *p)
{
	return p->argv;
}

bool profile_exit(const struct profile *p, int *ret_wait_status)
{
	if (p->has_exit && ret_wait_status)
		*ret_wait_status = p->wait_status;
	return p->has_exit;
}

bool profile_exec_gain(const struct profile *p)
{
	return p->exec_gain;
}

static enum profile_class classify(bool granted, enum check_audit audit, bool override_cred,
				   bool foreign_userns, bool via_capset)
{
	if (via_capset)
		return PROFILE_CLASS_CAPSET;
	if (override_cred)
		return PROFILE_CLASS_OVERRIDE_CRED;
	if (foreign_userns)
		return PROFILE_CLASS_FOREIGN_USERNS;
	if (audit == CHECK_NOAUDIT)
		return PROFILE_CLASS_NOAUDIT;
	return granted ? PROFILE_CLASS_REQUIRED : PROFILE_CLASS_DENIED;
}

static enum profile_class key_class(const struct entry_key *k)
{
	return classify(k->granted, (enum check_audit)k->audit, k->override_cred,
			k->foreign_userns, k->via_capset);
}

enum profile_class profile_obs_class(const struct profile_obs *obs)
{
	return classify(obs->granted, obs->audit, obs->override_cred, obs->foreign_userns,
			obs->via_capset);
}

struct cap_instance {
	int cap;
	const char *instance;
};

static int cmp_cap_instance(const void *a, const void *b)
{
	const struct cap_instance *x = a, *y = b;

	if (x->cap != y->cap)
		return x->cap < y->cap ? -1 : 1;
	if (x->instance != y->instance)
		return (uintptr_t)x->instance < (uintptr_t)y->instance ? -1 : 1;
	return 0;
}

/* Every capability's summary in one pass; present[cap] when it has checks. */
static int summarize(const struct profile *p, struct profile_cap caps[CAPS_MAX],
		     bool present[CAPS_MAX])
{
	struct cap_instance *pairs;
	const struct entry *e, *tmp;
	size_t n = 0;

	memset(present, 0, CAPS_MAX * sizeof(*present));
	for (int cap = 0; cap < CAPS_MAX; cap++)
		caps[cap] = (struct profile_cap){ .cap = cap, .cls = PROFILE_CLASS_COUNT };
	HASH_ITER(hh, p->entries, e, tmp) {
		struct profile_cap *c = &caps[e->key.cap];
		enum profile_class cls = key_class(&e->key);

		present[e->key.cap] = true;
		if (e->key.granted)
			c->granted += e->count;
		else
			c->denied += e->count;
		c->by_class[cls] += e->count;
		if (cls == PROFILE_CLASS_REQUIRED && e->key.audit == CHECK_AUDIT_UNKNOWN)
			c->unclassified += e->count;
		if (cls < c->cls)
			c->cls = cls;
		if (e->first_ns && (!c->first_ns || e->first_ns < c->first_ns))
			c->first_ns = e->first_ns;
		if (e->last_ns > c->last_ns)
			c->last_ns = e->last_ns;
	}

	/* Coverage of a capability: distinct instances among the checks
	 * that gave it its class (NULL, the unnamed instance, is one). */
	pairs = malloc((HASH_COUNT(p->entries) + 1) * sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	HASH_ITER(hh, p->entries, e, tmp) {
		if (key_class(&e->key) == caps[e->key.cap].cls)
			pairs[n++] = (struct cap_instance){ e->key.cap, e->key.instance };
	}
	qsort(pairs, n, sizeof(*pairs), cmp_cap_instance);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || cmp_cap_instance(&pairs[i - 1], &pairs[i]) != 0)
			caps[pairs[i].cap].instances++;
	}
	free(pairs);
	return 0;
}

int profile_summary(const struct profile *p, struct profile_cap ret_caps[CAPS_MAX],
		    uint64_t *ret_present)
{
	struct profile_cap caps[CAPS_MAX];
	bool present[CAPS_MAX];
	uint64_t mask = 0;
	int err;

	err = summarize(p, caps, present);
	if (err)
		return err;
	for (int cap = 0; cap < CAPS_MAX; cap++)
		mask |= present[cap] ? 1ull << cap : 0;
	memcpy(ret_caps, caps, sizeof(caps));
	*ret_present = mask;
	return 0;
}

/* Without the per-capability coverage, so it cannot fail. */
static uint64_t class_mask(const struct profile *p, enum profile_class cls)
{
	enum profile_class best[CAPS_MAX];
	const struct entry *e, *tmp;
	uint64_t mask = 0;

	for (int cap = 0; cap < CAPS_MAX; cap++)
		best[cap] = PROFILE_CLASS_COUNT;
	HASH_ITER(hh, p->entries, e, tmp) {
		enum profile_class c = key_class(&e->key);

		if (c < best[e->key.cap])
			best[e->key.cap] = c;
	}
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (best[cap] == cls)
			mask |= 1ull << cap;
	}
	return mask;
}

uint64_t profile_mask(const struct profile *p, enum profile_class cls)
{
	return class_mask(p, cls);
}

uint64_t profile_required_mask(const struct profile *p)
{
	return class_mask(p, PROFILE_CLASS_REQUIRED);
}

uint64_t profile_grant_mask(const struct profile *p)
{
	return p->has_grant ? p->grant : profile_required_mask(p);
}

bool profile_grant_edited(const struct profile *p)
{
	return p->has_grant;
}

bool profile_no_escalation(const struct profile *p)
{
	uint64_t grant = profile_grant_mask(p);
	bool root = !p->has_user || p->uid == 0;

	/* Kubernetes keeps privilege escalation on for CAP_SYS_ADMIN anyway. */
	if (p->exec_gain || grant & (1ull << CAP_SYS_ADMIN))
		return false;
	return !grant || root;
}

unsigned int profile_coverage(const struct profile *p)
{
	return HASH_COUNT(p->instances) + (p->unnamed_instance ? 1 : 0);
}

uint64_t profile_folded(const struct profile *p)
{
	return p->folded;
}

/* Audited checks first, probes next, the unclassified last. */
static int audit_rank(uint8_t audit)
{
	switch (audit) {
	case CHECK_AUDITED: return 0;
	case CHECK_NOAUDIT: return 1;
	default: return 2;
	}
}

static int cmp_str_null_first(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (!a || !b)
		return a ? 1 : -1;
	return strcmp(a, b);
}

#define CMP_FIELD(a, b)                            \
	do {                                       \
		if ((a) != (b))                    \
			return (a) < (b) ? -1 : 1; \
	} while (0)

static int cmp_entries(const void *a, const void *b)
{
	const struct entry_key *x = &(*(const struct entry *const *)a)->key;
	const struct entry_key *y = &(*(const struct entry *const *)b)->key;
	int c;

	CMP_FIELD(x->cap, y->cap);
	CMP_FIELD(key_class(x), key_class(y));
	CMP_FIELD(y->granted, x->granted);
	CMP_FIELD(audit_rank(x->audit), audit_rank(y->audit));
	CMP_FIELD(x->override_cred, y->override_cred);
	CMP_FIELD(x->foreign_userns, y->foreign_userns);
	CMP_FIELD(x->via_capset, y->via_capset);
	CMP_FIELD(x->syscall, y->syscall);
	CMP_FIELD(x->outcome, y->outcome);
	c = cmp_str_null_first(x->binary, y->binary);
	if (c)
		return c;
	return cmp_str_null_first(x->instance, y->instance);
}

static int sorted_entries(const struct profile *p, struct entry ***ret_sorted, size_t *ret_n)
{
	size_t n = HASH_COUNT(p->entries), i = 0;
	struct entry **sorted, *e, *tmp;

	sorted = malloc((n + 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	HASH_ITER(hh, p->entries, e, tmp)
		sorted[i++] = e;
	qsort(sorted, n, sizeof(*sorted), cmp_entries);
	*ret_sorted = sorted;
	*ret_n = n;
	return 0;
}

int profile_entries(const struct profile *p, struct profile_obs **ret_entries, size_t *ret_n)
{
	struct profile_obs *obs;
	struct entry **sorted;
	size_t n = 0;
	int err;

	err = sorted_entries(p, &sorted, &n);
	if (err)
		return err;
	obs = malloc((n + 1) * sizeof(*obs));
	if (!obs) {
		free(sorted);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		entry_obs(sorted[i], &obs[i]);
	free(sorted);
	*ret_entries = obs;
	*ret_n = n;
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int profile_instances(const struct profile *p, const char ***ret_ids, size_t *ret_n)
{
	size_t n = HASH_COUNT(p->instances), i = 0;
	const struct str_item *item, *tmp;
	const char **ids;

	ids = malloc((n + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	HASH_ITER(hh, p->instances, item, tmp)
		ids[i++] = item->s;
	qsort(ids, n, sizeof(*ids), cmp_strp);
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

bool profile_unnamed_instance(const struct profile *p)
{
	return p->unnamed_instance;
}

int profile_denials(const struct profile *p, struct profile_denial **ret_denials, size_t *ret_n)
{
	uint64_t denied_only = class_mask(p, PROFILE_CLASS_DENIED);
	struct profile_denial *out = NULL, *d = NULL;
	struct entry **sorted;
	size_t n, n_out = 0;
	int err;

	err = sorted_entries(p, &sorted, &n);
	if (err)
		return err;
	out = calloc(n + 1, sizeof(*out));
	if (!out) {
		free(sorted);
		return -ENOMEM;
	}
	/* Sorted by capability, class, ..., syscall: one capability's denied
	 * checks are adjacent, but not one syscall's (audit comes first). */
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = sorted[i];

		if (!(denied_only & (1ull << e->key.cap)) ||
		    key_class(&e->key) != PROFILE_CLASS_DENIED)
			continue;
		d = NULL;
		for (size_t j = n_out; j-- > 0 && out[j].cap == e->key.cap;) {
			if (out[j].syscall == e->key.syscall) {
				d = &out[j];
				break;
			}
		}
		if (!d) {
			d = &out[n_out++];
			d->cap = e->key.cap;
			d->syscall = e->key.syscall;
		}
		d->outcomes[e->key.outcome] += e->count;
		if (e->key.binary && !d->binary)
			d->binary = e->key.binary;
	}
	free(sorted);
	*ret_denials = out;
	*ret_n = n_out;
	return 0;
}

int profile_merge(struct profile *dst, const struct profile *src)
{
	uint64_t grant_dst = profile_grant_mask(dst), grant_src = profile_grant_mask(src);
	const struct str_item *item, *tmp;
	const struct entry *e, *etmp;
	int err;

	if (dst == src)
		return -EINVAL;
	HASH_ITER(hh, src->instances, item, tmp) {
		err = profile_add_instance(dst, item->s);
		if (err && err != -ENOSPC)
			return err;
	}
	if (src->unnamed_instance)
		dst->unnamed_instance = true;
	HASH_ITER(hh, src->entries, e, etmp) {
		struct profile_obs obs;

		entry_obs(e, &obs);
		err = profile_add(dst, &obs);
		if (err)
			return err;
	}
	dst->folded += src->folded;
	if (dst->has_grant || src->has_grant) {
		dst->has_grant = true;
		dst->grant = grant_dst | grant_src;
	}
	dst->exec_gain = dst->exec_gain || src->exec_gain;
	if (!dst->workload && src->workload && (err = profile_set_workload(dst, src->workload)))
		return err;
	if (!dst->has_user && src->has_user &&
	    (err = profile_set_user(dst, src->uid, src->user_name)))
		return err;
	if (!dst->argv && src->argv && (err = profile_set_command(dst, src->argv)))
		return err;
	if (!dst->has_exit && src->has_exit)
		profile_set_exit(dst, src->wait_status);
	return 0;
}

static const char *const class_names[PROFILE_CLASS_COUNT] = {
	[PROFILE_CLASS_REQUIRED] = "required",
	[PROFILE_CLASS_DENIED] = "denied",
	[PROFILE_CLASS_CAPSET] = "capset",
	[PROFILE_CLASS_FOREIGN_USERNS] = "foreign_userns",
	[PROFILE_CLASS_OVERRIDE_CRED] = "override_cred",
	[PROFILE_CLASS_NOAUDIT] = "noaudit",
};

const char *profile_class_name(enum profile_class cls)
{
	return (unsigned int)cls < PROFILE_CLASS_COUNT ? class_names[cls] : "?";
}

static const char *const outcome_names[PROFILE_OUTCOME_COUNT] = {
	[PROFILE_OUTCOME_UNOBSERVED] = "unobserved",
	[PROFILE_OUTCOME_MATTERED] = "mattered",
	[PROFILE_OUTCOME_FALLBACK] = "fallback",
	[PROFILE_OUTCOME_OTHER_ERROR] = "other_error",
};

const char *profile_outcome_name(enum profile_outcome outcome)
{
	return (unsigned int)outcome < PROFILE_OUTCOME_COUNT ? outcome_names[outcome] : "?";
}

/* Reading JSON back. Every failure says where, for hand-edited files. */

/* Every reader below fills a PROFILE_WHY_LEN buffer. */
#define bad(why, ...) invalid_input(why, PROFILE_WHY_LEN, __VA_ARGS__)

static bool is_one_of(const char *key, const char *const *names)
{
	for (; *names; names++) {
		if (strcmp(key, *names) == 0)
			return true;
	}
	return false;
}

static int name_index(const char *text, const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(text, names[i]) == 0)
			return i;
	}
	return -1;
}

static int get_uint(struct json_object *v, const char *where, uint64_t max, uint64_t *ret,
		    char *why)
{
	uint64_t value;

	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return bad(why, "%s: not a non-negative integer", where);
	value = json_object_get_uint64(v);
	if (value > max)
		return bad(why, "%s: %llu is out of range", where, (unsigned long long)value);
	*ret = value;
	return 0;
}

static int get_bool(struct json_object *v, const char *where, bool *ret, char *why)
{
	if (!json_object_is_type(v, json_type_boolean))
		return bad(why, "%s: not true or false", where);
	*ret = json_object_get_boolean(v);
	return 0;
}

/* A string, or NULL for JSON null. */
static int get_str(struct json_object *v, const char *where, const char **ret, char *why)
{
	if (!v) {
		*ret = NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(why, "%s: not a string", where);
	*ret = json_object_get_string(v);
	if (strlen(*ret) >= PROFILE_STR_MAX)
		return bad(why, "%s: longer than %d bytes", where, PROFILE_STR_MAX - 1);
	return 0;
}

static int get_array(struct json_object *v, const char *where, size_t *ret_n, char *why)
{
	if (!json_object_is_type(v, json_type_array))
		return bad(why, "%s: not an array", where);
	*ret_n = json_object_array_length(v);
	return 0;
}

static int get_cap(struct json_object *v, const char *where, int *ret_cap, char *why)
{
	const char *name;
	char near[CAPS_NAME_LEN];

	if (get_str(v, where, &name, why) || !name)
		return bad(why, "%s: not a capability name", where);
	if (caps_parse(name, ret_cap) != 0) {
		caps_closest(name, near);
		return bad(why, "%s: unknown capability \"%.40s\" (did you mean %s?)", where, name,
			   near);
	}
	return 0;
}

static int parse_check(struct profile *p, int cap, struct json_object *check, const char *where,
		       char *why)
{
	static const char *const derived[] = { "class", NULL };
	struct profile_obs obs = { .cap = cap, .syscall = CHECK_NO_SYSCALL };
	const char *syscall = NULL, *text;
	bool has_verdict = false, has_count = false;
	uint64_t syscall_nr = UINT64_MAX;
	char at[160];
	int err, i;

	if (!json_object_is_type(check, json_type_object))
		return bad(why, "%s: not an object", where);
	json_object_object_foreach(check, key, v) {
		snprintf(at, sizeof(at), "%s.%s", where, key);
		if (strcmp(key, "verdict") == 0) {
			if ((err = get_str(v, at, &text, why)))
				return err;
			if (!text || (strcmp(text, "granted") && strcmp(text, "denied")))
				return bad(why, "%s: not \"granted\" or \"denied\"", at);
			obs.granted = strcmp(text, "granted") == 0;
			has_verdict = true;
		} else if (strcmp(key, "audit") == 0) {
			if ((err = get_str(v, at, &text, why)))
				return err;
			if (!text || check_audit_parse(text, &obs.audit))
				return bad(why, "%s: not \"audited\", \"noaudit\" or \"unknown\"",
					   at);
		} else if (strcmp(key, "outcome") == 0) {
			if ((err = get_str(v, at, &text, why)))
				return err;
			i = text ? name_index(text, outcome_names, PROFILE_OUTCOME_COUNT) : -1;
			if (i < 0)
				return bad(why,
					   "%s: not \"mattered\", \"fallback\", \"other_error\" or "
					   "\"unobserved\"",
					   at);
			obs.outcome = (enum profile_outcome)i;
		} else if (strcmp(key, "override_cred") == 0) {
			if ((err = get_bool(v, at, &obs.override_cred, why)))
				return err;
		} else if (strcmp(key, "foreign_userns") == 0) {
			if ((err = get_bool(v, at, &obs.foreign_userns, why)))
				return err;
		} else if (strcmp(key, "capset") == 0) {
			if ((err = get_bool(v, at, &obs.via_capset, why)))
				return err;
		} else if (strcmp(key, "syscall") == 0) {
			if ((err = get_str(v, at, &syscall, why)))
				return err;
		} else if (strcmp(key, "syscall_nr") == 0) {
			/* -1 (none) is written too; only a number is kept. */
			if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < -1)
				return bad(why, "%s: not a syscall number", at);
			if (json_object_get_int64(v) >= 0 &&
			    (err = get_uint(v, at, INT32_MAX, &syscall_nr, why)))
				return err;
		} else if (strcmp(key, "count") == 0) {
			if ((err = get_uint(v, at, UINT64_MAX, &obs.count, why)))
				return err;
			has_count = true;
		} else if (strcmp(key, "first_ns") == 0) {
			if ((err = get_uint(v, at, UINT64_MAX, &obs.first_ns, why)))
				return err;
		} else if (strcmp(key, "last_ns") == 0) {
			if ((err = get_uint(v, at, UINT64_MAX, &obs.last_ns, why)))
				return err;
		} else if (strcmp(key, "binary") == 0) {
			if ((err = get_str(v, at, &obs.binary, why)))
				return err;
		} else if (strcmp(key, "instance") == 0) {
			if ((err = get_str(v, at, &obs.instance, why)))
				return err;
		} else if (!is_one_of(key, derived)) {
			return bad(why, "%s: unknown field", at);
		}
	}
	if (!has_verdict || !has_count)
		return bad(why, "%s: needs \"verdict\" and \"count\"", where);
	/* The name first: numbers differ between architectures. */
	if (syscall && syscalls_number(syscall, &obs.syscall) != 0) {
		if (syscall_nr == UINT64_MAX)
			return bad(why, "%s.syscall: unknown syscall \"%.40s\"", where, syscall);
		obs.syscall = (int)syscall_nr;
	} else if (!syscall && syscall_nr != UINT64_MAX) {
		obs.syscall = (int)syscall_nr;
	}
	err = profile_add(p, &obs);
	return err == -EINVAL ? bad(why, "%s: invalid check", where) : err;
}

static int parse_capability(struct profile *p, struct json_object *c, const char *where, char *why)
{
	static const char *const derived[] = {
		"number", "class", "granted", "denied", "unclassified",
		"instances", "first_ns", "last_ns", NULL,
	};
	struct json_object *name, *checks;
	char at[96];
	size_t n = 0;
	int cap, err;

	if (!json_object_is_type(c, json_type_object))
		return bad(why, "%s: not an object", where);
	if (!json_object_object_get_ex(c, "name", &name))
		return bad(why, "%s: no \"name\"", where);
	snprintf(at, sizeof(at), "%s.name", where);
	if ((err = get_cap(name, at, &cap, why)))
		return err;
	json_object_object_foreach(c, key, v) {
		(void)v;
		if (strcmp(key, "name") && strcmp(key, "checks") && !is_one_of(key, derived))
			return bad(why, "%s.%s: unknown field", where, key);
	}
	if (!json_object_object_get_ex(c, "checks", &checks))
		return 0;
	snprintf(at, sizeof(at), "%s.checks", where);
	if ((err = get_array(checks, at, &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(at, sizeof(at), "%s.checks[%zu]", where, i);
		err = parse_check(p, cap, json_object_array_get_idx(checks, i), at, why);
		if (err)
			return err;
	}
	return 0;
}

static int parse_user(struct profile *p, struct json_object *v, char *why)
{
	struct json_object *uid_v, *name_v = NULL;
	const char *name = NULL;
	uint64_t uid;
	int err;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "uid", &uid_v))
		return bad(why, "user: not an object with a \"uid\"");
	json_object_object_foreach(v, key, val) {
		(void)val;
		if (strcmp(key, "uid") && strcmp(key, "name"))
			return bad(why, "user.%s: unknown field", key);
	}
	if ((err = get_uint(uid_v, "user.uid", UINT32_MAX - 1, &uid, why)))
		return err;
	json_object_object_get_ex(v, "name", &name_v);
	if ((err = get_str(name_v, "user.name", &name, why)))
		return err;
	return profile_set_user(p, (uid_t)uid, name);
}

static int parse_command(struct profile *p, struct json_object *v, char *why)
{
	const char **argv;
	char at[64];
	size_t n = 0;
	int err;

	if (!v)
		return 0;
	if ((err = get_array(v, "command", &n, why)))
		return err;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		snprintf(at, sizeof(at), "command[%zu]", i);
		err = get_str(json_object_array_get_idx(v, i), at, &argv[i], why);
		if (!err && !argv[i])
			err = bad(why, "%s: not a string", at);
	}
	if (!err)
		err = profile_set_command(p, (char *const *)argv);
	free(argv);
	return err;
}

static int parse_exit(struct profile *p, struct json_object *v, char *why)
{
	struct json_object *code, *sig;
	uint64_t value;
	int err;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) != 1)
		return bad(why, "exit: not {\"code\": N} or {\"signal\": N}");
	if (json_object_object_get_ex(v, "code", &code)) {
		if ((err = get_uint(code, "exit.code", 255, &value, why)))
			return err;
		profile_set_exit(p, (int)value << 8);
	} else if (json_object_object_get_ex(v, "signal", &sig)) {
		if ((err = get_uint(sig, "exit.signal", 127, &value, why)))
			return err;
		if (!value)
			return bad(why, "exit.signal: 0 is no signal");
		profile_set_exit(p, (int)value);
	} else {
		return bad(why, "exit: not {\"code\": N} or {\"signal\": N}");
	}
	return 0;
}

static int parse_grant(struct json_object *v, uint64_t *ret_mask, char *why)
{
	uint64_t mask = 0;
	char at[64];
	size_t n = 0;
	int cap, err;

	if ((err = get_array(v, "grant", &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(at, sizeof(at), "grant[%zu]", i);
		if ((err = get_cap(json_object_array_get_idx(v, i), at, &cap, why)))
			return err;
		mask |= 1ull << cap;
	}
	*ret_mask = mask;
	return 0;
}

static int parse_instances(struct profile *p, struct json_object *v, char *why)
{
	const char *id;
	char at[64];
	size_t n = 0;
	int err;

	if ((err = get_array(v, "instances", &n, why)))
		return err;
	for (size_t i = 0; i < n; i++) {
		snprintf(at, sizeof(at), "instances[%zu]", i);
		if ((err = get_str(json_object_array_get_idx(v, i), at, &id, why)))
			return err;
		if (!id)
			return bad(why, "%s: not a string", at);
		err = profile_add_instance(p, id);
		if (err && err != -ENOSPC)
			return err;
	}
	return 0;
}

static int parse_root(struct profile *p, struct json_object *root, char *why)
{
	static const char *const derived[] = {
		"coverage", "grant_edited", "allow_privilege_escalation", "classes", "denials", NULL
	};
	struct json_object *version, *caps = NULL, *v;
	bool unnamed = false, has_unnamed = false, has_grant = false;
	uint64_t value, grant_mask = 0;
	const char *workload;
	char at[48];
	size_t n = 0;
	int err;

	if (!json_object_object_get_ex(root, "captrail_profile", &version))
		return bad(why, "not a captrail profile: no \"captrail_profile\" version");
	if (get_uint(version, "captrail_profile", UINT32_MAX, &value, NULL) ||
	    value != PROFILE_VERSION)
		return bad(why, "captrail_profile: version %s is not %d",
			   json_object_to_json_string(version), PROFILE_VERSION);
	json_object_object_foreach(root, key, val) {
		err = 0;
		if (strcmp(key, "workload") == 0) {
			err = get_str(val, key, &workload, why);
			if (!err)
				err = profile_set_workload(p, workload);
		} else if (strcmp(key, "user") == 0) {
			err = parse_user(p, val, why);
		} else if (strcmp(key, "command") == 0) {
			err = parse_command(p, val, why);
		} else if (strcmp(key, "exit") == 0) {
			err = parse_exit(p, val, why);
		} else if (strcmp(key, "exec_gained_privilege") == 0) {
			err = get_bool(val, key, &p->exec_gain, why);
		} else if (strcmp(key, "instances") == 0) {
			err = parse_instances(p, val, why);
		} else if (strcmp(key, "unnamed_instance") == 0) {
			err = get_bool(val, key, &unnamed, why);
			has_unnamed = true;
		} else if (strcmp(key, "folded") == 0) {
			err = get_uint(val, key, UINT64_MAX, &value, why);
			p->folded += err ? 0 : value;
		} else if (strcmp(key, "grant") == 0) {
			err = parse_grant(val, &grant_mask, why);
			has_grant = true;
		} else if (strcmp(key, "capabilities") == 0) {
			err = get_array(val, key, &n, why);
			caps = val;
		} else if (strcmp(key, "captrail_profile") && !is_one_of(key, derived)) {
			err = bad(why, "%s: unknown field", key);
		}
		if (err)
			return err;
	}
	for (size_t i = 0; caps && i < n; i++) {
		snprintf(at, sizeof(at), "capabilities[%zu]", i);
		v = json_object_array_get_idx(caps, i);
		if ((err = parse_capability(p, v, at, why)))
			return err;
	}
	/* Adding a check without instance marks the unnamed instance seen;
	 * the file knows whether it was (or the check was folded). */
	if (has_unnamed)
		p->unnamed_instance = unnamed;
	if (has_grant && grant_mask != class_mask(p, PROFILE_CLASS_REQUIRED)) {
		p->has_grant = true;
		p->grant = grant_mask;
	}
	return 0;
}

int profile_parse_json(const char *text, struct profile **ret_profile,
		       char ret_why[PROFILE_WHY_LEN])
{
	struct json_tokener *tok;
	struct json_object *root;
	struct profile *p = NULL;
	size_t len = strlen(text), end;
	int err;

	if (len > PROFILE_JSON_MAX)
		return bad(ret_why, "larger than %u bytes", PROFILE_JSON_MAX);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		err = bad(ret_why, "not JSON: %s at byte %zu",
			  json_tokener_error_desc(json_tokener_get_error(tok)),
			  json_tokener_get_parse_end(tok));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	if (text[end + strspn(text + end, " \t\r\n")] != '\0') {
		err = bad(ret_why, "not JSON: data after the document at byte %zu", end);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		err = bad(ret_why, "not a captrail profile: not a JSON object");
		goto out;
	}
	err = profile__new(&p);
	if (!err)
		err = parse_root(p, root, ret_why);
out:
	json_object_put(root);
	json_tokener_free(tok);
	if (err) {
		profile__free(p);
		return err;
	}
	*ret_profile = p;
	return 0;
}

int profile_load_json(const char *path, struct profile **ret_profile, char ret_why[PROFILE_WHY_LEN])
{
	struct stat st;
	char *text;
	size_t done = 0;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > PROFILE_JSON_MAX) {
		close(fd);
		return S_ISREG(st.st_mode) ? bad(ret_why, "larger than %u bytes", PROFILE_JSON_MAX)
					   : bad(ret_why, "not a regular file");
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	/* The size may change under us: read at most what was allocated. */
	while (done < (size_t)st.st_size &&
	       (n = read(fd, text + done, (size_t)st.st_size - done)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			close(fd);
			free(text);
			return err;
		}
		done += (size_t)n;
	}
	close(fd);
	text[done] = '\0';
	if (strlen(text) != done)
		err = bad(ret_why, "not JSON: a NUL byte at %zu", strlen(text));
	else
		err = profile_parse_json(text, ret_profile, ret_why);
	free(text);
	return err;
}
