#include "agent/api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <utlist.h>

#include "lib/caps.h"
#include "lib/util.h"

#define LISTEN_BACKLOG 64
#define EPOLL_BATCH 64
#define READ_CHUNK 4096
#define JSON_DEPTH 16 /* requests are shallow; deeper is malformed */
#define DISCARD_LIMIT (1024 * 1024) /* input read and thrown away before closing */
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

enum client_state {
	CLIENT_REQUEST, /* reading the request line */
	CLIENT_STREAM, /* receiving events */
	CLIENT_CLOSING, /* reply queued: write it, end our side, wait for theirs */
};

struct buffer {
	char *data;
	size_t off, len, cap; /* pending bytes are data[off, len) */
};

struct client {
	struct client *prev, *next; /* utlist */
	int fd;
	enum client_state state;
	uint32_t interest; /* epoll events registered */
	bool shut; /* our side shut down */
	bool peer_closed; /* the client's side ended: no more reading */
	struct buffer in;
	struct buffer out;
	size_t discarded;
	struct evfilter *filter;
	uint64_t dropped; /* events not queued since the last notice */
};

struct api_server {
	int listen_fd;
	int epoll_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct api_server_opts opts;
	struct client *clients;
	struct api_server_stats stats;
};

/* ---- buffers ---- */

static int buffer_reserve(struct buffer *b, size_t more)
{
	size_t need, cap;
	char *data;

	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + more <= b->cap)
		return 0;
	if (b->off) { /* slide the pending bytes down before growing */
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + more <= b->cap)
			return 0;
	}
	need = b->len + more;
	cap = b->cap ? b->cap : READ_CHUNK;
	while (cap < need)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data)
		return -ENOMEM;
	b->data = data;
	b->cap = cap;
	return 0;
}

static int buffer_append(struct buffer *b, const char *data, size_t len, bool newline)
{
	int err = buffer_reserve(b, len + newline);

	if (err)
		return err;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	if (newline)
		b->data[b->len++] = '\n';
	return 0;
}

static size_t buffer_pending(const struct buffer *b)
{
	return b->len - b->off;
}

/* ---- server ---- */

static void client_free(struct api_server *srv, struct client *c)
{
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->state == CLIENT_STREAM)
		srv->stats.streaming--;
	srv->stats.clients--;
	DL_DELETE(srv->clients, c);
	evfilter__free(c->filter);
	free(c->in.data);
	free(c->out.data);
	free(c);
}

static int set_interest(struct api_server *srv, struct client *c, uint32_t interest)
{
	struct epoll_event ev = { .events = interest, .data.ptr = c };

	if (interest == c->interest)
		return 0;
	if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev))
		return -errno;
	c->interest = interest;
	return 0;
}

/* Writes what the socket takes. -EPIPE and friends: the client is gone. */
static int client_flush(struct api_server *srv, struct client *c)
{
	for (;;) {
		size_t pending = buffer_pending(&c->out);
		ssize_t n;

		if (!pending && c->dropped) {
			char notice[64];
			int len = snprintf(notice, sizeof(notice),
					   "{\"notice\":\"dropped %llu events\"}\n",
					   (unsigned long long)c->dropped);

			if (buffer_append(&c->out, notice, (size_t)len, false))
				return -ENOMEM;
			c->dropped = 0;
			continue;
		}
		if (!pending)
			break;
		n = send(c->fd, c->out.data + c->out.off, pending, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return set_interest(srv, c, c->interest | EPOLLOUT);
			return -errno;
		}
		c->out.off += (size_t)n;
	}
	c->out.off = c->out.len = 0;
	if (c->state == CLIENT_CLOSING && !c->shut) {
		/* End our side and keep reading until the client closes: closing
		 * with unread input would reset the connection and could discard
		 * the reply before the client reads it. */
		shutdown(c->fd, SHUT_WR);
		c->shut = true;
	}
	return set_interest(srv, c, c->interest & ~(uint32_t)EPOLLOUT);
}

