/* Profiles: each classification rule of DESIGN.md "Profiles", merging and
 * coverage, and every rendering parsed back (YAML by a real parser, JSON by
 * json-c and by profile_parse_json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/capability.h>

#include "profile/profile.h"

#define PYTHON "/usr/bin/python3" /* Debian's, which has python3-yaml */
#define BIT(cap) (1ull << (cap))

static struct profile *new_profile(void)
{
	struct profile *p = NULL;

	assert_int_equal(profile__new(&p), 0);
	return p;
}

static struct profile_obs obs_of(int cap, bool granted, enum check_audit audit, int syscall)
{
	return (struct profile_obs){
		.cap = cap,
		.granted = granted,
		.audit = audit,
		.syscall = syscall,
		.count = 1,
	};
}

static void add(struct profile *p, struct profile_obs o)
{
	assert_int_equal(profile_add(p, &o), 0);
}

static struct profile_cap summary_of(const struct profile *p, int cap)
{
	struct profile_cap caps[CAPS_MAX];
	uint64_t present;

	assert_int_equal(profile_summary(p, caps, &present), 0);
	assert_true(present & BIT(cap));
	return caps[cap];
}

static char *render(const struct profile *p, enum profile_format format)
{
	char *text = NULL;

	assert_int_equal(profile_render_string(p, format, &text), 0);
	assert_non_null(text);
	return text;
}

/* The sample of the issue: chown required, dmesg's syslog denied (and
 * the denial mattered), the overcommit probe's noaudit CAP_SYS_ADMIN. */
static struct profile *sample(void)
{
	struct profile *p = new_profile();
	struct profile_obs o;
	char *const argv[] = { "sh", "-c", "chown 1 f; dmesg", NULL };

	assert_non_null(p);
	o = obs_of(CAP_CHOWN, true, CHECK_AUDITED, SYS_fchownat);
	o.count = 3;
	o.binary = "/usr/bin/chown";
	add(p, o);
	o = obs_of(CAP_SYSLOG, false, CHECK_AUDITED, SYS_syslog);
	o.outcome = PROFILE_OUTCOME_MATTERED;
	o.binary = "/usr/bin/dmesg";
	add(p, o);
	o = obs_of(CAP_SYS_ADMIN, true, CHECK_NOAUDIT, SYS_mmap);
	o.count = 14;
	o.binary = "/usr/bin/dmesg";
	add(p, o);
	assert_int_equal(profile_set_workload(p, "chown-dmesg"), 0);
	assert_int_equal(profile_set_command(p, argv), 0);
	assert_int_equal(profile_set_user(p, 0, "root"), 0);
	profile_set_exit(p, 1 << 8);
	assert_int_equal(profile_add_instance(p, NULL), 0);
	return p;
}

/* Rule: an audited check granted to the workload's own cred in its own
 * user namespace is required. */
static void test_required(void **state)
{
	struct profile *p = new_profile();
	struct profile_cap s;

	(void)state;
	add(p, obs_of(CAP_CHOWN, true, CHECK_AUDITED, SYS_fchownat));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_REQUIRED), BIT(CAP_CHOWN));
	assert_int_equal(profile_required_mask(p), BIT(CAP_CHOWN));
	assert_int_equal(profile_grant_mask(p), BIT(CAP_CHOWN));
	assert_false(profile_grant_edited(p));
	s = summary_of(p, CAP_CHOWN);
	assert_int_equal(s.cls, PROFILE_CLASS_REQUIRED);
	assert_int_equal(s.granted, 1);
	assert_int_equal(s.unclassified, 0);
	profile__free(p);
}

/* Rule (decided): a grant of unknown audit class counts as required, and
 * is flagged. */
static void test_unknown_audit_is_required_and_flagged(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_FOWNER, true, CHECK_AUDIT_UNKNOWN, SYS_chmod);
	char *text;

	(void)state;
	o.count = 2;
	add(p, o);
	add(p, obs_of(CAP_FOWNER, true, CHECK_AUDITED, SYS_chmod));
	assert_int_equal(profile_grant_mask(p), BIT(CAP_FOWNER));
	assert_int_equal(summary_of(p, CAP_FOWNER).unclassified, 2);
	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(
		strstr(text, "CAP_FOWNER: required; 2 grants of unknown audit class counted"));
	assert_non_null(strstr(text, "unclassified"));
	free(text);
	profile__free(p);
}

/* Rule: denied-only is never added; reported with syscall and outcome. */
static void test_denied_only(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_SYSLOG, false, CHECK_AUDITED, SYS_syslog);
	struct profile_denial *d;
	size_t n;

	(void)state;
	o.outcome = PROFILE_OUTCOME_MATTERED;
	o.count = 2;
	o.binary = "/usr/bin/dmesg";
	add(p, o);
	o.outcome = PROFILE_OUTCOME_UNOBSERVED; /* the first denial, before the hook */
	o.count = 1;
	add(p, o);
	o = obs_of(CAP_NET_ADMIN, false, CHECK_AUDITED, SYS_ioctl);
	o.outcome = PROFILE_OUTCOME_FALLBACK;
	add(p, o);
	assert_int_equal(profile_grant_mask(p), 0);
	assert_int_equal(profile_mask(p, PROFILE_CLASS_DENIED),
			 BIT(CAP_SYSLOG) | BIT(CAP_NET_ADMIN));
	assert_int_equal(profile_denials(p, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].cap, CAP_NET_ADMIN);
	assert_int_equal(d[0].syscall, SYS_ioctl);
	assert_int_equal(d[0].outcomes[PROFILE_OUTCOME_FALLBACK], 1);
	assert_null(d[0].binary);
	assert_int_equal(d[1].cap, CAP_SYSLOG);
	assert_int_equal(d[1].syscall, SYS_syslog);
	assert_int_equal(d[1].outcomes[PROFILE_OUTCOME_MATTERED], 2);
	assert_int_equal(d[1].outcomes[PROFILE_OUTCOME_UNOBSERVED], 1);
	assert_string_equal(d[1].binary, "/usr/bin/dmesg");
	free(d);
	profile__free(p);
}

/* Rule: noaudit checks, granted or denied, are reported, never
 * recommended. */
static void test_noaudit(void **state)
{
	struct profile *p = new_profile();
	struct profile_denial *d;
	size_t n;

	(void)state;
	add(p, obs_of(CAP_SYS_ADMIN, true, CHECK_NOAUDIT, SYS_mmap));
	add(p, obs_of(CAP_SYSLOG, false, CHECK_NOAUDIT, SYS_openat)); /* /proc/kallsyms */
	assert_int_equal(profile_grant_mask(p), 0);
	assert_int_equal(profile_mask(p, PROFILE_CLASS_NOAUDIT),
			 BIT(CAP_SYS_ADMIN) | BIT(CAP_SYSLOG));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_DENIED), 0);
	assert_int_equal(profile_denials(p, &d, &n), 0);
	assert_int_equal(n, 0);
	free(d);
	profile__free(p);
}

