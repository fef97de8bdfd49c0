/* Least-privilege profiles: aggregated capability checks of one workload
 * (one recorded command, or every instance of an agent's workload) turned
 * into the capability set it needs, and rendered for the places that set
 * capabilities (Kubernetes, docker, compose, systemd, OCI) or as JSON that
 * profile_parse_json() reads back (`captrail run --profile`).
 *
 * Each check is classified by the first of these that holds:
 *   capset          asked by the kernel inside capset() (may the inheritable
 *                   set grow past the permitted one: CAP_SETPCAP), not a
 *                   use of the capability: reported on its own;
 *   override_cred   checked under credentials that are not the task's
 *                   real ones (overlayfs copy-up...): not the workload's;
 *   foreign_userns  checked against a user namespace other than the
 *                   workload's own: shown, not granted;
 *   noaudit         a probe (overcommit, /proc/kallsyms): never recommended;
 *   required        granted;
 *   denied          denied: never added automatically, reported with its
 *                   syscall and what that syscall returned.
 * A capability no check needs may still be kept: the program keeps it
 * with capset() (across a uid change), raises it as ambient, or gains it
 * from a file's capabilities at exec. It never passes through a check
 * until it is used, yet the program fails without it: class "kept",
 * granted. A capability takes the first class in enum profile_class order that any
 * of its checks has: required by one check and denied (or probed) by
 * others is required ("also denied N times").
 *
 * A granted check whose audit class is unknown (the call chain could not
 * be read) counts as required and is flagged "unclassified": a missing
 * capability breaks the workload where it is deployed, while an extra one
 * stays visible in the report; the BPF side classifies nearly every check,
 * so this is rare. */
#ifndef CAPTRAIL_PROFILE_H
#define CAPTRAIL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/caps.h"
#include "lib/check.h"

#define PROFILE_VERSION 1 /* "captrail_profile" of the JSON document */
#define PROFILE_MAX_ENTRIES 65536 /* distinct keys with binary and instance */
#define PROFILE_MAX_INSTANCES 65536
#define PROFILE_STR_MAX 4096 /* bytes of a binary path or an instance id */
#define PROFILE_JSON_MAX (64u << 20) /* bytes of a profile file */
#define PROFILE_WHY_LEN 160

/* What the syscall that made a denied check returned. */
enum profile_outcome {
	PROFILE_OUTCOME_UNOBSERVED, /* also: every granted check */
	PROFILE_OUTCOME_MATTERED, /* -EPERM or -EACCES */
	PROFILE_OUTCOME_FALLBACK, /* succeeded anyway */
	PROFILE_OUTCOME_OTHER_ERROR,
	PROFILE_OUTCOME_COUNT,
};

/* In the order a capability's class is chosen from its checks' classes. */
enum profile_class {
	PROFILE_CLASS_REQUIRED,
	PROFILE_CLASS_KEPT,
	PROFILE_CLASS_DENIED,
	PROFILE_CLASS_CAPSET,
	PROFILE_CLASS_FOREIGN_USERNS,
	PROFILE_CLASS_OVERRIDE_CRED,
	PROFILE_CLASS_NOAUDIT,
	PROFILE_CLASS_COUNT,
};

#define PROFILE_OBJECTS 4 /* distinct objects kept per entry */

/* One aggregated observation. Strings are copied; NULL is unknown. */
struct profile_obs {
	int cap;
	bool granted;
	enum check_audit audit;
	bool override_cred;
	bool foreign_userns;
	bool via_capset;
	int syscall; /* CHECK_NO_SYSCALL: not in a syscall */
	enum profile_outcome outcome; /* denied checks only; ignored when granted */
	uint64_t count; /* 0 adds nothing */
	uint64_t first_ns; /* CLOCK_BOOTTIME; 0 unknown */
	uint64_t last_ns;
	const char *binary;
	const char *instance; /* container id; NULL: the one unnamed instance */
	/* what the checks were made on, rendered ("/etc/x -> 33:33", "port
	 * 80"): merged into the entry's, distinct, up to PROFILE_OBJECTS;
	 * more are counted in profile_objects_dropped() */
	const char *objects[PROFILE_OBJECTS];
	unsigned int n_objects;
};