static void queue_json(struct client *c, json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_FLAGS);

	if (!text || buffer_append(&c->out, text, strlen(text), true))
		c->state = CLIENT_CLOSING; /* out of memory: end it without a reply */
}

static void reply_error(struct api_server *srv, struct client *c, const char *fmt, ...)
{
	json_object *obj = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	srv->stats.rejected++;
	if (c->state == CLIENT_STREAM)
		srv->stats.streaming--;
	c->state = CLIENT_CLOSING;
	if (!obj)
		return;
	json_object_object_add(obj, "version", json_object_new_int(API_VERSION));
	json_object_object_add(obj, "error", json_object_new_string(msg));
	queue_json(c, obj);
	json_object_put(obj);
}

static void handle_events(struct api_server *srv, struct client *c, json_object *req)
{
	json_object *filter = NULL, *ack;
	char err[256];
	int rc;

	json_object_object_get_ex(req, "filter", &filter);
	rc = evfilter_from_json(filter, &c->filter, err, sizeof(err));
	if (rc) {
		reply_error(srv, c, "%s", rc == -EINVAL ? err : strerror(-rc));
		return;
	}
	ack = json_object_new_object();
	if (!ack) {
		c->state = CLIENT_CLOSING;
		return;
	}
	json_object_object_add(ack, "version", json_object_new_int(API_VERSION));
	json_object_object_add(ack, "stream", json_object_new_string("events"));
	queue_json(c, ack);
	json_object_put(ack);
	if (c->state == CLIENT_REQUEST) {
		c->state = CLIENT_STREAM;
		srv->stats.streaming++;
	}
}

static void handle_profile(struct api_server *srv, struct client *c, json_object *req)
{
	struct store_filter filter;
	json_object *select = NULL, *reply = NULL;
	char buf[1024], err[256];
	int rc;

	if (!json_object_object_get_ex(req, "select", &select)) {
		reply_error(srv, c, "a profile request needs \"select\"");
		return;
	}
	if (api_select_from_json(select, &filter, buf, sizeof(buf), err, sizeof(err))) {
		reply_error(srv, c, "%s", err);
		return;
	}
	if (!srv->opts.profile) {
		reply_error(srv, c, "this agent keeps no profiles");
		return;
	}
	rc = srv->opts.profile(srv->opts.ctx, &filter, &reply);
	if (rc) {
		reply_error(srv, c, "profile query failed: %s", strerror(-rc));
		return;
	}
	json_object_object_add(reply, "version", json_object_new_int(API_VERSION));
	queue_json(c, reply);
	json_object_put(reply);
	c->state = CLIENT_CLOSING;
}

static void handle_request(struct api_server *srv, struct client *c, const char *line,
			   size_t len)
{
	json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	json_object *req = NULL, *version, *op;
	size_t used;

	if (!tok) {
		c->state = CLIENT_CLOSING;
		return;
	}
	req = json_tokener_parse_ex(tok, line, (int)len);
	used = (size_t)json_tokener_get_parse_end(tok);
	if (!req || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);

		reply_error(srv, c, "malformed request: %s",
			    jerr == json_tokener_continue ? "incomplete JSON"
							  : json_tokener_error_desc(jerr));
		goto out;
	}
	if (strspn(line + used, " \t\r") != len - used) {
		reply_error(srv, c, "malformed request: text after the JSON object");
		goto out;
	}
	if (!json_object_is_type(req, json_type_object)) {
		reply_error(srv, c, "malformed request: not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(req, "version", &version) ||
	    !json_object_is_type(version, json_type_int)) {
		reply_error(srv, c, "request without \"version\" (this agent speaks version %d)",
			    API_VERSION);
		goto out;
	}
	if (json_object_get_int64(version) != API_VERSION) {
		reply_error(srv, c, "unsupported version %lld (this agent speaks version %d)",
			    (long long)json_object_get_int64(version), API_VERSION);
		goto out;
	}
	if (!json_object_object_get_ex(req, "op", &op) ||
	    !json_object_is_type(op, json_type_string)) {
		reply_error(srv, c, "request without \"op\"");
		goto out;
	}
	if (!strcmp(json_object_get_string(op), "events"))
		handle_events(srv, c, req);
	else if (!strcmp(json_object_get_string(op), "profile"))
		handle_profile(srv, c, req);
	else
		reply_error(srv, c, "unknown op \"%.64s\"", json_object_get_string(op));
out:
	json_object_put(req);
	json_tokener_free(tok);
}