/* Rule: checks under overridden creds are not the workload's. */
static void test_override_cred(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_DAC_OVERRIDE, true, CHECK_AUDITED, SYS_openat);

	(void)state;
	o.override_cred = true;
	add(p, o);
	assert_int_equal(profile_grant_mask(p), 0);
	assert_int_equal(profile_mask(p, PROFILE_CLASS_OVERRIDE_CRED), BIT(CAP_DAC_OVERRIDE));
	profile__free(p);
}

/* Rule: a check against another user namespace is shown, not granted. */
static void test_foreign_userns(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_SYS_ADMIN, true, CHECK_AUDITED, SYS_mount);

	(void)state;
	o.foreign_userns = true;
	add(p, o);
	o.granted = false;
	add(p, o);
	assert_int_equal(profile_grant_mask(p), 0);
	assert_int_equal(profile_mask(p, PROFILE_CLASS_FOREIGN_USERNS), BIT(CAP_SYS_ADMIN));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_DENIED), 0);
	profile__free(p);
}

/* Rule: what the program raises with capset is reported apart. */
static void test_capset(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_NET_RAW, true, CHECK_AUDITED, SYS_capset);
	char *text;

	(void)state;
	o.via_capset = true;
	o.override_cred = true; /* capset wins over every other flag */
	add(p, o);
	assert_int_equal(profile_grant_mask(p), 0);
	assert_int_equal(profile_mask(p, PROFILE_CLASS_CAPSET), BIT(CAP_NET_RAW));
	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "CAP_NET_RAW: asked by the kernel inside capset()"));
	assert_null(strstr(text, "raised"));
	free(text);
	profile__free(p);
}

/* Rule: a capability kept with capset(), raised as ambient or gained from
 * file capabilities is granted without any check; one a check needs is
 * required whatever else keeps it. */
static void test_kept(void **state)
{
	struct profile *p = new_profile(), *q = new_profile(), *back = NULL;
	struct profile_kept k = { CAP_NET_BIND_SERVICE, PROFILE_KEPT_CAPSET, "/usr/sbin/chronyd",
				  1 };
	struct profile_kept *kept;
	char why[PROFILE_WHY_LEN] = "", *text, *text2;
	size_t n;

	(void)state;
	add(p, obs_of(CAP_SETUID, true, CHECK_AUDITED, 105));
	assert_int_equal(profile_add_kept(p, &k), 0);
	assert_int_equal(profile_add_kept(p, &k), 0);
	k.how = PROFILE_KEPT_AMBIENT;
	assert_int_equal(profile_add_kept(p, &k), 0);
	k.cap = CAP_SETUID; /* required wins */
	k.how = PROFILE_KEPT_FILE_CAPS;
	k.binary = NULL;
	assert_int_equal(profile_add_kept(p, &k), 0);
	profile_set_keep_caps(p, true);
	assert_int_equal(profile_mask(p, PROFILE_CLASS_KEPT), BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(profile_required_mask(p), BIT(CAP_SETUID));
	assert_int_equal(profile_grant_mask(p), BIT(CAP_SETUID) | BIT(CAP_NET_BIND_SERVICE));
	assert_false(profile_grant_edited(p));
	assert_int_equal(summary_of(p, CAP_NET_BIND_SERVICE).cls, PROFILE_CLASS_KEPT);
	assert_int_equal(summary_of(p, CAP_NET_BIND_SERVICE).by_class[PROFILE_CLASS_KEPT], 3);
	assert_int_equal(profile_kept(p, &kept, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(kept[0].cap, CAP_SETUID);
	assert_int_equal(kept[1].how, PROFILE_KEPT_CAPSET);
	assert_int_equal(kept[1].count, 2);
	assert_string_equal(kept[2].binary, "/usr/sbin/chronyd");
	free(kept);
	k.how = PROFILE_KEPT_HOW_COUNT;
	assert_int_equal(profile_add_kept(p, &k), -EINVAL);
	k = (struct profile_kept){ CAPS_MAX, PROFILE_KEPT_CAPSET, NULL, 1 };
	assert_int_equal(profile_add_kept(p, &k), -EINVAL);

	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "CAP_NET_BIND_SERVICE: kept: chronyd keeps it with capset() "
				     "across its uid change; chronyd raises it as an ambient "
				     "capability\n"));
	assert_non_null(strstr(text, "recommended: CAP_SETUID CAP_NET_BIND_SERVICE"));
	free(text);

	/* Read back as written; a grant without the kept one is an edit. */
	text = render(p, PROFILE_FORMAT_JSON);
	assert_int_equal(profile_parse_json(text, &back, why), 0);
	text2 = render(back, PROFILE_FORMAT_JSON);
	assert_string_equal(text2, text);
	assert_true(profile_keep_caps(back));
	profile_set_grant(back, BIT(CAP_SETUID));
	assert_true(profile_grant_edited(back));
	free(text);
	free(text2);

	/* A union keeps both sides' kept entries. */
	k = (struct profile_kept){ CAP_NET_RAW, PROFILE_KEPT_FILE_CAPS, "/bin/ping", 1 };
	assert_int_equal(profile_add_kept(q, &k), 0);
	assert_int_equal(profile_merge(q, p), 0);
	assert_int_equal(profile_mask(q, PROFILE_CLASS_KEPT),
			 BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW));
	assert_true(profile_keep_caps(q));
	profile__free(p);
	profile__free(q);
	profile__free(back);
}

/* What checks were made on stays with their entry: distinct, in the
 * order seen, at most PROFILE_OBJECTS, the rest counted; written and read
 * back; the text shows the first after the syscall. */
