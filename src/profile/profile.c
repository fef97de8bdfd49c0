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

#include "lib/hash.h"
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
	const char *objects[PROFILE_OBJECTS]; /* interned */
	unsigned int n_objects;
	UT_hash_handle hh;
};

struct kept_key {
	int32_t cap;
	int32_t how;
	const char *binary; /* interned */
};

struct kept {
	struct kept_key key;
	uint64_t count;
	UT_hash_handle hh;
};

struct profile {
	struct entry *entries;
	struct kept *kept;
	bool keep_caps;
	struct str_item *binaries;
	struct str_item *objects; /* interned object texts */
	uint64_t objects_dropped;
	struct str_item *instances; /* the instance set, also interning ids */
	bool unnamed_instance;
	bool replicas; /* the instances are replicas */
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
	uint64_t runs; /* recorded runs merged (profile_merge_run); 0: none */
	uint64_t cap_runs[CAPS_MAX]; /* of them, those with a check of the cap */
	unsigned int nodes; /* nodes the instances ran on (profile_set_nodes); 0: unknown */
	unsigned int cap_nodes[CAPS_MAX];
	/* Out of the grant set: --minimize's runs or kernel knowledge. */
	uint64_t not_needed;
	char *not_needed_why[CAPS_MAX];
	bool minimized;
	unsigned int minimize_runs;
	char *minimize_probe;
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
	struct kept *k, *ktmp;

	HASH_ITER(hh, p->entries, e, tmp) {
		HASH_DEL(p->entries, e);
		free(e);
	}
	HASH_ITER(hh, p->kept, k, ktmp) {
		HASH_DEL(p->kept, k);
		free(k);
	}
	free_strings(&p->binaries);
	free_strings(&p->objects);
	free_strings(&p->instances);
	free(p->workload);
	free(p->user_name);
	free_argv(p->argv);
	for (int cap = 0; cap < CAPS_MAX; cap++)
		free(p->not_needed_why[cap]);
	free(p->minimize_probe);
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
	if (hash_add_failed()) {
		free(item->s);
		free(item);
		return NULL;
	}
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
		{ PROFILE_OUTCOME_MATTERED, check_count_add(o->eperm, o->eacces) },
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

/* Distinct objects, in the order first seen, up to PROFILE_OBJECTS. */
static int entry_objects(struct profile *p, struct entry *e, const struct profile_obs *obs)
{
	for (unsigned int i = 0; i < obs->n_objects && i < PROFILE_OBJECTS; i++) {
		const char *text = intern(&p->objects, obs->objects[i]);
		bool seen = false;

		if (!text)
			return -ENOMEM;
		for (unsigned int j = 0; j < e->n_objects && !seen; j++)
			seen = e->objects[j] == text;
		if (seen)
			continue;
		if (e->n_objects == PROFILE_OBJECTS)
			p->objects_dropped++;
		else
			e->objects[e->n_objects++] = text;
	}
	return 0;
}

static void entry_account(struct entry *e, const struct profile_obs *obs)
{
	e->count = check_count_add(e->count, obs->count);
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
	    !str_ok(obs->instance) || obs->n_objects > PROFILE_OBJECTS)
		return -EINVAL;
	for (unsigned int i = 0; i < obs->n_objects; i++)
		if (!obs->objects[i] || !str_ok(obs->objects[i]))
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
		p->folded = check_count_add(p->folded, obs->count);
		HASH_FIND(hh, p->entries, &key, sizeof(key), e);
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = key;
		HASH_ADD(hh, p->entries, key, sizeof(e->key), e);
		if (hash_add_failed()) {
			free(e);
			return -ENOMEM;
		}
	}
	entry_account(e, obs);
	return entry_objects(p, e, obs);
}

int profile_add_check(struct profile *p, const struct check *c, const char *binary,
		      const char *instance)
{
	return profile_add_check_objects(p, c, binary, instance, NULL, 0);
}

