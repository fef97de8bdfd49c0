#include "agent/ledger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "identity/images.h"
#include "kernel/records.h"
#include "lib/hash.h"
#include "profile/profile.h"

/* What the store already has of one aggregation entry. */
struct seen {
	struct ct_agg_key key;
	uint64_t count;
	struct check_outcome outcome;
	bool gone; /* its process exited: delete once read */
	bool waited; /* for its image, one drain */
	UT_hash_handle hh;
};

/* A process that exited since the last drain: its keys are read once
 * more, then deleted, even those the drain meets for the first time (a
 * process that lived between two drains). */
struct gone {
	uint32_t pid;
	UT_hash_handle hh;
};

struct ledger {
	struct ledger_opts opts;
	struct seen *seen;
	struct gone *gone;
	struct images *images;
	struct ledger_stats stats;
};

int ledger__new(const struct ledger_opts *opts, struct ledger **ret_ledger)
{
	struct ledger *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->opts = *opts;
	err = images__new(opts->max_images, &l->images);
	if (err) {
		free(l);
		return err;
	}
	*ret_ledger = l;
	return 0;
}

static void forget_exits(struct ledger *l)
{
	struct gone *g, *tmp;

	HASH_ITER(hh, l->gone, g, tmp) {
		HASH_DEL(l->gone, g);
		free(g);
	}
}

static bool exited(const struct ledger *l, uint32_t pid)
{
	struct gone *g;

	HASH_FIND(hh, l->gone, &pid, sizeof(pid), g);
	return g != NULL;
}

/* Past the bound (a fork storm between two drains), a pid's keys first
 * read after its exit stay in the kernel's map: counted, as the map's
 * entries they hold may fill it. */
