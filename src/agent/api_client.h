/* The client's end of the agent's local API (agent/api_protocol.h). */
#ifndef CAPTRAIL_AGENT_API_CLIENT_H
#define CAPTRAIL_AGENT_API_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "agent/api_protocol.h"
#include "agent/store.h"
#include "event/evfilter.h"

int api_client_connect(const char *path, int *ret_fd);
/* Writes the request line (blocking, no SIGPIPE). */
int api_client_send(int fd, json_object *request);
int api_client_request_events(int fd, const struct evfilter *filter);
int api_client_request_profile(int fd, const struct store_filter *filter);

struct api_profile_handler {
	int (*row)(void *ctx, const struct store_row *row);
	/* NULL: instances are not wanted */
	int (*instance)(void *ctx, int64_t workload_id, const char *instance);
	/* What the reply cannot show (not called when an older agent does not
	 * say); NULL: not wanted */
	int (*gaps)(void *ctx, const struct store_gaps *gaps);
	void *ctx;
};

/* Connects, asks, calls the handler for each row, then each instance (as
 * store_query() and store_instances() would), then the gaps. An error
 * reply is -EPROTO with its message in err. */
int api_client_profile(const char *path, const struct store_filter *filter,
		       const struct api_profile_handler *handler, char *err, size_t err_size);

/* What a client following the agent's events is told, as it happens. */
enum api_events_status {
	API_EVENTS_READY, /* the agent acknowledged: events follow */
	API_EVENTS_NOTICE, /* detail: the agent's notice ("dropped N events") */
	API_EVENTS_LOST, /* the connection ended: reconnecting */
	API_EVENTS_RECONNECTED,
};

struct api_events_handler {
	void (*on_status)(void *ctx, enum api_events_status status, const char *detail);
	/* One event line and its JSON; non-zero stops following. */
	int (*on_event)(void *ctx, const char *line, size_t len, json_object *event);
	void *ctx;
};

#define API_EVENT_MAX_LINE (16 * 1024 * 1024)

/* Follows the events of the agent at path, filtered by it, until *stop is
 * set or on_event says stop (0 either way), reconnecting with a growing
 * pause when the connection ends. The first connection's failure comes
 * back as is; a refused request is -EPROTO with the agent's reason in err. */
int api_client_follow_events(const char *path, const struct evfilter *filter,
			     const volatile sig_atomic_t *stop, const struct api_events_handler *h,
			     char *err, size_t err_size);

#endif
