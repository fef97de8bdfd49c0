#include "identity/container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "identity/cgroup.h"
#include "identity/workload.h"
#include "lib/clock.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/text.h"
#include "lib/util.h"

#define MAX_WALK_DEPTH 32
#define PROC_CGROUP_BYTES 16384 /* 13 v1 hierarchies of long systemd paths */
#define DEFAULT_RETRY_NS 1000000000ull
#define MAX_RETRY_SHIFT 6 /* back off to 64 intervals between attempts */
#define FILEID_KERNFS 0xfe /* include/linux/exportfs.h: a cgroup id as handle */
/* Cgroups of the least recently used entries checked before one of a live
 * container is evicted: a stat() each, only when the cache is full. */
#define EVICT_SCAN 8

/* Unknown strings all point here, so callers can print any field. */
static char empty[] = "";

void container_roots_default(struct container_roots *ret_roots)
{
	static const struct container_roots defaults = {
		.proc = "/proc",
		.cgroupfs = CGROUP_DEFAULT_ROOT,
		.state = { "/run/runc", "/run/containerd/runc", "/run/crun",
			   "/run/docker/runtime-runc" },
		.containerd = "/run/containerd",
		.pods_log = "/var/log/pods",
		.docker = "/var/lib/docker",
		.storage = { "/var/lib/containers/storage", "/run/containers/storage" },
	};

	*ret_roots = defaults;
}

/* snprintf for paths: -ENAMETOOLONG rather than a truncated path. */
__attribute__((format(printf, 3, 4)))
static int pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- cgroup paths ---- */