int profile_add_check_objects(struct profile *p, const struct check *c, const char *binary,
			      const char *instance, const char *const *objects, unsigned int n)
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
		.n_objects = n,
	};

	if (n > PROFILE_OBJECTS)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		obs.objects[i] = objects[i];
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
		.n_objects = e->n_objects,
	};
	for (unsigned int i = 0; i < e->n_objects; i++)
		ret_obs->objects[i] = e->objects[i];
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

void profile_set_keep_caps(struct profile *p, bool keep)
{
	p->keep_caps = keep;
}

int profile_add_kept(struct profile *p, const struct profile_kept *k)
{
	struct kept_key key;
	struct kept *e = NULL;

	if (k->cap < 0 || k->cap >= CAPS_MAX || (unsigned int)k->how >= PROFILE_KEPT_HOW_COUNT ||
	    !str_ok(k->binary))
		return -EINVAL;
	if (!k->count)
		return 0;
	memset(&key, 0, sizeof(key));
	key.cap = k->cap;
	key.how = k->how;
	if (k->binary) {
		key.binary = find_str(p->binaries, k->binary);
		if (!key.binary && HASH_COUNT(p->kept) < PROFILE_MAX_KEPT &&
		    !(key.binary = intern(&p->binaries, k->binary)))
			return -ENOMEM;
	}
	HASH_FIND(hh, p->kept, &key, sizeof(key), e);
	if (!e && key.binary && HASH_COUNT(p->kept) >= PROFILE_MAX_KEPT) {
		key.binary = NULL;
		HASH_FIND(hh, p->kept, &key, sizeof(key), e);
	}
	if (k->binary && !key.binary)
		p->folded = check_count_add(p->folded, k->count);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = key;
		HASH_ADD(hh, p->kept, key, sizeof(e->key), e);
		if (hash_add_failed()) {
			free(e);
			return -ENOMEM;
		}
	}
	e->count = check_count_add(e->count, k->count);
	return 0;
}

bool profile_keep_caps(const struct profile *p)
{
	return p->keep_caps;
}

static int cmp_kept(const void *a, const void *b)
{
	const struct profile_kept *x = a, *y = b;

	CMP_FIELD(x->cap, y->cap);
	CMP_FIELD(x->how, y->how);
	return cmp_str_null_first(x->binary, y->binary);
}

int profile_kept(const struct profile *p, struct profile_kept **ret_kept, size_t *ret_n)
{
	size_t n = HASH_COUNT(p->kept), i = 0;
	const struct kept *k, *tmp;
	struct profile_kept *out;

	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	HASH_ITER(hh, p->kept, k, tmp)
		out[i++] = (struct profile_kept){ k->key.cap, (enum profile_kept_how)k->key.how,
						  k->key.binary, k->count };
	qsort(out, n, sizeof(*out), cmp_kept);
	*ret_kept = out;
	*ret_n = n;
	return 0;
}

void profile_set_unnamed_instance(struct profile *p, bool seen)
{
	p->unnamed_instance = seen;
}

void profile_set_replicas(struct profile *p, bool replicas)
{
	p->replicas = replicas;
}

bool profile_replicas(const struct profile *p)
{
	return p->replicas;
}

void profile_add_folded(struct profile *p, uint64_t checks)
{
	p->folded = check_count_add(p->folded, checks);
}

static uint64_t implied_grant(const struct profile *p);

void profile_set_grant(struct profile *p, uint64_t grant)
{
	p->has_grant = grant != (implied_grant(p) & ~p->not_needed);
	p->grant = grant;
}

int profile_set_not_needed(struct profile *p, int cap, const char *reason)
{
	char *copy;

	if (cap < 0 || cap >= CAPS_MAX || !reason)
		return -EINVAL;
	copy = strndup(reason, PROFILE_WHY_LEN);
	if (!copy)
		return -ENOMEM;
	free(p->not_needed_why[cap]);
	p->not_needed_why[cap] = copy;
	p->not_needed |= 1ull << cap;
	return 0;
}

uint64_t profile_not_needed_mask(const struct profile *p)
{
	return p->not_needed;
}

const char *profile_not_needed_reason(const struct profile *p, int cap)
{
	return cap >= 0 && cap < CAPS_MAX ? p->not_needed_why[cap] : NULL;
}