static void test_objects(void **state)
{
	struct profile *p = new_profile(), *back = NULL;
	struct profile_obs o = obs_of(CAP_CHOWN, true, CHECK_AUDITED, SYS_fchownat);
	const char *five[] = { "/a -> 33:33", "/b -> 33:33", "/c -> 33:33", "/d -> 33:33",
			       "/e -> 33:33" };
	struct check c = { .cap = CAP_NET_BIND_SERVICE, .audit = CHECK_AUDITED,
			   .syscall = SYS_bind, .count = 2 };
	const char *ports[] = { "port 80", "port 81" };
	char why[PROFILE_WHY_LEN] = "", *text, *text2;
	struct profile_obs *obs;
	size_t n;

	(void)state;
	o.objects[0] = five[0];
	o.objects[1] = five[0];
	o.n_objects = 2;
	add(p, o);
	for (int i = 0; i < 5; i++) {
		o.objects[0] = five[i];
		o.n_objects = 1;
		add(p, o);
	}
	assert_int_equal(profile_add_check_objects(p, &c, "/usr/sbin/nginx", NULL, ports, 2), 0);
	assert_int_equal(profile_add_check_objects(p, &c, NULL, NULL, ports, PROFILE_OBJECTS + 1),
			 -EINVAL);
	o.objects[0] = NULL;
	assert_int_equal(profile_add(p, &o), -EINVAL);
	assert_int_equal(profile_objects_dropped(p), 1);
	assert_int_equal(profile_entries(p, &obs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(obs[0].n_objects, PROFILE_OBJECTS);
	assert_string_equal(obs[0].objects[0], "/a -> 33:33");
	assert_string_equal(obs[0].objects[3], "/d -> 33:33");
	assert_int_equal(obs[1].n_objects, 2);
	free(obs);

	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "\n  CAP_CHOWN: fchownat /a -> 33:33 (and 3 more)\n"));
	assert_non_null(strstr(text, "\n  CAP_NET_BIND_SERVICE: bind port 80 (and 1 more)\n"));
	assert_non_null(strstr(text, "1 objects past 4 per check not kept"));
	free(text);
	text = render(p, PROFILE_FORMAT_JSON);
	assert_non_null(strstr(text, "\"objects\""));
	assert_int_equal(profile_parse_json(text, &back, why), 0);
	text2 = render(back, PROFILE_FORMAT_JSON);
	assert_string_equal(text2, text);
	free(text);
	free(text2);
	profile__free(p);
	profile__free(back);
}

/* Rule: required by one check and denied (or probed) by others is
 * required, and the denials are counted. */
static void test_required_beats_denied_and_noaudit(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_SYS_ADMIN, false, CHECK_AUDITED, SYS_mount);
	struct profile_denial *d;
	struct profile_cap s;
	size_t n;
	char *text;

	(void)state;
	o.count = 2;
	o.outcome = PROFILE_OUTCOME_MATTERED;
	add(p, o);
	add(p, obs_of(CAP_SYS_ADMIN, true, CHECK_NOAUDIT, SYS_mmap));
	add(p, obs_of(CAP_SYS_ADMIN, true, CHECK_AUDITED, SYS_mount));
	assert_int_equal(profile_grant_mask(p), BIT(CAP_SYS_ADMIN));
	s = summary_of(p, CAP_SYS_ADMIN);
	assert_int_equal(s.cls, PROFILE_CLASS_REQUIRED);
	assert_int_equal(s.denied, 2);
	assert_int_equal(s.granted, 2);
	assert_int_equal(s.by_class[PROFILE_CLASS_NOAUDIT], 1);
	assert_int_equal(profile_denials(p, &d, &n), 0);
	assert_int_equal(n, 0); /* not denied-only */
	free(d);
	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "CAP_SYS_ADMIN: required; also denied 2 times"));
	free(text);
	profile__free(p);
}

/* One check's class: the first rule that holds. */
static void test_check_class_precedence(void **state)
{
	struct profile_obs o = obs_of(CAP_SYS_ADMIN, true, CHECK_NOAUDIT, -1);

	(void)state;
	o.via_capset = o.override_cred = o.foreign_userns = true;
	assert_int_equal(profile_obs_class(&o), PROFILE_CLASS_CAPSET);
	o.via_capset = false;
	assert_int_equal(profile_obs_class(&o), PROFILE_CLASS_OVERRIDE_CRED);
	o.override_cred = false;
	assert_int_equal(profile_obs_class(&o), PROFILE_CLASS_FOREIGN_USERNS);
	o.foreign_userns = false;
	assert_int_equal(profile_obs_class(&o), PROFILE_CLASS_NOAUDIT);
	o.granted = false;
	assert_int_equal(profile_obs_class(&o), PROFILE_CLASS_NOAUDIT);
	o.audit = CHECK_AUDIT_UNKNOWN;
	assert_int_equal(profile_obs_class(&o), PROFILE_CLASS_DENIED);
	o.granted = true;
	assert_int_equal(profile_obs_class(&o), PROFILE_CLASS_REQUIRED);
}

static void test_add_merges_identical_keys(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_CHOWN, true, CHECK_AUDITED, SYS_fchownat), *e;
	size_t n;

	(void)state;
	o.binary = "/bin/chown";
	o.count = 5;
	o.first_ns = 200;
	o.last_ns = 300;
	add(p, o);
	o.count = 7;
	o.first_ns = 100;
	o.last_ns = 250;
	o.outcome = PROFILE_OUTCOME_MATTERED; /* meaningless for a grant: same key */
	add(p, o);
	o.binary = "/bin/other";
	add(p, o);
	assert_int_equal(profile_entries(p, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].binary, "/bin/chown");
	assert_int_equal(e[0].count, 12);
	assert_int_equal(e[0].first_ns, 100);
	assert_int_equal(e[0].last_ns, 300);
	assert_int_equal(e[0].outcome, PROFILE_OUTCOME_UNOBSERVED);
	assert_string_equal(e[1].binary, "/bin/other");
	free(e);
	profile__free(p);
}

