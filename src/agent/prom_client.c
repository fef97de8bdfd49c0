#include "agent/prom_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "lib/text.h"

struct prom_client {
	CURL *curl;
	CURLU *url;
	char errbuf[CURL_ERROR_SIZE];
};

struct body {
	char *data;
	size_t len;
	size_t size;
	bool too_big;
};

static int url_failed(CURLU *url, char *why, const char *base, const char *what)
{
	char echo[TEXT_ECHO_BUF];

	curl_url_cleanup(url);
	snprintf(why, PROM_CLIENT_WHY_LEN, "'%s': %s", text_echo(base, echo, sizeof(echo)), what);
	return -EINVAL;
}

/* The query's URL: base's path with /api/v1/query after it. */
static int api_url(const char *base, CURLU **ret_url, char *why)
{
	CURLU *url = curl_url();
	char *scheme = NULL, *path = NULL, *query = NULL, *joined = NULL;
	bool http;
	size_t len;
	int err = 0;

	if (!url)
		return -ENOMEM;
	if (curl_url_set(url, CURLUPART_URL, base, 0) != CURLUE_OK)
		return url_failed(url, why, base, "not a URL (http://HOST:PORT)");
	if (curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return url_failed(url, why, base, "not a URL (http://HOST:PORT)");
	http = !strcmp(scheme, "http") || !strcmp(scheme, "https");
	curl_free(scheme);
	if (!http)
		return url_failed(url, why, base, "not an http:// or https:// URL");
	if (curl_url_get(url, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		curl_free(query);
		return url_failed(url, why, base, "Prometheus's address has no query part");
	}
	if (curl_url_get(url, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		return url_failed(url, why, base, "not a URL (http://HOST:PORT)");
	len = strlen(path);
	while (len && path[len - 1] == '/')
		len--;
	if (asprintf(&joined, "%.*s/api/v1/query", (int)len, path) < 0)
		err = -ENOMEM;
	else if (curl_url_set(url, CURLUPART_PATH, joined, 0) != CURLUE_OK)
		err = -ENOMEM;
	curl_free(path);
	free(joined);
	if (err) {
		curl_url_cleanup(url);
		return err;
	}
	*ret_url = url;
	return 0;
}

/* Every fd O_CLOEXEC: libcurl's own sockets are not. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
	(void)ctx;
	(void)purpose;
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static size_t write_body(char *data, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t len = size * n, want;
	char *bigger;

	if (len > PROM_CLIENT_BODY_MAX - b->len) {
		b->too_big = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (b->len + len + 1 > b->size) {
		want = b->size ? b->size : 65536;
		while (want < b->len + len + 1)
			want *= 2;
		bigger = realloc(b->data, want);
		if (!bigger)
			return 0;
		b->data = bigger;
		b->size = want;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

int prom_client__new(const char *base, struct prom_client **ret_client,
		     char why[PROM_CLIENT_WHY_LEN])
{
	struct prom_client *c;
	int err;

	/* Once per process; later calls only count references. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	err = api_url(base, &c->url, why);
	if (!err && !(c->curl = curl_easy_init()))
		err = -ENOMEM;
	if (err) {
		prom_client__free(c);
		return err;
	}
	*ret_client = c;
	return 0;
}

void prom_client__free(struct prom_client *client)
{
	if (!client)
		return;
	curl_easy_cleanup(client->curl);
	curl_url_cleanup(client->url);
	free(client);
	curl_global_cleanup();
}

static int curl_err(CURLcode code, const struct body *b, const char *errbuf, char *why)
{
	snprintf(why, PROM_CLIENT_WHY_LEN, "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
	switch (code) {
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_WRITE_ERROR: return b->too_big ? -EFBIG : -ENOMEM;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EIO;
	}
}

int prom_client_query(struct prom_client *client, const char *promql, double at,
		      struct prom_reply *ret_reply, char why[PROM_CLIENT_WHY_LEN])
{
	struct body b = { 0 };
	CURL *curl = client->curl;
	char *escaped, *query = NULL;
	long status = 0;
	CURLcode code;

	escaped = curl_easy_escape(curl, promql, 0);
	if (!escaped || asprintf(&query, "query=%s&time=%.3f", escaped, at) < 0) {
		curl_free(escaped);
		return -ENOMEM;
	}
	curl_free(escaped);
	if (curl_url_set(client->url, CURLUPART_QUERY, query, 0) != CURLUE_OK) {
		free(query);
		return -ENOMEM;
	}
	free(query);
	client->errbuf[0] = '\0';
	curl_easy_reset(curl);
	code = curl_easy_setopt(curl, CURLOPT_CURLU, client->url);
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)PROM_CLIENT_TIMEOUT);
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, client->errbuf);
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
	if (code == CURLE_OK)
		code = curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	if (code == CURLE_OK)
		code = curl_easy_perform(curl);
	if (code == CURLE_OK)
		code = curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (code == CURLE_OK && !b.data && !(b.data = calloc(1, 1)))
		code = CURLE_OUT_OF_MEMORY;
	if (code != CURLE_OK) {
		free(b.data);
		return curl_err(code, &b, client->errbuf, why);
	}
	*ret_reply = (struct prom_reply){ status, b.data, b.len };
	return 0;
}
