/* Rings: option and environment parsing, ring masks, and the real
 * transitions of a process (in forked children, as root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../helpers/seccomp_deny.h"
#include "lib/caps.h"
#include "privilege/rings.h"

#define C(x) RINGS_CAP(CAP_##x)

static void test_parse_good(void **state)
{
	char detail[RINGS_DETAIL_LEN] = "";
	struct rings_config cfg = {};

	(void)state;
	assert_int_equal(rings_config_parse_option(&cfg, "bypass=true", detail), 0);
	assert_true(cfg.bypass);
	assert_int_equal(rings_config_parse_option(&cfg, "bypass=FALSE", detail), 0);
	assert_false(cfg.bypass);
	assert_int_equal(rings_config_parse_option(&cfg, "bypass=1", detail), 0);
	assert_true(cfg.bypass);
	assert_int_equal(rings_config_parse_option(&cfg, "add=cap_syslog,CHOWN", detail), 0);
	assert_true(cfg.add == (C(SYSLOG) | C(CHOWN)));
	/* Repeated keys accumulate. */
	assert_int_equal(rings_config_parse_option(&cfg, "add=Cap_Net_Raw", detail), 0);
	assert_true(cfg.add == (C(SYSLOG) | C(CHOWN) | C(NET_RAW)));
	assert_int_equal(rings_config_parse_option(&cfg, "drop=chown", detail), 0);
	assert_int_equal(rings_config_parse_option(&cfg, "drop=CAP_KILL,21", detail), 0);
	assert_true(cfg.drop == (C(CHOWN) | C(KILL) | C(SYS_ADMIN)));
	assert_int_equal(cfg.set, RINGS_SET_BYPASS | RINGS_SET_ADD | RINGS_SET_DROP);
	/* drop takes out of Base what add put in. */
	assert_true(rings_config_base(&cfg) == (C(SYSLOG) | C(NET_RAW)));
}

static void expect_bad(const char *option, const char *want)
{
	char detail[RINGS_DETAIL_LEN] = "";
	struct rings_config cfg = { .add = 1, .set = RINGS_SET_ADD };

	assert_int_equal(rings_config_parse_option(&cfg, option, detail), -EINVAL);
	if (!strstr(detail, want))
		fail_msg("'%s' said '%s', want '%s'", option, detail, want);
	/* untouched on failure */
	assert_true(cfg.add == 1 && cfg.drop == 0 && !cfg.bypass && cfg.set == RINGS_SET_ADD);
}

static void test_parse_bad(void **state)
{
	(void)state;
	expect_bad("add=cap_sysloog",
		   "unknown capability 'cap_sysloog' in add= (did you mean CAP_SYSLOG?)");
	expect_bad("drop=chown,net_bind",
		   "unknown capability 'net_bind' in drop= (did you mean CAP_NET_BIND_SERVICE?)");
	expect_bad("add=64", "unknown capability '64'");
	expect_bad("bypass", "malformed capabilities option 'bypass'");
	expect_bad("", "malformed capabilities option ''");
	expect_bad("=true", "malformed capabilities option '=true'");
	expect_bad("frob=1", "unknown capabilities key 'frob' (want bypass, add or drop)");
	expect_bad("ADD=chown", "unknown capabilities key 'ADD'");
	expect_bad("bypass=maybe", "invalid bypass value 'maybe' (want true or false)");
	expect_bad("bypass=", "invalid bypass value ''");
	expect_bad("add=", "empty capability list in add=");
	expect_bad("drop=chown,", "empty capability name in drop='chown,'");
	expect_bad("add=,chown", "empty capability name in add=',chown'");
	expect_bad("add=chown,,kill", "empty capability name");
}

struct fake_env {
	const char *bypass, *add, *drop;
};

static struct fake_env env;

static char *fake_getenv(const char *name)
{
	if (!strcmp(name, "CAPABILITIES_BYPASS"))
		return (char *)env.bypass;
	if (!strcmp(name, "CAPABILITIES_ADD"))
		return (char *)env.add;
	if (!strcmp(name, "CAPABILITIES_DROP"))
		return (char *)env.drop;
	return NULL;
}