static void test_add_rejects_bad_fields(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_CHOWN, true, CHECK_AUDITED, -1);
	char *long_path = malloc(PROFILE_STR_MAX + 1);
	struct profile_obs *e;
	size_t n;

	(void)state;
	memset(long_path, 'a', PROFILE_STR_MAX);
	long_path[PROFILE_STR_MAX] = '\0';
	o.cap = CAPS_MAX;
	assert_int_equal(profile_add(p, &o), -EINVAL);
	o.cap = -1;
	assert_int_equal(profile_add(p, &o), -EINVAL);
	o = obs_of(CAP_CHOWN, true, CHECK_AUDITED, -2);
	assert_int_equal(profile_add(p, &o), -EINVAL);
	o = obs_of(CAP_CHOWN, true, (enum check_audit)7, -1);
	assert_int_equal(profile_add(p, &o), -EINVAL);
	o = obs_of(CAP_CHOWN, false, CHECK_AUDITED, -1);
	o.outcome = PROFILE_OUTCOME_COUNT;
	assert_int_equal(profile_add(p, &o), -EINVAL);
	o = obs_of(CAP_CHOWN, true, CHECK_AUDITED, -1);
	o.binary = long_path;
	assert_int_equal(profile_add(p, &o), -EINVAL);
	assert_int_equal(profile_add_instance(p, long_path), -EINVAL);
	o.binary = NULL;
	o.count = 0; /* nothing to add */
	assert_int_equal(profile_add(p, &o), 0);
	assert_int_equal(profile_entries(p, &e, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(profile_coverage(p), 0);
	free(e);
	free(long_path);
	profile__free(p);
}

/* Replicas merge by union; coverage counts the instances observed, per
 * profile and per capability. */
static void test_merge_and_coverage(void **state)
{
	struct profile *a = new_profile(), *b = new_profile(), *empty = new_profile();
	struct profile_obs o = obs_of(CAP_NET_BIND_SERVICE, true, CHECK_AUDITED, SYS_bind);
	char *text;

	(void)state;
	o.instance = "aaaa";
	add(a, o);
	o.instance = "bbbb";
	add(b, o);
	o = obs_of(CAP_CHOWN, true, CHECK_AUDITED, SYS_fchownat);
	o.instance = "bbbb";
	add(b, o);
	assert_int_equal(profile_add_instance(b, "cccc"), 0); /* needed nothing */
	assert_int_equal(profile_set_workload(b, "web"), 0);
	profile_set_exec_gain(b, true);
	assert_int_equal(profile_coverage(a), 1);
	assert_int_equal(profile_coverage(b), 2);

	assert_int_equal(profile_merge(a, b), 0);
	assert_int_equal(profile_merge(a, a), -EINVAL);
	assert_int_equal(profile_merge(a, empty), 0);
	assert_int_equal(profile_coverage(a), 3);
	assert_false(profile_unnamed_instance(a));
	assert_int_equal(profile_grant_mask(a), BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN));
	assert_int_equal(summary_of(a, CAP_NET_BIND_SERVICE).instances, 2);
	assert_int_equal(summary_of(a, CAP_CHOWN).instances, 1);
	assert_string_equal(profile_workload(a), "web");
	assert_true(profile_exec_gain(a));
	text = render(a, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "CAP_CHOWN: required; in 1 of 3 instances"));
	assert_non_null(strstr(text, "CAP_NET_BIND_SERVICE: required; in 2 of 3 instances"));
	assert_non_null(strstr(text, "INSTANCES"));
	free(text);

	/* Checks without an instance id belong to one unnamed instance. */
	add(empty, obs_of(CAP_KILL, true, CHECK_AUDITED, SYS_kill));
	assert_int_equal(profile_coverage(empty), 1);
	assert_int_equal(profile_merge(a, empty), 0);
	assert_int_equal(profile_coverage(a), 4);
	assert_true(profile_unnamed_instance(a));
	profile__free(a);
	profile__free(b);
	profile__free(empty);
}

/* Past the bound, entries lose binary and instance but no count. */
static void test_fold_when_full(void **state)
{
	struct profile *p = new_profile();
	struct profile_obs o = obs_of(CAP_DAC_READ_SEARCH, true, CHECK_AUDITED, SYS_openat), *e;
	char path[64];
	size_t n;
	char *text;

	(void)state;
	for (int i = 0; i < PROFILE_MAX_ENTRIES + 10; i++) {
		snprintf(path, sizeof(path), "/bin/b%d", i);
		o.binary = path;
		o.count = 2;
		add(p, o);
	}
	/* An existing key still gets counted in place. */
	o.binary = "/bin/b0";
	add(p, o);
	assert_int_equal(profile_folded(p), 20);
	assert_int_equal(profile_entries(p, &e, &n), 0);
	assert_int_equal(n, PROFILE_MAX_ENTRIES + 1);
	assert_null(e[0].binary); /* NULL sorts first */
	assert_int_equal(e[0].count, 20);
	free(e);
	assert_int_equal(summary_of(p, CAP_DAC_READ_SEARCH).granted,
			 2 * (PROFILE_MAX_ENTRIES + 10) + 2);
	assert_int_equal(profile_grant_mask(p), BIT(CAP_DAC_READ_SEARCH));
	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "20 checks kept without binary and instance"));
	free(text);
	profile__free(p);
}

static void test_no_escalation(void **state)
{
	struct profile *p = new_profile();

	(void)state;
	assert_true(profile_no_escalation(p)); /* needs nothing, user unknown */
	add(p, obs_of(CAP_NET_BIND_SERVICE, true, CHECK_AUDITED, SYS_bind));
	assert_true(profile_no_escalation(p)); /* root keeps its own */
	assert_int_equal(profile_set_user(p, 1000, "alice"), 0);
	assert_false(profile_no_escalation(p)); /* file capabilities needed */
	assert_int_equal(profile_set_user(p, 0, NULL), 0);
	profile_set_exec_gain(p, true);
	assert_false(profile_no_escalation(p));
	profile_set_exec_gain(p, false);
	add(p, obs_of(CAP_SYS_ADMIN, true, CHECK_AUDITED, SYS_mount));
	assert_false(profile_no_escalation(p));
	profile__free(p);
}

/* ---- renderings ---- */

static void python_has_yaml(void)
{
	if (system(PYTHON " -c 'import yaml' >/dev/null 2>&1") != 0)
		fail_msg("%s cannot import yaml: install python3-yaml "
			 "(scripts/install-deps.sh test)",
			 PYTHON);
}

/* Parses text with PyYAML's safe_load and evaluates a Python expression
 * over the document (d); the expression goes through the environment, so
 * no quoting. */
static void assert_yaml(const char *text, const char *expr)
{
	FILE *py;
	int status;

	python_has_yaml();
	setenv("YAML_EXPR", expr, 1);
	py = popen(PYTHON " -c 'import os, sys, yaml\n"
			  "d = yaml.safe_load(sys.stdin)\n"
			  "sys.exit(0 if eval(os.environ[\"YAML_EXPR\"]) else 3)'",
		   "w");
	assert_non_null(py);
	fputs(text, py);
	status = pclose(py);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("YAML %s (exit %d) for:\n%s\nexpected: %s",
			 WEXITSTATUS(status) == 3 ? "does not match" : "does not parse",
			 WEXITSTATUS(status), text, expr);
}

static struct json_object *parse_json(const char *text)
{
	enum json_tokener_error jerr;
	struct json_object *root = json_tokener_parse_verbose(text, &jerr);

	if (!root)
		fail_msg("not JSON (%s):\n%s", json_tokener_error_desc(jerr), text);
	return root;
}

static struct json_object *path_get(struct json_object *obj, const char *path)
{
	char copy[256], *key, *save = NULL;
	struct json_object *v = obj;