static bool is_hex_id(const char *s, size_t len)
{
	size_t i;

	if (len != CONTAINER_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* Static pods have 32-hex UIDs (a config hash), others 36-char UUIDs. */
static bool copy_pod_uid(const char *s, size_t len, char sep, char ret_uid[CONTAINER_UID_LEN + 1])
{
	size_t i;

	if (len < 32 || len > CONTAINER_UID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != sep)
			return false;
	for (i = 0; i < len; i++)
		ret_uid[i] = s[i] == sep ? '-' : s[i];
	ret_uid[len] = '\0';
	return true;
}

/* "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid_with_underscores>.slice"
 * (systemd, where a dash would mean nesting). */
static bool parse_pod_component(const char *c, size_t len, char ret_uid[CONTAINER_UID_LEN + 1])
{
	const char *p;

	if (has_prefix(c, len, "pod"))
		return copy_pod_uid(c + 3, len - 3, '-', ret_uid);
	if (!has_prefix(c, len, "kubepods") || !has_suffix(c, len, ".slice"))
		return false;
	len -= strlen(".slice");
	for (p = c + len - 1; p >= c + 3; p--)
		if (!memcmp(p - 3, "-pod", 4))
			return copy_pod_uid(p + 1, c + len - p - 1, '_', ret_uid);
	return false;
}

static const struct {
	const char *prefix;
	const char *runtime;
} prefixed_ids[] = {
	{ "docker-", "docker" }, /* systemd driver */
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" }, /* "crio-conmon-<id>" is the monitor, not hex */
	{ "libpod-", "podman" },
};

/* The runtime owning the container id in component c, NULL if none. */
static const char *parse_id_component(const char *c, size_t len, const char *parent,
				      size_t parent_len, bool kubepods)
{
	size_t i;

	if (has_suffix(c, len, ".scope"))
		len -= strlen(".scope");
	for (i = 0; i < ARRAY_SIZE(prefixed_ids); i++) {
		size_t n = strlen(prefixed_ids[i].prefix);

		if (has_prefix(c, len, prefixed_ids[i].prefix) && is_hex_id(c + n, len - n))
			return prefixed_ids[i].runtime;
	}
	if (!is_hex_id(c, len))
		return NULL;
	if (parent_len == strlen("docker") && !memcmp(parent, "docker", parent_len))
		return "docker";
	/* Bare ids under kubepods come from containerd's cgroupfs driver (and
	 * dockershim, which is gone). */
	return kubepods ? "containerd" : NULL;
}

int container_parse_cgroup(const char *path, struct container_cgroup *ret_cg)
{
	struct container_cgroup found = { 0 };
	const char *c = path, *parent = "", *runtime;
	char uid[CONTAINER_UID_LEN + 1] = "";
	size_t len, parent_len = 0;
	bool kubepods = false;

	if (!path)
		return -EINVAL;
	/* The deepest container component wins: podman's systemd layout puts
	 * the processes in ".../libpod-<id>.scope/container". */
	for (; *c; c += len) {
		while (*c == '/')
			c++;
		len = strcspn(c, "/\n");
		if (!len)
			break;
		if (has_prefix(c, len, "kubepods"))
			kubepods = true;
		if (kubepods)
			parse_pod_component(c, len, uid);
		runtime = parse_id_component(c, len, parent, parent_len, kubepods);
		if (runtime) {
			found.runtime = runtime;
			memcpy(found.id, c + len - CONTAINER_ID_LEN -
				(has_suffix(c, len, ".scope") ? strlen(".scope") : 0),
			       CONTAINER_ID_LEN);
			found.id[CONTAINER_ID_LEN] = '\0';
			memcpy(found.pod_uid, uid, sizeof(uid));
		}
		parent = c;
		parent_len = len;
		if (c[len] == '\n')
			break;
	}
	if (!found.runtime)
		return -ENOENT;
	*ret_cg = found;
	return 0;
}

/* ---- cgroup id -> path ---- */

static int set_path(char *ret_path, size_t size, const char *path)
{
	if ((size_t)snprintf(ret_path, size, "%s", *path ? path : "/") >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Needs CAP_DAC_READ_SEARCH; 1 when the caller should walk instead. */
static int path_by_handle(const char *v2_root, uint64_t id, char *ret_path, size_t size)
{
	uint64_t storage[(sizeof(struct file_handle) + sizeof(id) + 7) / 8];
	struct file_handle *fh = (struct file_handle *)storage;
	char link[64], target[PATH_MAX], root[PATH_MAX];
	int mfd, fd, err;
	size_t rlen;
	ssize_t n;

	fh->handle_bytes = sizeof(id);
	fh->handle_type = FILEID_KERNFS;
	memcpy(fh->f_handle, &id, sizeof(id));
	if (!realpath(v2_root, root))
		return -errno;
	mfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return -errno;
	fd = open_by_handle_at(mfd, fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	close(mfd);
	if (err == -ESTALE)
		return -ENOENT;
	if (err)
		return 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return 1;
	target[n] = '\0';
	rlen = strcmp(root, "/") ? strlen(root) : 0;
	/* Outside our view of the hierarchy (another cgroup namespace). */
	if (strncmp(target, root, rlen) || (target[rlen] && target[rlen] != '/'))
		return 1;
	return set_path(ret_path, size, target + rlen);
}

static int walk(int dirfd, dev_t dev, uint64_t id, char *path, size_t len, size_t size, int depth)
{
	struct dirent *de;
	int err = -ENOENT;
	DIR *dir;

	if (depth > MAX_WALK_DEPTH) {
		close(dirfd);
		return -ENOENT;
	}
	dir = fdopendir(dirfd);
	if (!dir) {
		err = -errno;
		close(dirfd);
		return err;
	}
	while (err == -ENOENT && (de = readdir(dir))) {
		struct stat st;
		size_t n;
		int fd;

		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode) ||
		    st.st_dev != dev)
			continue;
		n = strlen(de->d_name);
		if (len + 1 + n >= size) {
			err = -ENAMETOOLONG;
			break;
		}
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, n + 1);
		if (st.st_ino == id)
			err = 0;
		else if ((fd = openat(dirfd, de->d_name,
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			err = walk(fd, dev, id, path, len + 1 + n, size, depth + 1);
	}
	closedir(dir);
	if (err)
		path[len] = '\0';
	return err;
}

int container_cgroup_path(const char *v2_root, uint64_t id, char *ret_path, size_t size)
{
	char path[PATH_MAX] = "";
	struct statfs sfs;
	struct stat st;
	int fd, err;

	if (!id)
		return -EINVAL;
	if (!statfs(v2_root, &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		err = path_by_handle(v2_root, id, ret_path, size);
		if (err <= 0)
			return err;
	}
	fd = open(v2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (st.st_ino == id) {
		close(fd);
		return set_path(ret_path, size, "/");
	}
	err = walk(fd, st.st_dev, id, path, 0, sizeof(path), 0);
	if (err)
		return err;
	return set_path(ret_path, size, path);
}

/* ---- metadata ---- */

static void set_str(char **field, const char *value)
{
	char *copy = value && *value ? strdup(value) : NULL;

	if (*field != empty)
		free(*field);
	*field = copy ? copy : empty;
}

/* set_str() for what a container's files say: cut to max bytes, counted. */
static void set_cut(struct container_info *info, char **field, const char *value, size_t max)
{
	char *copy = NULL;
	bool cut = false;

	if (value && *value && text_dup(value, max, &copy, &cut))
		copy = NULL;
	if (*field != empty)
		free(*field);
	*field = copy ? copy : empty;
	info->cut += cut;
}

static void info_init(struct container_info *info)
{
	memset(info, 0, sizeof(*info));
	info->runtime = empty;
	info->cgroup = info->pod_namespace = info->pod_name = empty;
	info->name = info->image = info->type = info->start_time = empty;
	info->owner_kind = info->owner_how = info->owner_name = empty;
}

static void info_free(struct container_info *info)
{
	size_t i;

	set_str(&info->cgroup, NULL);
	set_str(&info->pod_namespace, NULL);
	set_str(&info->pod_name, NULL);
	set_str(&info->name, NULL);
	set_str(&info->image, NULL);
	set_str(&info->type, NULL);
	set_str(&info->start_time, NULL);
	set_str(&info->owner_name, NULL);
	info->owner_kind = info->owner_how = empty;
	for (i = 0; i < info->n_labels; i++) {
		free(info->labels[i].key);
		free(info->labels[i].value);
	}
	free(info->labels);
	info->labels = NULL;
	info->n_labels = 0;
}

static int read_json(const char *path, struct container_info *info, struct json_object **ret_obj)
{
	size_t len;
	char *text;
	int err = json_read_file(path, CONTAINER_JSON_MAX, &text, &len);

	if (err == -EFBIG)
		info->refused++;
	if (err)
		return err;
	err = json_parse_object(text, len, ret_obj, NULL, 0);
	free(text);
	return err;
}

static int add_label(struct container_info *info, const char *key, const char *value)
{
	struct container_label *labels, *l;
	bool key_cut = false, value_cut = false;

	if (info->n_labels >= CONTAINER_MAX_LABELS) {
		info->cut++;
		return 0;
	}
	labels = realloc(info->labels, (info->n_labels + 1) * sizeof(*labels));
	if (!labels)
		return -ENOMEM;
	info->labels = labels;
	l = &labels[info->n_labels];
	l->key = l->value = NULL;
	if (text_dup(key, TEXT_LABEL_MAX, &l->key, &key_cut) ||
	    text_dup(value, TEXT_LABEL_MAX, &l->value, &value_cut)) {
		free(l->key);
		return -ENOMEM;
	}
	info->cut += key_cut + value_cut;
	info->n_labels++;
	return 0;
}

/* CRI-O keeps the labels as one JSON object in a string annotation. */
static int parse_labels(struct container_info *info, const char *text)
{
	struct json_object *obj = json_tokener_parse(text);
	int err = 0;

	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return -EINVAL;
	}
	json_object_object_foreach(obj, key, value) {
		if (!json_object_is_type(value, json_type_string))
			continue;
		err = add_label(info, key, json_object_get_string(value));
		if (err)
			break;
	}
	json_object_put(obj);
	return err;
}

#define FIELD(name) offsetof(struct container_info, name)

static const struct {
	const char *key;
	size_t field; /* offset of a char * in struct container_info */
	size_t max;
} annotation_fields[] = {
	/* containerd CRI plugin */
	{ "io.kubernetes.cri.sandbox-namespace", FIELD(pod_namespace), TEXT_NAME_MAX },
	{ "io.kubernetes.cri.sandbox-name", FIELD(pod_name), TEXT_NAME_MAX },
	{ "io.kubernetes.cri.container-name", FIELD(name), TEXT_NAME_MAX },
	{ "io.kubernetes.cri.image-name", FIELD(image), TEXT_IMAGE_MAX },
	{ "io.kubernetes.cri.container-type", FIELD(type), TEXT_NAME_MAX },
	/* CRI-O */
	{ "io.kubernetes.pod.namespace", FIELD(pod_namespace), TEXT_NAME_MAX },
	{ "io.kubernetes.pod.name", FIELD(pod_name), TEXT_NAME_MAX },
	{ "io.kubernetes.container.name", FIELD(name), TEXT_NAME_MAX },
	{ "io.kubernetes.cri-o.ImageName", FIELD(image), TEXT_IMAGE_MAX },
	{ "io.kubernetes.cri-o.ContainerType", FIELD(type), TEXT_NAME_MAX },
};

/* 1 if the key is one we know, 0 if not, negative errno. */
static int apply_annotation(struct container_info *info, const char *key, const char *value)
{
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(annotation_fields); i++) {
		if (strcmp(key, annotation_fields[i].key))
			continue;
		set_cut(info, (char **)((char *)info + annotation_fields[i].field), value,
			annotation_fields[i].max);
		return 1;
	}
	if (!strcmp(key, "io.kubernetes.cri.sandbox-uid") || !strcmp(key, "io.kubernetes.pod.uid")) {
		/* The cgroup path's UID is authoritative when there is one. */
		if (!info->pod_uid[0] && strlen(value) <= CONTAINER_UID_LEN)
			strcpy(info->pod_uid, value);
		return 1;
	}
	if (!strcmp(key, "io.kubernetes.cri-o.Labels")) {
		err = parse_labels(info, value);
		return err ? err : 1;
	}
	return 0;
}

static int apply_bundle_config(struct container_info *info, const char *config_path)
{
	struct json_object *config, *ann;
	int err;

	err = read_json(config_path, info, &config);
	if (err)
		return err;
	if (json_object_object_get_ex(config, "annotations", &ann) &&
	    json_object_is_type(ann, json_type_object)) {
		json_object_object_foreach(ann, key, value) {
			if (!json_object_is_type(value, json_type_string))
				continue;
			err = apply_annotation(info, key, json_object_get_string(value));
			if (err < 0 && err != -EINVAL)
				break;
			err = 0; /* a malformed label string loses the labels only */
		}
	}
	json_object_put(config);
	if (!err)
		info->source = CONTAINER_SRC_BUNDLE;
	return err;
}

/* What a runtime state file says; labels borrowed from state. */
struct runtime_state {
	struct json_object *obj;
	const char *bundle;
	struct json_object *labels; /* runc: annotations as "key=value" + "bundle=..." */
};

static int read_state_file(const char *dir, struct container_info *info, struct runtime_state *st)
{
	static const char *const files[] = { "state.json", "status" }; /* runc, crun */
	struct json_object *v, *config;
	char path[PATH_MAX];
	size_t i, j;
	int err = -ENOENT;

	for (i = 0; i < ARRAY_SIZE(files) && err == -ENOENT; i++) {
		err = pathf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (!err)
			err = read_json(path, info, &st->obj);
	}
	if (err)
		return err;
	st->bundle = json_member_string(st->obj, "bundle");
	if (json_object_object_get_ex(st->obj, "config", &config) &&
	    json_object_object_get_ex(config, "labels", &v) &&
	    json_object_is_type(v, json_type_array)) {
		st->labels = v;
		for (j = 0; j < json_object_array_length(v) && !st->bundle; j++) {
			const char *l = json_object_get_string(json_object_array_get_idx(v, j));

			if (l && !strncmp(l, "bundle=", 7))
				st->bundle = l + 7;
		}
	}
	set_cut(info, &info->start_time, json_member_string(st->obj, "created"),
		CONTAINER_TIME_MAX);
	if ((json_object_object_get_ex(st->obj, "init_process_pid", &v) ||
	     json_object_object_get_ex(st->obj, "pid", &v)) &&
	    json_object_is_type(v, json_type_int))
		info->init_pid = json_object_get_int(v);
	return 0;
}

/* <root>/<id>/ or, for runtimes that keep one root per namespace, <root>/<ns>/<id>/. */
static int find_state(const char *root, const char *id, struct container_info *info,
		      struct runtime_state *st)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int err, first;
	DIR *d;

	err = pathf(dir, sizeof(dir), "%s/%s", root, id);
	if (!err)
		err = read_state_file(dir, info, st);
	if (err != -ENOENT)
		return err;
	d = opendir(root); /* glibc opens directories O_CLOEXEC */
	if (!d)
		return -ENOENT;
	first = -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, id))
			continue;
		err = pathf(dir, sizeof(dir), "%s/%s/%s", root, de->d_name, id);
		if (!err)
			err = read_state_file(dir, info, st);
		if (!err) {
			first = 0;
			break;
		}
		if (first == -ENOENT && err != -ENOENT && err != -ENOTDIR)
			first = err;
	}
	closedir(d);
	return first;
}

/* find_state() in root, then in root as Docker's exec root, whose runc
 * keeps its state under runtime-runc/<containerd namespace>/. */
static int find_root_state(const char *root, const char *id, struct container_info *info,
			   struct runtime_state *st)
{
	char docker[PATH_MAX];
	int err = find_state(root, id, info, st);

	if (err != -ENOENT || pathf(docker, sizeof(docker), "%s/runtime-runc", root))
		return err;
	return find_state(docker, id, info, st);
}

static void read_init_pid(const char *task_dir, struct container_info *info)
{
	char path[PATH_MAX], buf[32];
	long pid;

	if (!pathf(path, sizeof(path), "%s/init.pid", task_dir) &&
	    !read_small_file(path, buf, sizeof(buf)) && !parse_long(buf, 1, INT_MAX, &pid))
		info->init_pid = pid;
}

/* A shim given a runc root of its own (the CRI runtime option Root) names
 * it in the task's options.json; runc's state there has the container's
 * start time. The default root, /run/containerd/runc, is a state root
 * already, and a shim then writes no root. */
static void read_task_runc_state(const char *task, const char *ns, struct container_info *info,
				 struct runtime_state *st)
{
	struct json_object *opts;
	const char *root;
	char path[PATH_MAX];

	if (pathf(path, sizeof(path), "%s/options.json", task) || read_json(path, info, &opts))
		return;
	root = json_member_string(opts, "root");
	/* The bundle named the container already: its state only adds to it. */
	if (root && *root && !pathf(path, sizeof(path), "%s/%s/%s", root, ns, info->id))
		(void)read_state_file(path, info, st);
	json_object_put(opts);
}

/* containerd shims keep the bundle under <root>/<task plugin>/<ns>/<id>/,
 * whichever runtime state root runc was given. st, when the runtime state
 * is still missing, takes runc's from the root the shim was given. */
static int find_task_bundle(const char *root, struct container_info *info,
			    struct runtime_state *st)
{
	static const char *const plugins[] = { "io.containerd.runtime.v2.task",
					       "io.containerd.runtime.v1.linux" };
	char dir[PATH_MAX], config[PATH_MAX];
	int err = -ENOENT, found = -ENOENT;
	struct dirent *de;
	size_t i;
	DIR *d;

	for (i = 0; i < ARRAY_SIZE(plugins) && found; i++) {
		if (pathf(dir, sizeof(dir), "%s/%s", root, plugins[i]))
			continue;
		d = opendir(dir);
		if (!d)
			continue;
		while (found && (de = readdir(d))) {
			char task[PATH_MAX];

			if (de->d_name[0] == '.')
				continue;
			if (pathf(task, sizeof(task), "%s/%s/%s", dir, de->d_name, info->id) ||
			    pathf(config, sizeof(config), "%s/config.json", task))
				continue;
			err = apply_bundle_config(info, config);
			if (!err) {
				if (st && !st->obj)
					read_task_runc_state(task, de->d_name, info, st);
				if (!info->init_pid)
					read_init_pid(task, info);
				found = 0;
			} else if (err != -ENOENT && err != -ENOTDIR) {
				found = err;
			}
		}
		closedir(d);
	}
	return found;
}

static bool dir_links_id(const char *dir, const char *id)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	bool found = false;
	ssize_t n;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (strstr(de->d_name, id)) {
			found = true;
			break;
		}
		if (pathf(path, sizeof(path), "%s/%s", dir, de->d_name))
			continue;
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			found = strstr(target, id);
		}
	}
	closedir(d);
	return found;
}

