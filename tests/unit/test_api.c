/* The local API: a real server on a socket in a temporary directory, real
 * clients; filters, errors that end one connection only, oversized
 * requests, slow clients, profile queries against a store, line reading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/api_client.h"
#include "agent/api_protocol.h"
#include "agent/api_server.h"
#include "cmd/commands.h"
#include "lib/clock.h"
#include "lib/line_reader.h"
#include "lib/text.h"
#include "scratch.h"

#define HANG_GUARD_MS 20000 /* only against hanging forever; no timing is asserted */

struct fixture {
	char dir[SCRATCH_DIR_LEN];
	char path[PATH_MAX];
	struct api_server *srv;
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (scratch_dir_make(f->dir, "api"))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/run/captrail.sock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	api_server__free(f->srv);
	store__free(f->store);
	if (scratch_dir_remove(f->dir))
		return -1;
	free(f);
	return 0;
}

static void start(struct fixture *f, const struct api_server_opts *extra)
{
	struct api_server_opts opts = { 0 };

	if (extra)
		opts = *extra;
	opts.path = f->path;
	assert_int_equal(api_server__new(&opts, &f->srv), 0);
}

static void pump(struct fixture *f, int timeout_ms)
{
	struct pollfd p = { .fd = api_server_fd(f->srv), .events = POLLIN };

	if (poll(&p, 1, timeout_ms) > 0)
		assert_int_equal(api_server_handle(f->srv), 0);
}

static int connect_client(struct fixture *f)
{
	int fd = -1;

	assert_int_equal(api_client_connect(f->path, &fd), 0);
	pump(f, 0);
	return fd;
}

