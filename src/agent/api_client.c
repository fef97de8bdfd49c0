#include "agent/api_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/line_reader.h"
#include "lib/util.h"

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
	const char *text = json_object_to_json_string_ext(request, API_JSON_FLAGS);
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
	list = json_member(reply, "instances", json_type_array);
	if (!list) {
		invalid_input(err, err_size, "the agent's reply has no instances");
		return -EPROTO;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *obj = json_object_array_get_idx(list, i);

		id = json_member(obj, "workload_id", json_type_int);
		instance = json_member(obj, "instance", json_type_string);
		if (!id || !instance) {
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

/* An agent that predates "store" says nothing about gaps: none is assumed. */
static int deliver_gaps(json_object *reply, const struct api_profile_handler *h, char *err,
			size_t err_size)
{
	json_object *obj;
	struct store_gaps gaps;

	if (!h->gaps || !json_object_object_get_ex(reply, "store", &obj))
		return 0;
	if (api_gaps_from_json(obj, &gaps)) {
		invalid_input(err, err_size, "the agent's reply has malformed store gaps");
		return -EPROTO;
	}
	return h->gaps(h->ctx, &gaps);
}

int api_client_profile(const char *path, const struct store_filter *filter,
		       const struct api_profile_handler *handler, char *err, size_t err_size)
{
	struct line_reader r;
	json_object *reply = NULL, *v;
	char *line;
	size_t len;
	int fd, rc;

	rc = api_client_connect(path, &fd);
	if (rc)
		return rc;
	rc = api_client_request_profile(fd, filter);
	line_reader_init(&r, fd, API_MAX_REPLY);
	if (!rc)
		rc = line_reader_next(&r, &line, &len);
	if (!rc && !line)
		rc = -ECONNRESET; /* the agent ended without a reply */
	if (!rc && json_parse_object(line, len, &reply, NULL, 0)) {
		invalid_input(err, err_size, "the agent's reply is not a JSON object");
		rc = -EPROTO;
	}
	if (!rc && (v = json_member(reply, "error", json_type_string))) {
		invalid_input(err, err_size, "%s", json_object_get_string(v));
		rc = -EPROTO;
	}
	if (!rc && !(v = json_member(reply, "profile", json_type_array))) {
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
	if (!rc)
		rc = deliver_gaps(reply, handler, err, err_size);
	json_object_put(reply);
	line_reader_free(&r);
	close(fd);
	return rc;
}

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	/* A signal ends it early: the caller's loop looks at its flag. */
	(void)nanosleep(&ts, NULL);
}

enum stream_end { STREAM_LOST, STREAM_STOP, STREAM_REFUSED };

/* Streams one connection until it ends. */
static enum stream_end stream(int fd, const volatile sig_atomic_t *stop,
			      const struct api_events_handler *h, char *err, size_t err_size)
{
	enum stream_end end = STREAM_LOST;
	struct line_reader r;
	bool acked = false;

	line_reader_init(&r, fd, API_EVENT_MAX_LINE);
	while (!*stop && end == STREAM_LOST) {
		json_object *obj = NULL, *v;
		char *line;
		size_t len;
		int rc = line_reader_next(&r, &line, &len);

		if (rc == -EINTR || rc == -E2BIG)
			continue;
		if (rc || !line)
			break;
		if (json_parse_object(line, len, &obj, NULL, 0))
			continue;
		if ((v = json_member(obj, "error", json_type_string))) {
			invalid_input(err, err_size, "%s", json_object_get_string(v));
			end = STREAM_REFUSED;
		} else if ((v = json_member(obj, "notice", json_type_string))) {
			h->on_status(h->ctx, API_EVENTS_NOTICE, json_object_get_string(v));
		} else if (json_member(obj, "stream", json_type_string)) {
			h->on_status(h->ctx, API_EVENTS_READY, NULL);
			acked = true;
		} else if (acked && h->on_event(h->ctx, line, len, obj)) {
			end = STREAM_STOP;
		}
		json_object_put(obj);
	}
	line_reader_free(&r);
	return *stop ? STREAM_STOP : end;
}

static int open_stream(const char *path, const struct evfilter *filter, int *ret_fd)
{
	int fd, err = api_client_connect(path, &fd);

	if (err)
		return err;
	err = api_client_request_events(fd, filter);
	if (err) {
		close(fd);
		return err;
	}
	*ret_fd = fd;
	return 0;
}

int api_client_follow_events(const char *path, const struct evfilter *filter,
			     const volatile sig_atomic_t *stop, const struct api_events_handler *h,
			     char *err, size_t err_size)
{
	unsigned backoff = BACKOFF_MIN_MS;
	bool connected_once = false, lost = false;

	while (!*stop) {
		enum stream_end end;
		int fd, rc = open_stream(path, filter, &fd);

		if (rc && !connected_once)
			return rc;
		if (rc) {
			sleep_ms(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		if (lost)
			h->on_status(h->ctx, API_EVENTS_RECONNECTED, NULL);
		connected_once = true;
		lost = false;
		backoff = BACKOFF_MIN_MS;
		end = stream(fd, stop, h, err, err_size);
		close(fd);
		if (end == STREAM_REFUSED)
			return -EPROTO;
		if (end == STREAM_STOP)
			break;
		h->on_status(h->ctx, API_EVENTS_LOST, NULL);
		lost = true;
	}
	return 0;
}
