/* captrail profile: least-privilege profiles of the workloads the agent
 * watched, from the live agent or straight from its store file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/api_client.h"
#include "agent/prom_client.h"
#include "agent/store.h"
#include "agent/workload_profiles.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "lib/text.h"
#include "profile/profile.h"
#include "profile/prometheus.h"

#define MAX_DBS 256

struct profile_args {
	const char *socket;
	const char *dbs[MAX_DBS]; /* --db, each a node's store */
	int n_dbs;
	struct store_filter filter;
	bool selected;
	char pod[1024];
	char pod_label[1100]; /* --workload's, its kind as Kubernetes spells it */
	enum profile_format format;
	const char *output_path;
	bool merge;
	char **files; /* --merge's */
	int n_files;
	bool agent_option; /* --socket or --db */
	const char *prometheus; /* --prometheus URL */
	const char *workload; /* --workload NS/KIND/NAME */
	const char *since;
	struct prom_workload prom_workload;
	uint64_t window; /* seconds */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail profile SELECTION [OPTIONS]\n"
		"       captrail profile --merge FILE... [OPTIONS]\n"
		"       captrail profile --prometheus URL --workload NS/KIND/NAME [--since 14d]\n"
		"\n"
		"Prints the least-privilege profile of workloads the captrail agent watched,\n"
		"asking the running agent, or reading its store with --db; or, with --merge,\n"
		"the union of profiles that 'captrail record -o json' wrote (several runs of\n"
		"one program): counts summed, and in how many runs each capability was checked;\n"
		"or, with --prometheus, one workload's profile across every node and replica\n"
		"from the agents' metrics that Prometheus scraped.\n"
		"\n"
		"selection (one of):\n"
		"      --pod NS/NAME         every container of this pod, one profile each\n"
		"      --workload NS/KIND/NAME   every replica of a Deployment, DaemonSet,\n"
		"                            StatefulSet, Job, CronJob or Pod, one profile per\n"
		"                            container name with its coverage in replicas;\n"
		"                            /Container/NAME: a plain container's instances\n"
		"      --container ID|NAME   a container by id (or a 12+ digit prefix) or name;\n"
		"                            the replicas it names merge into one profile\n"
		"      --binary PATH         a program on the host\n"
		"      --unit NAME           a systemd unit\n"
		"      --all                 every workload, one profile each\n"
		"      --merge FILE...       record -o json profiles, merged into one\n"
		"\n"
		"options:\n"
		"  -o, --format FORMAT       text (default), json, k8s, docker, compose, systemd,\n"
		"                            oci\n"
		"      --output FILE         write to FILE instead of stdout\n"
		"      --socket PATH         the agent's socket (default %s)\n"
		"      --db FILE             read a store file instead of asking the agent\n"
		"                            (the agent's is %s); several --db\n"
		"                            merge the stores of several nodes\n"
		"      --prometheus URL      ask Prometheus (http://HOST:PORT) for --workload\n"
		"      --since DURATION      the window that --prometheus sums: 14d (default),\n"
		"                            36h, 90m, 2w...\n",
		API_DEFAULT_SOCKET, AGENT_DEFAULT_DB);
}

#define CMD "profile"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

enum { OPT_POD = 256, OPT_WORKLOAD, OPT_CONTAINER, OPT_BINARY, OPT_UNIT, OPT_ALL, OPT_MERGE,
       OPT_OUTPUT, OPT_SOCKET, OPT_DB, OPT_PROMETHEUS, OPT_SINCE };