int profile_set_minimize(struct profile *p, unsigned int runs, const char *probe)
{
	char *copy = NULL;

	if (probe && !(copy = strndup(probe, PROFILE_STR_MAX)))
		return -ENOMEM;
	free(p->minimize_probe);
	p->minimize_probe = copy;
	p->minimize_runs = runs;
	p->minimized = true;
	return 0;
}

bool profile_minimize(const struct profile *p, unsigned int *ret_runs, const char **ret_probe)
{
	if (!p->minimized)
		return false;
	*ret_runs = p->minimize_runs;
	*ret_probe = p->minimize_probe;
	return true;
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

enum profile_class profile_check_class(const struct check *c)
{
	return classify(!c->denied, c->audit, c->flags & CHECK_OVERRIDE_CRED,
			c->flags & CHECK_FOREIGN_USERNS, syscalls_is_capset(c->syscall));
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
	const struct kept *k, *ktmp;
	size_t n = 0;

	memset(present, 0, CAPS_MAX * sizeof(*present));
	for (int cap = 0; cap < CAPS_MAX; cap++)
		caps[cap] = (struct profile_cap){ .cap = cap, .cls = PROFILE_CLASS_COUNT };
	HASH_ITER(hh, p->entries, e, tmp) {
		struct profile_cap *c = &caps[e->key.cap];
		enum profile_class cls = key_class(&e->key);

		present[e->key.cap] = true;
		if (e->key.granted)
			c->granted = check_count_add(c->granted, e->count);
		else
			c->denied = check_count_add(c->denied, e->count);
		c->by_class[cls] = check_count_add(c->by_class[cls], e->count);
		if (cls == PROFILE_CLASS_REQUIRED && e->key.audit == CHECK_AUDIT_UNKNOWN)
			c->unclassified = check_count_add(c->unclassified, e->count);
		if (cls < c->cls)
			c->cls = cls;
		if (e->first_ns && (!c->first_ns || e->first_ns < c->first_ns))
			c->first_ns = e->first_ns;
		if (e->last_ns > c->last_ns)
			c->last_ns = e->last_ns;
	}

	HASH_ITER(hh, p->kept, k, ktmp) {
		struct profile_cap *c = &caps[k->key.cap];

		present[k->key.cap] = true;
		c->by_class[PROFILE_CLASS_KEPT] =
			check_count_add(c->by_class[PROFILE_CLASS_KEPT], k->count);
		if (PROFILE_CLASS_KEPT < c->cls)
			c->cls = PROFILE_CLASS_KEPT;
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
	const struct kept *k, *ktmp;
	uint64_t mask = 0;

	for (int cap = 0; cap < CAPS_MAX; cap++)
		best[cap] = PROFILE_CLASS_COUNT;
	HASH_ITER(hh, p->entries, e, tmp) {
		enum profile_class c = key_class(&e->key);

		if (c < best[e->key.cap])
			best[e->key.cap] = c;
	}
	HASH_ITER(hh, p->kept, k, ktmp) {
		if (PROFILE_CLASS_KEPT < best[k->key.cap])
			best[k->key.cap] = PROFILE_CLASS_KEPT;
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

/* A kept capability is granted as a required one is. */
static uint64_t implied_grant(const struct profile *p)
{
	return class_mask(p, PROFILE_CLASS_REQUIRED) | class_mask(p, PROFILE_CLASS_KEPT);
}

uint64_t profile_grant_mask(const struct profile *p)
{
	return (p->has_grant ? p->grant : implied_grant(p)) & ~p->not_needed;
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

uint64_t profile_objects_dropped(const struct profile *p)
{
	return p->objects_dropped;
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
		d->outcomes[e->key.outcome] =
			check_count_add(d->outcomes[e->key.outcome], e->count);
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
	const struct kept *k, *ktmp;
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
	if (src->replicas)
		dst->replicas = true;
	HASH_ITER(hh, src->entries, e, etmp) {
		struct profile_obs obs;

		entry_obs(e, &obs);
		err = profile_add(dst, &obs);
		if (err)
			return err;
	}
	HASH_ITER(hh, src->kept, k, ktmp) {
		struct profile_kept kept = { k->key.cap, (enum profile_kept_how)k->key.how,
					     k->key.binary, k->count };

		err = profile_add_kept(dst, &kept);
		if (err)
			return err;
	}
	dst->keep_caps = dst->keep_caps || src->keep_caps;
	dst->objects_dropped = check_count_add(dst->objects_dropped, src->objects_dropped);
	dst->folded = check_count_add(dst->folded, src->folded);
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

int profile_merge_run(struct profile *dst, const struct profile *src)
{
	bool first = !dst->runs, same_exit, same_command = dst->argv && src->argv;
	struct profile_cap caps[CAPS_MAX];
	uint64_t present;
	int err;

	err = profile_summary(src, caps, &present);
	if (err)
		return err;
	same_exit = src->has_exit && dst->has_exit && src->wait_status == dst->wait_status;
	for (size_t i = 0; same_command; i++) {
		same_command = !cmp_str_null_first(dst->argv[i], src->argv[i]);
		if (!dst->argv[i] || !src->argv[i])
			break;
	}
	err = profile_merge(dst, src);
	if (err)
		return err;
	/* One exit status or command stands for the runs only when they all
	 * had it. */
	if (!first && !same_exit)
		dst->has_exit = false;
	if (!first && !same_command) {
		free_argv(dst->argv);
		dst->argv = NULL;
	}
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		uint64_t n = src->runs ? src->cap_runs[cap] : !!(present & (1ull << cap));

		dst->cap_runs[cap] = check_count_add(dst->cap_runs[cap], n);
	}
	dst->runs = check_count_add(dst->runs, src->runs ? src->runs : 1);
	return 0;
}

uint64_t profile_runs(const struct profile *p)
{
	return p->runs;
}

uint64_t profile_cap_runs(const struct profile *p, int cap)
{
	return cap >= 0 && cap < CAPS_MAX ? p->cap_runs[cap] : 0;
}

void profile_set_runs(struct profile *p, uint64_t runs)
{
	p->runs = runs;
}

void profile_set_cap_runs(struct profile *p, int cap, uint64_t runs)
{
	if (cap >= 0 && cap < CAPS_MAX)
		p->cap_runs[cap] = runs;
}

void profile_set_nodes(struct profile *p, unsigned int nodes)
{
	p->nodes = nodes;
}

void profile_set_cap_nodes(struct profile *p, int cap, unsigned int nodes)
{
	if (cap >= 0 && cap < CAPS_MAX)
		p->cap_nodes[cap] = nodes;
}

unsigned int profile_nodes(const struct profile *p)
{
	return p->nodes;
}

unsigned int profile_cap_nodes(const struct profile *p, int cap)
{
	return cap >= 0 && cap < CAPS_MAX ? p->cap_nodes[cap] : 0;
}

static const char *const class_names[PROFILE_CLASS_COUNT] = {
	[PROFILE_CLASS_REQUIRED] = "required",
	[PROFILE_CLASS_KEPT] = "kept",
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

int profile_outcome_parse(const char *name, enum profile_outcome *ret_outcome)
{
	for (int i = 0; i < PROFILE_OUTCOME_COUNT; i++) {
		if (!strcmp(name, outcome_names[i])) {
			*ret_outcome = (enum profile_outcome)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const kept_how_names[PROFILE_KEPT_HOW_COUNT] = {
	[PROFILE_KEPT_CAPSET] = "capset",
	[PROFILE_KEPT_AMBIENT] = "ambient",
	[PROFILE_KEPT_FILE_CAPS] = "file_caps",
};

const char *profile_kept_how_name(enum profile_kept_how how)
{
	return (unsigned int)how < PROFILE_KEPT_HOW_COUNT ? kept_how_names[how] : "?";
}

int profile_kept_how_parse(const char *name, enum profile_kept_how *ret_how)
{
	for (int i = 0; i < PROFILE_KEPT_HOW_COUNT; i++) {
		if (!strcmp(name, kept_how_names[i])) {
			*ret_how = (enum profile_kept_how)i;
			return 0;
		}
	}
	return -EINVAL;
}