static void send_text(int fd, const char *text)
{
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* One line from fd, serving the agent while waiting; NULL at EOF. */
static char *read_line(struct fixture *f, int fd)
{
	static char line[256 * 1024];
	size_t len = 0;

	for (int waited = 0; waited < HANG_GUARD_MS;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char ch;
		ssize_t n;

		if (poll(&p, 1, 0) <= 0) {
			pump(f, 10);
			waited += 10;
			continue;
		}
		n = read(fd, &ch, 1);
		if (n <= 0)
			return len ? line : NULL;
		if (ch == '\n') {
			line[len] = '\0';
			return line;
		}
		assert_true(len < sizeof(line) - 1);
		line[len++] = ch;
	}
	fail_msg("no line within the hang guard");
	return NULL;
}

/* Serves the agent until fd has nothing more (EOF): true when so. */
static bool wait_eof(struct fixture *f, int fd)
{
	return read_line(f, fd) == NULL;
}

static bool nothing_to_read(struct fixture *f, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (int i = 0; i < 5; i++)
		pump(f, 1);
	return poll(&p, 1, 0) == 0;
}

static const struct evfilter_subject xwing = {
	.namespace_ = "default", .pod = "xwing", .container = "spaceship",
	.binary = "/bin/dmesg", .has_pod = true,
};
static const struct evfilter_subject host_subject = { .binary = "/usr/bin/ping" };
#define HOST_LINE "{\"e\":\"host\"}"
static const struct evfilter_subject tiefighter = {
	.namespace_ = "empire", .pod = "tiefighter", .container = "cockpit",
	.binary = "/bin/dmesg", .has_pod = true,
};

static int events_client(struct fixture *f, const char *filter)
{
	int fd = connect_client(f);
	char req[512];

	snprintf(req, sizeof(req), "{\"version\":1,\"op\":\"events\",\"filter\":%s}\n", filter);
	send_text(fd, req);
	assert_string_equal(read_line(f, fd), "{\"version\":1,\"stream\":\"events\"}");
	return fd;
}

static void test_socket_setup(void **state)
{
	struct fixture *f = *state;
	struct api_server *other = NULL;
	struct api_server_opts opts = { .path = f->path };
	char dir[PATH_MAX];
	struct stat st;
	int fd;

	start(f, NULL);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* a second agent on the same socket */
	assert_int_equal(api_server__new(&opts, &other), -EADDRINUSE);
	api_server__free(f->srv);
	f->srv = NULL;
	assert_int_equal(stat(f->path, &st), -1); /* removed on exit */

	/* a stale socket (an agent killed with SIGKILL) is replaced */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		strcpy(sa.sun_path, f->path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	start(f, NULL);
	api_server__free(f->srv);
	f->srv = NULL;

	/* not a socket: left alone */
	fd = open(f->path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	assert_int_equal(api_server__new(&opts, &other), -EEXIST);
	unlink(f->path);
	opts.path = "/tmp/a-path-that-is-far-too-long-for-a-unix-socket-address-because-it-"
		    "goes-on-and-on-and-on-beyond-108-bytes.sock";
	assert_int_equal(api_server__new(&opts, &other), -ENAMETOOLONG);
}

static void test_events_filtered(void **state)
{
	struct fixture *f = *state;
	struct api_server_stats stats;
	int all, pods, host;

	start(f, NULL);
	assert_int_equal(api_server_streaming(f->srv), 0);
	all = events_client(f, "{}");
	pods = events_client(f, "{\"namespaces\":[\"default\"],\"pods\":[\"^x\"]}");
	host = events_client(f, "{\"host\":true}");
	assert_int_equal(api_server_streaming(f->srv), 3);

	api_server_broadcast(f->srv, "{\"e\":\"xwing\"}\n", 14, &xwing);
	api_server_broadcast(f->srv, "{\"e\":\"tiefighter\"}", 18, &tiefighter);
	assert_string_equal(read_line(f, all), "{\"e\":\"xwing\"}");
	assert_string_equal(read_line(f, all), "{\"e\":\"tiefighter\"}");
	assert_string_equal(read_line(f, pods), "{\"e\":\"xwing\"}");
	assert_true(nothing_to_read(f, pods));
	assert_true(nothing_to_read(f, host));

	/* a client leaving does not disturb the others */
	close(pods);
	pump(f, 10);
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.clients, 2);
	assert_int_equal(stats.streaming, 2);
	api_server_broadcast(f->srv, "{\"e\":2}", 7, &xwing);
	assert_string_equal(read_line(f, all), "{\"e\":2}");
	close(all);
	close(host);
}

/* A client that sends its request and closes its side at once (socat with
 * stdin at EOF) still gets the acknowledgement and the stream; only a
 * client that leaves entirely is dropped. */
static void test_half_closed_stream(void **state)
{
	struct fixture *f = *state;
	struct api_server_stats stats;
	int fd;

	start(f, NULL);
	fd = connect_client(f);
	send_text(fd, "{\"version\":1,\"op\":\"events\"}\n");
	shutdown(fd, SHUT_WR);
	assert_string_equal(read_line(f, fd), "{\"version\":1,\"stream\":\"events\"}");
	api_server_broadcast(f->srv, "{\"e\":1}", 7, &xwing);
	assert_string_equal(read_line(f, fd), "{\"e\":1}");
	close(fd);
	pump(f, 10);
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.clients, 0);
}

static void test_bad_requests(void **state)
{
	static const struct {
		const char *request;
		const char *error;
	} cases[] = {
		{ "not json\n", "malformed request" },
		{ "{\"version\":1,\"op\":\"events\"\n", "malformed request: incomplete JSON" },
		{ "[1,2]\n", "not a JSON object" },
		{ "{\"op\":\"events\"}\n", "without \\\"version\\\"" },
		{ "{\"version\":2,\"op\":\"events\"}\n", "unsupported version 2" },
		{ "{\"version\":\"1\",\"op\":\"events\"}\n", "without \\\"version\\\"" },
		{ "{\"version\":1}\n", "without \\\"op\\\"" },
		{ "{\"version\":1,\"op\":\"dance\"}\n", "unknown op \\\"dance\\\"" },
		{ "{\"version\":1,\"op\":\"events\"} x\n", "text after the JSON object" },
		{ "{\"version\":1,\"op\":\"events\",\"filter\":{\"pods\":[\"(\"]}}\n",
		  "bad regular expression" },
		{ "{\"version\":1,\"op\":\"events\",\"filter\":{\"pod\":[\"x\"]}}\n",
		  "unknown filter key" },
		{ "{\"version\":1,\"op\":\"profile\"}\n", "needs \\\"select\\\"" },
		{ "{\"version\":1,\"op\":\"profile\",\"select\":{\"pod\":\"xwing\"}}\n",
		  "NAMESPACE/NAME" },
		{ "{\"version\":1,\"op\":\"profile\",\"select\":{\"all\":true}}\n",
		  "keeps no profiles" },
		{ "\n", "malformed request" },
	};
	struct fixture *f = *state;
	struct api_server_stats stats;
	int bystander;

	start(f, NULL);
	bystander = events_client(f, "{}");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = connect_client(f);
		char *line;

		send_text(fd, cases[i].request);
		line = read_line(f, fd);
		assert_non_null(line);
		if (!strstr(line, cases[i].error) || !strstr(line, "\"error\":"))
			fail_msg("request %zu: '%s' lacks '%s'", i, line, cases[i].error);
		assert_true(wait_eof(f, fd)); /* that connection ends */
		close(fd);
	}
	pump(f, 10);
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.rejected, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(stats.clients, 1);
	api_server_broadcast(f->srv, "{\"still\":1}", 11, &xwing);
	assert_string_equal(read_line(f, bystander), "{\"still\":1}");
	close(bystander);
}