/* The container of a multi-container pod is only known when something in
 * its log directory names the id (dockershim's symlinks did). */
static void pods_log_container(const char *pod_dir, struct container_info *info)
{
	char only[NAME_MAX + 1] = "", dir[PATH_MAX];
	struct dirent *de;
	int count = 0;
	DIR *d;

	d = opendir(pod_dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (pathf(dir, sizeof(dir), "%s/%s", pod_dir, de->d_name))
			continue;
		if (dir_links_id(dir, info->id)) {
			set_cut(info, &info->name, de->d_name, TEXT_NAME_MAX);
			count = 0;
			break;
		}
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			snprintf(only, sizeof(only), "%s", de->d_name);
			count++;
		}
	}
	closedir(d);
	if (count == 1)
		set_cut(info, &info->name, only, TEXT_NAME_MAX);
}

/* <root>/<namespace>_<pod>_<uid>/: neither names nor namespaces may hold
 * an underscore, so the split is unambiguous. */
static int find_pods_log(const char *root, struct container_info *info)
{
	char pod_dir[PATH_MAX];
	struct dirent *de;
	int err = -ENOENT;
	DIR *d;

	if (!info->pod_uid[0])
		return -ENOENT;
	d = opendir(root);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		char *first = strchr(de->d_name, '_'), *last = strrchr(de->d_name, '_');

		if (!first || first == last || strcmp(last + 1, info->pod_uid))
			continue;
		*last = '\0';
		*first = '\0';
		set_cut(info, &info->pod_namespace, de->d_name, TEXT_NAME_MAX);
		set_cut(info, &info->pod_name, first + 1, TEXT_NAME_MAX);
		*first = *last = '_';
		if (!pathf(pod_dir, sizeof(pod_dir), "%s/%s", root, de->d_name))
			pods_log_container(pod_dir, info);
		info->source = CONTAINER_SRC_PODS_LOG;
		err = 0;
		break;
	}
	closedir(d);
	return err;
}

