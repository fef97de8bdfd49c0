/* captrail profile: least-privilege profiles of the workloads the agent
 * watched, from the live agent or straight from its store file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "agent/api.h"
#include "agent/store.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "lib/syscalls.h"
#include "profile/profile.h"

#define DEFAULT_DB "/var/lib/captrail/captrail.db"

struct profile_args {
	const char *socket;
	const char *db;
	struct store_filter filter;
	bool selected;
	char pod[1024];
	enum profile_format format;
	const char *output_path;
};

/* One workload's rows, kept until its instances are known. */
struct workload {
	UT_hash_handle hh;
	int64_t id;
	char *name;
	char *first_instance; /* the checks are attributed to it: rows are per workload */
	char **instances;
	size_t n_instances;
	struct store_row *rows; /* strings owned through copies[] */
	char **copies;
	size_t n_rows, n_copies;
};

struct collection {
	struct workload *workloads; /* uthash by id, in arrival (workload id) order */
	int err;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail profile SELECTION [OPTIONS]\n"
		"\n"
		"Prints the least-privilege profile of workloads the captrail agent watched,\n"
		"asking the running agent, or reading its store with --db.\n"
		"\n"
		"selection (one of):\n"
		"      --pod NS/NAME         every container of this pod, one profile each\n"
		"      --container ID|NAME   a container by id (or a 12+ digit prefix) or name;\n"
		"                            the replicas it names merge into one profile\n"
		"      --binary PATH         a program on the host\n"
		"      --unit NAME           a systemd unit\n"
		"      --all                 every workload, one profile each\n"
		"\n"
		"options:\n"
		"  -o, --format FORMAT       text (default), json, k8s, docker, compose, systemd,\n"
		"                            oci\n"
		"      --output FILE         write to FILE instead of stdout\n"
		"      --socket PATH         the agent's socket (default %s)\n"
		"      --db FILE             read a store file instead of asking the agent\n"
		"                            (the agent's is %s)\n",
		API_DEFAULT_SOCKET, DEFAULT_DB);
}

#define usage_error(...) cmd_usage_error("profile", __VA_ARGS__)

enum { OPT_POD = 256, OPT_CONTAINER, OPT_BINARY, OPT_UNIT, OPT_ALL, OPT_OUTPUT, OPT_SOCKET,
       OPT_DB };

static const struct option long_options[] = {
	{ "pod", required_argument, NULL, OPT_POD },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "binary", required_argument, NULL, OPT_BINARY },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "format", required_argument, NULL, 'o' },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "db", required_argument, NULL, OPT_DB },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int select_one(struct profile_args *a, enum store_select select, const char *value)
{
	if (a->selected)
		return usage_error("one selection only: --pod, --container, --binary, --unit "
				   "or --all");
	if (value && !*value)
		return usage_error("empty selection value");
	a->selected = true;
	a->filter.select = select;
	switch (select) {
	case STORE_SELECT_POD:
		if (store_filter_pod(value, &a->filter, a->pod, sizeof(a->pod)))
			return usage_error("invalid pod '%s' (NAMESPACE/NAME)", value);
		break;
	case STORE_SELECT_CONTAINER: a->filter.container = value; break;
	case STORE_SELECT_BINARY: a->filter.binary = value; break;
	case STORE_SELECT_UNIT: a->filter.unit = value; break;
	case STORE_SELECT_ALL: break;
	}
	return -1;
}

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct profile_args *a)
{
	int opt, rc;

	a->socket = API_DEFAULT_SOCKET;
	a->format = PROFILE_FORMAT_TEXT;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
		rc = -1;
		switch (opt) {
		case OPT_POD: rc = select_one(a, STORE_SELECT_POD, optarg); break;
		case OPT_CONTAINER: rc = select_one(a, STORE_SELECT_CONTAINER, optarg); break;
		case OPT_BINARY: rc = select_one(a, STORE_SELECT_BINARY, optarg); break;
		case OPT_UNIT: rc = select_one(a, STORE_SELECT_UNIT, optarg); break;
		case OPT_ALL: rc = select_one(a, STORE_SELECT_ALL, NULL); break;
		case 'o':
			if (profile_format_parse(optarg, &a->format))
				return usage_error("unknown format '%s' (text, json, k8s, docker, "
						   "compose, systemd, oci)", optarg);
			break;
		case OPT_OUTPUT: a->output_path = optarg; break;
		case OPT_SOCKET: a->socket = optarg; break;
		case OPT_DB: a->db = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!a->selected)
		return usage_error("say which workload: --pod, --container, --binary, --unit "
				   "or --all");
	return -1;
}

/* ---- collecting rows and instances ---- */

static struct workload *workload_get(struct collection *c, int64_t id)
{
	struct workload *w;

	HASH_FIND(hh, c->workloads, &id, sizeof(id), w);
	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->id = id;
	HASH_ADD(hh, c->workloads, id, sizeof(w->id), w);
	return w;
}

static void workload_free(struct workload *w)
{
	for (size_t i = 0; i < w->n_copies; i++)
		free(w->copies[i]);
	for (size_t i = 0; i < w->n_instances; i++)
		free(w->instances[i]);
	free(w->copies);
	free(w->instances);
	free(w->rows);
	free(w->name);
	free(w);
}