/* The request is the first line; EOF ends it too (a client that shuts its
 * side down after writing). */
static void take_request(struct api_server *srv, struct client *c, bool eof)
{
	char *nl = memchr(c->in.data, '\n', c->in.len);
	size_t len;

	if (!nl && !eof) {
		if (c->in.len >= API_MAX_REQUEST)
			reply_error(srv, c, "request longer than %d bytes", API_MAX_REQUEST);
		return;
	}
	len = nl ? (size_t)(nl - c->in.data) : c->in.len;
	if (len >= API_MAX_REQUEST) {
		reply_error(srv, c, "request longer than %d bytes", API_MAX_REQUEST);
		return;
	}
	c->in.data[len] = '\0';
	handle_request(srv, c, c->in.data, len);
}

/* Reads what is there. Returns false when the client is to be closed. */
static bool client_read(struct api_server *srv, struct client *c)
{
	char scratch[READ_CHUNK];

	while (!c->peer_closed) {
		ssize_t n;

		if (c->state == CLIENT_REQUEST) {
			/* never more than the limit plus the byte that proves it */
			size_t room = API_MAX_REQUEST + 1 - c->in.len;
			size_t want = room < READ_CHUNK ? room : READ_CHUNK;

			if (buffer_reserve(&c->in, want + 1)) /* + the NUL of take_request() */
				return false;
			n = recv(c->fd, c->in.data + c->in.len, want, MSG_DONTWAIT);
		} else {
			n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		if (n == 0) {
			enum client_state before = c->state;

			c->peer_closed = true;
			if (set_interest(srv, c, c->interest & ~(uint32_t)EPOLLIN))
				return false;
			/* a request ended by EOF instead of a newline still counts */
			if (before == CLIENT_REQUEST && c->in.len)
				take_request(srv, c, true);
			return c->state == CLIENT_CLOSING ||
			       (before == CLIENT_REQUEST && c->state == CLIENT_STREAM);
		}
		if (c->state == CLIENT_REQUEST) {
			c->in.len += (size_t)n;
			take_request(srv, c, false);
		} else if (c->state == CLIENT_CLOSING) {
			c->discarded += (size_t)n;
			if (c->discarded > DISCARD_LIMIT)
				return false;
		}
	}
	return true;
}

static void client_event(struct api_server *srv, struct client *c, uint32_t events)
{
	bool keep = true;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		keep = client_read(srv, c);
	if (keep)
		keep = client_flush(srv, c) == 0;
	/* Both directions ended (reported until the socket closes), or our
	 * reply went out to a client that already left. */
	if (events & (EPOLLHUP | EPOLLERR) ||
	    (c->state == CLIENT_CLOSING && c->shut && c->peer_closed))
		keep = false;
	if (!keep)
		client_free(srv, c);
}

/* Only the agent's own user (root) may talk to it, whatever the socket's
 * mode says. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void accept_clients(struct api_server *srv)
{
	static const char busy[] = "{\"version\":1,\"error\":\"too many clients\"}\n";
	static const char denied[] = "{\"version\":1,\"error\":\"permission denied\"}\n";

	for (;;) {
		struct epoll_event ev;
		struct client *c;
		bool allowed;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or EMFILE and the like: try on the next wake-up */
		}
		srv->stats.accepted++;
		allowed = peer_allowed(fd);
		if (!allowed || srv->stats.clients >= srv->opts.max_clients) {
			const char *msg = allowed ? busy : denied;

			srv->stats.rejected++;
			if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* best effort: the connection ends either way */
			}
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->interest = EPOLLIN;
		ev = (struct epoll_event){ .events = c->interest, .data.ptr = c };
		if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		DL_APPEND(srv->clients, c);
		srv->stats.clients++;
	}
}