static void test_env(void **state)
{
	char detail[RINGS_DETAIL_LEN] = "";
	struct rings_config cfg = {};

	(void)state;
	env = (struct fake_env){ NULL, NULL, NULL };
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), 0);
	assert_int_equal(cfg.set, 0);

	env = (struct fake_env){ "1", "syslog", "" };
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), 0);
	assert_true(cfg.bypass);
	assert_true(cfg.add == C(SYSLOG));
	assert_int_equal(cfg.set, RINGS_SET_BYPASS | RINGS_SET_ADD); /* empty is unset */

	cfg = (struct rings_config){};
	env = (struct fake_env){ "0", "cap_chown", "CAP_CHOWN" };
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), 0);
	assert_false(cfg.bypass);
	assert_true(rings_config_base(&cfg) == 0);

	cfg = (struct rings_config){};
	env = (struct fake_env){ "2", NULL, NULL };
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), -EINVAL);
	assert_string_equal(detail, "invalid CAPABILITIES_BYPASS '2' (want 0 or 1)");
	env = (struct fake_env){ "1", "chown,sysloog", NULL };
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), -EINVAL);
	assert_string_equal(detail, "unknown capability 'sysloog' in CAPABILITIES_ADD "
				    "(did you mean CAP_SYSLOG?)");
	assert_int_equal(cfg.set, 0); /* untouched, even the valid bypass */
	env = (struct fake_env){ NULL, NULL, "kill,," };
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), -EINVAL);
	assert_string_equal(detail, "empty capability name in CAPABILITIES_DROP'kill,,'");
}

static void test_flags_win_over_env(void **state)
{
	char detail[RINGS_DETAIL_LEN] = "";
	struct rings_config cfg = {};

	(void)state;
	env = (struct fake_env){ "1", "chown,kill", "net_raw" };
	assert_int_equal(rings_config_parse_option(&cfg, "add=syslog", detail), 0);
	assert_int_equal(rings_config_parse_option(&cfg, "bypass=false", detail), 0);
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), 0);
	/* add and bypass replaced, not merged; drop taken from the environment. */
	assert_false(cfg.bypass);
	assert_true(cfg.add == C(SYSLOG));
	assert_true(cfg.drop == C(NET_RAW));

	/* A variable a flag overrides is not even parsed. */
	cfg = (struct rings_config){};
	env = (struct fake_env){ "maybe", "sysloog", NULL };
	assert_int_equal(rings_config_parse_option(&cfg, "add=syslog", detail), 0);
	assert_int_equal(rings_config_parse_option(&cfg, "bypass=true", detail), 0);
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), 0);
	assert_true(cfg.bypass && cfg.add == C(SYSLOG));

	/* No flag: the environment stands. */
	cfg = (struct rings_config){};
	env = (struct fake_env){ "1", "chown,kill", "net_raw" };
	assert_int_equal(rings_config_from_env(&cfg, fake_getenv, detail), 0);
	assert_true(cfg.bypass);
	assert_true(cfg.add == (C(CHOWN) | C(KILL)));
}

static void test_ebpf_ring_per_kernel(void **state)
{
	uint64_t all = ~0ull;

	(void)state;
	/* Before 5.8 the kernel knows neither CAP_PERFMON nor CAP_BPF. */
	assert_true(rings_ebpf_caps(37, all) == C(SYS_ADMIN));
	assert_true(rings_ebpf_caps(38, all) == C(SYS_ADMIN));
	assert_true(rings_ebpf_caps(39, all) == (C(BPF) | C(PERFMON)));
	assert_true(rings_ebpf_caps(40, all) == (C(BPF) | C(PERFMON)));
	/* Only CAP_SYS_ADMIN given: it covers both. */
	assert_true(rings_ebpf_caps(40, C(SYS_ADMIN)) == C(SYS_ADMIN));
	assert_true(rings_ebpf_caps(40, C(BPF) | C(SYS_ADMIN)) == C(SYS_ADMIN));
	assert_true(rings_ebpf_caps(40, C(BPF) | C(PERFMON)) == (C(BPF) | C(PERFMON)));
}

