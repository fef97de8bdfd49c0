#include "agent/api_server.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <utlist.h>

#include "lib/clock.h"
#include "lib/json.h"
#include "lib/text.h"
#include "lib/util.h"

#define LISTEN_BACKLOG 64
#define EPOLL_BATCH 64
#define READ_CHUNK 4096
#define DISCARD_LIMIT (1024 * 1024) /* input read and thrown away before closing */
#define READS_PER_WAKEUP 16
#define CHUNK_SIZE (64 * 1024) /* output is queued in chunks; a line never spans two */
#define WRITE_BATCH (64 * 1024) /* queued bytes after which broadcast() writes */
#define WRITE_IOVS 64
#define NOTICE_MAX 256 /* a notice may go this far over the queue's bound */
#define TRIM_AFTER (16 * 1024 * 1024) /* queued bytes worth giving back once sent */
#define NOTICE_PREFIX "{\"notice\":"
#define DROPPED_KEY ",\"dropped\":"
#define VERSION_PREFIX "{\"version\":"

enum client_state {
	CLIENT_REQUEST, /* reading the request line */
	CLIENT_STREAM, /* receiving events */
	CLIENT_CLOSING, /* reply queued: write it, end our side, wait for theirs */
};

struct buffer {
	char *data;
	size_t len, cap;
};

struct chunk {
	struct chunk *next;
	size_t off, len, cap; /* unsent bytes are data[off, len) */
	char data[];
};

/* Output: whole lines in chunks, written with one writev() and freed as they
 * go, so a long queue is neither copied to grow nor kept once sent. */
struct queue {
	struct chunk *head, *tail;
	size_t pending;
};

struct client {
	struct client *prev, *next; /* utlist */
	int fd; /* -1: closed, freed at the end of api_server_handle() */
	enum client_state state;
	uint32_t interest; /* epoll events registered */
	bool shut; /* our side shut down */
	bool peer_closed; /* the client's side ended: no more reading */
	struct buffer in;
	struct queue out;
	size_t write_at; /* pending bytes at which broadcast() writes */
	size_t discarded;
	struct evfilter *filter;
	uint64_t dropped; /* events not queued since the last notice */
	/* CLOCK_MONOTONIC, 0 for none: the request's end (CLIENT_REQUEST), the
	 * reply read and the connection closed (CLIENT_CLOSING), something read
	 * while the queue is full (CLIENT_STREAM dropping events). */
	uint64_t deadline_ns;
};

struct api_server {
	int listen_fd;
	int epoll_fd;
	int timer_fd;
	uint64_t armed_ns; /* the timer's expiry, 0 when disarmed */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct api_server_opts opts;
	struct client *clients;
	struct client *closed; /* events of this epoll batch may still name them */
	size_t queued_peak; /* most bytes a broadcast left queued since the last trim */
	struct api_server_stats stats;
};