int api_server_handle(struct api_server *srv)
{
	struct epoll_event evs[EPOLL_BATCH];
	int n;

	n = epoll_wait(srv->epoll_fd, evs, EPOLL_BATCH, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (!evs[i].data.ptr)
			accept_clients(srv);
		else
			client_event(srv, evs[i].data.ptr, evs[i].events);
	}
	return 0;
}

/* An existing path: a stale socket of a previous agent is replaced. */
static int clear_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	close(fd);
	if (!err)
		return -EADDRINUSE;
	if (err != -ECONNREFUSED)
		return err;
	return unlink(path) ? -errno : 0;
}

int api_server__new(const struct api_server_opts *opts, struct api_server **ret_server)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct api_server *srv;
	const char *path = opts->path ? opts->path : API_DEFAULT_SOCKET;
	struct stat st;
	mode_t old_umask;
	int err;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->listen_fd = srv->epoll_fd = -1;
	srv->opts = *opts;
	if (!srv->opts.max_clients)
		srv->opts.max_clients = API_MAX_CLIENTS;
	if (!srv->opts.client_buffer)
		srv->opts.client_buffer = API_CLIENT_BUFFER;
	strcpy(srv->path, path);
	srv->opts.path = srv->path;
	strcpy(sa.sun_path, path);

	err = make_parent_dir(path);
	if (!err)
		err = clear_path(path);
	if (err)
		goto fail;
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0) {
		err = -errno;
		goto fail;
	}
	/* The socket must never exist with a looser mode, not even briefly. */
	old_umask = umask(0177);
	err = bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_umask);
	if (err)
		goto fail;
	if (chmod(path, 0600) || lstat(path, &st) || listen(srv->listen_fd, LISTEN_BACKLOG)) {
		err = -errno;
		unlink(path);
		goto fail;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epoll_fd < 0 || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev)) {
		err = -errno;
		unlink(path);
		goto fail;
	}
	*ret_server = srv;
	return 0;
fail:
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	free(srv);
	return err;
}

void api_server__free(struct api_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	while (srv->clients)
		client_free(srv, srv->clients);
	/* Only our socket: a newer agent may already have replaced it. */
	if (!lstat(srv->path, &st) && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	close(srv->listen_fd);
	close(srv->epoll_fd);
	free(srv);
}

int api_server_fd(const struct api_server *srv)
{
	return srv->epoll_fd;
}

size_t api_server_streaming(const struct api_server *srv)
{
	return srv->stats.streaming;
}

void api_server_broadcast(struct api_server *srv, const char *line, size_t len,
			  const struct evfilter_subject *subject)
{
	bool newline = !len || line[len - 1] != '\n';
	struct client *c;

	DL_FOREACH(srv->clients, c) {
		if (c->state != CLIENT_STREAM || !evfilter_match(c->filter, subject))
			continue;
		/* After a drop, queue nothing until the notice went out: the
		 * notice then sits exactly where the gap is. */
		if (c->dropped ||
		    buffer_pending(&c->out) + len + newline > srv->opts.client_buffer ||
		    buffer_append(&c->out, line, len, newline)) {
			c->dropped++;
			srv->stats.dropped++;
			continue;
		}
		/* Written by api_server_handle(): one wake-up per batch of events. */
		set_interest(srv, c, c->interest | EPOLLOUT);
	}
}

void api_server_stats(const struct api_server *srv, struct api_server_stats *ret_stats)
{
	*ret_stats = srv->stats;
}

/* ---- profile rows ---- */

static void add_str(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value ? value : ""));
}