/* One capability, summed over its checks. */
struct profile_cap {
	int cap;
	enum profile_class cls;
	uint64_t granted; /* checks, all classes */
	uint64_t denied;
	uint64_t by_class[PROFILE_CLASS_COUNT]; /* checks */
	uint64_t unclassified; /* required checks of unknown audit class */
	unsigned int instances; /* instances with a check of the cap's class */
	uint64_t first_ns;
	uint64_t last_ns;
};

/* The denied checks of a denied-only capability made by one syscall. */
struct profile_denial {
	int cap;
	int syscall;
	uint64_t outcomes[PROFILE_OUTCOME_COUNT]; /* checks */
	const char *binary; /* the first by name; owned by the profile */
};

#define PROFILE_MAX_KEPT 4096 /* distinct (capability, how, binary) */

/* How a program came to hold a capability no check needed. */
enum profile_kept_how {
	PROFILE_KEPT_CAPSET, /* asked for in capset() */
	PROFILE_KEPT_AMBIENT, /* raised with PR_CAP_AMBIENT_RAISE */
	PROFILE_KEPT_FILE_CAPS, /* gained from the file's capabilities at exec */
	PROFILE_KEPT_HOW_COUNT,
};

struct profile_kept {
	int cap;
	enum profile_kept_how how;
	const char *binary; /* NULL unknown */
	uint64_t count; /* requests or execs */
};

enum profile_format {
	PROFILE_FORMAT_TEXT,
	PROFILE_FORMAT_JSON,
	PROFILE_FORMAT_K8S,
	PROFILE_FORMAT_DOCKER,
	PROFILE_FORMAT_COMPOSE,
	PROFILE_FORMAT_SYSTEMD,
	PROFILE_FORMAT_OCI,
	PROFILE_FORMAT_COUNT,
};

struct profile;

int profile__new(struct profile **ret_profile);
void profile__free(struct profile *p);

/* Merges into the entry with the same key (everything but the counts and
 * times). Past PROFILE_MAX_ENTRIES keys, or PROFILE_MAX_INSTANCES
 * instances, the binary and instance are dropped so the counts (and the
 * classification) stay exact; those checks are counted in
 * profile_folded(). -EINVAL for out-of-range fields. */
int profile_add(struct profile *p, const struct profile_obs *obs);
/* A denied observation of obs->count checks, split by what their syscall
 * returned; those outcome does not account for (NULL: none observed) are
 * added as unobserved. */
int profile_add_denied(struct profile *p, const struct profile_obs *obs,
		       const struct check_outcome *outcome);
/* One aggregated group of checks of binary (NULL: unknown) in instance
 * (NULL: the unnamed one), by the rules above: a kernel thread's checks
 * are not the workload's and add nothing; capset(2)'s are class capset. */
int profile_add_check(struct profile *p, const struct check *c, const char *binary,
		      const char *instance);
/* The same with what the checks were made on (n at most PROFILE_OBJECTS). */
int profile_add_check_objects(struct profile *p, const struct check *c, const char *binary,
			      const char *instance, const char *const *objects, unsigned int n);
/* An instance that was observed, with or without any check (a replica
 * that needed nothing still counts toward coverage). NULL: unnamed. */
int profile_add_instance(struct profile *p, const char *instance);
/* Union of replicas: every entry and instance of src into dst. Metadata
 * dst lacks is taken from src; an edited grant set is the union. */
int profile_merge(struct profile *dst, const struct profile *src);

/* Union of recorded runs (profile --merge): profile_merge(), plus how many
 * runs dst now holds and, per capability, in how many of them it was
 * checked. A src that is itself such a union counts as its runs. The exit
 * status and the command stay only when every run had the same. */