	snprintf(copy, sizeof(copy), "%s", path);
	for (key = strtok_r(copy, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
		if (!json_object_object_get_ex(v, key, &v))
			fail_msg("no %s (at %s)", path, key);
	}
	return v;
}

static void assert_json_strings(struct json_object *root, const char *path, const char *const *want)
{
	struct json_object *array = path_get(root, path);
	size_t n = 0;

	assert_true(json_object_is_type(array, json_type_array));
	while (want[n])
		n++;
	assert_int_equal(json_object_array_length(array), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_object_get_string(json_object_array_get_idx(array, i)),
				    want[i]);
}

static void test_render_k8s(void **state)
{
	struct profile *p = sample();
	struct profile *none = new_profile();
	char *text;

	(void)state;
	text = render(p, PROFILE_FORMAT_K8S);
	assert_yaml(text, "d == {\"securityContext\": {\"allowPrivilegeEscalation\": False, "
			  "\"capabilities\": {\"drop\": [\"ALL\"], \"add\": [\"CHOWN\"]}}}");
	free(text);
	text = render(none, PROFILE_FORMAT_K8S);
	assert_yaml(
		text,
		"d[\"securityContext\"][\"capabilities\"] == {\"drop\": [\"ALL\"], \"add\": []} "
		"and d[\"securityContext\"][\"allowPrivilegeEscalation\"] is False");
	free(text);
	/* A non-root user needs escalation (file capabilities) for its add. */
	assert_int_equal(profile_set_user(p, 1000, "alice"), 0);
	text = render(p, PROFILE_FORMAT_K8S);
	assert_yaml(text, "\"allowPrivilegeEscalation\" not in d[\"securityContext\"] and "
			  "d[\"securityContext\"][\"capabilities\"][\"add\"] == [\"CHOWN\"]");
	assert_non_null(strstr(text, "# uid 1000"));
	free(text);
	profile__free(p);
	profile__free(none);
}

static void test_render_compose(void **state)
{
	struct profile *p = sample();
	struct profile *none = new_profile();
	char *text;

	(void)state;
	add(p, obs_of(CAP_FOWNER, true, CHECK_AUDITED, SYS_chmod));
	text = render(p, PROFILE_FORMAT_COMPOSE);
	assert_yaml(text, "d == {\"cap_drop\": [\"ALL\"], \"cap_add\": [\"CHOWN\", \"FOWNER\"]}");
	free(text);
	text = render(none, PROFILE_FORMAT_COMPOSE);
	assert_yaml(text, "d == {\"cap_drop\": [\"ALL\"], \"cap_add\": []}");
	free(text);
	profile__free(p);
	profile__free(none);
}

static void test_render_docker(void **state)
{
	struct profile *p = sample();
	struct profile *none = new_profile();
	char *text;

	(void)state;
	add(p, obs_of(CAP_NET_BIND_SERVICE, true, CHECK_AUDITED, SYS_bind));
	text = render(p, PROFILE_FORMAT_DOCKER);
	assert_string_equal(text, "--cap-drop=ALL --cap-add=CHOWN --cap-add=NET_BIND_SERVICE\n");
	free(text);
	text = render(none, PROFILE_FORMAT_DOCKER);
	assert_string_equal(text, "--cap-drop=ALL\n");
	free(text);
	profile__free(p);
	profile__free(none);
}

static void test_render_systemd(void **state)
{
	struct profile *p = sample();
	struct profile *none = new_profile();
	char *text;

	(void)state;
	text = render(p, PROFILE_FORMAT_SYSTEMD);
	assert_string_equal(text, "[Service]\nCapabilityBoundingSet=CAP_CHOWN\n");
	free(text);
	assert_int_equal(profile_set_user(p, 1000, "alice"), 0);
	text = render(p, PROFILE_FORMAT_SYSTEMD);
	assert_string_equal(text, "[Service]\nUser=alice\nCapabilityBoundingSet=CAP_CHOWN\n"
				  "AmbientCapabilities=CAP_CHOWN\n");
	free(text);
	assert_int_equal(profile_set_user(p, 1001, "bad name\nExecStart=/x"), 0);
	text = render(p, PROFILE_FORMAT_SYSTEMD);
	assert_string_equal(text, "[Service]\nUser=1001\nCapabilityBoundingSet=CAP_CHOWN\n"
				  "AmbientCapabilities=CAP_CHOWN\n");
	free(text);
	/* Empty: the empty set, which systemd reads as "none". */
	text = render(none, PROFILE_FORMAT_SYSTEMD);
	assert_string_equal(text, "[Service]\nCapabilityBoundingSet=\n");
	free(text);
	profile__free(p);
	profile__free(none);
}

static void test_render_oci(void **state)
{
	static const char *const chown_only[] = { "CAP_CHOWN", NULL };
	static const char *const nothing[] = { NULL };
	struct profile *p = sample();
	struct json_object *root;
	char *text;

	(void)state;
	text = render(p, PROFILE_FORMAT_OCI);
	root = parse_json(text);
	assert_json_strings(root, "process.capabilities.bounding", chown_only);
	assert_json_strings(root, "process.capabilities.effective", chown_only);
	assert_json_strings(root, "process.capabilities.permitted", chown_only);
	assert_json_strings(root, "process.capabilities.inheritable", nothing);
	assert_json_strings(root, "process.capabilities.ambient", nothing);
	json_object_put(root);
	free(text);
	assert_int_equal(profile_set_user(p, 1000, NULL), 0);
	text = render(p, PROFILE_FORMAT_OCI);
	root = parse_json(text);
	assert_json_strings(root, "process.capabilities.inheritable", chown_only);
	assert_json_strings(root, "process.capabilities.ambient", chown_only);
	json_object_put(root);
	free(text);
	profile__free(p);
}

static void test_render_json(void **state)
{
	static const char *const req[] = { "CAP_CHOWN", NULL };
	static const char *const denied[] = { "CAP_SYSLOG", NULL };
	static const char *const noaudit[] = { "CAP_SYS_ADMIN", NULL };
	struct profile *p = sample();
	struct json_object *root, *d;
	char *text;

	(void)state;
	text = render(p, PROFILE_FORMAT_JSON);
	root = parse_json(text);
	assert_int_equal(json_object_get_int(path_get(root, "captrail_profile")), PROFILE_VERSION);
	assert_json_strings(root, "grant", req);
	assert_json_strings(root, "classes.required", req);
	assert_json_strings(root, "classes.denied", denied);
	assert_json_strings(root, "classes.noaudit", noaudit);
	assert_string_equal(json_object_get_string(path_get(root, "workload")), "chown-dmesg");
	assert_int_equal(json_object_get_int(path_get(root, "exit.code")), 1);
	assert_false(json_object_get_boolean(path_get(root, "allow_privilege_escalation")));
	d = json_object_array_get_idx(path_get(root, "denials"), 0);
	assert_string_equal(json_object_get_string(path_get(d, "capability")), "CAP_SYSLOG");
	assert_string_equal(json_object_get_string(path_get(d, "syscall")), "syslog");
	assert_int_equal(json_object_get_int(path_get(d, "mattered")), 1);
	d = json_object_array_get_idx(path_get(root, "capabilities"), 0);
	assert_string_equal(json_object_get_string(path_get(d, "name")), "CAP_CHOWN");
	assert_string_equal(json_object_get_string(path_get(d, "class")), "required");
	d = json_object_array_get_idx(path_get(d, "checks"), 0);
	assert_string_equal(json_object_get_string(path_get(d, "syscall")), "fchownat");
	assert_string_equal(json_object_get_string(path_get(d, "binary")), "/usr/bin/chown");
	json_object_put(root);
	free(text);
	profile__free(p);
}

/* Everything profile_render(JSON) writes comes back, and renders the same. */
static void test_json_round_trip(void **state)
{
	struct profile *p = sample(), *back = NULL, *again = NULL;
	struct profile_obs o = obs_of(CAP_NET_RAW, true, CHECK_AUDIT_UNKNOWN, -1);
	char why[PROFILE_WHY_LEN] = "", path[] = "/tmp/captrail-profile.XXXXXX";
	char *text, *text2, *const argv[] = { "a b", "it's", "\n\t\"", NULL };
	uid_t uid;
	const char *name;
	int status, fd;
	FILE *f;

	(void)state;
	o.via_capset = true;
	o.instance = "ctr-1";
	o.first_ns = 5;
	o.last_ns = UINT64_MAX;
	o.count = UINT64_MAX - 10;
	add(p, o);
	o = obs_of(CAP_SETUID, false, CHECK_AUDITED, 100000); /* a number unknown here */
	o.foreign_userns = true;
	o.outcome = PROFILE_OUTCOME_OTHER_ERROR;
	o.instance = "ctr-2";
	o.binary = "/bin/\xc3\xa9t\xc3\xa9 \"q\"";
	add(p, o);
	assert_int_equal(profile_add_instance(p, "ctr-3"), 0);
	assert_int_equal(profile_set_command(p, argv), 0);
	assert_int_equal(profile_set_user(p, 65534, NULL), 0);
	profile_set_exit(p, SIGKILL);
	profile_set_exec_gain(p, true);

	text = render(p, PROFILE_FORMAT_JSON);
	assert_int_equal(profile_parse_json(text, &back, why), 0);
	text2 = render(back, PROFILE_FORMAT_JSON);
	assert_string_equal(text2, text);
	free(text2);
	assert_int_equal(profile_coverage(back), 4);
	assert_true(profile_exit(back, &status));
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(profile_user(back, &uid, &name));
	assert_int_equal(uid, 65534);
	assert_null(name);
	assert_string_equal(profile_command(back)[2], "\n\t\"");
	assert_false(profile_grant_edited(back));

	/* The same through a file. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(profile_render(p, PROFILE_FORMAT_JSON, f), 0);
	fclose(f);
	assert_int_equal(profile_load_json(path, &again, why), 0);
	text2 = render(again, PROFILE_FORMAT_TEXT);
	free(text);
	text = render(p, PROFILE_FORMAT_TEXT);
	assert_string_equal(text2, text);
	unlink(path);
	free(text);
	free(text2);
	profile__free(p);
	profile__free(back);
	profile__free(again);
}

/* --minimize: a capability not needed leaves the grant set (the grant is
 * not "edited" for it), is listed with its reason, and both survive a
 * round trip through JSON, as `captrail run --profile` reads it. */
static void test_not_needed(void **state)
{
	struct profile *p = sample(), *back = NULL;
	struct profile_obs o = obs_of(CAP_SETUID, true, CHECK_AUDITED, SYS_setuid);
	char why[PROFILE_WHY_LEN] = "", *text, *text2;
	const char *probe;
	unsigned int runs;

	(void)state;
	add(p, o);
	assert_int_equal(profile_set_not_needed(p, CAP_SETUID, "without it: exit 1 (same as recorded)"),
			 0);
	assert_int_equal(profile_set_minimize(p, 2, "curl -sf http://[::1]/"), 0);
	assert_int_equal(profile_set_not_needed(p, CAPS_MAX, "x"), -EINVAL);
	assert_true(profile_grant_mask(p) == BIT(CAP_CHOWN));
	assert_false(profile_grant_edited(p));
	assert_true(profile_not_needed_mask(p) == BIT(CAP_SETUID));

	text = render(p, PROFILE_FORMAT_JSON);
	assert_non_null(strstr(text, "\"reason\": \"without it: exit 1 (same as recorded)\""));
	assert_int_equal(profile_parse_json(text, &back, why), 0);
	text2 = render(back, PROFILE_FORMAT_JSON);
	assert_string_equal(text2, text);
	assert_true(profile_grant_mask(back) == BIT(CAP_CHOWN));
	assert_false(profile_grant_edited(back));
	assert_string_equal(profile_not_needed_reason(back, CAP_SETUID),
			    "without it: exit 1 (same as recorded)");
	assert_true(profile_minimize(back, &runs, &probe));
	assert_int_equal(runs, 2);
	assert_string_equal(probe, "curl -sf http://[::1]/");
	free(text);
	free(text2);

	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "\nrecommended: CAP_CHOWN\n"));
	assert_non_null(strstr(text, "\nminimized: 2 runs without one capability, probe: curl"));
	assert_non_null(strstr(text, "\nnot needed: CAP_SETUID: without it: exit 1 (same as recorded)\n"));
	free(text);

