#include "privilege/rings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "lib/caps.h"
#include "privilege/capset.h"

#define LOG_LEN 2048 /* 41 capability names and some words */

/* What rings_leave() goes back to, and the operation that left it. */
struct frame {
	uint64_t effective;
	enum ring ring;
	const char *why;
};

struct rings {
	struct rings_config cfg;
	int last_cap;
	uint64_t base, ebpf, permitted, effective;
	enum ring ring;
	int depth;
	struct frame stack[RINGS_MAX_DEPTH];
	unsigned int overflow; /* enters past RINGS_MAX_DEPTH, not on the stack */
	int failure; /* the first ring change that failed */
	const char *failure_why;
};

static void detail(char ret_detail[RINGS_DETAIL_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void detail(char ret_detail[RINGS_DETAIL_LEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ret_detail, RINGS_DETAIL_LEN, fmt, ap);
	va_end(ap);
}

static int parse_bool(const char *text, bool *ret_value)
{
	if (!strcasecmp(text, "true") || !strcmp(text, "1")) {
		*ret_value = true;
		return 0;
	}
	if (!strcasecmp(text, "false") || !strcmp(text, "0")) {
		*ret_value = false;
		return 0;
	}
	return -EINVAL;
}

/* Unlike caps_parse_list, an empty item is an error: "add=chown," is
 * more likely a truncated list than a deliberate one. where names the key
 * or variable for the message. */
static int parse_caps(const char *list, const char *where, uint64_t *ret_mask,
		      char ret_detail[RINGS_DETAIL_LEN])
{
	char item[CAPS_NAME_LEN * 2];
	const char *p = list;
	uint64_t mask = 0;

	if (!*list) {
		detail(ret_detail, "empty capability list in %s", where);
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		int cap;

		if (!len) {
			detail(ret_detail, "empty capability name in %s'%s'", where, list);
			return -EINVAL;
		}
		if (len >= sizeof(item))
			len = sizeof(item) - 1;
		memcpy(item, p, len);
		item[len] = '\0';
		if (caps_parse(item, &cap)) {
			char closest[CAPS_NAME_LEN];

			caps_closest(item, closest);
			detail(ret_detail, "unknown capability '%s' in %s (did you mean %s?)", item,
			       where, closest);
			return -EINVAL;
		}
		mask |= RINGS_CAP(cap);
		p += strcspn(p, ",");
		if (!*p)
			break;
		p++;
	}
	*ret_mask = mask;
	return 0;
}

int rings_config_parse_option(struct rings_config *cfg, const char *text,
			      char ret_detail[RINGS_DETAIL_LEN])
{
	const char *eq = strchr(text, '=');
	const char *value = eq ? eq + 1 : NULL;
	size_t key_len = eq ? (size_t)(eq - text) : 0;
	uint64_t mask;
	bool b;

	if (!eq || !key_len) {
		detail(ret_detail,
		       "malformed capabilities option '%s' (want bypass=true|false, add=CAPS or "
		       "drop=CAPS)",
		       text);
		return -EINVAL;
	}
	if (key_len == 6 && !strncmp(text, "bypass", 6)) {
		if (parse_bool(value, &b)) {
			detail(ret_detail, "invalid bypass value '%s' (want true or false)", value);
			return -EINVAL;
		}
		cfg->bypass = b;
		cfg->set |= RINGS_SET_BYPASS;
		return 0;
	}
	if ((key_len == 3 && !strncmp(text, "add", 3)) ||
	    (key_len == 4 && !strncmp(text, "drop", 4))) {
		bool add = key_len == 3;

		if (parse_caps(value, add ? "add=" : "drop=", &mask, ret_detail))
			return -EINVAL;
		if (add) {
			cfg->add |= mask;
			cfg->set |= RINGS_SET_ADD;
		} else {
			cfg->drop |= mask;
			cfg->set |= RINGS_SET_DROP;
		}
		return 0;
	}
	detail(ret_detail, "unknown capabilities key '%.*s' (want bypass, add or drop)",
	       (int)key_len, text);
	return -EINVAL;
}

int rings_config_from_env(struct rings_config *cfg, char *(*get)(const char *name),
			  char ret_detail[RINGS_DETAIL_LEN])
{
	struct rings_config next = *cfg;
	const char *v;

	v = cfg->set & RINGS_SET_BYPASS ? NULL : get("CAPABILITIES_BYPASS");
	if (v && *v) {
		if (parse_bool(v, &next.bypass)) {
			detail(ret_detail, "invalid CAPABILITIES_BYPASS '%s' (want 0 or 1)", v);
			return -EINVAL;
		}
		next.set |= RINGS_SET_BYPASS;
	}
	v = cfg->set & RINGS_SET_ADD ? NULL : get("CAPABILITIES_ADD");
	if (v && *v) {
		if (parse_caps(v, "CAPABILITIES_ADD", &next.add, ret_detail))
			return -EINVAL;
		next.set |= RINGS_SET_ADD;
	}
	v = cfg->set & RINGS_SET_DROP ? NULL : get("CAPABILITIES_DROP");
	if (v && *v) {
		if (parse_caps(v, "CAPABILITIES_DROP", &next.drop, ret_detail))
			return -EINVAL;
		next.set |= RINGS_SET_DROP;
	}
	*cfg = next;
	return 0;
}

uint64_t rings_config_base(const struct rings_config *cfg)
{
	return cfg->add & ~cfg->drop;
}

uint64_t rings_ebpf_caps(int last_cap, uint64_t permitted)
{
	uint64_t split = RINGS_CAP(CAP_BPF) | RINGS_CAP(CAP_PERFMON);

	if (last_cap >= CAP_BPF && (permitted & split) == split)
		return split;
	return RINGS_CAP(CAP_SYS_ADMIN);
}

enum ring rings_ring_of(int cap, uint64_t base, uint64_t ebpf)
{
	uint64_t bit;

	if (cap < 0 || cap >= CAPS_MAX)
		return RING_NONE;
	bit = RINGS_CAP(cap);
	if (base & bit)
		return RING_BASE;
	if (ebpf & bit)
		return RING_EBPF;
	if (RINGS_SPECIFIC_CAPS & bit)
		return RING_SPECIFIC;
	return RING_NONE;
}

const char *rings_name(enum ring ring)
{
	switch (ring) {
	case RING_BASE: return "base";
	case RING_SPECIFIC: return "specific";
	case RING_EBPF: return "ebpf";
	case RING_FULL: return "full";
	case RING_NONE: break;
	}
	return "-";
}

static int get_sets(int last_cap, uint64_t *ret_eff, uint64_t *ret_prm, uint64_t *ret_inh)
{
	struct capset sets;
	int err = capset_get(last_cap, &sets);

	if (err)
		return err;
	*ret_eff = sets.effective;
	*ret_prm = sets.permitted;
	*ret_inh = sets.inheritable;
	return 0;
}

static int set_sets(int last_cap, uint64_t eff, uint64_t prm, uint64_t inh)
{
	return capset_set(last_cap, &(struct capset){ eff, prm, inh });
}

uint64_t rings_need_ebpf(const char *procfs_root)
{
	uint64_t eff, prm, inh;
	int last;

	if (caps_last_cap(procfs_root ? procfs_root : "/proc", &last) ||
	    get_sets(last, &eff, &prm, &inh))
		return 0;
	return rings_ebpf_caps(last, prm);
}

static void say(const struct rings *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct rings *r, const char *fmt, ...)
{
	char line[LOG_LEN];
	va_list ap;

	if (!r->cfg.verbose || !r->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->cfg.log(r->cfg.log_data, line);
}

static void names(uint64_t mask, char *buf, size_t size)
{
	if (mask)
		caps_mask_names(mask, ",", buf, size);
	else
		snprintf(buf, size, "none");
}

static int failed(struct rings_error *ret_error, const char *op, uint64_t caps, int err)
{
	if (ret_error) {
		ret_error->op = op;
		ret_error->caps = caps;
		ret_error->err = err;
	}
	return err;
}

/* Bounding first: dropping from it needs CAP_SETPCAP effective, which the
 * capset below may take away. */
static int cut_bounding(struct rings *r, uint64_t keep, uint64_t eff, uint64_t prm, uint64_t inh,
			struct rings_error *ret_error)
{
	uint64_t drop = 0, left = 0;
	int first_err = 0, err;

	for (int cap = 0; cap <= r->last_cap; cap++) {
		int in = cap_get_bound(cap);

		if (in < 0)
			return failed(ret_error, "read the bounding set", RINGS_CAP(cap), -errno);
		if (in && !(keep & RINGS_CAP(cap)))
			drop |= RINGS_CAP(cap);
	}
	if (!drop)
		return 0;
	if (!(prm & RINGS_CAP(CAP_SETPCAP))) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			return failed(ret_error, "set no_new_privs (no CAP_SETPCAP to cut the "
						 "bounding set)", drop, -errno);
		say(r, "rings: no CAP_SETPCAP to cut the bounding set; no_new_privs set instead");
		return 0;
	}
	if (!(eff & RINGS_CAP(CAP_SETPCAP))) {
		err = set_sets(r->last_cap, eff | RINGS_CAP(CAP_SETPCAP), prm, inh);
		if (err)
			return failed(ret_error, "raise CAP_SETPCAP to cut the bounding set",
				      RINGS_CAP(CAP_SETPCAP), err);
	}
	for (int cap = 0; cap <= r->last_cap; cap++) {
		if (!(drop & RINGS_CAP(cap)) || cap_drop_bound(cap) == 0)
			continue;
		if (!first_err)
			first_err = -errno;
		left |= RINGS_CAP(cap);
	}
	if (left)
		return failed(ret_error, "drop from the bounding set", left, first_err);
	return 0;
}

int rings__new(const struct rings_config *cfg, uint64_t needed, struct rings **ret,
	       struct rings_error *ret_error)
{
	char buf[LOG_LEN], base_buf[LOG_LEN];
	uint64_t eff, prm, inh, keep, base;
	struct rings *r;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return failed(ret_error, "allocate", 0, -ENOMEM);
	r->cfg = *cfg;
	err = caps_last_cap(cfg->procfs_root ? cfg->procfs_root : "/proc", &r->last_cap);
	if (err) {
		failed(ret_error, "read cap_last_cap", 0, err);
		goto out;
	}
	err = get_sets(r->last_cap, &eff, &prm, &inh);
	if (err) {
		failed(ret_error, "read the capability sets", 0, err);
		goto out;
	}
	r->ebpf = rings_ebpf_caps(r->last_cap, prm) | (cfg->ebpf_extra & prm);

	if (cfg->bypass) {
		if (eff != prm && (err = set_sets(r->last_cap, prm, prm, inh))) {
			failed(ret_error, "raise every permitted capability", prm & ~eff, err);
			goto out;
		}
		r->permitted = r->effective = r->base = prm;
		r->ring = RING_FULL;
		names(prm, buf, sizeof(buf));
		say(r, "rings: bypass, every permitted capability stays effective (%s)", buf);
		goto out;
	}

	base = rings_config_base(cfg);
	if (base & ~prm) {
		err = failed(ret_error, "raise into the base ring (not permitted)", base & ~prm,
			     -EPERM);
		goto out;
	}
	keep = needed | base;
	err = cut_bounding(r, keep, eff, prm, inh, ret_error);
	if (err)
		goto out;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)) {
		err = failed(ret_error, "clear the ambient set", 0, -errno);
		goto out;
	}
	err = set_sets(r->last_cap, base, prm & keep, 0);
	if (err) {
		failed(ret_error, "lower the permitted, effective and inheritable sets",
		       (prm & ~keep) | (eff & ~base) | inh, err);
		goto out;
	}
	r->base = r->effective = base;
	r->permitted = prm & keep;
	r->ring = RING_BASE;
	names(r->permitted, buf, sizeof(buf));
	names(r->base, base_buf, sizeof(base_buf));
	say(r, "rings: permitted and bounding sets cut to %s; base %s", buf, base_buf);
out:
	if (err) {
		free(r);
		return err;
	}
	*ret = r;
	return 0;
}