static void collection_free(struct collection *c)
{
	struct workload *w, *tmp;

	HASH_ITER(hh, c->workloads, w, tmp) {
		HASH_DEL(c->workloads, w);
		workload_free(w);
	}
}

/* Room for element n of an array whose capacity doubles at each power of
 * two. */
static int grow(void *arrayp, size_t n, size_t size)
{
	void **array = arrayp;
	void *bigger;

	if (n && (n & (n - 1)))
		return 0;
	bigger = realloc(*array, (n ? n * 2 : 1) * size);
	if (!bigger)
		return -ENOMEM;
	*array = bigger;
	return 0;
}

static const char *keep(struct workload *w, const char *s)
{
	char *copy;

	if (grow(&w->copies, w->n_copies, sizeof(*w->copies)))
		return NULL;
	copy = strdup(s ? s : "");
	if (copy)
		w->copies[w->n_copies++] = copy;
	return copy;
}

static char *workload_name(const struct store_row *r)
{
	char *name = NULL;
	int n = -1;

	switch (r->kind) {
	case STORE_POD_CONTAINER:
		n = asprintf(&name, "%s/%s/%s", r->pod_namespace, r->pod_name, r->container_name);
		break;
	case STORE_CONTAINER: n = asprintf(&name, "%s", r->container_name); break;
	case STORE_HOST_BINARY: n = asprintf(&name, "%s", r->binary); break;
	case STORE_UNIT: n = asprintf(&name, "%s", r->unit); break;
	}
	return n < 0 ? NULL : name;
}

static int collect_row(void *ctx, const struct store_row *row)
{
	struct collection *c = ctx;
	struct workload *w = workload_get(c, row->workload_id);
	struct store_row *r;

	if (!w || grow(&w->rows, w->n_rows, sizeof(*w->rows)))
		return -ENOMEM;
	if (!w->name && !(w->name = workload_name(row)))
		return -ENOMEM;
	r = &w->rows[w->n_rows];
	*r = *row;
	r->pod_namespace = keep(w, row->pod_namespace);
	r->pod_name = keep(w, row->pod_name);
	r->container_name = keep(w, row->container_name);
	r->image = keep(w, row->image);
	r->binary = keep(w, row->binary);
	r->unit = keep(w, row->unit);
	if (!r->pod_namespace || !r->pod_name || !r->container_name || !r->image ||
	    !r->binary || !r->unit)
		return -ENOMEM;
	w->n_rows++;
	return 0;
}

static int collect_instance(void *ctx, int64_t workload_id, const char *instance)
{
	struct collection *c = ctx;
	struct workload *w = workload_get(c, workload_id);
	char *copy;

	if (!w || grow(&w->instances, w->n_instances, sizeof(*w->instances)))
		return -ENOMEM;
	copy = strdup(instance);
	if (!copy)
		return -ENOMEM;
	w->instances[w->n_instances++] = copy;
	if (!w->first_instance)
		w->first_instance = copy;
	return 0;
}

/* ---- building profiles ---- */

static enum profile_audit audit_of(enum store_audit audit)
{
	switch (audit) {
	case STORE_AUDIT: return PROFILE_AUDITED;
	case STORE_NOAUDIT: return PROFILE_NOAUDIT;
	default: return PROFILE_AUDIT_UNKNOWN;
	}
}

static int add_workload(struct profile *p, const struct workload *w)
{
	int err = 0;

	for (size_t i = 0; !err && i < w->n_rows; i++) {
		const struct store_row *r = &w->rows[i];
		struct profile_obs obs = {
			.cap = r->cap,
			.granted = !r->denied,
			.audit = audit_of(r->audit),
			.override_cred = r->flags & CT_AGG_OVERRIDE_CRED,
			.foreign_userns = r->flags & CT_AGG_FOREIGN_USERNS,
			.via_capset = syscalls_is_capset(r->syscall),
			.syscall = r->syscall,
			.count = r->count,
			/* unix time here: the store outlives boots */
			.first_ns = r->first_seen,
			.last_ns = r->last_seen,
			.binary = r->kind == STORE_HOST_BINARY ? r->binary : NULL,
			.instance = w->first_instance,
		};

		if (r->flags & CT_AGG_KTHREAD)
			continue; /* a kernel thread working for the workload, not the workload */
		err = obs.granted ? profile_add(p, &obs) : profile_add_denied(p, &obs, &r->outcome);
	}
	for (size_t i = 0; !err && i < w->n_instances; i++)
		err = profile_add_instance(p, w->instances[i]);
	if (!err && !w->n_instances)
		err = profile_add_instance(p, NULL); /* a host program: one unnamed instance */
	return err;
}

/* ---- output ---- */