static void add_u64(json_object *obj, const char *key, uint64_t value)
{
	json_object_object_add(obj, key, json_object_new_uint64(value));
}

json_object *api_row_to_json(const struct store_row *r)
{
	json_object *obj = json_object_new_object();
	char name[CAPS_NAME_LEN];

	if (!obj)
		return NULL;
	json_object_object_add(obj, "workload_id", json_object_new_int64(r->workload_id));
	add_str(obj, "kind", store_kind_name(r->kind));
	add_str(obj, "pod_namespace", r->pod_namespace);
	add_str(obj, "pod_name", r->pod_name);
	add_str(obj, "container_name", r->container_name);
	add_str(obj, "image", r->image);
	add_str(obj, "binary", r->binary);
	add_str(obj, "unit", r->unit);
	add_u64(obj, "instances", r->instances);
	json_object_object_add(obj, "cap", json_object_new_int(r->cap));
	caps_name(r->cap, name);
	add_str(obj, "capability", name);
	json_object_object_add(obj, "denied", json_object_new_boolean(r->denied));
	add_str(obj, "audit", store_audit_name(r->audit));
	json_object_object_add(obj, "syscall", json_object_new_int(r->syscall));
	add_u64(obj, "flags", r->flags);
	add_u64(obj, "count", r->count);
	add_u64(obj, "first_seen", r->first_seen);
	add_u64(obj, "last_seen", r->last_seen);
	add_u64(obj, "eperm", r->outcome.eperm);
	add_u64(obj, "eacces", r->outcome.eacces);
	add_u64(obj, "success", r->outcome.success);
	add_u64(obj, "other", r->outcome.other);
	return obj;
}

static int collect_row(void *ctx, const struct store_row *row)
{
	json_object *obj = api_row_to_json(row);

	if (!obj || json_object_array_add(ctx, obj)) {
		json_object_put(obj);
		return -ENOMEM;
	}
	return 0;
}

static int collect_instance(void *ctx, int64_t workload_id, const char *instance)
{
	json_object *obj = json_object_new_object();

	if (!obj || json_object_array_add(ctx, obj)) {
		json_object_put(obj);
		return -ENOMEM;
	}
	json_object_object_add(obj, "workload_id", json_object_new_int64(workload_id));
	add_str(obj, "instance", instance);
	return 0;
}

int api_profile_reply(struct store *store, const struct store_filter *filter,
		      json_object **ret_reply)
{
	json_object *reply = json_object_new_object();
	json_object *rows = json_object_new_array(), *instances = json_object_new_array();
	int err = -ENOMEM;

	if (!reply || !rows || !instances)
		goto fail;
	json_object_object_add(reply, "profile", rows);
	rows = NULL;
	json_object_object_add(reply, "instances", instances);
	instances = NULL;
	err = store_query(store, filter, collect_row, json_object_object_get(reply, "profile"));
	if (!err)
		err = store_instances(store, filter, collect_instance,
				      json_object_object_get(reply, "instances"));
	if (err)
		goto fail;
	*ret_reply = reply;
	return 0;
fail:
	json_object_put(reply);
	json_object_put(rows);
	json_object_put(instances);
	return err;
}

static int get_field(json_object *obj, const char *key, json_type type, json_object **ret)
{
	if (!json_object_object_get_ex(obj, key, ret) || !json_object_is_type(*ret, type))
		return -EINVAL;
	return 0;
}

static int get_str(json_object *obj, const char *key, const char **ret)
{
	json_object *v;
	int err = get_field(obj, key, json_type_string, &v);

	if (!err)
		*ret = json_object_get_string(v);
	return err;
}

static int get_u64(json_object *obj, const char *key, uint64_t *ret)
{
	json_object *v;
	int err = get_field(obj, key, json_type_int, &v);

	if (!err)
		*ret = json_object_get_uint64(v);
	return err;
}

static int get_int(json_object *obj, const char *key, int *ret)
{
	json_object *v;
	int err = get_field(obj, key, json_type_int, &v);

	if (!err)
		*ret = json_object_get_int(v);
	return err;
}

