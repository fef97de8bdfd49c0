#include "agent/api_server.h"

#include <errno.h>
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

#include "lib/json.h"
#include "lib/util.h"

#define LISTEN_BACKLOG 64
#define EPOLL_BATCH 64
#define READ_CHUNK 4096
#define DISCARD_LIMIT (1024 * 1024) /* input read and thrown away before closing */

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
	const char *text = json_object_to_json_string_ext(obj, API_JSON_FLAGS);

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
	json_object *req = NULL, *version, *op;
	char why[128];
	int err;

	err = json_parse_object(line, len, &req, why, sizeof(why));
	if (err == -ENOMEM) {
		c->state = CLIENT_CLOSING;
		return;
	}
	if (err) {
		reply_error(srv, c, "malformed request: %s", why);
		return;
	}
	version = json_member(req, "version", json_type_int);
	op = json_member(req, "op", json_type_string);
	if (!version)
		reply_error(srv, c, "request without \"version\" (this agent speaks version %d)",
			    API_VERSION);
	else if (json_object_get_int64(version) != API_VERSION)
		reply_error(srv, c, "unsupported version %lld (this agent speaks version %d)",
			    (long long)json_object_get_int64(version), API_VERSION);
	else if (!op)
		reply_error(srv, c, "request without \"op\"");
	else if (!strcmp(json_object_get_string(op), "events"))
		handle_events(srv, c, req);
	else if (!strcmp(json_object_get_string(op), "profile"))
		handle_profile(srv, c, req);
	else
		reply_error(srv, c, "unknown op \"%.64s\"", json_object_get_string(op));
	json_object_put(req);
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
	struct client *c, *tmp;

	DL_FOREACH_SAFE(srv->clients, c, tmp) {
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
		/* Written by api_server_handle(): one wake-up per batch of events.
		 * A client that cannot be woken would never get them. */
		if (set_interest(srv, c, c->interest | EPOLLOUT))
			client_free(srv, c);
	}
}

void api_server_stats(const struct api_server *srv, struct api_server_stats *ret_stats)
{
	*ret_stats = srv->stats;
}