static void test_ring_of(void **state)
{
	uint64_t ebpf = C(BPF) | C(PERFMON);

	(void)state;
	assert_int_equal(rings_ring_of(CAP_BPF, 0, ebpf), RING_EBPF);
	assert_int_equal(rings_ring_of(CAP_SYS_ADMIN, 0, ebpf), RING_NONE);
	assert_int_equal(rings_ring_of(CAP_SYS_ADMIN, 0, C(SYS_ADMIN)), RING_EBPF);
	assert_int_equal(rings_ring_of(CAP_SYS_PTRACE, 0, ebpf), RING_SPECIFIC);
	assert_int_equal(rings_ring_of(CAP_DAC_READ_SEARCH, 0, ebpf), RING_SPECIFIC);
	assert_int_equal(rings_ring_of(CAP_DAC_OVERRIDE, 0, ebpf), RING_SPECIFIC);
	assert_int_equal(rings_ring_of(CAP_SYSLOG, 0, ebpf), RING_SPECIFIC);
	assert_int_equal(rings_ring_of(CAP_SYSLOG, C(SYSLOG), ebpf), RING_BASE);
	assert_int_equal(rings_ring_of(CAP_CHOWN, 0, ebpf), RING_NONE);
	assert_int_equal(rings_ring_of(-1, ~0ull, ebpf), RING_NONE);
	assert_int_equal(rings_ring_of(64, ~0ull, ebpf), RING_NONE);
	assert_string_equal(rings_name(RING_EBPF), "ebpf");
	assert_string_equal(rings_name(RING_SPECIFIC), "specific");
	assert_string_equal(rings_name(RING_BASE), "base");
	assert_string_equal(rings_name(RING_FULL), "full");
	assert_string_equal(rings_name(RING_NONE), "-");
}

static void test_free_null(void **state)
{
	(void)state;
	rings__free(NULL);
}

/* --- the real process, in forked children --- */

/* In a child a cmocka failure would jump back into the test runner's copy:
 * report and leave instead. */
#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
			_exit(1);                                                    \
		}                                                                    \
	} while (0)

struct status {
	uint64_t inh, prm, eff, bnd, amb;
	int nnp;
};

static struct status status(void)
{
	struct status s = { .nnp = -1 };
	unsigned long long v;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapInh: %llx", &v) == 1)
			s.inh = v;
		else if (sscanf(line, "CapPrm: %llx", &v) == 1)
			s.prm = v;
		else if (sscanf(line, "CapEff: %llx", &v) == 1)
			s.eff = v;
		else if (sscanf(line, "CapBnd: %llx", &v) == 1)
			s.bnd = v;
		else if (sscanf(line, "CapAmb: %llx", &v) == 1)
			s.amb = v;
		else
			sscanf(line, "NoNewPrivs: %d", &s.nnp);
	}
	fclose(f);
	return s;
}

static void run_in_child(int (*fn)(void))
{
	int wstatus;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
}

static char logged[8][512];
static int n_logged;

static void log_line(void *data, const char *line)
{
	CHECK(data == logged);
	if (n_logged < 8)
		snprintf(logged[n_logged++], sizeof(logged[0]), "%s", line);
}

