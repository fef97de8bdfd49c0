/* Ring buffer records as the BPF programs send them: a stream of records,
 * each as long as its type says (the last one cut wherever the input ends),
 * handed to records_dispatch() as the loader drains them, then on to what
 * consumes them: the exec decoders, the process cache and container
 * lookup (identity, on empty fixture roots) and the image table. Their
 * strings come from workloads (argv, paths), their lengths from the BPF
 * side: neither is trusted. The input's head is also read as one
 * aggregation entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/identity.h"
#include "identity/images.h"
#include "kernel/objects.h"
#include "kernel/records.h"

#include "fuzz.h"

#define GUARD 16

struct sinks {
	struct identity *id;
	struct images *images;
};

static struct container_roots roots;

/* Every decoder writes within its RECORDS_*_LEN, NUL-terminated. */
static void decode_exec(const struct ct_proc_event *rec)
{
	struct {
		char cwd[RECORDS_CWD_LEN];
		char binary[RECORDS_BINARY_LEN];
		char args[RECORDS_ARGS_LEN];
		unsigned char guard[GUARD];
	} out;
	static const unsigned char guard[GUARD] = { [0 ... GUARD - 1] = 0xa5 };

	memset(&out, 0xa5, sizeof(out));
	records_exec_args(rec, out.args);
	FUZZ_CHECK(memchr(out.args, '\0', sizeof(out.args)));
	FUZZ_CHECK(!memcmp(out.guard, guard, GUARD));
	records_exec_cwd(rec, out.cwd);
	FUZZ_CHECK(memchr(out.cwd, '\0', sizeof(out.cwd)));
	records_exec_path(rec, out.cwd, out.binary);
	FUZZ_CHECK(memchr(out.binary, '\0', sizeof(out.binary)));
	FUZZ_CHECK(!memcmp(out.guard, guard, GUARD));
	records_exec_binary(rec, out.binary);
	FUZZ_CHECK(memchr(out.binary, '\0', sizeof(out.binary)));
	FUZZ_CHECK(!memcmp(out.guard, guard, GUARD));
}

static int on_proc(void *ctx, const struct ct_proc_event *e)
{
	struct sinks *s = ctx;

	if (e->type == CT_REC_EXEC)
		decode_exec(e);
	(void)identity_apply(s->id, e);
	(void)images_apply(s->images, e);
	return 0;
}

static int on_cap(void *ctx, const struct ct_cap_event *e)
{
	struct sinks *s = ctx;
	struct identity_view *view = malloc(sizeof(*view));
	const struct image *img;
	struct workload w;

	FUZZ_CHECK(view);
	identity_resolve(s->id, e, view);
	/* What output_event() reads: NUL-terminated where not NULL (unknown). */
	FUZZ_CHECK(!view->ev.process.binary || strlen(view->ev.process.binary) < (1u << 16));
	FUZZ_CHECK(!view->ev.process.arguments || strlen(view->ev.process.arguments) < (1u << 16));
	FUZZ_CHECK(!view->ev.process.cwd || strlen(view->ev.process.cwd) < (1u << 16));
	free(view);
	img = images_find(s->images, e->pid, 0);
	if (img)
		(void)image_is_runtime_start(img, e->cgroup_id, 0);
	identity_workload(s->id, e->cgroup_id, e->pid, img ? img->binary : NULL, &w);
	return 0;
}

/* A privilege record keeps capabilities a profile can name. */
static int on_priv(void *ctx, const struct ct_priv_event *e)
{
	struct records_priv priv;

	(void)ctx;
	records_priv(e, &priv);
	FUZZ_CHECK(!priv.exec_gain || e->kind == CT_PRIV_EXEC);
	return 0;
}

/* The syscall's arguments and data come from the workload. */
static int on_object(void *ctx, const struct ct_object_event *e)
{
	char text[OBJECTS_TEXT_LEN];

	(void)ctx;
	if (!objects_render(e, text))
		FUZZ_CHECK(memchr(text, '\0', sizeof(text)));
	return 0;
}

static size_t record_size(const uint8_t *data, size_t size)
{
	uint32_t type;

	if (size < sizeof(type))
		return size;
	memcpy(&type, data, sizeof(type));
	switch (type) {
	case CT_REC_CAP:
		return sizeof(struct ct_cap_event);
	case CT_REC_EXEC:
	case CT_REC_FORK:
	case CT_REC_EXIT:
		return sizeof(struct ct_proc_event);
	case CT_REC_PRIV:
		return sizeof(struct ct_priv_event);
	case CT_REC_OBJECT:
		return sizeof(struct ct_object_event);
	default:
		return size;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("records");
	static char proc[256], cgroupfs[256];

	(void)argc;
	(void)argv;
	fuzz_mkdirs(dir, "proc", proc, sizeof(proc));
	fuzz_mkdirs(dir, "cgroupfs", cgroupfs, sizeof(cgroupfs));
	roots = (struct container_roots){ .proc = proc, .cgroupfs = cgroupfs };
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity_opts opts = {
		.proc_root = roots.proc,
		.node_name = "fuzz",
		.max_processes = 64,
		.max_containers = 16,
		.container_roots = &roots,
	};
	struct sinks s = { 0 };
	struct records_handlers h = {
		.on_cap = on_cap, .on_proc = on_proc, .on_priv = on_priv,
		.on_object = on_object, .ctx = &s,
	};
	struct ct_agg_key key;
	struct ct_agg_value value;
	struct ct_outcome outcome;
	struct check c;

	if (size >= sizeof(key) + sizeof(value) + sizeof(outcome)) {
		memcpy(&key, data, sizeof(key));
		memcpy(&value, data + sizeof(key), sizeof(value));
		memcpy(&outcome, data + sizeof(key) + sizeof(value), sizeof(outcome));
		records_check(&key, &value, &outcome, &c);
		FUZZ_CHECK(c.audit == CHECK_AUDITED || c.audit == CHECK_NOAUDIT ||
			   c.audit == CHECK_AUDIT_UNKNOWN);
	}
	FUZZ_CHECK(!identity__new(&opts, &s.id) && !images__new(256, &s.images));
	while (size) {
		size_t n = record_size(data, size);
		uint8_t *rec;

		n = n < size ? n : size;
		/* A copy of exactly the record: ASan sees a read past its end. */
		rec = malloc(n);
		FUZZ_CHECK(rec);
		memcpy(rec, data, n);
		(void)records_dispatch(&h, rec, n);
		free(rec);
		data += n;
		size -= n;
	}
	images__free(s.images);
	identity__free(s.id);
	return 0;
}