static void test_oversized_request(void **state)
{
	struct fixture *f = *state;
	size_t total = 4 * API_MAX_REQUEST, sent = 0;
	char *big = malloc(total);
	struct api_server_stats stats;
	char *line;
	int fd;

	start(f, NULL);
	memset(big, ' ', total);
	big[0] = '{';
	fd = connect_client(f);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	/* the server reads no more than the limit before answering */
	while (sent < total) {
		ssize_t n = write(fd, big + sent, total - sent);

		if (n > 0)
			sent += (size_t)n;
		else if (errno == EAGAIN)
			pump(f, 10);
		else
			break; /* the server closed after its limit of discarding */
	}
	assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
	line = read_line(f, fd);
	assert_non_null(line);
	assert_non_null(strstr(line, "request longer than 65536 bytes"));
	shutdown(fd, SHUT_WR);
	assert_true(wait_eof(f, fd));
	close(fd);
	pump(f, 10);
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.clients, 0);
	free(big);
}

/* A drop notice's count; 0 for any other line. */
static unsigned long long notice_dropped(const char *line, const char *reason)
{
	char want[64];
	const char *at = strstr(line, ",\"dropped\":");

	snprintf(want, sizeof(want), "\"reason\":\"%s\"", reason);
	if (strncmp(line, "{\"notice\":", 10) || !at || !strstr(line, want))
		return 0;
	return strtoull(at + 11, NULL, 10);
}

/* Broadcasts numbered events to a client that reads nothing until the
 * agent drops some, then a few more; returns how many. */
static int fill_until_dropped(struct fixture *f)
{
	struct api_server_stats stats;
	char event[128];
	int n = 0, more = 10;

	do {
		int len = snprintf(event, sizeof(event), "{\"seq\":%d,\"pad\":\"%060d\"}", n++, 0);

		api_server_broadcast(f->srv, event, (size_t)len, &xwing);
		api_server_stats(f->srv, &stats);
		assert_true(n < 1000000);
	} while (!stats.dropped || more--);
	return n;
}

static void test_slow_client(void **state)
{
	struct fixture *f = *state;
	struct api_server_opts opts = { .client_buffer = 4096 };
	struct api_server_stats stats;
	unsigned long long noticed = 0;
	int fd, received = 0, notices = 0, n;
	char *line;

	start(f, &opts);
	fd = events_client(f, "{}");
	/* the agent emits faster than anybody reads: no pump in between, and
	 * the socket's own buffer fills before the queue does */
	n = fill_until_dropped(f);
	api_server_stats(f->srv, &stats);
	/* Only serving the agent from here on: the notice is not waiting for
	 * another event to come by. */
	while (received + (int)noticed < n && (line = read_line(f, fd))) {
		if (strstr(line, "notice")) {
			noticed += notice_dropped(line, "queue_full");
			notices++;
		} else {
			received++;
		}
	}
	assert_int_equal(notices, 1);
	assert_int_equal(noticed, stats.dropped);
	assert_int_equal(received + (int)noticed, n);
	assert_true(nothing_to_read(f, fd));
	/* once drained, events flow again */
	api_server_broadcast(f->srv, "{\"seq\":\"after\"}", 15, &xwing);
	assert_string_equal(read_line(f, fd), "{\"seq\":\"after\"}");
	close(fd);
}

/* An event the client's queue could never hold becomes a notice at once,
 * even with nothing else queued, and the stream goes on. */
static void test_oversized_event(void **state)
{
	struct fixture *f = *state;
	struct api_server_opts opts = { .client_buffer = 4096 };
	struct api_server_stats stats;
	size_t big = 8000;
	char *event = malloc(big + 1);
	int fd;

	start(f, &opts);
	fd = events_client(f, "{}");
	memset(event, 'x', big);
	memcpy(event, "{\"pad\":\"", 8);
	memcpy(event + big - 2, "\"}", 2);
	event[big] = '\0';
	api_server_broadcast(f->srv, event, big, &xwing);
	assert_string_equal(read_line(f, fd),
			    "{\"notice\":\"dropped an event of 8001 bytes, larger than this "
			    "client's queue (4096 bytes)\",\"dropped\":1,\"reason\":\"oversized\"}");
	api_server_broadcast(f->srv, "{\"next\":1}", 10, &xwing);
	assert_string_equal(read_line(f, fd), "{\"next\":1}");
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.oversized, 1);
	assert_int_equal(stats.dropped, 1);
	assert_int_equal(stats.clients, 1);
	free(event);
	close(fd);
}

/* Half a request holds its connection only until its deadline; a stream
 * has none; a reply read by a client that does not close is not a loss. */