static const struct option long_options[] = {
	{ "pod", required_argument, NULL, OPT_POD },
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "binary", required_argument, NULL, OPT_BINARY },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ "format", required_argument, NULL, 'o' },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "db", required_argument, NULL, OPT_DB },
	{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int select_one(struct profile_args *a, enum store_select select, const char *value)
{
	if (a->selected)
		return usage_error("one selection only: --pod, --workload, --container, --binary, "
				   "--unit or --all");
	if (value && !*value)
		return usage_error("empty selection value");
	a->selected = true;
	a->filter.select = select;
	switch (select) {
	case STORE_SELECT_POD:
		if (store_filter_pod(value, &a->filter, a->pod, sizeof(a->pod)))
			return usage_error("invalid pod '%s' (NAMESPACE/NAME)", value);
		break;
	case STORE_SELECT_WORKLOAD:
		if (store_filter_workload(value, &a->filter, a->pod, sizeof(a->pod)))
			return usage_error("invalid workload '%s' (NAMESPACE/KIND/NAME, KIND one of "
					   "Deployment, DaemonSet, StatefulSet, Job, CronJob, Pod; "
					   "/Container/NAME outside Kubernetes)",
					   value);
		snprintf(a->pod_label, sizeof(a->pod_label), "%s/%s/%s", a->filter.pod_namespace,
			 a->filter.owner_kind, a->filter.owner_name);
		break;
	case STORE_SELECT_CONTAINER: a->filter.container = value; break;
	case STORE_SELECT_BINARY: a->filter.binary = value; break;
	case STORE_SELECT_UNIT: a->filter.unit = value; break;
	case STORE_SELECT_ALL: break;
	}
	return -1;
}

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct profile_args *a = ctx;

	switch (opt) {
	case OPT_POD: return select_one(a, STORE_SELECT_POD, arg);
	case OPT_WORKLOAD:
		a->workload = arg; /* --prometheus parses it again, for its query */
		return select_one(a, STORE_SELECT_WORKLOAD, arg);
	case OPT_CONTAINER: return select_one(a, STORE_SELECT_CONTAINER, arg);
	case OPT_BINARY: return select_one(a, STORE_SELECT_BINARY, arg);
	case OPT_UNIT: return select_one(a, STORE_SELECT_UNIT, arg);
	case OPT_ALL: return select_one(a, STORE_SELECT_ALL, NULL);
	case OPT_MERGE: a->merge = true; break;
	case 'o': return cmd_format_option(CMD, arg, &a->format);
	case OPT_OUTPUT: a->output_path = arg; break;
	case OPT_SOCKET: a->socket = arg; a->agent_option = true; break;
	case OPT_DB:
		if (a->n_dbs == MAX_DBS)
			return usage_error("at most %d --db stores", MAX_DBS);
		a->dbs[a->n_dbs++] = arg;
		a->agent_option = true;
		break;
	case OPT_PROMETHEUS: a->prometheus = arg; break;
	case OPT_SINCE: a->since = arg; break;
	}
	return -1;
}

static int prometheus_args(struct profile_args *a)
{
	char echo[TEXT_ECHO_BUF];
	int err;

	if (!a->prometheus)
		return usage_error("--since is the window of --prometheus: add --prometheus URL");
	if ((a->selected && a->filter.select != STORE_SELECT_WORKLOAD) || a->agent_option)
		return usage_error("--prometheus asks for one --workload: no --pod, --container, "
				   "--binary, --unit, --all, --socket or --db with it");
	if (!a->workload)
		return usage_error("--prometheus needs --workload NS/KIND/NAME");
	if (prom_workload_parse(a->workload, &a->prom_workload))
		return usage_error("invalid workload '%s' (NAMESPACE/KIND/NAME, KIND one of "
				   "Deployment, DaemonSet, StatefulSet, Job, CronJob, Pod; "
				   "/Container/NAME outside Kubernetes)",
				   text_echo(a->workload, echo, sizeof(echo)));
	err = prom_duration_parse(a->since ? a->since : "14d", &a->window);
	if (err == -ERANGE)
		return usage_error("--since '%s': from 1s to %llud", text_echo(a->since, echo,
									      sizeof(echo)),
				   PROM_WINDOW_MAX / 86400);
	if (err)
		return usage_error("invalid --since '%s' (a number and s, m, h, d or w: 14d)",
				   text_echo(a->since, echo, sizeof(echo)));
	return -1;
}

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct profile_args *a)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "o:h",
		.longopts = long_options,
		.files = true,
		.usage = usage,
		.parse = parse_option,
		.ctx = a,
	};
	int rc, operand;

	a->socket = API_DEFAULT_SOCKET;
	a->format = PROFILE_FORMAT_TEXT;
	rc = cmd_parse_options(&options, argc, argv, &operand);
	if (rc >= 0)
		return rc;
	a->files = argv + operand;
	a->n_files = argc - operand;
	if (a->merge && (a->selected || a->agent_option || a->prometheus))
		return usage_error("--merge reads files: no --pod, --container, --binary, --unit, "
				   "--all, --socket or --db with it");
	if (a->merge && !a->n_files)
		return usage_error("--merge needs the profiles to merge (FILE...)");
	if (!a->merge && a->n_files)
		return usage_error("unexpected argument '%s' (--merge merges files)", a->files[0]);
	if (a->merge)
		return -1;
	if (a->prometheus || a->since)
		return prometheus_args(a);
	if (!a->selected)
		return usage_error("say which workload: --pod, --workload, --container, --binary, "
				   "--unit or --all");
	return -1;
}

