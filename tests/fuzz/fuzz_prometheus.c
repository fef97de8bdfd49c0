/* profile/prometheus.c: Prometheus's answers to profile --prometheus's
 * three queries (whatever a server, a proxy or a man in the middle sends)
 * into one profile, rendered in every format. The input is the answers to
 * the instances, baseline and checks queries, separated by FUZZ_SEP; the
 * HTTP status is 200 for all but a first byte 'E' of the first part. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile/prometheus.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[PROM_QUERY_COUNT];
	struct prom_profile *pp;
	struct profile *p = NULL;
	struct prom_stats stats;
	char why[PROM_WHY_LEN];
	long status = size && data[0] == 'E' ? 500 : 200;
	int err = 0;

	fuzz_split(data, size, parts, PROM_QUERY_COUNT);
	FUZZ_CHECK(prom_profile__new(&pp) == 0);
	for (int q = 0; q < PROM_QUERY_COUNT && !err; q++) {
		why[0] = '\0';
		err = prom_profile_add(pp, (enum prom_query)q, status, (const char *)parts[q].data,
				       parts[q].size, why);
		FUZZ_CHECK(!err || err == -EPROTO || err == -EBADMSG || err == -EINVAL);
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)));
	}
	prom_profile_stats(pp, &stats);
	FUZZ_CHECK(stats.series_invalid <= stats.series);
	err = prom_profile_build(pp, "ns/Deployment/fuzz", &p);
	FUZZ_CHECK(!err || err == -ENODATA);
	for (int f = 0; p && f < PROFILE_FORMAT_COUNT; f++) {
		char *text = NULL;

		FUZZ_CHECK(profile_render_string(p, (enum profile_format)f, &text) == 0);
		free(text);
	}
	for (int cap = 0; p && cap < CAPS_MAX; cap++)
		FUZZ_CHECK(profile_cap_nodes(p, cap) <= profile_nodes(p));
	profile__free(p);
	prom_profile__free(pp);
	return 0;
}