int profile_merge_run(struct profile *dst, const struct profile *src);
uint64_t profile_runs(const struct profile *p); /* 0: not a union of runs */
uint64_t profile_cap_runs(const struct profile *p, int cap);
/* What a profile file of a union says ("runs"). */
void profile_set_runs(struct profile *p, uint64_t runs);
void profile_set_cap_runs(struct profile *p, int cap, uint64_t runs);

/* A workload seen on several nodes (profile --prometheus): the nodes its
 * instances ran on, and per capability those where an instance had a check
 * of the capability's class. 0: unknown (a profile of one node's store). */
void profile_set_nodes(struct profile *p, unsigned int nodes);
void profile_set_cap_nodes(struct profile *p, int cap, unsigned int nodes);
unsigned int profile_nodes(const struct profile *p);
unsigned int profile_cap_nodes(const struct profile *p, int cap);

/* Metadata: the workload's name, the user it ran as (the systemd and OCI
 * renderings need to know a non-root user: capabilities must then be
 * ambient), the command, the wait status of a recorded command, and
 * whether an exec raised privileges (set-user-ID/set-group-ID bit or file
 * capabilities), which forbids `allowPrivilegeEscalation: false`. */
int profile_set_workload(struct profile *p, const char *name);
int profile_set_user(struct profile *p, uid_t uid, const char *name); /* name may be NULL */
int profile_set_command(struct profile *p, char *const *argv);
void profile_set_exit(struct profile *p, int wait_status);
void profile_set_exec_gain(struct profile *p, bool gained);
/* Merges into the entry of the same capability, how and binary; past
 * PROFILE_MAX_KEPT entries the binary is dropped (counted in
 * profile_folded()). -EINVAL for out-of-range fields. */
int profile_add_kept(struct profile *p, const struct profile_kept *k);
/* Whether PR_SET_KEEPCAPS or SECBIT_KEEP_CAPS was asked for: permitted
 * capabilities then survive a change away from uid 0. */
void profile_set_keep_caps(struct profile *p, bool keep);
/* What a profile file says beyond its checks: whether the unnamed instance
 * was seen, checks kept without binary and instance, and the capabilities
 * to grant (edited by hand when they differ from what the checks need). */
void profile_set_unnamed_instance(struct profile *p, bool seen);
void profile_add_folded(struct profile *p, uint64_t checks);
void profile_set_grant(struct profile *p, uint64_t grant);

/* --minimize: cap is not needed (for reason, copied, cut at
 * PROFILE_WHY_LEN) and leaves the grant set. */
int profile_set_not_needed(struct profile *p, int cap, const char *reason);
uint64_t profile_not_needed_mask(const struct profile *p);
const char *profile_not_needed_reason(const struct profile *p, int cap); /* NULL: needed */
/* The profile was minimized, with runs ablation runs and probe (NULL: none). */
int profile_set_minimize(struct profile *p, unsigned int runs, const char *probe);
bool profile_minimize(const struct profile *p, unsigned int *ret_runs, const char **ret_probe);

const char *profile_workload(const struct profile *p); /* NULL unset */
/* False when unset: the renderings then treat the workload as root. */
bool profile_user(const struct profile *p, uid_t *ret_uid, const char **ret_name);
char *const *profile_command(const struct profile *p); /* NULL unset */
bool profile_exit(const struct profile *p, int *ret_wait_status);
bool profile_exec_gain(const struct profile *p);
bool profile_keep_caps(const struct profile *p);
/* Every kept entry by capability, how and binary; free() *ret_kept
 * (strings stay the profile's). */
int profile_kept(const struct profile *p, struct profile_kept **ret_kept, size_t *ret_n);

/* Every entry, ordered by capability, class, verdict, audit, flags,
 * syscall, outcome, binary, instance; free() *ret_entries (strings stay
 * the profile's). */
int profile_entries(const struct profile *p, struct profile_obs **ret_entries, size_t *ret_n);
/* Instance ids in strcmp order, without the unnamed one; free() the array. */
int profile_instances(const struct profile *p, const char ***ret_ids, size_t *ret_n);
bool profile_unnamed_instance(const struct profile *p);