	/* Malformed: said, not ignored. */
	profile__free(back);
	back = NULL;
	assert_int_equal(profile_parse_json("{\"captrail_profile\": 1, \"not_needed\": [{}]}", &back,
					    why),
			 -EINVAL);
	assert_non_null(strstr(why, "not_needed[0]"));
	profile__free(p);
}

static const char *fixture(const char *name)
{
	static char path[PATH_MAX];
	const char *src = getenv("CAPTRAIL_SRC");

	snprintf(path, sizeof(path), "%s/tests/fixtures/profile/%s", src ? src : ".", name);
	return path;
}

/* `captrail run --profile` after a hand edit: "grant" wins. */
static void test_load_hand_edited(void **state)
{
	struct profile *p = NULL;
	char why[PROFILE_WHY_LEN] = "";
	char *text;

	(void)state;
	if (profile_load_json(fixture("edited.json"), &p, why) != 0)
		fail_msg("edited.json: %s", why);
	assert_true(profile_grant_edited(p));
	assert_int_equal(profile_grant_mask(p), BIT(CAP_CHOWN));
	assert_int_equal(profile_required_mask(p), BIT(CAP_CHOWN) | BIT(CAP_FOWNER));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_REQUIRED), BIT(CAP_CHOWN) | BIT(CAP_FOWNER));
	assert_int_equal(profile_mask(p, PROFILE_CLASS_DENIED), BIT(CAP_SYSLOG));
	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(
		text,
		"recommended: CAP_CHOWN\n  (edited: the checks make it CAP_CHOWN CAP_FOWNER)"));
	assert_non_null(strstr(text, "syslog"));
	free(text);
	text = render(p, PROFILE_FORMAT_DOCKER);
	assert_string_equal(text, "--cap-drop=ALL --cap-add=CHOWN\n");
	free(text);
	profile__free(p);

	p = NULL;
	assert_int_equal(profile_load_json(fixture("minimal.json"), &p, why), 0);
	assert_int_equal(profile_grant_mask(p), BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(profile_coverage(p), 0);
	profile__free(p);
}

static struct profile *load_fixture(const char *name)
{
	char why[PROFILE_WHY_LEN] = "";
	struct profile *p = NULL;