/* The containerd root, then any state root that is a containerd state
 * directory (a containerd started with its own --state): the first that
 * has the task's bundle. */
static int find_containerd_task(const struct container_roots *roots, struct container_info *info,
				struct runtime_state *st)
{
	int err = -ENOENT, e;
	size_t i;

	if (roots->containerd) {
		err = find_task_bundle(roots->containerd, info, st);
		if (!err)
			return 0;
	}
	for (i = 0; i < CONTAINER_STATE_ROOTS && roots->state[i]; i++) {
		e = find_task_bundle(roots->state[i], info, st);
		if (!e)
			return 0;
		if (err == -ENOENT)
			err = e;
	}
	return err;
}

/* A CRI sandbox (the pause container) has no container name of its own:
 * containerd writes none. It goes by the kubelet's name for it, "POD", so
 * that every sandbox of a pod is one workload, not one per sandbox id. */
static void name_sandbox(struct container_info *info)
{
	if (!strcmp(info->type, "sandbox") && !*info->name)
		set_str(&info->name, "POD");
}

/* Docker writes a container's config.v2.json when it is created, before
 * its runtime starts it: Name ("/" and the name), Config.Image (the image
 * as asked for; Image is its digest), Config.Labels; once it runs,
 * State.Pid and State.StartedAt. 1 when it runs (its runtime state, in
 * effect), 0 when not yet, negative errno. */