void rings__free(struct rings *r)
{
	free(r);
}

static void fail(struct rings *r, int err, const char *why)
{
	if (r->failure)
		return;
	r->failure = err;
	r->failure_why = why ? why : "?";
}

static void enter(struct rings *r, enum ring ring, uint64_t caps, const char *why)
{
	char buf[LOG_LEN];
	uint64_t eff;
	int err;

	if (r->depth == RINGS_MAX_DEPTH) {
		r->overflow++; /* its rings_leave() pairs with nothing */
		fail(r, -EOVERFLOW, why);
		return;
	}
	/* An inner ring adds to the outer one: the outer operation is not done. */
	eff = r->effective | (caps & r->permitted);
	if (eff != r->effective && (err = set_sets(r->last_cap, eff, r->permitted, 0))) {
		fail(r, err, why);
		eff = r->effective;
	}
	r->stack[r->depth++] = (struct frame){ r->effective, r->ring, why };
	r->effective = eff;
	r->ring = ring;
	names(caps & r->permitted, buf, sizeof(buf));
	say(r, "rings: %s%s (%s) for %s", r->cfg.bypass ? "bypass, " : "enter ", rings_name(ring),
	    buf, why ? why : "?");
}

void rings_enter(struct rings *r, enum ring ring, const char *why)
{
	switch (ring) {
	case RING_FULL: enter(r, ring, r->permitted, why); return;
	case RING_EBPF: enter(r, ring, r->ebpf, why); return;
	case RING_BASE: enter(r, ring, 0, why); return;
	case RING_SPECIFIC:
	case RING_NONE: break;
	}
	fail(r, -EINVAL, why);
	enter(r, r->ring, 0, why); /* still pairs with the caller's rings_leave() */
}

