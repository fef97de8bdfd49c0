#include "identity/container_find.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "identity/cgroup.h"

#define FIND_CACHE_ENTRIES 1024 /* each container is looked up once: a miss costs a reread */
#define NAME_LEN_MAX 255

struct walk {
	struct container_cache *cache;
	struct container_found *found;
	size_t root_len;
	/* the match: a container name or id prefix, or a pod */
	const char *name_or_id;
	bool by_id;
	const char *pod_namespace;
	const char *pod_name;
};

bool container_find_valid_name(const char *text)
{
	size_t len = strlen(text);

	if (len == 0 || len > NAME_LEN_MAX)
		return false;
	for (const char *c = text; *c; c++)
		if (*c == '/' || isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return false;
	return true;
}

static bool is_id_prefix(const char *text)
{
	size_t len = strlen(text);

	if (len < CONTAINER_FIND_ID_MIN || len > CONTAINER_ID_LEN)
		return false;
	for (const char *c = text; *c; c++)
		if (!isxdigit((unsigned char)*c) || isupper((unsigned char)*c))
			return false;
	return true;
}

static bool matches(const struct walk *w, const struct container_info *info)
{
	if (w->pod_name)
		return !strcmp(info->pod_namespace, w->pod_namespace) &&
		       !strcmp(info->pod_name, w->pod_name);
	/* A pod's sandbox (pause) is no container a user names. */
	if (!strcmp(info->type, "sandbox"))
		return false;
	if (w->by_id && !strncmp(info->id, w->name_or_id, strlen(w->name_or_id)))
		return true;
	return info->name[0] && !strcmp(info->name, w->name_or_id);
}

/* The first cgroup of a container wins: a runtime's nested cgroups below
 * it (podman's "container") are recorded with it. */
static void add_match(struct walk *w, const char *rel, const struct container_info *info)
{
	struct container_found *f = w->found;
	struct container_match *m;
	size_t kept = f->n_matches < CONTAINER_FIND_MATCHES ? f->n_matches : CONTAINER_FIND_MATCHES;

	for (size_t i = 0; i < kept; i++)
		if (!strcmp(f->matches[i].id, info->id))
			return;
	if (f->n_matches++ >= CONTAINER_FIND_MATCHES)
		return;
	m = &f->matches[kept];
	snprintf(m->cgroup, sizeof(m->cgroup), "%s", rel);
	snprintf(m->id, sizeof(m->id), "%s", info->id);
	if (info->pod_name[0])
		snprintf(m->name, sizeof(m->name), "%s/%s/%s", info->pod_namespace,
			 info->pod_name, info->name);
	else
		snprintf(m->name, sizeof(m->name), "%s", info->name);
}

static int visit(struct walk *w, const char *path)
{
	const char *rel = path + w->root_len;
	const struct container_info *info;
	struct container_cgroup cg;
	struct stat st;
	int err;

	if (container_parse_cgroup(rel, &cg))
		return 0;
	if (stat(path, &st))
		return errno == ENOENT ? 0 : -errno; /* gone while walked */
	err = container_cache__lookup(w->cache, st.st_ino, 0, &info);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	if (info->id[0] && matches(w, info))
		add_match(w, rel, info);
	return 0;
}

static int walk_dir(struct walk *w, char *path, size_t len, int depth)
{
	struct dirent *d;
	DIR *dir;
	int err = 0;

	if (depth > CONTAINER_FIND_DEPTH)
		return 0;
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (d = readdir(dir))) {
		size_t n;

		if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		n = (size_t)snprintf(path + len, PATH_MAX - len, "/%s", d->d_name);
		if (len + n >= PATH_MAX)
			continue; /* deeper than a path can name: no runtime makes such */
		if (++w->found->walked > CONTAINER_FIND_CGROUPS) {
			err = -E2BIG;
			break;
		}
		err = visit(w, path);
		if (!err)
			err = walk_dir(w, path, len + n, depth + 1);
		path[len] = '\0';
	}
	closedir(dir);
	return err;
}