static int read_docker_config(const char *path, struct container_info *info)
{
	struct json_object *obj, *config, *labels, *state;
	bool running = false;
	const char *name;
	int err, pid = 0;

	err = read_json(path, info, &obj);
	if (err)
		return err;
	name = json_member_string(obj, "Name");
	set_cut(info, &info->name, name && *name == '/' ? name + 1 : name, TEXT_NAME_MAX);
	config = json_member(obj, "Config", json_type_object);
	set_cut(info, &info->image, json_member_string(config, "Image"), TEXT_IMAGE_MAX);
	labels = json_member(config, "Labels", json_type_object);
	if (labels) {
		json_object_object_foreach(labels, key, value) {
			if (!json_object_is_type(value, json_type_string))
				continue;
			err = add_label(info, key, json_object_get_string(value));
			if (err)
				break;
		}
	}
	state = json_member(obj, "State", json_type_object);
	/* Absent or mistyped: not running, as for a container not started. */
	if (!err && !json_read_bool(state, "Running", &running) && running &&
	    !json_read_int(state, "Pid", &pid) && pid > 0) {
		if (!info->init_pid)
			info->init_pid = pid;
		if (!info->start_time[0])
			set_cut(info, &info->start_time, json_member_string(state, "StartedAt"),
				CONTAINER_TIME_MAX);
	}
	json_object_put(obj);
	if (err)
		return err;
	info->source = CONTAINER_SRC_DOCKER;
	return pid > 0;
}

static int docker_config_in(const char *root, struct container_info *info)
{
	char path[PATH_MAX];
	int err = pathf(path, sizeof(path), "%s/containers/%s/config.v2.json", root, info->id);

	if (!err)
		err = read_docker_config(path, info);
	return err == -ENOTDIR ? -ENOENT : err;
}

/* Docker's data root, then each state root, any of which may be a data
 * root: the first that has the container. */
static int find_docker(const struct container_roots *roots, struct container_info *info)
{
	int err = roots->docker ? docker_config_in(roots->docker, info) : -ENOENT;
	size_t i;

	for (i = 0; i < CONTAINER_STATE_ROOTS && roots->state[i] && err == -ENOENT; i++)
		err = docker_config_in(roots->state[i], info);
	return err;
}

/* ---- podman: containers/storage ---- */

/* An entry of containers.json: its first name, its creation time and the
 * image libpod's metadata (a JSON object in a string) says it was made from. */
static void apply_storage_entry(struct container_info *info, json_object *entry)
{
	json_object *names = json_member(entry, "names", json_type_array), *meta;
	const char *text = json_member_string(entry, "metadata");

	if (names && json_object_array_length(names) &&
	    json_object_is_type(json_object_array_get_idx(names, 0), json_type_string))
		set_cut(info, &info->name,
			json_object_get_string(json_object_array_get_idx(names, 0)), TEXT_NAME_MAX);
	set_cut(info, &info->start_time, json_member_string(entry, "created"), CONTAINER_TIME_MAX);
	if (text && !json_parse_object(text, strlen(text), &meta, NULL, 0)) {
		set_cut(info, &info->image, json_member_string(meta, "image-name"), TEXT_IMAGE_MAX);
		json_object_put(meta);
	}
}

/* <dir>/containers.json, an array of every container of the store. */
static int read_storage_list(const char *dir, struct container_info *info)
{
	json_object *list = NULL;
	char path[PATH_MAX], *text;
	json_tokener *tok;
	size_t len, i;
	int err;

	err = pathf(path, sizeof(path), "%s/containers.json", dir);
	if (!err)
		err = json_read_file(path, CONTAINER_JSON_MAX, &text, &len);
	if (err == -EFBIG)
		info->refused++;
	if (err)
		return err;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	err = tok ? 0 : -ENOMEM;
	if (tok) /* len <= CONTAINER_JSON_MAX */
		list = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	free(text);
	if (!err && (!list || !json_object_is_type(list, json_type_array)))
		err = -EINVAL;
	if (err) {
		json_object_put(list);
		return err;
	}
	err = -ENOENT;
	for (i = 0; i < json_object_array_length(list) && err; i++) {
		json_object *entry = json_object_array_get_idx(list, i);
		const char *id = json_member_string(entry, "id");

		if (id && !strcmp(id, info->id)) {
			apply_storage_entry(info, entry);
			err = 0;
		}
	}
	json_object_put(list);
	return err;
}

/* <root>/<driver>-containers/: a graph root's list and libpod's bundle
 * (unless the runtime's state led to it), a run root's pidfile (the
 * container's init, written by conmon). */
static int read_storage_dir(const char *dir, struct container_info *info, bool *named)
{
	char path[PATH_MAX], buf[32];
	int err = 0;
	long pid;

	if (!*named) {
		err = read_storage_list(dir, info);
		*named = !err;
	}
	if (!err && info->source == CONTAINER_SRC_NONE) {
		info->source = CONTAINER_SRC_STATE;
		if (!pathf(path, sizeof(path), "%s/%s/userdata/config.json", dir, info->id))
			/* Without the bundle, the list's names stay. */
			(void)apply_bundle_config(info, path);
	}
	if (!info->init_pid &&
	    !pathf(path, sizeof(path), "%s/%s/userdata/pidfile", dir, info->id) &&
	    !read_small_file(path, buf, sizeof(buf)) && !parse_long(buf, 1, INT_MAX, &pid))
		info->init_pid = pid;
	return err;
}

/* A podman container in its containers/storage roots, and in the state
 * roots laid out as one: 0 when a graph root named it. */