static int render_all(struct profile **profiles, size_t n, enum profile_format format,
		      FILE *out)
{
	bool list = n > 1 && (format == PROFILE_FORMAT_JSON || format == PROFILE_FORMAT_OCI);
	int err = 0;

	if (list)
		fputs("[\n", out);
	for (size_t i = 0; !err && i < n; i++) {
		if (i) {
			switch (format) {
			case PROFILE_FORMAT_JSON:
			case PROFILE_FORMAT_OCI: fputs(",\n", out); break;
			case PROFILE_FORMAT_K8S:
			case PROFILE_FORMAT_COMPOSE: fputs("---\n", out); break;
			default: fputc('\n', out);
			}
		}
		if (n > 1 && (format == PROFILE_FORMAT_DOCKER || format == PROFILE_FORMAT_SYSTEMD))
			fprintf(out, "# %s\n", profile_workload(profiles[i]));
		err = profile_render(profiles[i], format, out);
	}
	if (list)
		fputs("]\n", out);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
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
	case STORE_SELECT_ALL: snprintf(buf, size, "any workload"); break;
	}
	return buf;
}

static const char *store_error(int err)
{
	switch (err) {
	case -EBADMSG: return "not a captrail store, or corrupt";
	case -EPROTO: return "written by a newer captrail";
	default: return strerror(-err);
	}
}

static int load(const struct profile_args *a, struct collection *c)
{
	struct store *store = NULL;
	char why[256] = "";
	int err;

	if (!a->db) {
		struct api_profile_handler h = {
			.row = collect_row, .instance = collect_instance, .ctx = c,
		};

		err = api_client_profile(a->socket, &a->filter, &h, why, sizeof(why));
		if (err == -EPROTO)
			fprintf(stderr, "captrail profile: the agent: %s\n", why);
		else if (err == -ENOENT || err == -ECONNREFUSED)
			fprintf(stderr, "captrail profile: cannot reach the agent at %s: %s "
					"(is 'captrail agent' running? --db FILE reads a store)\n",
				a->socket, strerror(-err));
		else if (err)
			fprintf(stderr, "captrail profile: asking the agent at %s: %s\n", a->socket,
				strerror(-err));
		return err;
	}
	err = store_open(a->db, STORE_RDONLY, &store);
	if (err) {
		fprintf(stderr, "captrail profile: cannot open store %s: %s\n", a->db,
			store_error(err));
		return err;
	}
	err = store_query(store, &a->filter, collect_row, c);
	if (!err)
		err = store_instances(store, &a->filter, collect_instance, c);
	if (err)
		fprintf(stderr, "captrail profile: cannot read store %s: %s\n", a->db,
			strerror(-err));
	store_close(store);
	return err;
}

/* Replicas that --container names merge into one profile; otherwise each
 * workload is a profile of its own. */
static int build(const struct profile_args *a, struct collection *c,
		 struct profile ***ret_profiles, size_t *ret_n)
{
	bool merge = a->filter.select == STORE_SELECT_CONTAINER;
	size_t n = merge ? 1 : HASH_COUNT(c->workloads), i = 0;
	struct profile **profiles = calloc(n, sizeof(*profiles));
	struct workload *w, *tmp;
	int err = 0;

	if (!profiles)
		return -ENOMEM;
	HASH_ITER(hh, c->workloads, w, tmp) {
		if (!w->n_rows)
			continue; /* instances of a workload without checks */
		if (!profiles[i]) {
			profiles[i] = profile__new();
			if (!profiles[i]) {
				err = -ENOMEM;
				break;
			}
			err = profile_set_workload(profiles[i], merge ? a->filter.container
								      : w->name);
		}
		if (!err)
			err = add_workload(profiles[i], w);
		if (err)
			break;
		if (!merge)
			i++;
	}
	n = merge ? (profiles[0] != NULL) : i;
	if (err) {
		for (size_t j = 0; j < (merge ? 1 : HASH_COUNT(c->workloads)); j++)
			profile__free(profiles[j]);
		free(profiles);
		return err;
	}
	*ret_profiles = profiles;
	*ret_n = n;
	return 0;
}

int cmd_profile(int argc, char **argv)
{
	struct profile_args args = { 0 };
	struct collection c = { 0 };
	struct profile **profiles = NULL;
	size_t n = 0;
	FILE *out = stdout;
	char what[1200];
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	rc = EXIT_RUNTIME;
	if (load(&args, &c))
		goto out;
	err = build(&args, &c, &profiles, &n);
	if (err) {
		fprintf(stderr, "captrail profile: %s\n", strerror(-err));
		goto out;
	}
	if (!n) {
		fprintf(stderr, "captrail profile: no capability checks recorded for %s\n",
			describe(&args, what, sizeof(what)));
		goto out;
	}
	if (args.output_path) {
		out = fopen(args.output_path, "we");
		if (!out) {
			fprintf(stderr, "captrail profile: cannot write %s: %s\n", args.output_path,
				strerror(errno));
			goto out;
		}
	}
	err = render_all(profiles, n, args.format, out);
	if (out != stdout && fclose(out) && !err)
		err = -EIO;
	if (err) {
		fprintf(stderr, "captrail profile: cannot write the profile: %s\n",
			strerror(-err));
		goto out;
	}
	rc = EXIT_OK;
out:
	for (size_t i = 0; i < n; i++)
		profile__free(profiles[i]);
	free(profiles);
	collection_free(&c);
	return rc;
}