int api_row_from_json(json_object *obj, struct store_row *ret_row)
{
	struct store_row r = { .workload_id = 0 };
	const char *kind, *audit;
	json_object *id;
	json_object *denied;
	uint64_t flags, outcome[4]; /* __u64 is not uint64_t on every ABI */
	int err = 0;

	if (!json_object_is_type(obj, json_type_object))
		return -EINVAL;
	err |= get_field(obj, "workload_id", json_type_int, &id);
	err |= get_str(obj, "kind", &kind);
	err |= get_str(obj, "pod_namespace", &r.pod_namespace);
	err |= get_str(obj, "pod_name", &r.pod_name);
	err |= get_str(obj, "container_name", &r.container_name);
	err |= get_str(obj, "image", &r.image);
	err |= get_str(obj, "binary", &r.binary);
	err |= get_str(obj, "unit", &r.unit);
	err |= get_u64(obj, "instances", &r.instances);
	err |= get_int(obj, "cap", &r.cap);
	err |= get_field(obj, "denied", json_type_boolean, &denied);
	err |= get_str(obj, "audit", &audit);
	err |= get_int(obj, "syscall", &r.syscall);
	err |= get_u64(obj, "flags", &flags);
	err |= get_u64(obj, "count", &r.count);
	err |= get_u64(obj, "first_seen", &r.first_seen);
	err |= get_u64(obj, "last_seen", &r.last_seen);
	err |= get_u64(obj, "eperm", &outcome[0]);
	err |= get_u64(obj, "eacces", &outcome[1]);
	err |= get_u64(obj, "success", &outcome[2]);
	err |= get_u64(obj, "other", &outcome[3]);
	if (err || store_kind_parse(kind, &r.kind) || store_audit_parse(audit, &r.audit))
		return -EINVAL;
	r.workload_id = json_object_get_int64(id);
	r.denied = json_object_get_boolean(denied);
	r.outcome = (struct ct_outcome){ outcome[0], outcome[1], outcome[2], outcome[3] };
	r.flags = (uint32_t)flags;
	*ret_row = r;
	return 0;
}

static const struct {
	const char *key;
	enum store_select select;
} selects[] = {
	{ "all", STORE_SELECT_ALL },
	{ "pod", STORE_SELECT_POD },
	{ "container", STORE_SELECT_CONTAINER },
	{ "binary", STORE_SELECT_BINARY },
	{ "unit", STORE_SELECT_UNIT },
};

int api_select_to_json(const struct store_filter *f, json_object **ret_select)
{
	json_object *obj = json_object_new_object(), *value = NULL;
	char pod[1024];

	if (!obj)
		return -ENOMEM;
	switch (f->select) {
	case STORE_SELECT_ALL:
		value = json_object_new_boolean(true);
		break;
	case STORE_SELECT_POD:
		snprintf(pod, sizeof(pod), "%s/%s", f->pod_namespace ? f->pod_namespace : "",
			 f->pod_name ? f->pod_name : "");
		value = json_object_new_string(pod);
		break;
	case STORE_SELECT_CONTAINER:
		value = json_object_new_string(f->container ? f->container : "");
		break;
	case STORE_SELECT_BINARY:
		value = json_object_new_string(f->binary ? f->binary : "");
		break;
	case STORE_SELECT_UNIT:
		value = json_object_new_string(f->unit ? f->unit : "");
		break;
	}
	for (size_t i = 0; value && i < sizeof(selects) / sizeof(selects[0]); i++)
		if (selects[i].select == f->select) {
			json_object_object_add(obj, selects[i].key, value);
			*ret_select = obj;
			return 0;
		}
	json_object_put(value);
	json_object_put(obj);
	return value ? -EINVAL : -ENOMEM;
}

