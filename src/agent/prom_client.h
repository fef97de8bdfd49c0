/* Prometheus's HTTP API, one instant query at a time (profile
 * --prometheus), through libcurl. */
#ifndef CAPTRAIL_AGENT_PROM_CLIENT_H
#define CAPTRAIL_AGENT_PROM_CLIENT_H

#include <stddef.h>

#define PROM_CLIENT_BODY_MAX (64u << 20) /* bytes of an answer */
#define PROM_CLIENT_TIMEOUT 120 /* seconds of one query, connecting included */
#define PROM_CLIENT_WHY_LEN 256

struct prom_client;

/* base: Prometheus's address, "http[s]://host:port[/prefix]" (a prefix
 * for one behind --web.route-prefix or a proxy). -EINVAL for anything
 * else, with why. */
int prom_client__new(const char *base, struct prom_client **ret_client,
		     char why[PROM_CLIENT_WHY_LEN]);
void prom_client__free(struct prom_client *client);

struct prom_reply {
	long http_status;
	char *body; /* NUL-terminated; free() it */
	size_t len;
};

/* GET /api/v1/query?query=promql&time=at (Unix seconds), the answer of any
 * HTTP status. -ECONNREFUSED, -EHOSTUNREACH (host not found or not
 * reached), -ETIMEDOUT, -EFBIG past PROM_CLIENT_BODY_MAX, -EIO with
 * libcurl's reason in why. */
int prom_client_query(struct prom_client *client, const char *promql, double at,
		      struct prom_reply *ret_reply, char why[PROM_CLIENT_WHY_LEN]);

#endif