void rings_enter_specific(struct rings *r, uint64_t caps, const char *why)
{
	enter(r, RING_SPECIFIC, caps, why);
}

void rings_leave(struct rings *r)
{
	struct frame to = { r->base, r->cfg.bypass ? RING_FULL : RING_BASE, "nothing" };
	enum ring from = r->ring;
	char buf[LOG_LEN];
	int err;

	if (r->overflow) {
		r->overflow--;
		return;
	}
	if (r->depth)
		to = r->stack[r->depth - 1];
	if (to.effective != r->effective &&
	    (err = set_sets(r->last_cap, to.effective, r->permitted, 0))) {
		fail(r, err, to.why);
		return; /* still raised: stays on the stack, for the next leave to lower */
	}
	if (r->depth)
		r->depth--;
	names(to.effective, buf, sizeof(buf));
	say(r, "rings: leave %s after %s, back to %s (%s)", rings_name(from),
	    to.why ? to.why : "?", rings_name(to.ring), buf);
	r->effective = to.effective;
	r->ring = to.ring;
}

int rings_failure(const struct rings *r, const char **ret_why)
{
	if (r->failure && ret_why)
		*ret_why = r->failure_why;
	return r->failure;
}

uint64_t rings_permitted(const struct rings *r)
{
	return r->permitted;
}

uint64_t rings_effective(const struct rings *r)
{
	return r->effective;
}

void rings_around_proc_read(void *rings, bool begin)
{
	if (begin)
		rings_enter_specific(rings, RINGS_NEED_PROC, "read a process missing from the cache");
	else
		rings_leave(rings);
}