static int find_storage(const struct container_roots *roots, struct container_info *info)
{
	const char *const *lists[] = { roots->storage, roots->state };
	const size_t sizes[] = { CONTAINER_STORAGE_ROOTS, CONTAINER_STATE_ROOTS };
	int err = -ENOENT, e;
	bool named = false;
	char dir[PATH_MAX];
	struct dirent *de;
	size_t l, i, n;
	DIR *d;

	for (l = 0; l < ARRAY_SIZE(lists); l++) {
		for (i = 0; i < sizes[l] && lists[l][i]; i++) {
			d = opendir(lists[l][i]);
			if (!d)
				continue;
			while ((de = readdir(d))) {
				n = strlen(de->d_name);
				if (de->d_name[0] == '.' || !has_suffix(de->d_name, n, "-containers") ||
				    pathf(dir, sizeof(dir), "%s/%s", lists[l][i], de->d_name))
					continue;
				e = read_storage_dir(dir, info, &named);
				if (err == -ENOENT && e && e != -ENOENT && e != -ENOTDIR)
					err = e;
			}
			closedir(d);
		}
	}
	return named ? 0 : err;
}

/* Fills info from what its id leads to, and meta_err with why nothing did;
 * 1 when the runtime state (start time, init pid) was found too, else 0. */
static int read_metadata(const struct container_roots *roots, struct container_info *info)
{
	struct runtime_state st = { 0 };
	int err = -ENOENT, e;
	bool have_state = false;
	size_t i;

	for (i = 0; i < CONTAINER_STATE_ROOTS && roots->state[i] && !have_state; i++) {
		e = find_root_state(roots->state[i], info->id, info, &st);
		if (!e)
			have_state = true;
		else if (err == -ENOENT)
			err = e;
	}
	if (st.bundle) {
		char config[PATH_MAX];

		e = pathf(config, sizeof(config), "%s/config.json", st.bundle);
		if (!e)
			e = apply_bundle_config(info, config);
		if (e && err == -ENOENT)
			err = e;
	}
	if (!strcmp(info->runtime, "podman")) {
		e = find_storage(roots, info);
		if (!e)
			have_state = true;
		else if (err == -ENOENT)
			err = e;
	}
	if (info->source == CONTAINER_SRC_NONE) {
		e = find_containerd_task(roots, info, &st);
		if (e && err == -ENOENT)
			err = e;
		have_state = st.obj != NULL;
	}
	if (info->source == CONTAINER_SRC_NONE && st.labels) {
		/* The bundle is gone; runc copied its annotations. */
		for (i = 0; i < json_object_array_length(st.labels); i++) {
			const char *l = json_object_get_string(json_object_array_get_idx(st.labels, i));
			char *copy, *eq;

			if (!l || !(eq = strchr(l, '=')) || !strncmp(l, "bundle=", 7))
				continue;
			copy = strdup(l);
			if (!copy)
				break;
			copy[eq - l] = '\0';
			if (apply_annotation(info, copy, copy + (eq - l) + 1) > 0)
				info->source = CONTAINER_SRC_STATE;
			free(copy);
		}
	}
	json_object_put(st.obj);
	/* Docker's bundle names nothing: its own configuration does. */
	if (!info->name[0]) {
		e = find_docker(roots, info);
		if (e > 0)
			have_state = true;
		else if (e && err == -ENOENT)
			err = e;
	}
	if (info->source == CONTAINER_SRC_NONE && roots->pods_log) {
		e = find_pods_log(roots->pods_log, info);
		if (e && err == -ENOENT)
			err = e;
	}
	name_sandbox(info);
	info->meta_err = info->source == CONTAINER_SRC_NONE ? err : 0;
	if (*info->pod_name) {
		struct workload_owner owner;

		workload_owner_of(info->pod_name, info->labels, info->n_labels, &owner);
		set_str(&info->owner_name, owner.name);
		info->owner_kind = owner.kind;
		info->owner_how = owner.how;
	}
	return have_state;
}

/* ---- the cache ---- */

/* Containers found through their cgroup v2 id are keyed by it; containers
 * found through a task's v1 lines (id 0) by their container id. */
struct entry_key {
	uint64_t cgroup_id;
	char id[CONTAINER_ID_LEN + 1];
};

struct entry {
	struct entry_key key;
	struct container_info info;
	int err; /* the cgroup id led nowhere */
	bool complete; /* metadata and runtime state found */
	unsigned int attempts;
	unsigned int exec_reads;
	uint64_t tried_ns;
	UT_hash_handle hh;
};

struct container_cache {
	struct container_roots roots; /* strings owned */
	char *v2_root;
	bool hybrid; /* v1 hierarchies exist besides v2 */
	size_t max_entries;
	uint64_t retry_ns;
	struct entry *table; /* in least recently used order */
	struct container_cache_stats stats;
	struct container_info host; /* a host task known by pid only */
};

static void roots_free(struct container_roots *r)
{
	size_t i;

	free((char *)r->proc);
	free((char *)r->cgroupfs);
	for (i = 0; i < CONTAINER_STATE_ROOTS; i++)
		free((char *)r->state[i]);
	free((char *)r->containerd);
	free((char *)r->pods_log);
	free((char *)r->docker);
	for (i = 0; i < CONTAINER_STORAGE_ROOTS; i++)
		free((char *)r->storage[i]);
}

static bool dup_root(const char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return true;
	*dst = strdup(src);
	return *dst;
}

