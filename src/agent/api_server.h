/* The agent's end of its local API (agent/api_protocol.h).
 *
 * Single-threaded and never blocking: the agent polls api_server_fd() (an
 * epoll fd: readable when a client needs service or a deadline passed) and
 * calls api_server_handle(). No client can hold the loop or a slot for
 * long: a request must be complete within request_timeout_ms, a reply read
 * within it too, and a streaming client whose queue stays full without it
 * reading anything for stall_timeout_ms is disconnected with a notice.
 * Each client's output is bounded (its share of total_buffer, at most
 * client_buffer); events that do not fit are dropped for that client alone,
 * counted, and reported to it in a notice. */
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
/* Queued event bytes: one client's share of the total, within these. */
#define API_CLIENT_BUFFER (64 * 1024 * 1024)
#define API_CLIENT_BUFFER_MIN (1024 * 1024)
#define API_TOTAL_BUFFER (128 * 1024 * 1024)
#define API_REQUEST_TIMEOUT_MS 5000 /* to send a whole request; to read a reply */
#define API_STALL_TIMEOUT_MS 10000 /* a stream's queue full, nothing read */

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
	size_t total_buffer; /* 0: API_TOTAL_BUFFER */
	unsigned request_timeout_ms; /* 0: API_REQUEST_TIMEOUT_MS */
	unsigned stall_timeout_ms; /* 0: API_STALL_TIMEOUT_MS */
};

struct api_server_stats {
	uint64_t accepted; /* connections */
	uint64_t rejected; /* requests answered with an error */
	uint64_t dropped; /* events not sent to a client: its queue full, or too big */
	uint64_t oversized; /* of which larger than the client's whole queue */
	uint64_t timed_out; /* connections without a whole request in time, or whose
			     * reply was not read in time */
	uint64_t evicted; /* connections without a request yet, closed for a newer one
			   * while every slot was taken */
	uint64_t stalled; /* streaming clients disconnected for not reading */
	uint64_t filter_gave_up; /* regex matches of clients' filters that reached a
				  * limit (non-matches), and values skipped after */
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
/* Accepts, reads requests, answers, writes queued output, closes the
 * connections whose deadline passed; never blocks. */
int api_server_handle(struct api_server *srv);
/* Closes the connections whose deadline (CLOCK_MONOTONIC) is at or before
 * now_ns and arms the timer for the next: api_server_handle() calls it with
 * the time; tests with the time they choose. */
void api_server_expire(struct api_server *srv, uint64_t now_ns);

/* Clients receiving events: 0 lets the agent skip rendering JSON. */
size_t api_server_streaming(const struct api_server *srv);
/* Queues one event (a JSON line, newline added if missing) for every
 * streaming client whose filter matches subject, and writes to a client's
 * socket once a batch is queued: the agent may broadcast a whole ring of
 * events before it calls api_server_handle() again. */
void api_server_broadcast(struct api_server *srv, const char *line, size_t len,
			  const struct evfilter_subject *subject);

void api_server_stats(const struct api_server *srv, struct api_server_stats *ret_stats);

#endif