	if (profile_load_json(fixture(name), &p, why) != 0)
		fail_msg("%s: %s", name, why);
	return p;
}

static void expect_runs(const struct profile *p, uint64_t runs, const int *caps,
			const uint64_t *cap_runs, size_t n)
{
	assert_true(profile_runs(p) == runs);
	for (size_t i = 0; i < n; i++) {
		if (profile_cap_runs(p, caps[i]) != cap_runs[i])
			fail_msg("cap %d: %llu runs, want %llu", caps[i],
				 (unsigned long long)profile_cap_runs(p, caps[i]),
				 (unsigned long long)cap_runs[i]);
	}
}

/* profile --merge: a fresh-host and a warm-host run of one program (the
 * warm one never chowns its state directory). The union needs both sets;
 * counts add up, times span both; each capability says in how many runs
 * it was checked, in every rendering, and a rendered union merges again. */
static void test_merge_runs(void **state)
{
	static const int caps[] = {
		CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_SETGID, CAP_SETUID, CAP_NET_BIND_SERVICE,
		CAP_SYSLOG, CAP_KILL,
	};
	static const uint64_t two[] = { 1, 2, 2, 2, 2, 1, 0 };
	static const uint64_t three[] = { 2, 3, 3, 3, 3, 1, 0 };
	struct profile *fresh = load_fixture("run_fresh.json");
	struct profile *warm = load_fixture("run_warm.json");
	struct profile *merged = new_profile(), *again = NULL, *other = sample();
	char why[PROFILE_WHY_LEN] = "";
	struct profile_cap s;
	char *text;
	int status;

	(void)state;
	assert_true(profile_runs(fresh) == 0);
	assert_int_equal(profile_merge_run(merged, fresh), 0);
	assert_true(profile_runs(merged) == 1);
	assert_true(profile_exit(merged, &status) && WIFEXITED(status));
	assert_int_equal(profile_merge_run(merged, warm), 0);
	expect_runs(merged, 2, caps, two, sizeof(two) / sizeof(two[0]));
	assert_int_equal(profile_grant_mask(merged),
			 BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_SETGID) |
				 BIT(CAP_SETUID) | BIT(CAP_NET_BIND_SERVICE));
	assert_false(profile_grant_edited(merged));
	s = summary_of(merged, CAP_DAC_OVERRIDE);
	assert_true(s.granted == 5);
	s = summary_of(merged, CAP_NET_BIND_SERVICE);
	assert_true(s.granted == 3 && s.first_ns == 600 && s.last_ns == 9000);
	/* The runs ended differently: no one exit status stands for them;
	 * they ran one command, which stays. */
	assert_false(profile_exit(merged, NULL));
	assert_non_null(profile_command(merged));
	assert_string_equal(profile_command(merged)[2], "daemon off;");

	text = render(merged, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "\nruns       2 merged\n"));
	assert_non_null(strstr(text, "\n  CAP_CHOWN: 1 of 2 runs\n"));
	assert_non_null(strstr(text, "\n  CAP_DAC_OVERRIDE: 2 of 2 runs\n"));
	assert_non_null(strstr(text, "\n  CAP_SYSLOG: 1 of 2 runs\n"));
	assert_null(strstr(text, "CAP_KILL"));
	assert_non_null(strstr(text, "recommended: CAP_CHOWN CAP_DAC_OVERRIDE CAP_SETGID "
				     "CAP_SETUID CAP_NET_BIND_SERVICE\n"));
	free(text);
	text = render(merged, PROFILE_FORMAT_K8S);
	assert_true(strncmp(text, "# coverage", 10) == 0); /* YAML comments */
	assert_non_null(strstr(text, "\n#   CAP_CHOWN: 1 of 2 runs\n"));
	assert_non_null(strstr(text, "\nsecurityContext:\n"));
	free(text);
	text = render(merged, PROFILE_FORMAT_SYSTEMD);
	assert_non_null(strstr(text, "#   CAP_NET_BIND_SERVICE: 2 of 2 runs\n"));
	free(text);
	text = render(merged, PROFILE_FORMAT_DOCKER); /* pasted into a command line */
	assert_null(strchr(text, '#'));
	free(text);

	/* JSON: "runs" at the top and per capability, read back. */
	text = render(merged, PROFILE_FORMAT_JSON);
	if (profile_parse_json(text, &again, why) != 0)
		fail_msg("merged JSON: %s", why);
	free(text);
	expect_runs(again, 2, caps, two, sizeof(two) / sizeof(two[0]));
	/* A union merged with one more run counts as its runs. */
	assert_int_equal(profile_merge_run(again, fresh), 0);
	expect_runs(again, 3, caps, three, sizeof(three) / sizeof(three[0]));
	s = summary_of(again, CAP_CHOWN);
	assert_true(s.granted == 10);
	/* Another command: the union names none. */
	assert_int_equal(profile_merge_run(again, other), 0);
	assert_null(profile_command(again));
	assert_true(profile_runs(again) == 4);
	assert_true(profile_cap_runs(again, CAP_SYSLOG) == 2);

	/* A plain profile has no "runs" in JSON or text. */
	text = render(fresh, PROFILE_FORMAT_JSON);
	assert_null(strstr(text, "\"runs\""));
	free(text);
	text = render(fresh, PROFILE_FORMAT_TEXT);
	assert_null(strstr(text, "runs"));
	free(text);

	profile__free(fresh);
	profile__free(warm);
	profile__free(merged);
	profile__free(again);
	profile__free(other);
}

static void expect_bad(const char *text, const char *why_part)
{
	struct profile *p = (struct profile *)0x1;
	char why[PROFILE_WHY_LEN] = "";

	assert_int_equal(profile_parse_json(text, &p, why), -EINVAL);
	assert_ptr_equal(p, (struct profile *)0x1);
	if (!strstr(why, why_part))
		fail_msg("for %s: \"%s\" does not say \"%s\"", text, why, why_part);
}

/* One check inside a minimal profile. */
static void expect_bad_check(const char *check, const char *why_part)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"captrail_profile\": 1, \"capabilities\": [{\"name\": \"CAP_CHOWN\", "
		 "\"checks\": [%s]}]}",
		 check);
	expect_bad(text, why_part);
}