int api_select_from_json(json_object *select, struct store_filter *ret_filter, char *buf,
			 size_t size, char *err, size_t err_size)
{
	struct store_filter f = { .select = STORE_SELECT_ALL };
	const char *text;
	size_t i;

	if (!json_object_is_type(select, json_type_object) ||
	    json_object_object_length(select) != 1)
		return invalid_input(err, err_size,
				     "\"select\" must be an object with one of \"pod\", "
				     "\"container\", \"binary\", \"unit\", \"all\"");
	json_object_object_foreach(select, key, value) {
		for (i = 0; i < sizeof(selects) / sizeof(selects[0]); i++)
			if (!strcmp(key, selects[i].key))
				break;
		if (i == sizeof(selects) / sizeof(selects[0]))
			return invalid_input(err, err_size, "unknown selection \"%.64s\"", key);
		f.select = selects[i].select;
		if (f.select == STORE_SELECT_ALL) {
			if (!json_object_is_type(value, json_type_boolean) ||
			    !json_object_get_boolean(value))
				return invalid_input(err, err_size, "\"all\" must be true");
			break;
		}
		if (!json_object_is_type(value, json_type_string) ||
		    !*json_object_get_string(value))
			return invalid_input(err, err_size, "\"%s\" must be a non-empty string",
					     key);
		text = json_object_get_string(value);
		if (snprintf(buf, size, "%s", text) >= (int)size)
			return invalid_input(err, err_size, "\"%s\" is too long", key);
		switch (f.select) {
		case STORE_SELECT_POD:
			if (store_filter_pod(text, &f, buf, size))
				return invalid_input(err, err_size,
						     "\"pod\" must be NAMESPACE/NAME, "
						     "not \"%.128s\"", text);
			break;
		case STORE_SELECT_CONTAINER:
			f.container = buf;
			break;
		case STORE_SELECT_BINARY:
			f.binary = buf;
			break;
		case STORE_SELECT_UNIT:
			f.unit = buf;
			break;
		case STORE_SELECT_ALL:
			break;
		}
	}
	*ret_filter = f;
	return 0;
}

/* ---- client ---- */

int api_client_connect(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path)
		path = API_DEFAULT_SOCKET;
	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	*ret_fd = fd;
	return 0;
}

int api_client_send(int fd, json_object *request)
{
	const char *text = json_object_to_json_string_ext(request, JSON_FLAGS);
	size_t len, off = 0;
	char *line;
	int err = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	line = malloc(len + 1);
	if (!line)
		return -ENOMEM;
	memcpy(line, text, len);
	line[len++] = '\n';
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(line);
	return err;
}

static json_object *new_request(const char *op)
{
	json_object *req = json_object_new_object();

	if (!req)
		return NULL;
	json_object_object_add(req, "version", json_object_new_int(API_VERSION));
	json_object_object_add(req, "op", json_object_new_string(op));
	return req;
}

int api_client_request_events(int fd, const struct evfilter *filter)
{
	json_object *req = new_request("events"), *f = NULL;
	int err;

	if (!req)
		return -ENOMEM;
	if (filter) {
		err = evfilter_to_json(filter, &f);
		if (err) {
			json_object_put(req);
			return err;
		}
		json_object_object_add(req, "filter", f);
	}
	err = api_client_send(fd, req);
	json_object_put(req);
	return err;
}

int api_client_request_profile(int fd, const struct store_filter *filter)
{
	json_object *req = new_request("profile"), *select;
	int err;

	if (!req)
		return -ENOMEM;
	err = api_select_to_json(filter, &select);
	if (err) {
		json_object_put(req);
		return err;
	}
	json_object_object_add(req, "select", select);
	err = api_client_send(fd, req);
	json_object_put(req);
	return err;
}

