/* What a client of the agent's API sends: the input is written to a real
 * server (api_server.h, on a socket in a scratch directory, profiles from
 * a real store) by a real client connection, which then shuts its side.
 * Every line the agent sends back must be one JSON object; a client that
 * asked for events gets three (one of them with a pod, one on the host)
 * through its filter; and once the client is gone, so is its slot. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "agent/api_server.h"
#include "agent/store.h"
#include "lib/json.h"

#include "fuzz.h"

/* api_server_handle() never blocks: a client it has not answered after
 * this many turns is stuck. */
#define MAX_TURNS 20000

static struct api_server *srv;
static struct store *store;
static char sock_path[96];

static int profile(void *ctx, const struct store_filter *filter, json_object **ret_reply)
{
	(void)ctx;
	return api_profile_reply(store, filter, ret_reply);
}

static void store_fill(void)
{
	static const struct store_obs obs[] = {
		{ .workload = { .kind = WORKLOAD_POD_CONTAINER, .pod_namespace = "default",
				.pod_name = "xwing", .container_name = "spaceship",
				.container_id = "9f8e", .image = "docker.io/x:1", .binary = "",
				.unit = "" },
		  .check = { .cap = 21, .audit = CHECK_AUDITED, .syscall = 165, .count = 3,
			     .first_ns = 1, .last_ns = 2 } },
		{ .workload = { .kind = WORKLOAD_HOST_BINARY, .pod_namespace = "", .pod_name = "",
				.container_name = "", .image = "", .binary = "/usr/bin/ping",
				.unit = "" },
		  .check = { .cap = 13, .denied = true, .audit = CHECK_NOAUDIT, .syscall = 41,
			     .count = 1, .outcome = { .eperm = 1 } } },
		{ .workload = { .kind = WORKLOAD_UNIT, .pod_namespace = "", .pod_name = "",
				.container_name = "", .image = "", .binary = "",
				.unit = "sshd.service" },
		  .check = { .cap = 6, .audit = CHECK_AUDITED, .syscall = -1, .count = 9 } },
	};

	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		FUZZ_CHECK(!store_add(store, &obs[i]));
	FUZZ_CHECK(!store_flush(store));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("api_request");
	struct api_server_opts opts = { .profile = profile };
	char path[256];

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/store.db", dir);
	FUZZ_CHECK(!store__new(path, 0, &store));
	store_fill();
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
	opts.path = sock_path;
	FUZZ_CHECK(!api_server__new(&opts, &srv));
	return 0;
}

static int client_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	FUZZ_CHECK(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	FUZZ_CHECK(!connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	return fd;
}

/* What the agent wrote so far, split into lines, each checked; true at
 * EOF. */
struct reader {
	char buf[1 << 16];
	size_t len;
	unsigned lines;
	bool acked; /* an events stream began */
	bool eof;
};

static void reader_line(struct reader *r, char *line, size_t len)
{
	json_object *obj;
	char why[128];

	if (json_parse_object(line, len, &obj, why, sizeof(why))) {
		fprintf(stderr, "the agent sent a line that is no JSON object (%s): %.*s\n", why,
			(int)len, line);
		abort();
	}
	if (json_member(obj, "stream", json_type_string))
		r->acked = true;
	json_object_put(obj);
	r->lines++;
}

static void reader_poll(struct reader *r, int fd)
{
	char *nl;
	ssize_t n;

	while (!r->eof) {
		n = read(fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n < 0) {
			FUZZ_CHECK(errno == EAGAIN || errno == ECONNRESET);
			r->eof = errno == ECONNRESET;
			return;
		}
		r->eof = n == 0;
		r->len += (size_t)n;
		while ((nl = memchr(r->buf, '\n', r->len))) {
			size_t len = (size_t)(nl - r->buf);

			reader_line(r, r->buf, len);
			memmove(r->buf, nl + 1, r->len - len - 1);
			r->len -= len + 1;
		}
		/* A profile reply is one line larger than the buffer: never here. */
		FUZZ_CHECK(r->len < sizeof(r->buf));
	}
}

static void handle(void)
{
	FUZZ_CHECK(!api_server_handle(srv));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct evfilter_subject subjects[] = {
		{ .namespace_ = "default", .pod = "xwing", .container = "spaceship",
		  .binary = "/bin/dmesg", .has_pod = true },
		{ .binary = "/usr/sbin/sshd" },
		{ .namespace_ = "", .pod = "", .container = "", .has_pod = true },
	};
	static const char event[] = "{\"process_kprobe\":{\"n\":1}}";
	struct reader *r = calloc(1, sizeof(*r));
	struct api_server_stats st;
	size_t sent = 0;
	int fd, turns;

	FUZZ_CHECK(r);
	fd = client_connect();
	for (turns = 0; sent < size && !r->eof; turns++) {
		ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);

		if (n < 0)
			FUZZ_CHECK(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
		if (n < 0 && errno != EAGAIN)
			break;
		sent += n > 0 ? (size_t)n : 0;
		handle();
		reader_poll(r, fd);
		FUZZ_CHECK(turns < MAX_TURNS);
	}
	/* A whole request line is answered as it comes; only one without its
	 * newline waits for the end of the input. */
	for (turns = 0; turns < 3 && !r->eof && !r->lines; turns++) {
		handle();
		reader_poll(r, fd);
	}
	if (!r->lines)
		shutdown(fd, SHUT_WR);
	/* The agent answers, then either ends the connection or streams. */
	for (turns = 0; !r->eof && !r->acked; turns++) {
		handle();
		reader_poll(r, fd);
		FUZZ_CHECK(turns < MAX_TURNS);
	}
	if (r->acked) {
		for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++)
			api_server_broadcast(srv, event, strlen(event), &subjects[i]);
		handle();
		reader_poll(r, fd);
	}
	close(fd);
	for (turns = 0;; turns++) {
		handle();
		api_server_stats(srv, &st);
		if (!st.clients)
			break;
		FUZZ_CHECK(turns < MAX_TURNS);
	}
	free(r);
	return 0;
}