static void test_load_rejects(void **state)
{
	char why[PROFILE_WHY_LEN];
	struct profile *p = NULL;

	(void)state;
	expect_bad("", "not JSON");
	expect_bad("{\"captrail_profile\": 1", "not JSON");
	expect_bad("{\"captrail_profile\": 1} x", "data after the document");
	expect_bad("[1]", "not a JSON object");
	expect_bad("{}", "no \"captrail_profile\"");
	expect_bad("{\"captrail_profile\": 2}", "version 2 is not 1");
	expect_bad("{\"captrail_profile\": 1, \"grnat\": []}", "grnat: unknown field");
	expect_bad("{\"captrail_profile\": 1, \"grant\": [\"CAP_CHWON\"]}",
		   "grant[0]: unknown capability \"CAP_CHWON\" (did you mean CAP_CHOWN?)");
	expect_bad("{\"captrail_profile\": 1, \"grant\": \"CAP_CHOWN\"}", "grant: not an array");
	expect_bad_check("{\"verdict\": \"granted\", \"count\": -1}",
			 "capabilities[0].checks[0].count: not a non-negative integer");
	expect_bad_check("{\"verdict\": \"granted\"}", "needs \"verdict\" and \"count\"");
	expect_bad_check("{\"verdict\": \"yes\", \"count\": 1}",
			 "verdict: not \"granted\" or \"denied\"");
	expect_bad_check("{\"verdict\": \"denied\", \"count\": 1, \"syscall\": \"frobnicate\"}",
			 "unknown syscall \"frobnicate\"");
	expect_bad_check("{\"verdict\": \"denied\", \"count\": 1, \"colour\": 1}",
			 "checks[0].colour: unknown field");
	expect_bad("{\"captrail_profile\": 1, \"exit\": {\"code\": 256}}",
		   "exit.code: 256 is out of range");
	expect_bad("{\"captrail_profile\": 1, \"user\": {\"name\": \"x\"}}",
		   "user: not an object with a \"uid\"");
	expect_bad("{\"captrail_profile\": 1, \"runs\": 1, \"capabilities\": [{\"name\": "
		   "\"CAP_CHOWN\", \"runs\": 2}]}",
		   "runs: 1, fewer than a capability's runs");
	expect_bad("{\"captrail_profile\": 1, \"capabilities\": [{\"name\": \"CAP_CHOWN\", "
		   "\"runs\": -1}]}",
		   "capabilities[0].runs: not a non-negative integer");

	assert_int_equal(profile_load_json("/nonexistent/profile.json", &p, why), -ENOENT);
	assert_int_equal(profile_load_json("/tmp", &p, why), -EINVAL);
	assert_string_equal(why, "not a regular file");
	assert_null(p);
}

/* Text for people: the table, the verdicts, the recommendation in every
 * form, and nothing a workload can use to drive the terminal. */
static void test_render_text(void **state)
{
	struct profile *p = sample();
	struct profile_obs o = obs_of(CAP_KILL, true, CHECK_AUDITED, SYS_kill);
	static const char *const want[] = {
		"workload   chown-dmesg\n",
		"command    sh -c 'chown 1 f; dmesg' '' 'it'\\''s'\n",
		"user       root (uid 0)\n",
		"exit       status 1\n",
		"instances  1\n",
		"CAP_CHOWN: required\n"
		"  VERDICT  CHECK    SYSCALL   OUTCOME  COUNT  BINARY\n"
		"  granted  audited  fchownat  -            3  /usr/bin/chown\n",
		"CAP_SYSLOG: denied only, not recommended; the denial mattered",
		"  denied   audited  syslog   mattered      1  /usr/bin/dmesg\n",
		"CAP_SYS_ADMIN: noaudit probe: never recommended\n",
		"recommended: CAP_CHOWN CAP_KILL\n",
		"Kubernetes (container securityContext):\nsecurityContext:\n",
		"docker run:\n--cap-drop=ALL --cap-add=CHOWN --cap-add=KILL\n",
		"docker compose (service):\ncap_drop:\n",
		"systemd (unit or drop-in):\n[Service]\nCapabilityBoundingSet=CAP_CHOWN CAP_KILL\n",
		"OCI runtime config (config.json):\n{",
		"/bin/evil\\x1b[2J\n",
	};
	char *const argv[] = { "sh", "-c", "chown 1 f; dmesg", "", "it's", NULL };
	char *text;

	(void)state;
	o.binary = "/bin/evil\x1b[2J";
	add(p, o);
	assert_int_equal(profile_set_command(p, argv), 0);
	text = render(p, PROFILE_FORMAT_TEXT);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(text, want[i]))
			fail_msg("no \"%s\" in:\n%s", want[i], text);
	}
	assert_null(strchr(text, '\x1b'));
	/* Required before denied-only before the probes. */
	assert_true(strstr(text, "CAP_KILL:") < strstr(text, "CAP_SYSLOG:"));
	assert_true(strstr(text, "CAP_SYSLOG:") < strstr(text, "CAP_SYS_ADMIN:"));
	free(text);
	profile__free(p);

	p = new_profile();
	text = render(p, PROFILE_FORMAT_TEXT);
	assert_non_null(strstr(text, "no capability checks observed\n"));
	assert_non_null(strstr(text, "recommended: no capabilities\n"));
	free(text);
	profile__free(p);
}

static void test_formats_and_errors(void **state)
{
	enum profile_format f = PROFILE_FORMAT_COUNT;
	struct profile *p = sample();
	FILE *full;

	(void)state;
	for (int i = 0; i < PROFILE_FORMAT_COUNT; i++) {
		assert_int_equal(
			profile_format_parse(profile_format_name((enum profile_format)i), &f), 0);
		assert_int_equal(f, i);
	}
	assert_int_equal(profile_format_parse("yaml", &f), -EINVAL);
	assert_int_equal(profile_format_parse(NULL, &f), -EINVAL);
	assert_int_equal(profile_render(p, PROFILE_FORMAT_COUNT, stdout), -EINVAL);
	full = fopen("/dev/full", "we");
	if (full) {
		for (int i = 0; i < PROFILE_FORMAT_COUNT; i++)
			assert_int_equal(profile_render(p, (enum profile_format)i, full), -EIO);
		fclose(full);
	}
	profile__free(p);
	profile__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_unknown_audit_is_required_and_flagged),
		cmocka_unit_test(test_denied_only),
		cmocka_unit_test(test_noaudit),
		cmocka_unit_test(test_override_cred),
		cmocka_unit_test(test_foreign_userns),
		cmocka_unit_test(test_capset),
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_required_beats_denied_and_noaudit),
		cmocka_unit_test(test_check_class_precedence),
		cmocka_unit_test(test_add_merges_identical_keys),
		cmocka_unit_test(test_add_rejects_bad_fields),
		cmocka_unit_test(test_merge_and_coverage),
		cmocka_unit_test(test_fold_when_full),
		cmocka_unit_test(test_no_escalation),
		cmocka_unit_test(test_render_k8s),
		cmocka_unit_test(test_render_compose),
		cmocka_unit_test(test_render_docker),
		cmocka_unit_test(test_render_systemd),
		cmocka_unit_test(test_render_oci),
		cmocka_unit_test(test_render_json),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_load_hand_edited),
		cmocka_unit_test(test_load_rejects),
		cmocka_unit_test(test_merge_runs),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_not_needed),
		cmocka_unit_test(test_formats_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