static int find(const struct container_roots *roots, struct walk *w,
		struct container_found *ret_found)
{
	struct container_found *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];
	int err;

	if (!f)
		return -ENOMEM;
	err = cgroup_v2_root(roots->cgroupfs ? roots->cgroupfs : CGROUP_DEFAULT_ROOT, f->v2_root,
			     sizeof(f->v2_root), NULL);
	if (!err)
		err = container_cache__new(roots, FIND_CACHE_ENTRIES, &w->cache);
	if (err) {
		free(f);
		return err;
	}
	w->found = f;
	w->root_len = strlen(f->v2_root);
	snprintf(path, sizeof(path), "%s", f->v2_root);
	err = walk_dir(w, path, w->root_len, 0);
	container_cache__free(w->cache);
	if (!err)
		*ret_found = *f;
	free(f);
	return err;
}

int container_find_container(const struct container_roots *roots, const char *name_or_id,
			     struct container_found *ret_found)
{
	struct walk w = { .name_or_id = name_or_id, .by_id = is_id_prefix(name_or_id) };

	if (!container_find_valid_name(name_or_id))
		return -EINVAL;
	return find(roots, &w, ret_found);
}

/* Whether the last component of cgroup names the pod: "pod<uid>" (cgroupfs
 * driver) or "...-pod<uid with underscores>.slice" (systemd driver). */
static bool names_pod(const char *cgroup, const char *uid)
{
	const char *base = strrchr(cgroup, '/');
	char systemd[CONTAINER_UID_LEN + 1];

	if (!uid[0] || !base)
		return false;
	snprintf(systemd, sizeof(systemd), "%s", uid);
	for (char *c = systemd; *c; c++)
		if (*c == '-')
			*c = '_';
	return strstr(base, uid) || strstr(base, systemd);
}

/* The one parent of every container of the pod, when the pod's UID names
 * it: there, containers started later are recorded too. */
static void pod_cgroup(struct container_found *f, const char *uid)
{
	size_t n = f->n_matches < CONTAINER_FIND_MATCHES ? f->n_matches : CONTAINER_FIND_MATCHES;
	char parent[PATH_MAX];
	char *slash;

	if (n == 0 || n < f->n_matches)
		return;
	snprintf(parent, sizeof(parent), "%s", f->matches[0].cgroup);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return;
	*slash = '\0';
	for (size_t i = 1; i < n; i++) {
		size_t len = strlen(parent);

		const char *cgroup = f->matches[i].cgroup;

		if (strncmp(cgroup, parent, len) || cgroup[len] != '/' ||
		    strchr(cgroup + len + 1, '/'))
			return;
	}
	if (names_pod(parent, uid))
		snprintf(f->pod_cgroup, sizeof(f->pod_cgroup), "%s", parent);
}

int container_find_pod(const struct container_roots *roots, const char *pod_namespace,
		       const char *pod_name, struct container_found *ret_found)
{
	struct walk w = { .pod_namespace = pod_namespace, .pod_name = pod_name };
	struct container_found found;
	struct container_cgroup cg;
	int err;

	if (!container_find_valid_name(pod_namespace) || !container_find_valid_name(pod_name))
		return -EINVAL;
	err = find(roots, &w, &found);
	if (err)
		return err;
	if (found.n_matches && !container_parse_cgroup(found.matches[0].cgroup, &cg))
		pod_cgroup(&found, cg.pod_uid);
	*ret_found = found;
	return 0;
}

int container_find_cgroup(const char *cgroupfs, const char *path, char *ret_path, size_t size)
{
	char root[PATH_MAX], real_root[PATH_MAX], joined[PATH_MAX], real[PATH_MAX];
	size_t root_len;
	struct stat st;
	int err;

	err = cgroup_v2_root(cgroupfs ? cgroupfs : CGROUP_DEFAULT_ROOT, root, sizeof(root), NULL);
	if (err)
		return err;
	if (!realpath(root, real_root))
		return -errno;
	root_len = strlen(root);
	if (!strncmp(path, root, root_len) && (path[root_len] == '/' || !path[root_len]))
		snprintf(joined, sizeof(joined), "%s", path);
	else if ((size_t)snprintf(joined, sizeof(joined), "%s%s%s", root,
				  path[0] == '/' ? "" : "/", path) >= sizeof(joined))
		return -ENAMETOOLONG;
	if (!realpath(joined, real))
		return -errno;
	root_len = strlen(real_root);
	if (strncmp(real, real_root, root_len) || real[root_len] != '/')
		return -EINVAL;
	if (stat(real, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((size_t)snprintf(ret_path, size, "%s", real) >= size)
		return -ENAMETOOLONG;
	return 0;
}