static void test_request_deadline(void **state)
{
	struct fixture *f = *state;
	struct api_server_stats stats;
	uint64_t before = clock_monotonic_ns(), after;
	int streaming, half, lingering;

	start(f, NULL);
	streaming = events_client(f, "{}");
	half = connect_client(f);
	send_text(half, "{\"version\":1,\"op\":\"ev");
	lingering = connect_client(f);
	send_text(lingering, "nope\n");
	assert_non_null(strstr(read_line(f, lingering), "malformed request"));
	pump(f, 10);

	/* nothing is due before the connections were made */
	api_server_expire(f->srv, before);
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.clients, 3);

	after = clock_monotonic_ns() + (uint64_t)API_REQUEST_TIMEOUT_MS * 1000000 + 1;
	api_server_expire(f->srv, after);
	assert_string_equal(read_line(f, half),
			    "{\"version\":1,\"error\":\"no complete request within 5 s\"}");
	assert_true(wait_eof(f, half));
	assert_true(wait_eof(f, lingering));
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.timed_out, 1);
	assert_int_equal(stats.clients, 1);
	api_server_broadcast(f->srv, "{\"still\":1}", 11, &xwing);
	assert_string_equal(read_line(f, streaming), "{\"still\":1}");
	close(half);
	close(lingering);
	close(streaming);
}

/* The deadline wakes the server by itself: its fd turns readable with no
 * client doing anything. */
static void test_deadline_timer(void **state)
{
	struct fixture *f = *state;
	struct api_server_opts opts = { .request_timeout_ms = 50 };
	struct api_server_stats stats;
	int half;

	start(f, &opts);
	half = connect_client(f);
	send_text(half, "{");
	assert_string_equal(read_line(f, half),
			    "{\"version\":1,\"error\":\"no complete request within 0.05 s\"}");
	assert_true(wait_eof(f, half));
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.timed_out, 1);
	assert_int_equal(stats.clients, 0);
	close(half);
}

/* Every slot taken by connections without a request: a new one gets in,
 * in the place of the oldest; slots of real clients are not taken. */
static void test_pending_evicted(void **state)
{
	struct fixture *f = *state;
	struct api_server_opts opts = { .max_clients = 2 };
	struct api_server_stats stats;
	int first, second, newer, busy, extra;

	start(f, &opts);
	first = connect_client(f);
	send_text(first, "{\"version\"");
	second = connect_client(f);
	send_text(second, "{");
	pump(f, 10);
	newer = events_client(f, "{}");
	assert_non_null(strstr(read_line(f, first), "closed for a newer one"));
	assert_true(wait_eof(f, first));
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.evicted, 1);
	assert_int_equal(stats.clients, 2);

	/* a second real client takes the last pending one's slot; with every
	 * slot streaming, a newcomer is turned away */
	busy = events_client(f, "{}");
	assert_non_null(strstr(read_line(f, second), "closed for a newer one"));
	assert_int_equal(api_client_connect(f->path, &extra), 0);
	assert_non_null(strstr(read_line(f, extra), "too many clients"));
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.evicted, 2);
	assert_int_equal(stats.clients, 2);
	close(extra);
	close(busy);
	close(first);
	close(second);
	close(newer);
}

/* A stream that reads nothing while its queue stays full is disconnected:
 * what it had whole stays readable, then a notice with the count of
 * everything it did not get. */
static void test_stalled_client(void **state)
{
	struct fixture *f = *state;
	struct api_server_opts opts = { .client_buffer = 4096 };
	struct api_server_stats stats;
	uint64_t before = clock_monotonic_ns();
	unsigned long long lost = 0;
	int fd, other, received = 0, n;
	char *line;

	start(f, &opts);
	fd = events_client(f, "{}");
	other = events_client(f, "{\"host\":true}");
	n = fill_until_dropped(f);
	api_server_expire(f->srv, before);
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.stalled, 0);

	api_server_expire(f->srv, clock_monotonic_ns() +
					  (uint64_t)API_STALL_TIMEOUT_MS * 1000000 + 1);
	api_server_stats(f->srv, &stats);
	assert_int_equal(stats.stalled, 1);
	assert_int_equal(stats.clients, 1);
	while ((line = read_line(f, fd))) {
		assert_int_equal(lost, 0); /* the notice is the last line */
		if (strstr(line, "notice")) {
			lost = notice_dropped(line, "stalled");
			assert_non_null(strstr(line, "disconnected: nothing read for 10 s"));
			continue;
		}
		assert_int_equal(strncmp(line, "{\"seq\":", 7), 0); /* whole lines only */
		assert_int_equal(line[strlen(line) - 1], '}');
		received++;
	}
	assert_int_equal(received + (int)lost, n);
	assert_int_equal(stats.dropped, lost);
	close(fd);

	/* the other client was never disturbed */
	api_server_broadcast(f->srv, HOST_LINE, strlen(HOST_LINE), &host_subject);
	assert_string_equal(read_line(f, other), HOST_LINE);
	close(other);
}

static void test_max_clients(void **state)
{
	struct fixture *f = *state;
	struct api_server_opts opts = { .max_clients = 2 };
	int a, b, c;

	start(f, &opts);
	a = events_client(f, "{}");
	b = events_client(f, "{}");
	assert_int_equal(api_client_connect(f->path, &c), 0);
	assert_non_null(strstr(read_line(f, c), "too many clients"));
	close(c);
	close(a);
	pump(f, 10);
	c = events_client(f, "{}"); /* a slot is free again */
	close(b);
	close(c);
}

