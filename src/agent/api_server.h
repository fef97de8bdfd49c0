/* The agent's end of its local API (agent/api_protocol.h).
 *
 * Single-threaded and never blocking: the agent polls api_server_fd() (an
 * epoll fd: readable when a client needs service) and calls
 * api_server_handle(). Each client's output is bounded; events that do not
 * fit are dropped for that client alone and counted. */
#ifndef CAPTRAIL_AGENT_API_SERVER_H
#define CAPTRAIL_AGENT_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "agent/api_protocol.h"
#include "agent/store.h"
#include "event/evfilter.h"

#define API_MAX_CLIENTS 64
#define API_CLIENT_BUFFER (1024 * 1024) /* queued event bytes per client */

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

#endif