static int note_exit(struct ledger *l, uint32_t pid)
{
	struct gone *g;

	if (exited(l, pid))
		return 0;
	if (HASH_COUNT(l->gone) >= LEDGER_MAX_EXITS) {
		l->stats.exits_untracked++;
		return 0;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->pid = pid;
	HASH_ADD(hh, l->gone, pid, sizeof(g->pid), g);
	if (hash_add_failed()) {
		free(g);
		return -ENOMEM;
	}
	return 0;
}

void ledger__free(struct ledger *l)
{
	struct seen *s, *tmp;

	if (!l)
		return;
	HASH_ITER(hh, l->seen, s, tmp) {
		HASH_DEL(l->seen, s);
		free(s);
	}
	forget_exits(l);
	images__free(l->images);
	free(l);
}

int ledger_proc(struct ledger *l, const struct ct_proc_event *rec)
{
	struct seen *s, *tmp;
	int err;

	if (rec->type == CT_REC_EXIT) {
		HASH_ITER(hh, l->seen, s, tmp)
			if (s->key.pid == rec->pid)
				s->gone = true;
		err = note_exit(l, rec->pid);
		if (err)
			return err;
	}
	return images_apply(l->images, rec);
}

static struct seen *seen_get(struct ledger *l, const struct ct_agg_key *key)
{
	struct seen *s;

	HASH_FIND(hh, l->seen, key, sizeof(*key), s);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = *key;
	HASH_ADD(hh, l->seen, key, sizeof(s->key), s);
	if (hash_add_failed()) {
		free(s);
		return NULL;
	}
	return s;
}

static bool runtime_start(struct ledger *l, const struct ct_agg_key *key, const struct image *img,
			  const struct workload *w)
{
	const uint32_t *host_ns = identity_host_ns(l->opts.identity);

	if (w->kind != WORKLOAD_POD_CONTAINER && w->kind != WORKLOAD_CONTAINER)
		return false;
	/* Past the image bound an image is unknown, and its checks are kept:
	 * a profile may then show a runtime's check, never lose a workload's. */
	return img && image_is_runtime_start(img, key->cgroup_id, host_ns ? host_ns[CT_NS_MNT] : 0);
}

/* What the outcome counters grew by since the last reading (and they may
 * grow alone: the kernel counts a denied check's outcome when its syscall
 * returns, after the check). */
static struct check_outcome outcome_growth(struct seen *s, const struct ct_agg_key *key,
					   const struct ct_agg_value *value,
					   const struct ct_outcome *outcome)
{
	struct check_outcome growth = {};
	struct check now;

	if (!outcome)
		return growth;
	records_check(key, value, outcome, &now);
	check_outcome_since(&now.outcome, &s->outcome, &growth);
	s->outcome = now.outcome;
	return growth;
}

bool ledger_cgroup_in(const char *scope, const char *cgroup)
{
	size_t len;

	if (!scope)
		return true;
	len = strlen(scope);
	return cgroup && !strncmp(cgroup, scope, len) &&
	       (cgroup[len] == '/' || !cgroup[len] || (len && scope[len - 1] == '/'));
}

static bool in_scope(struct ledger *l, const struct workload *w)
{
	struct evfilter_subject subject = {
		.namespace_ = w->pod_namespace,
		.pod = w->pod_name,
		.container = w->container_name,
		.has_pod = true,
	};

	if (!ledger_cgroup_in(l->opts.cgroup_scope, w->cgroup))
		return false;
	if (!l->opts.scope)
		return true;
	return w->kind == WORKLOAD_POD_CONTAINER && evfilter_match(l->opts.scope, &subject);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* c: the checks that grew, with the outcomes that grew. */
static void meter_replica(struct ledger *l, const struct workload *w, const struct check *c,
			  bool runtime)
{
	const bool pod = w->kind == WORKLOAD_POD_CONTAINER;
	const struct metrics_replica r = {
		.namespace = pod ? w->pod_namespace : NULL,
		.kind = w->owner_kind,
		.workload = w->owner_name,
		.container = workload_container(w),
		.pod = pod ? w->pod_name : NULL,
	};
	const struct {
		enum profile_outcome outcome;
		uint64_t n;
	} parts[] = {
		{ PROFILE_OUTCOME_MATTERED, check_count_add(c->outcome.eperm, c->outcome.eacces) },
		{ PROFILE_OUTCOME_FALLBACK, c->outcome.success },
		{ PROFILE_OUTCOME_OTHER_ERROR, c->outcome.other },
	};
	struct metrics *m = l->opts.metrics;
	enum profile_class cls;
	uint64_t left = c->count, n;

	if (!m || !w->owner_kind || !*w->owner_kind || !c->count)
		return;
	metrics_add_replica(m, &r);
	if (runtime) {
		metrics_add_replica_checks(m, &r, c->cap, "runtime", NULL, c->count);
		return;
	}
	cls = profile_check_class(c);
	if (cls != PROFILE_CLASS_DENIED) {
		metrics_add_replica_checks(m, &r, c->cap, profile_class_name(cls), NULL, c->count);
		return;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		n = min_u64(left, parts[i].n);
		metrics_add_replica_checks(m, &r, c->cap, "denied",
					   profile_outcome_name(parts[i].outcome), n);
		left -= n;
	}
	metrics_add_replica_checks(m, &r, c->cap, "denied",
				   profile_outcome_name(PROFILE_OUTCOME_UNOBSERVED), left);
}

int ledger_entry(struct ledger *l, const struct ct_agg_key *key, const struct ct_agg_value *value,
		 const struct ct_outcome *outcome, uint64_t now_ns)
{
	struct seen *s = seen_get(l, key);
	const struct image *img;
	struct store_obs obs = {};
	struct check_outcome growth;
	char name[WORKLOAD_NAME_MAX];
	uint64_t grew;

	if (!s)
		return -ENOMEM;
	if (exited(l, key->pid))
		s->gone = true;
	if (key->flags & CT_AGG_KTHREAD || value->count < s->count)
		return 0;
	img = images_find(l->images, key->pid, key->exec_gen);
	/* The drain reads the kernel's map while processes run: it may meet a
	 * key before the exec record of its image was consumed, when neither
	 * the image nor the container the exec made known is (a pod would
	 * be stored as a bare container id). Such a key waits for the next
	 * drain, once; the records of a process that exited were consumed. */
	if (!img && !s->gone && !s->waited) {
		s->waited = true;
		return 0;
	}
	grew = value->count - s->count;
	growth = outcome_growth(s, key, value, outcome);
	if (!grew && !growth.eperm && !growth.eacces && !growth.success && !growth.other)
		return 0;
	s->count = value->count;
	l->stats.checks += grew;
	if (key->flags & CT_AGG_DENIED)
		l->stats.denied += grew;
	/* A host program is named by the image that made the checks, not by
	 * what its pid runs now: a runtime's init becomes the workload. */
	identity_workload(l->opts.identity, key->cgroup_id, key->pid, img ? img->binary : NULL,
			  &obs.workload);
	if (!in_scope(l, &obs.workload)) {
		l->stats.out_of_scope += grew;
		return 0;
	}
	records_check(key, value, NULL, &obs.check);
	obs.check.count = grew;
	obs.check.outcome = growth;
	if (runtime_start(l, key, img, &obs.workload)) {
		l->stats.runtime += grew;
		meter_replica(l, &obs.workload, &obs.check, true);
		return 0;
	}
	meter_replica(l, &obs.workload, &obs.check, false);
	obs.check.first_ns = value->first_ns + (uint64_t)l->opts.boot_offset_ns;
	obs.check.last_ns = now_ns;
	if (l->opts.metrics && grew) {
		workload_name(&obs.workload, name, sizeof(name));
		metrics_add_checks(l->opts.metrics, name, obs.check.cap, obs.check.denied, grew);
	}
	return store_add(l->opts.store, &obs);
}

int ledger_forget_gone(struct ledger *l,
		       int (*delete_key)(void *ctx, const struct ct_agg_key *key), void *ctx)
{
	struct seen *s, *tmp;
	struct gone *g, *gtmp;
	int err;

	HASH_ITER(hh, l->seen, s, tmp) {
		if (!s->gone)
			continue;
		err = delete_key(ctx, &s->key);
		if (err)
			return err;
		HASH_DEL(l->seen, s);
		free(s);
	}
	/* Every key of those processes was read by this drain: their images
	 * are not needed any more, checks or none (else every process the
	 * node ever ran would fill the table). */
	HASH_ITER(hh, l->gone, g, gtmp)
		images_forget(l->images, g->pid);
	forget_exits(l);
	return 0;
}

void ledger_stats(const struct ledger *l, struct ledger_stats *ret_stats)
{
	*ret_stats = l->stats;
	ret_stats->images_untracked = images_untracked(l->images);
}