static int profile_from_store(void *ctx, const struct store_filter *filter,
			      json_object **ret_reply)
{
	struct fixture *f = ctx;
	int err = store_flush(f->store);

	return err ? err : api_profile_reply(f->store, filter, ret_reply);
}

static volatile int serving;

static void *serve(void *arg)
{
	struct fixture *f = arg;

	while (serving)
		pump(f, 10);
	return NULL;
}

struct rows {
	int n;
	char names[8][64];
	struct store_row last;
	int n_instances;
	char instances[8][64];
};

static int count_instances(void *ctx, int64_t workload_id, const char *instance)
{
	struct rows *r = ctx;

	if (r->n_instances < 8)
		snprintf(r->instances[r->n_instances], sizeof(r->instances[0]), "%lld %s",
			 (long long)workload_id, instance);
	r->n_instances++;
	return 0;
}

static int count_rows(void *ctx, const struct store_row *row)
{
	struct rows *r = ctx;

	if (r->n < 8)
		snprintf(r->names[r->n], sizeof(r->names[0]), "%s/%s/%s %d", row->workload.pod_namespace,
			 row->workload.pod_name, row->workload.container_name, row->check.cap);
	r->last = *row;
	r->n++;
	return 0;
}

static void add_obs(struct store *s, const char *pod, int cap, uint64_t count)
{
	struct store_obs obs = {
		.workload = { .kind = WORKLOAD_POD_CONTAINER, .pod_namespace = "default",
			      .pod_name = pod, .container_name = "spaceship",
			      .container_id = pod },
		.check = { .cap = cap, .denied = true, .audit = CHECK_AUDITED,
			   .syscall = CHECK_NO_SYSCALL, .flags = CHECK_OVERRIDE_CRED, .count = count,
			   .first_ns = 1, .last_ns = 2, .outcome = { .eperm = count } },
	};

	assert_int_equal(store_add(s, &obs), 0);
}