static int buffer_reserve(struct buffer *b, size_t more)
{
	size_t need = b->len + more, cap;
	char *data;

	if (need <= b->cap)
		return 0;
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

static int queue_append(struct queue *q, const char *data, size_t len, bool newline)
{
	size_t need = len + newline;
	struct chunk *t = q->tail;

	if (!t || t->cap - t->len < need) {
		size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;

		t = malloc(sizeof(*t) + cap);
		if (!t)
			return -ENOMEM;
		*t = (struct chunk){ .cap = cap };
		if (q->tail)
			q->tail->next = t;
		else
			q->head = t;
		q->tail = t;
	}
	memcpy(t->data + t->len, data, len);
	t->len += len;
	if (newline)
		t->data[t->len++] = '\n';
	q->pending += need;
	return 0;
}

static void queue_pop(struct queue *q)
{
	struct chunk *h = q->head;

	q->pending -= h->len - h->off;
	q->head = h->next;
	if (!q->head)
		q->tail = NULL;
	free(h);
}

static void queue_sent(struct queue *q, size_t n)
{
	while (n) {
		struct chunk *h = q->head;
		size_t left = h->len - h->off;

		if (n < left) {
			h->off += n;
			q->pending -= n;
			return;
		}
		n -= left;
		queue_pop(q);
	}
}

static void queue_clear(struct queue *q)
{
	while (q->head)
		queue_pop(q);
}

/* What a queued line stands for: one event, or the events a notice reports
 * (0 for the acknowledgement). */
static uint64_t line_weight(const char *line, size_t len, bool *ret_event)
{
	const char *key;

	*ret_event = false;
	if (len >= strlen(NOTICE_PREFIX) && !memcmp(line, NOTICE_PREFIX, strlen(NOTICE_PREFIX))) {
		key = memmem(line, len, DROPPED_KEY, strlen(DROPPED_KEY));
		return key ? strtoull(key + strlen(DROPPED_KEY), NULL, 10) : 0;
	}
	if (len >= strlen(VERSION_PREFIX) && !memcmp(line, VERSION_PREFIX, strlen(VERSION_PREFIX)))
		return 0;
	*ret_event = true;
	return 1;
}

/* Drops every queued line but the rest of one the socket took a part of, so
 * that what follows starts a line. Returns the events the dropped lines
 * stood for; *ret_events: of which events never counted as dropped. */
static uint64_t queue_cut(struct queue *q, uint64_t *ret_events)
{
	uint64_t weight = 0, events = 0;
	struct chunk *h = q->head;
	size_t keep = 0; /* a line ends in every chunk: lines never span two */

	if (h && h->off && h->data[h->off - 1] != '\n')
		keep = (size_t)((char *)memchr(h->data + h->off, '\n', h->len - h->off) -
				(h->data + h->off)) + 1;
	for (struct chunk *c = h; c; c = c->next) {
		size_t at = c->off + (c == h ? keep : 0);

		while (at < c->len) {
			char *nl = memchr(c->data + at, '\n', c->len - at);
			size_t len = (size_t)(nl - (c->data + at));
			bool event;

			weight += line_weight(c->data + at, len, &event);
			events += event;
			at += len + 1;
		}
	}
	if (!keep) {
		queue_clear(q);
	} else {
		while (h->next) {
			struct chunk *next = h->next->next;

			q->pending -= h->next->len - h->next->off;
			free(h->next);
			h->next = next;
		}
		q->tail = h;
		q->pending = keep;
		h->len = h->off + keep;
	}
	*ret_events = events;
	return weight;
}

/* Arms the timer for the deadline unless it fires earlier anyway. A timer
 * that cannot be armed only delays the deadline until the next time the
 * API is served (api_server_handle() expires on every call). */
static void watch(struct api_server *srv, uint64_t deadline_ns)
{
	struct itimerspec at = {
		.it_value = { .tv_sec = (time_t)(deadline_ns / NSEC_PER_SEC),
			      .tv_nsec = (long)(deadline_ns % NSEC_PER_SEC) },
	};

	if (srv->armed_ns && srv->armed_ns <= deadline_ns)
		return;
	if (!timerfd_settime(srv->timer_fd, TFD_TIMER_ABSTIME, &at, NULL))
		srv->armed_ns = deadline_ns;
}

static uint64_t after_ms(unsigned ms)
{
	return clock_monotonic_ns() + (uint64_t)ms * 1000000;
}

static void set_deadline(struct api_server *srv, struct client *c, unsigned ms)
{
	c->deadline_ns = after_ms(ms);
	watch(srv, c->deadline_ns);
}

/* Events a client may have queued: its share of the total, within bounds. */
static size_t client_bound(const struct api_server *srv)
{
	size_t share = srv->opts.total_buffer / (srv->stats.streaming ? srv->stats.streaming : 1);

	if (share < API_CLIENT_BUFFER_MIN)
		share = API_CLIENT_BUFFER_MIN;
	return share < srv->opts.client_buffer ? share : srv->opts.client_buffer;
}

/* Queued bytes worth a write before the agent gets back to its loop. */
static size_t write_batch(const struct api_server *srv)
{
	size_t quarter = client_bound(srv) / 4;

	return quarter < WRITE_BATCH ? quarter : WRITE_BATCH;
}

static uint64_t filter_gave_up(const struct evfilter *f)
{
	struct evfilter_stats fs;

	if (!f)
		return 0;
	evfilter_stats(f, &fs);
	return fs.gave_up + fs.skipped;
}

static void client_close(struct api_server *srv, struct client *c)
{
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->state == CLIENT_STREAM)
		srv->stats.streaming--;
	srv->stats.clients--;
	DL_DELETE(srv->clients, c);
	DL_APPEND(srv->closed, c);
	srv->stats.filter_gave_up += filter_gave_up(c->filter);
	evfilter__free(c->filter);
	c->filter = NULL;
	free(c->in.data);
	c->in.data = NULL;
	queue_clear(&c->out);
}

