/* Loads captrail's BPF programs: open, configure (rodata), load, attach. */
#ifndef CAPTRAIL_LOADER_H
#define CAPTRAIL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/captrail.h"

struct loader_filter {
	const uint32_t *pids; /* --pid set; NULL/0 for all */
	size_t n_pids;
	uint32_t uid; /* CT_ANY_UID for all */
	uint64_t cap_mask; /* 0 for all */
	bool denied_only;
	bool unique;
	uint64_t cgroup_id; /* 0 for all */
	enum ct_pidns_mode pidns_mode;
	char comm[CT_COMM_LEN]; /* "" for all */
	uint32_t self_tgid; /* excluded; 0 for none */
};

struct loader_opts {
	struct loader_filter filter;
	bool stream; /* per-check events through the ring buffer */
	bool track_procs; /* exec/fork/exit records for the process cache */
	/* Called for each ring buffer record (struct ct_cap_event or
	 * struct ct_proc_event, told apart by their first u32). */
	int (*on_record)(void *ctx, const void *data, size_t size);
	void *ctx;
};

struct loader_stats {
	uint64_t lost; /* capability events dropped: ring buffer full */
	uint64_t proc_lost; /* lifecycle records dropped */
};

struct loader;

/* -EOPNOTSUPP: the kernel has no hook captrail can use. */
int loader__new(const struct loader_opts *opts, struct loader **ret_loader);
void loader__free(struct loader *loader);

/* Waits up to timeout_ms for records, then drains whatever is queued (the
 * BPF side batches wake-ups, so a timeout is not "nothing to read").
 * Returns the number of records handled or a negative errno. */
int loader_poll(struct loader *loader, int timeout_ms);

int loader_stats(struct loader *loader, struct loader_stats *ret_stats);

#endif
