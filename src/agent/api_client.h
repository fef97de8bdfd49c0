/* The client's end of the agent's local API (agent/api_protocol.h). */
#ifndef CAPTRAIL_AGENT_API_CLIENT_H
#define CAPTRAIL_AGENT_API_CLIENT_H

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
	void *ctx;
};

/* Connects, asks, calls the handler for each row, then each instance (as
 * store_query() and store_instances() would). An error reply is -EPROTO
 * with its message in err. */
int api_client_profile(const char *path, const struct store_filter *filter,
		       const struct api_profile_handler *handler, char *err, size_t err_size);

#endif