static void reap_closed(struct api_server *srv)
{
	struct client *c, *tmp;

	DL_FOREACH_SAFE(srv->closed, c, tmp) {
		DL_DELETE(srv->closed, c);
		free(c);
	}
	/* A burst queued for slow clients sits in freed chunks the allocator
	 * may keep: hand it back once everything is out. */
	if (srv->queued_peak >= TRIM_AFTER) {
		size_t queued = 0;

		DL_FOREACH(srv->clients, c)
			queued += c->out.pending;
		if (!queued) {
			malloc_trim(0);
			srv->queued_peak = 0;
		}
	}
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

/* Notices are JSON objects of our own making; "dropped" comes right after
 * "notice", where line_weight() finds it. */
static int queue_notice(struct client *c, uint64_t dropped, const char *reason,
			const char *fmt, ...)
{
	char text[128], line[NOTICE_MAX];
	va_list ap;
	int len;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	len = snprintf(line, sizeof(line), NOTICE_PREFIX "\"%s\"" DROPPED_KEY "%llu,"
		       "\"reason\":\"%s\"}", text, (unsigned long long)dropped, reason);
	return queue_append(&c->out, line, (size_t)len, true);
}

/* After a gap, the notice goes where the gap is, once half the queue is
 * free: a client catching up gets events again without a notice for each.
 * Without memory for the notice, the gap and its count go on. */
static void end_gap(struct api_server *srv, struct client *c)
{
	if (!c->dropped || c->out.pending + NOTICE_MAX > client_bound(srv) / 2 ||
	    queue_notice(c, c->dropped, "queue_full", "dropped %llu events",
			 (unsigned long long)c->dropped))
		return;
	c->dropped = 0;
	c->deadline_ns = 0;
}

/* Writes what the socket takes. -EPIPE and friends: the client is gone. */
static int client_flush(struct api_server *srv, struct client *c)
{
	end_gap(srv, c);
	while (c->out.pending) {
		struct iovec iov[WRITE_IOVS];
		struct msghdr msg = { .msg_iov = iov };
		ssize_t n;

		for (struct chunk *k = c->out.head; k && msg.msg_iovlen < WRITE_IOVS; k = k->next)
			iov[msg.msg_iovlen++] = (struct iovec){ k->data + k->off, k->len - k->off };
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			c->write_at = c->out.pending + write_batch(srv);
			return set_interest(srv, c, c->interest | EPOLLOUT);
		}
		queue_sent(&c->out, (size_t)n);
		if (c->deadline_ns && n)
			/* something read: the client is not stalled, whatever it queued */
			c->deadline_ns = after_ms(c->state == CLIENT_STREAM ?
						  srv->opts.stall_timeout_ms :
						  srv->opts.request_timeout_ms);
		end_gap(srv, c);
	}
	c->write_at = write_batch(srv);
	if (c->state == CLIENT_CLOSING && !c->shut) {
		/* End our side and keep reading until the client closes: closing
		 * with unread input would reset the connection and could discard
		 * the reply before the client reads it. */
		shutdown(c->fd, SHUT_WR);
		c->shut = true;
		set_deadline(srv, c, srv->opts.request_timeout_ms);
	}
	return set_interest(srv, c, c->interest & ~(uint32_t)EPOLLOUT);
}

static void start_closing(struct api_server *srv, struct client *c)
{
	if (c->state == CLIENT_STREAM)
		srv->stats.streaming--;
	c->state = CLIENT_CLOSING;
	set_deadline(srv, c, srv->opts.request_timeout_ms);
}

static void queue_json(struct api_server *srv, struct client *c, json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, API_JSON_FLAGS);

	if (!text || queue_append(&c->out, text, strlen(text), true))
		start_closing(srv, c); /* out of memory: end it without a reply */
}

static void reply_error(struct api_server *srv, struct client *c, const char *fmt, ...)
{
	json_object *obj = json_object_new_object();
	char raw[512], msg[TEXT_BUF(sizeof(raw))];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* what it quotes may be anything a client sent */
	text_render(msg, sizeof(msg), raw, sizeof(raw) - 1, TEXT_UTF8, NULL);
	srv->stats.rejected++;
	start_closing(srv, c);
	if (!obj)
		return;
	json_object_object_add(obj, "version", json_object_new_int(API_VERSION));
	json_object_object_add(obj, "error", json_object_new_string(msg));
	queue_json(srv, c, obj);
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
		start_closing(srv, c);
		return;
	}
	json_object_object_add(ack, "version", json_object_new_int(API_VERSION));
	json_object_object_add(ack, "stream", json_object_new_string("events"));
	queue_json(srv, c, ack);
	json_object_put(ack);
	if (c->state == CLIENT_REQUEST) {
		c->state = CLIENT_STREAM;
		c->deadline_ns = 0;
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
	queue_json(srv, c, reply);
	json_object_put(reply);
	start_closing(srv, c);
}