static const char *describe(const struct profile_args *a, char *buf, size_t size)
{
	const struct store_filter *f = &a->filter;

	switch (f->select) {
	case STORE_SELECT_POD:
		snprintf(buf, size, "pod %s/%s", f->pod_namespace, f->pod_name);
		break;
	case STORE_SELECT_CONTAINER: snprintf(buf, size, "container %s", f->container); break;
	case STORE_SELECT_BINARY: snprintf(buf, size, "binary %s", f->binary); break;
	case STORE_SELECT_UNIT: snprintf(buf, size, "unit %s", f->unit); break;
	case STORE_SELECT_WORKLOAD:
		snprintf(buf, size, "workload %s/%s/%s", f->pod_namespace, f->owner_kind,
			 f->owner_name);
		break;
	case STORE_SELECT_ALL: snprintf(buf, size, "any workload"); break;
	}
	return buf;
}

static int ask_agent(const struct profile_args *a, struct workload_profiles *wp)
{
	struct api_profile_handler h = {
		.row = workload_profiles_add_row,
		.instance = workload_profiles_add_instance,
		.gaps = workload_profiles_add_gaps,
		.ctx = wp,
	};
	char why[256] = "";
	int err = api_client_profile(a->socket, &a->filter, &h, why, sizeof(why));

	if (err == -EPROTO)
		return cmd_fail(CMD, 0, "the agent: %s", why);
	if (err == -ENOENT || err == -ECONNREFUSED)
		return cmd_fail(CMD, err, "cannot reach the agent at %s (is 'captrail agent' "
					  "running? --db FILE reads a store)",
				a->socket);
	if (err)
		return cmd_fail(CMD, err, "asking the agent at %s", a->socket);
	return EXIT_OK;
}

/* One store's rows into the collection, its workload ids moved past
 * those of the stores read before (each file numbers its own). */
struct store_reader {
	struct workload_profiles *wp;
	int64_t base;
};

static int reader_row(void *ctx, const struct store_row *row)
{
	struct store_reader *r = ctx;
	struct store_row moved = *row;

	moved.workload_id += r->base;
	return workload_profiles_add_row(r->wp, &moved);
}

static int reader_instance(void *ctx, int64_t workload_id, const char *instance)
{
	struct store_reader *r = ctx;

	return workload_profiles_add_instance(r->wp, workload_id + r->base, instance);
}

static int read_store(const struct profile_args *a, const char *db, int64_t base,
		      struct workload_profiles *wp)
{
	struct store_reader reader = { wp, base };
	struct store *store = NULL;
	struct store_gaps gaps;
	int err;

	err = store__new(db, STORE_RDONLY, &store);
	if (err)
		return cmd_store_open_failed(CMD, db, err);
	err = store_query(store, &a->filter, reader_row, &reader);
	if (!err)
		err = store_instances(store, &a->filter, reader_instance, &reader);
	if (!err) {
		store_gaps(store, 0, &gaps);
		err = workload_profiles_add_gaps(wp, &gaps);
	}
	store__free(store);
	if (err == -EUCLEAN)
		return cmd_store_open_failed(CMD, db, err);
	if (err)
		return cmd_fail(CMD, err, "cannot read store %s", db);
	return EXIT_OK;
}

/* Whether store i is a file an earlier --db named (a path twice, or a
 * link): its counts would be added twice. */
static bool read_before(const struct profile_args *a, int i)
{
	struct stat st, earlier;

	if (stat(a->dbs[i], &st))
		return false; /* store__new() says why */
	for (int j = 0; j < i; j++)
		if (!stat(a->dbs[j], &earlier) && earlier.st_dev == st.st_dev &&
		    earlier.st_ino == st.st_ino)
			return true;
	return false;
}

/* Every store given: the union of the nodes' stores. A workload's counts
 * add up across them; its instances and replicas (pods) count once each. */
static int read_stores(const struct profile_args *a, struct workload_profiles *wp)
{
	/* SQLite row ids stay far below 2^40 in a node's store. */
	const int64_t stride = (int64_t)1 << 40;
	int rc = EXIT_OK;

	for (int i = 0; i < a->n_dbs && rc == EXIT_OK; i++) {
		if (read_before(a, i)) {
			cmd_warn(CMD, 0, "store %s was given already: read once", a->dbs[i]);
			continue;
		}
		rc = read_store(a, a->dbs[i], stride * i, wp);
	}
	return rc;
}