/* The class of one check (the first rule of the list above that holds). */
enum profile_class profile_obs_class(const struct profile_obs *obs);
/* The same for a group of checks as profile_add_check() reads it. */
enum profile_class profile_check_class(const struct check *c);
/* Capabilities whose class is cls. */
uint64_t profile_mask(const struct profile *p, enum profile_class cls);
/* profile_mask(p, PROFILE_CLASS_REQUIRED): what the checks need. */
uint64_t profile_required_mask(const struct profile *p);
/* What a confined run gets: the required and kept masks, unless a JSON
 * profile edited by hand said otherwise ("grant"), without what is not
 * needed. */
uint64_t profile_grant_mask(const struct profile *p);
bool profile_grant_edited(const struct profile *p);
/* True when the renderings add `allowPrivilegeEscalation: false`: no exec
 * raised privileges, CAP_SYS_ADMIN is not granted (Kubernetes keeps
 * escalation on with it), and no capability is granted to a non-root user
 * (Kubernetes gives a non-root container capabilities only through file
 * capabilities, which no_new_privs ignores; root keeps its own). */
bool profile_no_escalation(const struct profile *p);
/* The instances are a workload's replicas (pods, or containers outside
 * Kubernetes): coverage is said as "N of M replicas". A union keeps it
 * when any part has it. */
void profile_set_replicas(struct profile *p, bool replicas);
bool profile_replicas(const struct profile *p);
/* Instances observed: distinct ids, plus one for the unnamed instance. */
unsigned int profile_coverage(const struct profile *p);
uint64_t profile_folded(const struct profile *p); /* checks kept without binary/instance */
uint64_t profile_objects_dropped(const struct profile *p);
/* Every capability's summary; bit cap of *ret_present when it has checks
 * (the others' summaries are zero, class PROFILE_CLASS_COUNT). */
int profile_summary(const struct profile *p, struct profile_cap ret_caps[CAPS_MAX],
		    uint64_t *ret_present);
/* Denied-only capabilities by syscall, in capability then syscall order;
 * free() *ret_denials (strings stay the profile's). */
int profile_denials(const struct profile *p, struct profile_denial **ret_denials, size_t *ret_n);

int profile_format_parse(const char *name, enum profile_format *ret_format);
const char *profile_format_name(enum profile_format format);
/* The names the JSON rendering uses: "required", "noaudit", "mattered"... */
const char *profile_class_name(enum profile_class cls);
const char *profile_outcome_name(enum profile_outcome outcome);
const char *profile_kept_how_name(enum profile_kept_how how); /* "capset", "ambient", "file_caps" */
int profile_kept_how_parse(const char *name, enum profile_kept_how *ret_how);
int profile_outcome_parse(const char *name, enum profile_outcome *ret_outcome);

/* -EIO when the stream fails (disk full); text and YAML end with a newline. */
int profile_render(const struct profile *p, enum profile_format format, FILE *out);
/* Several profiles in one document where the format has one (a JSON or
 * OCI array, YAML documents); docker and systemd lines get a "# NAME"
 * header each when there are several. */
int profile_render_list(struct profile *const *profiles, size_t n, enum profile_format format,
			FILE *out);
/* The same into a NUL-terminated buffer the caller frees. */
int profile_render_string(const struct profile *p, enum profile_format format, char **ret_text);

/* Reads what profile_render(PROFILE_FORMAT_JSON) wrote, or a profile written by
 * hand ({"captrail_profile": 1, "grant": ["CAP_CHOWN"]} is complete).
 * Derived fields (classes, summaries) are recomputed from "checks";
 * "grant", when it differs from what the checks imply, wins. -EINVAL with
 * the reason in ret_why (may be NULL) for a malformed document. */
int profile_parse_json(const char *text, struct profile **ret_profile,
		       char ret_why[PROFILE_WHY_LEN]);
int profile_load_json(const char *path, struct profile **ret_profile,
		      char ret_why[PROFILE_WHY_LEN]);

#endif