static void test_profile(void **state)
{
	struct fixture *f = *state;
	struct api_server_opts opts = { .profile = profile_from_store, .ctx = f };
	struct store_filter filter = { .select = STORE_SELECT_ALL };
	char db[PATH_MAX + 16], err[256] = "", expect[64];
	struct rows rows = { 0 };
	struct api_profile_handler handler = {
		.row = count_rows, .instance = count_instances, .ctx = &rows,
	};
	pthread_t thread;

	snprintf(db, sizeof(db), "%s/captrail.db", f->dir);
	assert_int_equal(store__new(db, 0, &f->store), 0);
	add_obs(f->store, "xwing", 34, 3);
	add_obs(f->store, "tiefighter", 12, 1);
	start(f, &opts);

	serving = 1;
	assert_int_equal(pthread_create(&thread, NULL, serve, f), 0);
	assert_int_equal(api_client_profile(f->path, &filter, &handler, err, sizeof(err)), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.n_instances, 2);

	memset(&rows, 0, sizeof(rows));
	filter = (struct store_filter){ .select = STORE_SELECT_POD, .pod_namespace = "default",
					.pod_name = "xwing" };
	assert_int_equal(api_client_profile(f->path, &filter, &handler, err, sizeof(err)), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.names[0], "default/xwing/spaceship 34");
	assert_int_equal(rows.last.check.count, 3);
	assert_int_equal(rows.last.check.syscall, CHECK_NO_SYSCALL);
	assert_int_equal(rows.last.check.flags, CHECK_OVERRIDE_CRED);
	assert_int_equal(rows.last.check.outcome.eperm, 3);
	assert_int_equal(rows.last.instances, 1);
	assert_true(rows.last.check.denied);
	assert_int_equal(rows.n_instances, 1);
	snprintf(expect, sizeof(expect), "%lld xwing", (long long)rows.last.workload_id);
	assert_string_equal(rows.instances[0], expect);

	/* a request ended by closing the writing side instead of a newline */
	{
		int fd = -1;
		char buf[4096];
		ssize_t n, len = 0;

		assert_int_equal(api_client_connect(f->path, &fd), 0);
		send_text(fd, "{\"version\":1,\"op\":\"profile\","
			      "\"select\":{\"container\":\"tiefighter\"}}");
		shutdown(fd, SHUT_WR);
		while ((n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
			len += n;
		buf[len] = '\0';
		assert_non_null(strstr(buf, "\"profile\":[{"));
		assert_non_null(strstr(buf, "\"capability\":\"CAP_NET_ADMIN\""));
		close(fd);
	}
	serving = 0;
	pthread_join(thread, NULL);

	/* an agent without profiles */
	api_server__free(f->srv);
	f->srv = NULL;
	start(f, NULL);
	serving = 1;
	assert_int_equal(pthread_create(&thread, NULL, serve, f), 0);
	assert_int_equal(api_client_profile(f->path, &filter, &handler, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "this agent keeps no profiles");
	serving = 0;
	pthread_join(thread, NULL);

	assert_int_equal(api_client_profile("/nonexistent/captrail.sock", &filter, &handler, err,
					    sizeof(err)), -ENOENT);
}

static void test_row_and_select_json(void **state)
{
	struct store_row row = {
		.workload = { .kind = WORKLOAD_HOST_BINARY, .pod_namespace = "", .pod_name = "",
			      .container_name = "", .image = "", .binary = "/usr/bin/ping",
			      .unit = "" },
		.check = { .cap = 13, .denied = false, .audit = CHECK_NOAUDIT, .syscall = 41,
			   .flags = 4, .count = 1ull << 40, .first_ns = 1700000000000000000ull,
			   .last_ns = 1700000000000000001ull, .outcome = { 1, 2, 3, 4 } },
	};
	struct store_row back;
	struct store_filter filter, parsed;
	json_object *obj = api_row_to_json(&row), *sel;
	char buf[256], err[256];

	(void)state;
	assert_non_null(obj);
	assert_int_equal(api_row_from_json(obj, &back), 0);
	assert_int_equal(back.workload.kind, row.workload.kind);
	assert_string_equal(back.workload.binary, "/usr/bin/ping");
	assert_int_equal(back.check.cap, 13);
	assert_int_equal(back.check.audit, CHECK_NOAUDIT);
	assert_int_equal(back.check.syscall, 41);
	assert_int_equal(back.check.count, row.check.count);
	assert_int_equal(back.check.last_ns, row.check.last_ns);
	assert_int_equal(back.check.outcome.other, 4);
	assert_string_equal(back.workload.owner_kind, "");
	json_object_object_del(obj, "owner_kind"); /* an older agent's row */
	assert_int_equal(api_row_from_json(obj, &back), 0);
	assert_string_equal(back.workload.owner_kind, "");
	json_object_object_add(obj, "owner_kind", json_object_new_int(3));
	assert_int_equal(api_row_from_json(obj, &back), -EINVAL);
	json_object_object_add(obj, "owner_kind", json_object_new_string("Deployment"));
	json_object_object_del(obj, "count");
	assert_int_equal(api_row_from_json(obj, &back), -EINVAL);
	json_object_put(obj);
	row.workload.owner_kind = "StatefulSet";
	row.workload.owner_name = "web";
	row.workload.owner_how = "name-pattern";
	obj = api_row_to_json(&row);
	assert_int_equal(api_row_from_json(obj, &back), 0);
	assert_string_equal(back.workload.owner_kind, "StatefulSet");
	assert_string_equal(back.workload.owner_name, "web");
	assert_string_equal(back.workload.owner_how, "name-pattern");
	json_object_put(obj);

	filter = (struct store_filter){ .select = STORE_SELECT_WORKLOAD, .pod_namespace = "shop",
					.owner_kind = "Deployment", .owner_name = "checkout" };
	assert_int_equal(api_select_to_json(&filter, &sel), 0);
	assert_string_equal(json_object_to_json_string_ext(sel, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE),
			    "{\"workload\":\"shop/Deployment/checkout\"}");
	assert_int_equal(api_select_from_json(sel, &parsed, buf, sizeof(buf), err, sizeof(err)),
			 0);
	assert_int_equal(parsed.select, STORE_SELECT_WORKLOAD);
	assert_string_equal(parsed.pod_namespace, "shop");
	assert_string_equal(parsed.owner_kind, "Deployment");
	assert_string_equal(parsed.owner_name, "checkout");
	json_object_put(sel);

	filter = (struct store_filter){ .select = STORE_SELECT_POD, .pod_namespace = "default",
					.pod_name = "xwing" };
	assert_int_equal(api_select_to_json(&filter, &sel), 0);
	assert_string_equal(json_object_to_json_string_ext(sel, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE),
			    "{\"pod\":\"default/xwing\"}");
	assert_int_equal(api_select_from_json(sel, &parsed, buf, sizeof(buf), err, sizeof(err)),
			 0);
	assert_int_equal(parsed.select, STORE_SELECT_POD);
	assert_string_equal(parsed.pod_namespace, "default");
	assert_string_equal(parsed.pod_name, "xwing");
	json_object_put(sel);

	static const char *const bad[] = {
		"{}", "{\"all\":false}", "{\"pod\":\"a\",\"all\":true}", "{\"binary\":\"\"}",
		"{\"binary\":3}", "{\"nope\":\"x\"}", "[]", "{\"workload\":\"shop/checkout\"}",
		"{\"workload\":\"shop/ReplicaSet/x\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sel = json_tokener_parse(bad[i]);
		assert_int_equal(api_select_from_json(sel, &parsed, buf, sizeof(buf), err,
						      sizeof(err)), -EINVAL);
		json_object_put(sel);
	}
}

/* What the store and a request hold reaches clients as valid UTF-8: rows
 * bounded, and input quoted back in an error escaped and bounded. */
static void test_row_and_select_hostile(void **state)
{
	char binary[TEXT_PATH_MAX + 50];
	struct store_row row = {
		.workload = { .kind = WORKLOAD_HOST_BINARY, .pod_namespace = "", .pod_name = "",
			      .container_name = "", .image = "", .binary = binary, .unit = "" },
		.check = { .cap = 13 },
	};
	struct store_filter parsed;
	json_object *obj, *sel;
	const char *text;
	char buf[256], err[256];

	(void)state;
	memset(binary, 'b', sizeof(binary));
	memcpy(binary, "/tmp/\xff\n", 7);
	binary[sizeof(binary) - 1] = '\0';
	obj = api_row_to_json(&row);
	assert_non_null(obj);
	text = json_object_to_json_string_ext(obj, API_JSON_FLAGS);
	assert_true(text_utf8_valid(text, strlen(text)));
	assert_null(strchr(text, '\n'));
	text = json_object_get_string(json_object_object_get(obj, "binary"));
	assert_int_equal(strlen(text), TEXT_PATH_MAX + 2); /* the U+FFFD's two more bytes */
	assert_memory_equal(text, "/tmp/\xef\xbf\xbd\nbbb", 12);
	assert_string_equal(text + strlen(text) - TEXT_CUT_MARK_LEN, TEXT_CUT_MARK);
	json_object_put(obj);

	sel = json_object_new_object();
	json_object_object_add(sel, "x\x1b]0;pwned\x07\xff\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
				    "yyyyyyyyyyyyyyyyyyyyyyyyyyyy",
			       json_object_new_string("v"));
	assert_int_equal(api_select_from_json(sel, &parsed, buf, sizeof(buf), err, sizeof(err)),
			 -EINVAL);
	/* Quoted bounded and valid UTF-8, not escaped: the JSON reply escapes
	 * it, and so does the one reporter that prints messages. */
	assert_true(text_utf8_valid(err, strlen(err)));
	assert_non_null(strstr(err, "unknown selection \"x\x1b]0;pwned\x07\xef\xbf\xbd\nyyy"));
	assert_non_null(strstr(err, "yyy" TEXT_CUT_MARK "\""));
	obj = json_object_new_string(err);
	text = json_object_to_json_string_ext(obj, API_JSON_FLAGS);
	for (const char *c = text; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
	json_object_put(obj);
	json_object_put(sel);
}

static void test_reader(void **state)
{
	static const char input[] = "first\n\n{\"a\":1}\r\n"
				    "0123456789012345678901234567890123456789\nlast";
	struct line_reader r;
	char *line;
	size_t len;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], input, sizeof(input) - 1), (ssize_t)sizeof(input) - 1);
	close(fds[1]);
	line_reader_init(&r, fds[0], 16);
	assert_int_equal(line_reader_next(&r, &line, &len), 0);
	assert_string_equal(line, "first");
	assert_int_equal(line_reader_next(&r, &line, &len), 0);
	assert_string_equal(line, "");
	assert_int_equal(line_reader_next(&r, &line, &len), 0);
	assert_string_equal(line, "{\"a\":1}\r");
	assert_int_equal(line_reader_next(&r, &line, &len), -E2BIG);
	assert_int_equal(line_reader_next(&r, &line, &len), 0);
	assert_string_equal(line, "last");
	assert_int_equal(len, 4);
	assert_int_equal(line_reader_next(&r, &line, &len), 0);
	assert_null(line);
	line_reader_free(&r);
	close(fds[0]);
}


/* ---- captrail events, the client command ---- */

#define XWING_EVENT                                                                        \
	"{\"process_kprobe\":{\"process\":{\"pid\":5602,\"uid\":65534,\"binary\":\"/bin/dmesg\"," \
	"\"pod\":{\"namespace\":\"default\",\"name\":\"xwing\",\"container\":"           \
	"{\"name\":\"spaceship\"}}},\"args\":[{\"user_ns_arg\":{\"level\":0}},"             \
	"{\"capability_arg\":{\"value\":34,\"name\":\"CAP_SYSLOG\"}}],"                       \
	"\"return\":{\"int_arg\":-1},\"tags\":[\"denied\",\"syscall:syslog\"]},"              \
	"\"node_name\":\"n1\",\"time\":\"2023-07-06T10:13:33.834882128Z\"}"
#define HOST_EVENT                                                                         \
	"{\"process_kprobe\":{\"process\":{\"pid\":7,\"uid\":0,\"binary\":\"/usr/bin/ping\"}," \
	"\"args\":[{\"capability_arg\":{\"value\":13,\"name\":\"CAP_NET_RAW\"}}],"          \
	"\"return\":{\"int_arg\":0},\"tags\":[\"granted\"]},\"time\":\"2023-07-06T10:13:34Z\"}"

/* Runs cmd_events in a child with stdin from in_fd (or /dev/null) and
 * stdout into out_path. */
static pid_t spawn_events(int in_fd, const char *out_path, char **argv)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int argc = 0;

		if (in_fd < 0)
			in_fd = open("/dev/null", O_RDONLY);
		if (out < 0 || dup2(in_fd, 0) < 0 || dup2(out, 1) < 0)
			_exit(99);
		/* no exec follows: the pipe's writing end must go by hand, or
		 * stdin never ends */
		close_range(3, ~0u, 0);
		while (argv[argc])
			argc++;
		_exit(cmd_events(argc, argv));
	}
	return pid;
}