static int deliver_instances(json_object *reply, const struct api_profile_handler *h,
			     char *err, size_t err_size)
{
	json_object *list, *id, *instance;
	int rc;

	if (!h->instance)
		return 0;
	if (get_field(reply, "instances", json_type_array, &list)) {
		invalid_input(err, err_size, "the agent's reply has no instances");
		return -EPROTO;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *obj = json_object_array_get_idx(list, i);

		if (get_field(obj, "workload_id", json_type_int, &id) ||
		    get_field(obj, "instance", json_type_string, &instance)) {
			invalid_input(err, err_size, "the agent's reply has a malformed instance");
			return -EPROTO;
		}
		rc = h->instance(h->ctx, json_object_get_int64(id),
				 json_object_get_string(instance));
		if (rc)
			return rc;
	}
	return 0;
}

int api_client_profile(const char *path, const struct store_filter *filter,
		       const struct api_profile_handler *handler, char *err, size_t err_size)
{
	struct api_reader r;
	json_object *reply = NULL, *v;
	char *line;
	size_t len;
	int fd, rc;

	rc = api_client_connect(path, &fd);
	if (rc)
		return rc;
	rc = api_client_request_profile(fd, filter);
	api_reader_init(&r, fd, API_MAX_REPLY);
	if (!rc)
		rc = api_reader_line(&r, &line, &len);
	if (!rc && !line)
		rc = -ECONNRESET; /* the agent ended without a reply */
	if (!rc) {
		reply = json_tokener_parse(line);
		if (!reply || !json_object_is_type(reply, json_type_object)) {
			invalid_input(err, err_size, "the agent's reply is not a JSON object");
			rc = -EPROTO;
		}
	}
	if (!rc && json_object_object_get_ex(reply, "error", &v)) {
		invalid_input(err, err_size, "%s", json_object_get_string(v));
		rc = -EPROTO;
	}
	if (!rc && get_field(reply, "profile", json_type_array, &v)) {
		invalid_input(err, err_size, "the agent's reply has no profile");
		rc = -EPROTO;
	}
	for (size_t i = 0; !rc && i < json_object_array_length(v); i++) {
		struct store_row row;

		if (api_row_from_json(json_object_array_get_idx(v, i), &row)) {
			invalid_input(err, err_size, "the agent's reply has a malformed row");
			rc = -EPROTO;
			break;
		}
		rc = handler->row(handler->ctx, &row);
	}
	if (!rc)
		rc = deliver_instances(reply, handler, err, err_size);
	json_object_put(reply);
	api_reader_free(&r);
	close(fd);
	return rc;
}

void api_reader_init(struct api_reader *r, int fd, size_t max_line)
{
	*r = (struct api_reader){ .fd = fd, .max_line = max_line };
}

void api_reader_free(struct api_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->start = r->len = r->cap = 0;
}

static int reader_fill(struct api_reader *r)
{
	ssize_t n;

	if (r->start) { /* consumed lines make room at the front */
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < READ_CHUNK) {
		size_t cap = r->cap ? r->cap * 2 : 4 * READ_CHUNK;
		char *buf = realloc(r->buf, cap + 1);

		if (!buf)
			return -ENOMEM;
		r->buf = buf;
		r->cap = cap;
	}
	n = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->eof = true;
	r->len += (size_t)n;
	return 0;
}

int api_reader_line(struct api_reader *r, char **ret_line, size_t *ret_len)
{
	for (;;) {
		char *start = r->buf + r->start;
		size_t avail = r->len - r->start;
		char *nl = avail ? memchr(start, '\n', avail) : NULL;
		int err;

		if (nl || (r->eof && avail)) {
			size_t len = nl ? (size_t)(nl - start) : avail;
			bool skipped = r->skipping;

			r->start += len + (nl != NULL);
			r->skipping = false;
			if (skipped || len > r->max_line)
				return -E2BIG;
			start[len] = '\0'; /* the buffer keeps one spare byte */
			*ret_line = start;
			*ret_len = len;
			return 0;
		}
		if (r->eof) {
			*ret_line = NULL;
			*ret_len = 0;
			return 0;
		}
		if (avail > r->max_line) { /* too long: drop what we have, find its end */
			r->skipping = true;
			r->start = r->len;
		}
		err = reader_fill(r);
		if (err)
			return err;
	}
}