static int child_lowered_and_rings(void)
{
	struct rings_config cfg = { .verbose = true, .log = log_line, .log_data = logged };
	uint64_t ebpf = rings_need_ebpf(NULL);
	uint64_t needed = ebpf | C(SYS_PTRACE) | C(SYSLOG);
	struct rings_error error = {};
	struct rings *r = NULL;
	const char *why = NULL;
	struct status s;

	CHECK(ebpf == (C(BPF) | C(PERFMON)) || ebpf == C(SYS_ADMIN));
	CHECK(rings__new(&cfg, needed, &r, &error) == 0);
	s = status();
	CHECK(s.eff == 0);
	CHECK(s.prm == needed);
	CHECK(s.bnd == needed);
	CHECK(s.inh == 0 && s.amb == 0);
	CHECK(s.nnp == 0);
	CHECK(rings_permitted(r) == needed && rings_effective(r) == 0);

	rings_enter(r, RING_EBPF, "load");
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == ebpf);
	/* Nested: adds to the outer ring, and leaving goes back to it. */
	rings_enter_specific(r, C(SYS_PTRACE) | C(CHOWN), "read /proc");
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == (ebpf | C(SYS_PTRACE))); /* CHOWN is not permitted */
	rings_leave(r);
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == ebpf);
	rings_leave(r);
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == 0);
	rings_leave(r);
	CHECK(rings_failure(r, NULL) == 0); /* unmatched: stays at Base */
	CHECK(status().eff == 0);
	rings_enter(r, RING_FULL, "everything");
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == needed);
	rings_leave(r);
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(n_logged == 8);
	CHECK(strstr(logged[0], "rings: permitted and bounding sets cut to "));
	CHECK(strstr(logged[0], "; base none"));
	CHECK(!strcmp(logged[1], ebpf == C(SYS_ADMIN) ?
					 "rings: enter ebpf (CAP_SYS_ADMIN) for load" :
					 "rings: enter ebpf (CAP_PERFMON,CAP_BPF) for load"));
	CHECK(!strcmp(logged[2], "rings: enter specific (CAP_SYS_PTRACE) for read /proc"));
	CHECK(strstr(logged[3], "rings: leave specific after read /proc, back to ebpf ("));
	CHECK(!strcmp(logged[4], "rings: leave ebpf after load, back to base (none)"));
	CHECK(!strcmp(logged[5], "rings: leave base after nothing, back to base (none)"));

	/* Failures are kept, the first one only; enters and leaves still pair. */
	for (int i = 0; i < RINGS_MAX_DEPTH; i++)
		rings_enter(r, RING_BASE, "deep");
	rings_enter(r, RING_BASE, "too deep");
	rings_enter(r, RING_SPECIFIC, "no mask");
	CHECK(rings_failure(r, &why) == -EOVERFLOW && !strcmp(why, "too deep"));
	rings_leave(r); /* the ones past the depth pair with nothing */
	rings_leave(r);
	for (int i = 0; i < RINGS_MAX_DEPTH; i++)
		rings_leave(r);
	CHECK(status().eff == 0);
	rings__free(r);

	CHECK(rings__new(&cfg, needed, &r, &error) == 0);
	rings_enter(r, RING_SPECIFIC, "no mask");
	CHECK(rings_failure(r, &why) == -EINVAL && !strcmp(why, "no mask"));
	rings_leave(r);
	CHECK(status().eff == 0);
	rings__free(r);
	return 0;
}

static void test_lowered_and_rings(void **state)
{
	(void)state;
	run_in_child(child_lowered_and_rings);
}

static int child_base_add(void)
{
	struct rings_config cfg = { .add = C(SYSLOG) | C(KILL), .drop = C(KILL) };
	struct rings *r = NULL;
	struct status s;

	CHECK(rings__new(&cfg, C(SYS_PTRACE), &r, NULL) == 0);
	s = status();
	CHECK(s.eff == C(SYSLOG));
	CHECK(s.prm == (C(SYSLOG) | C(SYS_PTRACE)));
	CHECK(s.bnd == s.prm);
	rings_enter_specific(r, C(SYS_PTRACE), "read");
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == (C(SYSLOG) | C(SYS_PTRACE)));
	rings_leave(r);
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == C(SYSLOG));
	rings__free(r);
	return 0;
}

static void test_base_add(void **state)
{
	(void)state;
	run_in_child(child_base_add);
}

static int child_bypass(void)
{
	struct rings_config cfg = { .bypass = true, .add = C(SYSLOG) };
	struct status before = status(), s;
	struct rings *r = NULL;

	CHECK(rings__new(&cfg, C(SYS_PTRACE), &r, NULL) == 0);
	s = status();
	CHECK(s.eff == before.prm && s.prm == before.prm && s.bnd == before.bnd);
	rings_enter(r, RING_EBPF, "load");
	CHECK(rings_failure(r, NULL) == 0);
	rings_leave(r);
	CHECK(rings_failure(r, NULL) == 0);
	CHECK(status().eff == before.prm);
	rings__free(r);
	return 0;
}