static int roots_copy(struct container_roots *dst, const struct container_roots *src)
{
	bool ok;
	size_t i, n = 0;

	memset(dst, 0, sizeof(*dst));
	ok = dup_root(&dst->proc, src->proc ? src->proc : "/proc");
	ok &= dup_root(&dst->cgroupfs, src->cgroupfs ? src->cgroupfs : CGROUP_DEFAULT_ROOT);
	for (i = 0; i < CONTAINER_STATE_ROOTS && src->state[i]; i++)
		ok &= dup_root(&dst->state[n++], src->state[i]);
	ok &= dup_root(&dst->containerd, src->containerd);
	ok &= dup_root(&dst->pods_log, src->pods_log);
	ok &= dup_root(&dst->docker, src->docker);
	for (i = 0, n = 0; i < CONTAINER_STORAGE_ROOTS && src->storage[i]; i++)
		ok &= dup_root(&dst->storage[n++], src->storage[i]);
	if (!ok) {
		roots_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* bpf_get_current_cgroup_id() always names a cgroup of the v2 hierarchy.
 * Without one (v1 only), every task is in the v2 root and only
 * <proc>/PID/cgroup tells containers apart. */
static int find_v2_root(struct container_cache *cache)
{
	const char *fs = cache->roots.cgroupfs;
	char path[PATH_MAX];
	bool unified = false;
	int err = cgroup_v2_root(fs, path, sizeof(path), &unified);

	if (err && err != -ENOENT)
		return err;
	cache->hybrid = !unified;
	cache->v2_root = strdup(err ? fs : path);
	return cache->v2_root ? 0 : -ENOMEM;
}

int container_cache__new(const struct container_roots *roots, size_t max_entries,
			 struct container_cache **ret_cache)
{
	struct container_roots defaults;
	struct container_cache *cache;
	int err;

	if (!max_entries)
		return -EINVAL;
	if (!roots) {
		container_roots_default(&defaults);
		roots = &defaults;
	}
	cache = calloc(1, sizeof(*cache));
	if (!cache)
		return -ENOMEM;
	if (roots_copy(&cache->roots, roots)) {
		free(cache);
		return -ENOMEM;
	}
	err = find_v2_root(cache);
	if (err) {
		roots_free(&cache->roots);
		free(cache);
		return err;
	}
	cache->max_entries = max_entries;
	cache->retry_ns = DEFAULT_RETRY_NS;
	info_init(&cache->host);
	*ret_cache = cache;
	return 0;
}

static void entry_free(struct entry *e)
{
	info_free(&e->info);
	free(e);
}

void container_cache__free(struct container_cache *cache)
{
	struct entry *e, *tmp;

	if (!cache)
		return;
	HASH_ITER(hh, cache->table, e, tmp) {
		HASH_DEL(cache->table, e);
		entry_free(e);
	}
	roots_free(&cache->roots);
	free(cache->v2_root);
	free(cache);
}

void container_cache__set_retry(struct container_cache *cache, uint64_t interval_ns)
{
	cache->retry_ns = interval_ns;
}

void container_cache__stats(const struct container_cache *cache,
			    struct container_cache_stats *ret_stats)
{
	*ret_stats = cache->stats;
	ret_stats->entries = HASH_COUNT(cache->table);
}

/* How much a reading said: a later one that says less does not replace it. */
static int source_rank(enum container_source source)
{
	switch (source) {
	case CONTAINER_SRC_BUNDLE:
	case CONTAINER_SRC_DOCKER: return 3;
	case CONTAINER_SRC_STATE: return 2;
	case CONTAINER_SRC_PODS_LOG: return 1;
	case CONTAINER_SRC_NONE: break;
	}
	return 0;
}

/* Reads e's metadata (again). Runtimes delete their state when the
 * container ends, so a reading after that finds less than the one before:
 * what was learned is kept. */
static void read_entry(struct container_cache *cache, struct entry *e)
{
	struct container_info fresh;
	bool have_state;

	info_init(&fresh);
	fresh.runtime = e->info.runtime;
	memcpy(fresh.id, e->info.id, sizeof(fresh.id));
	memcpy(fresh.pod_uid, e->info.pod_uid, sizeof(fresh.pod_uid));
	have_state = read_metadata(&cache->roots, &fresh) == 1;
	cache->stats.cut += fresh.cut;
	cache->stats.refused += fresh.refused;
	e->tried_ns = clock_monotonic_ns();
	if (source_rank(fresh.source) < source_rank(e->info.source)) {
		info_free(&fresh);
		return;
	}
	fresh.cgroup = e->info.cgroup;
	e->info.cgroup = empty;
	info_free(&e->info);
	e->info = fresh;
	/* Names from kubelet's logs alone, the state being there, mean its
	 * bundle could not be read (yet): looked at again. */
	e->complete = have_state && source_rank(fresh.source) >= source_rank(CONTAINER_SRC_STATE);
}

static void fill_container(struct container_cache *cache, struct entry *e,
			   const struct container_cgroup *cg)
{
	e->info.runtime = cg->runtime;
	memcpy(e->info.id, cg->id, sizeof(cg->id));
	memcpy(e->info.pod_uid, cg->pod_uid, sizeof(cg->pod_uid));
	read_entry(cache, e);
}

/* A container caught while its runtime is still setting it up (BPF sees
 * runc init in the new cgroup before state.json exists) is looked at again,
 * less and less often. */
static void maybe_retry(struct container_cache *cache, struct entry *e)
{
	unsigned int shift = e->attempts < MAX_RETRY_SHIFT ? e->attempts : MAX_RETRY_SHIFT;

	if (e->complete || !e->info.id[0] ||
	    clock_monotonic_ns() - e->tried_ns < cache->retry_ns << shift)
		return;
	cache->stats.retries++;
	e->attempts++;
	read_entry(cache, e);
}

static struct entry *find(struct container_cache *cache, const struct entry_key *key)
{
	struct entry *e;

	HASH_FIND(hh, cache->table, key, sizeof(*key), e);
	if (e) {
		/* Re-adding moves it to the tail: the head is the eviction victim. */
		HASH_DEL(cache->table, e);
		HASH_ADD(hh, cache->table, key, sizeof(e->key), e);
		if (hash_add_failed()) { /* out of the table: answered afresh next time */
			entry_free(e);
			return NULL;
		}
		cache->stats.hits++;
	}
	return e;
}

/* Whether e's container still has its cgroup, and so processes: runtimes
 * remove it once the last one exited. Entries found through v1 lines
 * (no cgroup id) are not told apart. */
static bool cgroup_alive(const struct container_cache *cache, const struct entry *e)
{
	char path[PATH_MAX];
	struct stat st;

	if (!e->key.cgroup_id || !e->info.id[0] || e->info.cgroup == empty ||
	    pathf(path, sizeof(path), "%s%s", cache->v2_root, e->info.cgroup))
		return false;
	return !stat(path, &st) && st.st_ino == e->key.cgroup_id;
}

/* The least recently used entry among the first EVICT_SCAN that is not a
 * live container's, else the least recently used. */
static void evict(struct container_cache *cache)
{
	struct entry *victim = cache->table;
	int i;

	for (i = 0; victim && i < EVICT_SCAN && cgroup_alive(cache, victim); i++)
		victim = victim->hh.next;
	if (!victim || i == EVICT_SCAN) {
		victim = cache->table;
		cache->stats.evictions_live++;
	}
	HASH_DEL(cache->table, victim);
	entry_free(victim);
	cache->stats.evictions++;
}

static struct entry *insert(struct container_cache *cache, const struct entry_key *key,
			    const char *cgroup)
{
	struct entry *e;

	cache->stats.misses++;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = *key;
	info_init(&e->info);
	set_str(&e->info.cgroup, cgroup);
	if (cgroup && e->info.cgroup == empty) {
		free(e);
		return NULL;
	}
	while (HASH_COUNT(cache->table) >= cache->max_entries)
		evict(cache);
	HASH_ADD(hh, cache->table, key, sizeof(e->key), e);
	if (hash_add_failed()) {
		entry_free(e);
		return NULL;
	}
	return e;
}

/* The entry of cgroup_id, resolved now if it was not cached (*ret_fresh). */
static struct entry *by_cgroup_id(struct container_cache *cache, uint64_t cgroup_id,
				  bool *ret_fresh)
{
	struct entry_key key;
	struct container_cgroup cg;
	char path[PATH_MAX];
	struct entry *e;
	int err;

	memset(&key, 0, sizeof(key));
	key.cgroup_id = cgroup_id;
	*ret_fresh = false;
	e = find(cache, &key);
	if (e)
		return e;
	err = container_cgroup_path(cache->v2_root, cgroup_id, path, sizeof(path));
	e = insert(cache, &key, err ? NULL : path);
	if (!e)
		return NULL;
	*ret_fresh = true;
	e->err = err;
	if (!err && !container_parse_cgroup(path, &cg))
		fill_container(cache, e, &cg);
	return e;
}

int container_cache__exec(struct container_cache *cache, uint64_t cgroup_id)
{
	struct entry *e;
	bool fresh;

	if (!cgroup_id)
		return 0;
	e = by_cgroup_id(cache, cgroup_id, &fresh);
	if (!e)
		return -ENOMEM;
	if (e->err || !e->info.id[0] || e->exec_reads >= CONTAINER_EXEC_READS ||
	    (e->complete && !fresh))
		return 0;
	e->exec_reads++;
	cache->stats.exec_reads++;
	if (!fresh)
		read_entry(cache, e);
	return 0;
}

static struct entry *by_container(struct container_cache *cache, const struct container_cgroup *cg,
				  const char *path)
{
	struct entry_key key;
	struct entry *e;

	memset(&key, 0, sizeof(key));
	memcpy(key.id, cg->id, sizeof(key.id));
	e = find(cache, &key);
	if (e)
		return e;
	e = insert(cache, &key, path);
	if (e)
		fill_container(cache, e, cg);
	return e;
}

/* 1 and the container from the first line naming one (v2 line first),
 * 0 for a host task, negative errno. */
static int pid_cgroup(struct container_cache *cache, pid_t pid, struct container_cgroup *ret_cg,
		      char *ret_path, size_t size)
{
	char path[PATH_MAX], *buf, *line, *next;
	int err, pass;

	buf = malloc(PROC_CGROUP_BYTES);
	if (!buf)
		return -ENOMEM;
	err = pathf(path, sizeof(path), "%s/%d/cgroup", cache->roots.proc, (int)pid);
	if (!err)
		err = read_small_file(path, buf, PROC_CGROUP_BYTES);
	for (pass = 0; pass < 2 && !err; pass++) {
		for (line = buf; line && *line; line = next) {
			char *p = strchr(line, ':');

			next = strchr(line, '\n');
			if (next)
				next++;
			/* "hierarchy:controllers:path"; hierarchy 0 is v2. */
			if (!p || (pass == 0) != !strncmp(line, "0::", 3))
				continue;
			p = strchr(p + 1, ':');
			if (!p || container_parse_cgroup(p + 1, ret_cg))
				continue;
			snprintf(ret_path, size, "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
			free(buf);
			return 1;
		}
	}
	free(buf);
	return err;
}

int container_cache__lookup(struct container_cache *cache, uint64_t cgroup_id, pid_t pid,
			    const struct container_info **ret_info)
{
	struct container_cgroup cg;
	char path[PATH_MAX];
	struct entry *e = NULL;
	int r;

	if (!cgroup_id && pid <= 0)
		return -EINVAL;
	if (cgroup_id) {
		bool fresh;

		e = by_cgroup_id(cache, cgroup_id, &fresh);
		if (!e)
			return -ENOMEM;
		if (!e->err && (e->info.id[0] || pid <= 0 || !cache->hybrid)) {
			if (!fresh)
				maybe_retry(cache, e);
			*ret_info = &e->info;
			return 0;
		}
		if (pid <= 0)
			return e->err;
	}
	r = pid_cgroup(cache, pid, &cg, path, sizeof(path));
	if (r > 0) {
		/* May evict e: e is not used past here. */
		e = by_container(cache, &cg, path);
		if (!e)
			return -ENOMEM;
		maybe_retry(cache, e);
		*ret_info = &e->info;
		return 0;
	}
	if (e && !e->err) {
		*ret_info = &e->info;
		return 0;
	}
	if (r == 0) {
		*ret_info = &cache->host;
		return 0;
	}
	return e ? e->err : r;
}