static void test_events_stdin(void **state)
{
	struct fixture *f = *state;
	char out[PATH_MAX + 8], *text;
	char *json_argv[] = { "events", "--namespaces", "default", "--pods", "xw", "-o", "json",
			      NULL };
	char *host_argv[] = { "events", "--host", NULL };
	char *bad_argv[] = { "events", "--pods", "(", NULL };
	static const char input[] = XWING_EVENT "\nnot json\n{\"notice\":\"dropped 2 events\"}\n"
				    HOST_EVENT "\n\n" XWING_EVENT;
	int fds[2];
	pid_t pid;

	snprintf(out, sizeof(out), "%s/out", f->dir);
	assert_int_equal(pipe(fds), 0);
	pid = spawn_events(fds[0], out, json_argv);
	close(fds[0]);
	assert_int_equal(write(fds[1], input, sizeof(input) - 1), (ssize_t)sizeof(input) - 1);
	close(fds[1]);
	assert_int_equal(child_exit_status(pid), 0);
	assert_string_equal(slurp(out), XWING_EVENT "\n" XWING_EVENT "\n");

	assert_int_equal(pipe(fds), 0);
	pid = spawn_events(fds[0], out, host_argv);
	close(fds[0]);
	assert_int_equal(write(fds[1], input, sizeof(input) - 1), (ssize_t)sizeof(input) - 1);
	close(fds[1]);
	assert_int_equal(child_exit_status(pid), 0);
	text = slurp(out);
	/* the time is local: only what follows it is fixed */
	assert_non_null(strstr(text,
			       " granted CAP_NET_RAW            pid=7 uid=0 /usr/bin/ping\n"));
	assert_null(strstr(text, "xwing"));

	pid = spawn_events(-1, out, bad_argv);
	assert_int_equal(child_exit_status(pid), 2);
}