static void handle_request(struct api_server *srv, struct client *c, const char *line,
			   size_t len)
{
	json_object *req = NULL, *version, *op;
	char why[128], echo[TEXT_ECHO_BUF];
	int err;

	err = json_parse_object(line, len, &req, why, sizeof(why));
	if (err == -ENOMEM) {
		start_closing(srv, c);
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
		reply_error(srv, c, "unknown op \"%s\"", text_echo(json_object_get_string(op), echo, sizeof(echo)));
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

/* Reads what is there, a bounded amount per call: a client that keeps
 * writing is served again on the next wake-up, after the others. Returns
 * false when the client is to be closed. */
static bool client_read(struct api_server *srv, struct client *c)
{
	char scratch[READ_CHUNK];

	for (int reads = 0; !c->peer_closed && reads < READS_PER_WAKEUP; reads++) {
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
			/* Half-closed, it may still read: a stream goes on, a reply
			 * goes out; a client that left entirely is EPOLLHUP. */
			return c->state == CLIENT_CLOSING || c->state == CLIENT_STREAM;
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
		client_close(srv, c);
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

/* Best effort: the connection ends either way. */
static void say_error(int fd, const char *fmt, ...)
{
	char msg[256], line[320];
	va_list ap;
	int len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = snprintf(line, sizeof(line), "{\"version\":%d,\"error\":\"%s\"}\n", API_VERSION, msg);
	if (send(fd, line, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* nobody to tell */
	}
}

static double seconds(unsigned ms)
{
	return ms / 1000.0;
}

/* The oldest connection still without a request gives its slot to a new
 * one: idle or half-sent requests cannot keep the others out. */
static bool evict_pending(struct api_server *srv)
{
	struct client *c;

	DL_FOREACH(srv->clients, c) {
		if (c->state != CLIENT_REQUEST)
			continue;
		srv->stats.evicted++;
		say_error(c->fd, "no request yet while every one of the agent's %zu connections "
				 "was taken: closed for a newer one", srv->opts.max_clients);
		client_close(srv, c);
		return true;
	}
	return false;
}

static void accept_clients(struct api_server *srv)
{
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
		if (!allowed ||
		    (srv->stats.clients >= srv->opts.max_clients && !evict_pending(srv))) {
			srv->stats.rejected++;
			say_error(fd, allowed ? "too many clients" : "permission denied");
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
		set_deadline(srv, c, srv->opts.request_timeout_ms);
	}
}

/* A stream whose queue stayed full with nothing read: what is queued goes,
 * but for the rest of a line the socket took part of, and a last notice
 * says what the client lost. */
static void disconnect_stalled(struct api_server *srv, struct client *c)
{
	uint64_t events, lost = c->dropped + queue_cut(&c->out, &events);
	int most = INT_MAX;

	srv->stats.stalled++;
	srv->stats.dropped += events;
	c->dropped = 0;
	/* The socket is full as well: a larger send buffer (the kernel caps it
	 * at net.core.wmem_max) makes room for the notice behind what the
	 * client has not read yet. Without it, the notice is lost, the counts
	 * are not. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &most, sizeof(most));
	if (!queue_notice(c, lost, "stalled", "disconnected: nothing read for %.3g s, "
			  "dropped %llu events", seconds(srv->opts.stall_timeout_ms),
			  (unsigned long long)lost))
		(void)client_flush(srv, c); /* the connection ends either way */
}

static void expire_client(struct api_server *srv, struct client *c)
{
	switch (c->state) {
	case CLIENT_REQUEST:
		srv->stats.timed_out++;
		say_error(c->fd, "no complete request within %.3g s",
			  seconds(srv->opts.request_timeout_ms));
		break;
	case CLIENT_STREAM:
		disconnect_stalled(srv, c);
		break;
	case CLIENT_CLOSING:
		/* a reply not read is lost to its client; once it went out,
		 * waiting for the client to close is only courtesy */
		if (c->out.pending)
			srv->stats.timed_out++;
		break;
	}
	client_close(srv, c);
}

/* A deadline that moved later or went away leaves the timer as it is: it
 * fires early once, and is armed again from here. */
void api_server_expire(struct api_server *srv, uint64_t now_ns)
{
	struct client *c, *tmp;
	uint64_t next = 0;

	DL_FOREACH_SAFE(srv->clients, c, tmp) {
		if (!c->deadline_ns)
			continue;
		if (c->deadline_ns <= now_ns)
			expire_client(srv, c);
		else if (!next || c->deadline_ns < next)
			next = c->deadline_ns;
	}
	if (next)
		watch(srv, next);
}

int api_server_handle(struct api_server *srv)
{
	struct epoll_event evs[EPOLL_BATCH];
	bool accepting = false;
	uint64_t ticks;
	int n;

	n = epoll_wait(srv->epoll_fd, evs, EPOLL_BATCH, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/* Clients first: accepting and expiring close clients that later
	 * events of the batch may name. */
	for (int i = 0; i < n; i++) {
		struct client *c = evs[i].data.ptr;

		if (!c) {
			accepting = true;
		} else if (evs[i].data.ptr == &srv->timer_fd) {
			if (read(srv->timer_fd, &ticks, sizeof(ticks)) > 0)
				srv->armed_ns = 0;
		} else if (c->fd >= 0) {
			client_event(srv, c, evs[i].events);
		}
	}
	if (accepting)
		accept_clients(srv);
	api_server_expire(srv, clock_monotonic_ns());
	reap_closed(srv);
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
	struct epoll_event tick = { .events = EPOLLIN };
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
	srv->listen_fd = srv->epoll_fd = srv->timer_fd = -1;
	srv->opts = *opts;
	if (!srv->opts.max_clients)
		srv->opts.max_clients = API_MAX_CLIENTS;
	if (!srv->opts.client_buffer)
		srv->opts.client_buffer = API_CLIENT_BUFFER;
	if (!srv->opts.total_buffer)
		srv->opts.total_buffer = API_TOTAL_BUFFER;
	if (!srv->opts.request_timeout_ms)
		srv->opts.request_timeout_ms = API_REQUEST_TIMEOUT_MS;
	if (!srv->opts.stall_timeout_ms)
		srv->opts.stall_timeout_ms = API_STALL_TIMEOUT_MS;
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
	srv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	tick.data.ptr = &srv->timer_fd;
	if (srv->epoll_fd < 0 || srv->timer_fd < 0 ||
	    epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->listen_fd, &ev) ||
	    epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->timer_fd, &tick)) {
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
	if (srv->timer_fd >= 0)
		close(srv->timer_fd);
	free(srv);
	return err;
}

void api_server__free(struct api_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	while (srv->clients)
		client_close(srv, srv->clients);
	reap_closed(srv);
	/* Only our socket: a newer agent may already have replaced it. */
	if (!lstat(srv->path, &st) && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	close(srv->listen_fd);
	close(srv->epoll_fd);
	close(srv->timer_fd);
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

static void drop_event(struct api_server *srv, struct client *c)
{
	/* From the first drop on, the client has stall_timeout_ms to read
	 * something. */
	if (!c->dropped++)
		set_deadline(srv, c, srv->opts.stall_timeout_ms);
	srv->stats.dropped++;
}

/* Queues the event for c, or a notice in its place when it could never
 * fit, or counts it dropped: after a drop nothing is queued until the
 * notice is, so the notice sits exactly where the gap is. */
static void offer(struct api_server *srv, struct client *c, const char *line, size_t len,
		  bool newline, size_t bound)
{
	size_t size = len + newline;

	end_gap(srv, c);
	if (size > bound) {
		srv->stats.oversized++;
		if (!c->dropped && c->out.pending + NOTICE_MAX <= bound &&
		    !queue_notice(c, 1, "oversized", "dropped an event of %zu bytes, larger than "
			          "this client's queue (%zu bytes)", size, bound)) {
			srv->stats.dropped++;
			return;
		}
	} else if (!c->dropped && c->out.pending + size <= bound &&
		   !queue_append(&c->out, line, len, newline)) {
		return;
	}
	drop_event(srv, c);
}

void api_server_broadcast(struct api_server *srv, const char *line, size_t len,
			  const struct evfilter_subject *subject)
{
	bool newline = !len || line[len - 1] != '\n';
	size_t bound = client_bound(srv), queued = 0;
	struct client *c, *tmp;

	DL_FOREACH_SAFE(srv->clients, c, tmp) {
		int err;

		if (c->state != CLIENT_STREAM || !evfilter_match(c->filter, subject))
			continue;
		offer(srv, c, line, len, newline, bound);
		/* A batch is written at once; less waits for the loop to come by
		 * (one wake-up per batch), and so does a notice of a drop. */
		if (c->out.pending >= c->write_at)
			err = client_flush(srv, c);
		else
			err = set_interest(srv, c, c->interest | EPOLLOUT);
		if (err)
			client_close(srv, c); /* gone, or cannot be woken: would never get them */
		else
			queued += c->out.pending;
	}
	if (queued > srv->queued_peak)
		srv->queued_peak = queued;
}

void api_server_stats(const struct api_server *srv, struct api_server_stats *ret_stats)
{
	const struct client *c;

	*ret_stats = srv->stats;
	DL_FOREACH(srv->clients, c)
		ret_stats->filter_gave_up += filter_gave_up(c->filter);
}