static void test_bypass(void **state)
{
	(void)state;
	run_in_child(child_bypass);
}

/* Leaves the permitted and effective sets without caps. */
static void lose(uint64_t caps)
{
	struct status s = status();
	cap_t c = cap_init();

	CHECK(c);
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		cap_value_t v = cap;

		if (!(s.prm & RINGS_CAP(cap)) || (caps & RINGS_CAP(cap)))
			continue;
		CHECK(cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET) == 0);
		CHECK(cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET) == 0);
	}
	CHECK(cap_set_proc(c) == 0);
	cap_free(c);
}

static int child_base_not_permitted(void)
{
	struct rings_config cfg = { .add = C(SYSLOG) | C(CHOWN) };
	struct rings_error error = {};
	struct rings *r = NULL;
	struct status before;

	lose(C(SYSLOG));
	before = status();
	CHECK(rings__new(&cfg, 0, &r, &error) == -EPERM);
	CHECK(r == NULL);
	CHECK(!strcmp(error.op, "raise into the base ring (not permitted)"));
	CHECK(error.caps == C(SYSLOG) && error.err == -EPERM);
	CHECK(status().bnd == before.bnd); /* refused before any change */
	return 0;
}

static void test_base_not_permitted(void **state)
{
	(void)state;
	run_in_child(child_base_not_permitted);
}

static int child_no_setpcap(void)
{
	struct rings_config cfg = {};
	struct rings *r = NULL;
	struct status before, s;

	lose(C(SETPCAP));
	before = status();
	CHECK(rings__new(&cfg, C(SYS_PTRACE), &r, NULL) == 0);
	s = status();
	CHECK(s.bnd == before.bnd);
	CHECK(s.nnp == 1);
	CHECK(s.prm == C(SYS_PTRACE) && s.eff == 0);
	rings__free(r);
	return 0;
}

static void test_no_setpcap_sets_no_new_privs(void **state)
{
	(void)state;
	run_in_child(child_no_setpcap);
}

static int child_capset_refused(void)
{
	struct rings_config cfg = {};
	struct rings_error error = {};
	struct rings *r = NULL;

	CHECK(seccomp_deny(SECCOMP_DENY_CAPSET) == 0);
	CHECK(rings__new(&cfg, C(SYS_PTRACE), &r, &error) == -EPERM);
	CHECK(!strcmp(error.op, "lower the permitted, effective and inheritable sets"));
	CHECK(error.caps & C(SYS_ADMIN));
	/* Bypass needs no capset when everything is already effective. */
	cfg.bypass = true;
	CHECK(rings__new(&cfg, C(SYS_PTRACE), &r, &error) == 0);
	rings__free(r);
	return 0;
}

static void test_capset_refused(void **state)
{
	(void)state;
	run_in_child(child_capset_refused);
}

static int child_bounding_refused(void)
{
	struct rings_config cfg = {};
	struct rings_error error = {};
	struct status before = status();
	struct rings *r = NULL;

	CHECK(seccomp_deny(SECCOMP_DENY_BOUNDING) == 0);
	CHECK(rings__new(&cfg, C(SYS_PTRACE), &r, &error) == -EPERM);
	CHECK(!strcmp(error.op, "drop from the bounding set"));
	CHECK(error.caps == (before.bnd & ~C(SYS_PTRACE)));
	CHECK(status().eff == before.eff); /* nothing lowered half-way */
	cfg.bypass = true;
	CHECK(rings__new(&cfg, C(SYS_PTRACE), &r, &error) == 0);
	rings__free(r);
	return 0;
}

static void test_bounding_refused(void **state)
{
	(void)state;
	run_in_child(child_bounding_refused);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_flags_win_over_env),
		cmocka_unit_test(test_ebpf_ring_per_kernel),
		cmocka_unit_test(test_ring_of),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_lowered_and_rings),
		cmocka_unit_test(test_base_add),
		cmocka_unit_test(test_bypass),
		cmocka_unit_test(test_base_not_permitted),
		cmocka_unit_test(test_no_setpcap_sets_no_new_privs),
		cmocka_unit_test(test_capset_refused),
		cmocka_unit_test(test_bounding_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