/* What the profile cannot show, said before it; nothing when all is there. */
static void report_gaps(const struct store_gaps *g)
{
	if (g->invalid)
		cmd_warn(CMD, 0, "%llu store %s skipped: %s values captrail never writes (an "
				 "edited or damaged store)",
			 (unsigned long long)g->invalid, g->invalid == 1 ? "row" : "rows",
			 g->invalid == 1 ? "it holds" : "they hold");
	if (g->unstored)
		cmd_warn(CMD, g->flush_err, "the agent holds %llu rows of counts it could not "
					    "store, which this profile lacks%s",
			 (unsigned long long)g->unstored,
			 g->flush_err ? ": its last flush failed" : "");
	if (g->lost)
		cmd_warn(CMD, 0, "the agent lost %llu observations: its buffer was full and the "
				 "store could not be written",
			 (unsigned long long)g->lost);
}

/* "14d", for messages. */
static const char *window_text(uint64_t window, char *buf, size_t size)
{
	static const struct {
		uint64_t seconds;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i = 0;

	while (window % units[i].seconds)
		i++;
	snprintf(buf, size, "%llu%c", (unsigned long long)(window / units[i].seconds),
		 units[i].unit);
	return buf;
}

/* One query; its answer added to pp. */
static int prometheus_query(const struct profile_args *a, struct prom_client *client,
			    struct prom_profile *pp, enum prom_query q, double at)
{
	struct prom_reply reply = { 0 };
	char why[PROM_CLIENT_WHY_LEN > PROM_WHY_LEN ? PROM_CLIENT_WHY_LEN : PROM_WHY_LEN] = "";
	char *promql = NULL;
	int err;

	err = prom_query_text(&a->prom_workload, q, a->window, &promql);
	if (err)
		return cmd_fail(CMD, err, "cannot build the query");
	err = prom_client_query(client, promql, at, &reply, why);
	free(promql);
	if (err == -ECONNREFUSED || err == -EHOSTUNREACH || err == -ETIMEDOUT)
		return cmd_fail(CMD, 0, "cannot reach Prometheus at %s: %s", a->prometheus, why);
	if (err == -EFBIG)
		return cmd_fail(CMD, 0, "Prometheus at %s answered more than %u MiB: ask for a "
					"shorter --since",
				a->prometheus, PROM_CLIENT_BODY_MAX >> 20);
	if (err == -EIO)
		return cmd_fail(CMD, 0, "asking Prometheus at %s: %s", a->prometheus, why);
	if (err)
		return cmd_fail(CMD, err, "asking Prometheus at %s", a->prometheus);
	err = prom_profile_add(pp, q, reply.http_status, reply.body, reply.len, why);
	free(reply.body);
	if (err == -EPROTO)
		return cmd_fail(CMD, 0, "Prometheus at %s refused the query: %s", a->prometheus,
				why);
	if (err == -EBADMSG)
		return cmd_fail(CMD, 0, "Prometheus at %s answered what its API does not: %s",
				a->prometheus, why);
	if (err)
		return cmd_fail(CMD, err, "reading Prometheus's answer");
	return EXIT_OK;
}

/* What the profile does not show of what Prometheus holds. */
static void report_prom_stats(const struct prom_stats *s)
{
	if (s->series_dropped)
		cmd_warn(CMD, 0, "%llu series past the first %u not read: the profile lacks "
				 "their checks or replicas",
			 (unsigned long long)s->series_dropped, PROM_SERIES_MAX);
	if (s->series_invalid)
		cmd_warn(CMD, 0, "%llu series skipped: their capability, class or outcome is "
				 "none a check has",
			 (unsigned long long)s->series_invalid);
	if (s->samples_invalid)
		cmd_warn(CMD, 0, "%llu samples skipped: not a count (NaN, infinite or negative)",
			 (unsigned long long)s->samples_invalid);
}

/* The workload's profile across every node and replica, from the agents'
 * metrics in Prometheus; the three queries at one time, so they see one
 * window. */
static int prometheus_profile(const struct profile_args *a)
{
	struct prom_client *client = NULL;
	struct prom_profile *pp = NULL;
	struct profile *profile = NULL;
	char why[PROM_CLIENT_WHY_LEN] = "", name[PROM_WORKLOAD_MAX + 16], since[32];
	struct prom_stats stats;
	struct timespec now;
	int rc = EXIT_OK, err;

	prom_workload_name(&a->prom_workload, name, sizeof(name));
	err = prom_client__new(a->prometheus, &client, why);
	if (err == -EINVAL)
		return usage_error("--prometheus %s", why);
	if (err)
		return cmd_fail(CMD, err, "cannot ask Prometheus");
	err = prom_profile__new(&pp);
	if (err)
		rc = cmd_fail(CMD, err, "cannot collect the profile");
	(void)clock_gettime(CLOCK_REALTIME, &now); /* cannot fail with this clock */
	for (int q = 0; rc == EXIT_OK && q < PROM_QUERY_COUNT; q++)
		rc = prometheus_query(a, client, pp, (enum prom_query)q,
				      (double)now.tv_sec + now.tv_nsec / 1e9);
	if (rc != EXIT_OK)
		goto out;
	prom_profile_stats(pp, &stats);
	report_prom_stats(&stats);
	err = prom_profile_build(pp, name, &profile);
	if (err == -ENODATA)
		rc = cmd_fail(CMD, 0, "no series of workload %s in Prometheus at %s over the last "
				      "%s (is it scraping the agents' /metrics?)",
			      name, a->prometheus, window_text(a->window, since, sizeof(since)));
	else if (err)
		rc = cmd_fail(CMD, err, "cannot build the profile");
	else
		rc = cmd_write_profiles(CMD, a->output_path, &profile, 1, a->format);
out:
	profile__free(profile);
	prom_profile__free(pp);
	prom_client__free(client);
	return rc;
}

/* The union of the record -o json files; a file that is no profile is a
 * usage error, one that cannot be read a runtime one. */
static int merge_files(const struct profile_args *a)
{
	struct profile *merged = NULL, *run = NULL;
	char why[PROFILE_WHY_LEN];
	uid_t uid, kept;
	int rc = EXIT_OK, err;

	err = profile__new(&merged);
	if (err)
		return cmd_fail(CMD, err, "cannot merge the profiles");
	for (int i = 0; i < a->n_files && rc == EXIT_OK; i++) {
		const char *path = a->files[i];

		err = profile_load_json(path, &run, why);
		if (err == -EINVAL) {
			rc = usage_error("cannot merge '%s': %s", path, why);
			break;
		}
		if (err) {
			rc = cmd_fail(CMD, err, "cannot read '%s'", path);
			break;
		}
		/* The renderings follow one user (ambient capabilities for a
		 * non-root one): the first that a file names. */
		if (profile_user(run, &uid, NULL) && profile_user(merged, &kept, NULL) &&
		    uid != kept)
			cmd_warn(CMD, 0, "'%s' ran as uid %u, an earlier file as uid %u: the merged "
					 "profile keeps uid %u",
				 path, (unsigned int)uid, (unsigned int)kept, (unsigned int)kept);
		err = profile_merge_run(merged, run);
		profile__free(run);
		run = NULL;
		if (err)
			rc = cmd_fail(CMD, err, "cannot merge '%s'", path);
	}
	if (rc == EXIT_OK)
		rc = cmd_write_profiles(CMD, a->output_path, &merged, 1, a->format);
	profile__free(merged);
	return rc;
}

int cmd_profile(int argc, char **argv)
{
	struct profile_args args = { 0 };
	struct workload_profiles *wp = NULL;
	struct profile **profiles = NULL;
	struct store_gaps gaps;
	char what[1200];
	size_t n = 0;
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	if (args.merge)
		return merge_files(&args);
	if (args.prometheus)
		return prometheus_profile(&args);
	err = workload_profiles__new(&wp);
	if (err)
		return cmd_fail(CMD, err, "cannot collect the profile");
	rc = args.n_dbs ? read_stores(&args, wp) : ask_agent(&args, wp);
	if (rc != EXIT_OK)
		goto out;
	if (args.filter.select == STORE_SELECT_WORKLOAD)
		err = workload_profiles_build_replicas(wp, args.pod_label, &profiles, &n);
	else /* replicas that --container names merge into one profile */
		err = workload_profiles_build(wp, args.filter.select == STORE_SELECT_CONTAINER ?
							  args.filter.container : NULL,
					      &profiles, &n);
	workload_profiles_gaps(wp, &gaps);
	if (!err)
		report_gaps(&gaps);
	if (err)
		rc = cmd_fail(CMD, err, "cannot build the profile");
	else if (!n && gaps.unstored)
		rc = cmd_fail(CMD, 0, "no capability checks stored yet for %s",
			      describe(&args, what, sizeof(what)));
	else if (!n && (gaps.invalid || gaps.lost))
		rc = cmd_fail(CMD, 0, "no valid capability checks stored for %s",
			      describe(&args, what, sizeof(what)));
	else if (!n)
		rc = cmd_fail(CMD, 0, "no capability checks recorded for %s",
			      describe(&args, what, sizeof(what)));
	else
		rc = cmd_write_profiles(CMD, args.output_path, profiles, n, args.format);
out:
	for (size_t i = 0; i < n; i++)
		profile__free(profiles[i]);
	free(profiles);
	workload_profiles__free(wp);
	return rc;
}