static void wait_streaming(struct fixture *f, size_t n)
{
	for (int waited = 0; api_server_streaming(f->srv) != n; waited += 10) {
		if (waited > HANG_GUARD_MS)
			fail_msg("no client streaming");
		pump(f, 10);
	}
}

static void wait_output(struct fixture *f, const char *path, const char *text)
{
	for (int waited = 0; !strstr(slurp(path), text); waited += 10) {
		if (waited > HANG_GUARD_MS)
			fail_msg("'%s' never appeared in the output", text);
		pump(f, 10);
	}
}

static void test_events_from_agent(void **state)
{
	struct fixture *f = *state;
	char out[PATH_MAX + 8];
	char *argv[] = { "events", "--socket", f->path, "--pods", "^xwing$", NULL };
	char *nowhere[] = { "events", "--socket", "/nonexistent/captrail.sock", NULL };
	pid_t pid;

	snprintf(out, sizeof(out), "%s/out", f->dir);
	pid = spawn_events(-1, out, nowhere);
	assert_int_equal(child_exit_status(pid), 1);

	start(f, NULL);
	pid = spawn_events(-1, out, argv);
	wait_streaming(f, 1);
	api_server_broadcast(f->srv, HOST_EVENT, strlen(HOST_EVENT), &tiefighter);
	api_server_broadcast(f->srv, XWING_EVENT, strlen(XWING_EVENT), &xwing);
	wait_output(f, out, "denied  CAP_SYSLOG             pid=5602 uid=65534 "
			    "default/xwing spaceship /bin/dmesg syscall=syslog\n");
	assert_null(strstr(slurp(out), "CAP_NET_RAW"));

	/* the agent restarts: the client comes back by itself */
	api_server__free(f->srv);
	f->srv = NULL;
	start(f, NULL);
	wait_streaming(f, 1);
	api_server_broadcast(f->srv, XWING_EVENT, strlen(XWING_EVENT), &xwing);
	for (int waited = 0;; waited += 10) {
		char *first = strstr(slurp(out), "CAP_SYSLOG");

		if (first && strstr(first + 1, "CAP_SYSLOG"))
			break;
		if (waited > HANG_GUARD_MS)
			fail_msg("no event after the reconnection");
		pump(f, 10);
	}
	kill(pid, SIGTERM);
	assert_int_equal(child_exit_status(pid), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_filtered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_closed_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_evicted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile, setup, teardown),
		cmocka_unit_test(test_row_and_select_json),
		cmocka_unit_test(test_row_and_select_hostile),
		cmocka_unit_test(test_reader),
		cmocka_unit_test_setup_teardown(test_events_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_from_agent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
