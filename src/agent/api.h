/* The agent's local API: newline-delimited JSON over a unix stream socket
 * (docs/protocol.md). A client sends one request line:
 *   {"version":1,"op":"events","filter":{...evfilter_from_json()...}}
 *     -> {"version":1,"stream":"events"}, then one event per line (the
 *        format of `trace -o json`), and {"notice":"dropped N events"}
 *        after events were dropped because the client read too slowly;
 *   {"version":1,"op":"profile","select":{"pod":"NS/NAME"} | {"container":
 *    "ID-OR-NAME"} | {"binary":"/PATH"} | {"unit":"NAME"} | {"all":true}}
 *     -> {"version":1,"profile":[row, ...],"instances":[{"workload_id":N,
 *        "instance":"ID"}, ...]} and end of stream.
 * Any error -> {"version":1,"error":"..."} and that connection only ends.
 *
 * The server is single-threaded and never blocks: the agent polls
 * api_server_fd() (an epoll fd: readable when a client needs service) and
 * calls api_server_handle(). Each client's output is bounded; events that
 * do not fit are dropped for that client alone and counted. */
#ifndef CAPTRAIL_API_H
#define CAPTRAIL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "agent/store.h"
#include "event/evfilter.h"

#define API_VERSION 1
#define API_DEFAULT_SOCKET "/run/captrail/captrail.sock"
#define API_MAX_REQUEST (64 * 1024) /* bytes of a request line, newline included */
#define API_MAX_CLIENTS 64
#define API_CLIENT_BUFFER (1024 * 1024) /* queued event bytes per client */
#define API_MAX_REPLY (256 * 1024 * 1024) /* a profile reply line, client side */

/* The agent's answer to a profile query: the reply object without its
 * version (the agent flushes its store, then calls api_profile_reply()). */
typedef int (*api_profile_fn)(void *ctx, const struct store_filter *filter,
			      json_object **ret_reply);

struct api_server_opts {
	const char *path; /* NULL: API_DEFAULT_SOCKET */
	api_profile_fn profile; /* NULL: profile requests get an error */
	void *ctx;
	size_t max_clients; /* 0: API_MAX_CLIENTS */
	size_t client_buffer; /* 0: API_CLIENT_BUFFER */
};

struct api_server_stats {
	uint64_t accepted; /* connections */
	uint64_t rejected; /* requests answered with an error */
	uint64_t dropped; /* events not queued for slow clients */
	uint64_t clients; /* connected now */
	uint64_t streaming; /* of which receive events */
};

struct api_server;

/* Creates the socket's parent directory (0700) if missing and the socket
 * (0600). A stale socket is replaced; -EADDRINUSE when an agent answers on
 * it; -EEXIST when the path is something else than a socket. */
int api_server__new(const struct api_server_opts *opts, struct api_server **ret_server);
/* Closes every client and removes the socket. */
void api_server__free(struct api_server *srv);

int api_server_fd(const struct api_server *srv);
/* Accepts, reads requests, answers, writes queued output; never blocks. */
int api_server_handle(struct api_server *srv);

/* Clients receiving events: 0 lets the agent skip rendering JSON. */
size_t api_server_streaming(const struct api_server *srv);
/* Queues one event (a JSON line, newline added if missing) for every
 * streaming client whose filter matches subject. */
void api_server_broadcast(struct api_server *srv, const char *line, size_t len,
			  const struct evfilter_subject *subject);

void api_server_stats(const struct api_server *srv, struct api_server_stats *ret_stats);

/* {"profile":[rows],"instances":[...]} from a store. Rows are flat objects
 * mirroring struct store_row; back with api_row_from_json(), whose strings
 * point into obj. */
int api_profile_reply(struct store *store, const struct store_filter *filter,
		      json_object **ret_reply);
json_object *api_row_to_json(const struct store_row *row);
int api_row_from_json(json_object *obj, struct store_row *ret_row);

/* The "select" object for a filter, and back (-EINVAL with a message). */
int api_select_to_json(const struct store_filter *filter, json_object **ret_select);
int api_select_from_json(json_object *select, struct store_filter *ret_filter, char *buf,
			 size_t size, char *err, size_t err_size);

/* Client side. */
int api_client_connect(const char *path, int *ret_fd);
/* Writes the request line (blocking, no SIGPIPE). */
int api_client_send(int fd, json_object *request);
int api_client_request_events(int fd, const struct evfilter *filter);
int api_client_request_profile(int fd, const struct store_filter *filter);

struct api_profile_handler {
	int (*row)(void *ctx, const struct store_row *row);
	/* NULL: instances are not wanted */
	int (*instance)(void *ctx, int64_t workload_id, const char *instance);
	void *ctx;
};

/* Connects, asks, calls the handler for each row, then each instance (as
 * store_query() and store_instances() would). An error reply is -EPROTO
 * with its message in err. */
int api_client_profile(const char *path, const struct store_filter *filter,
		       const struct api_profile_handler *handler, char *err, size_t err_size);

/* Reads lines from a blocking fd (the socket, or stdin for `events`). */
struct api_reader {
	int fd;
	char *buf;
	size_t start, len, cap;
	size_t max_line;
	bool skipping; /* inside a line longer than max_line */
	bool eof;
};

void api_reader_init(struct api_reader *r, int fd, size_t max_line);
void api_reader_free(struct api_reader *r);
/* The next line, newline stripped and NUL-terminated, valid until the next
 * call; a last line without a newline counts. *ret_line NULL at the end.
 * -E2BIG: a line longer than max_line (it is skipped); -EINTR: a signal. */
int api_reader_line(struct api_reader *r, char **ret_line, size_t *ret_len);

#endif
