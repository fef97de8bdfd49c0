#include "cmd/cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cmd/commands.h"
#include "lib/caps.h"

static volatile sig_atomic_t *stop_flag;

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "captrail %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static int libbpf_print_all(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cmd_libbpf_output(bool verbose)
{
	libbpf_set_print(verbose ? libbpf_print_all : libbpf_print_warnings);
}

void cmd_report_load_error(int err)
{
	if (err == -EOPNOTSUPP)
		fprintf(stderr, "captrail: this kernel has no capability:cap_capable tracepoint "
				"(needs Linux 6.14 or later with BTF); no fallback hook is available\n");
	else
		fprintf(stderr, "captrail: cannot load the BPF programs: %s%s\n", strerror(-err),
			err == -EPERM ? " (needs root, or CAP_BPF and CAP_PERFMON)" : "");
}

static void on_stop_signal(int sig)
{
	(void)sig;
	*stop_flag = 1;
}

int cmd_catch_stop_signals(volatile sig_atomic_t *flag)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	stop_flag = flag;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	return 0;
}

int cmd_rings_option(const char *cmd, struct rings_config *cfg, const char *text)
{
	char detail[RINGS_DETAIL_LEN];

	if (rings_config_parse_option(cfg, text, detail))
		return cmd_usage_error(cmd, "%s", detail);
	return -1;
}

int cmd_user_option(const char *cmd, struct confine_spec *spec, const char *text)
{
	if (confine_lookup_user(text, &spec->uid, &spec->gid))
		return cmd_usage_error(cmd, "unknown user '%s'", text);
	spec->set_user = true;
	return -1;
}

int cmd_group_option(const char *cmd, struct confine_spec *spec, const char *text)
{
	if (confine_lookup_group(text, &spec->gid))
		return cmd_usage_error(cmd, "unknown group '%s'", text);
	spec->set_group = true;
	return -1;
}

static void log_ring_change(void *data, const char *line)
{
	(void)data;
	fprintf(stderr, "captrail: %s\n", line);
}

int cmd_rings_start(const char *cmd, struct rings_config *cfg, bool verbose, uint64_t needed,
		    struct rings **ret_rings)
{
	char detail[RINGS_DETAIL_LEN], names[1024];
	struct rings_error error = {};

	if (rings_config_from_env(cfg, getenv, detail))
		return cmd_usage_error(cmd, "%s", detail);
	cfg->verbose = verbose;
	cfg->log = log_ring_change;
	if (rings__new(cfg, needed | rings_need_ebpf(cfg->procfs_root), ret_rings, &error)) {
		caps_mask_names(error.caps, ",", names, sizeof(names));
		fprintf(stderr,
			"captrail: cannot %s %s: %s (--capabilities bypass=true runs with every "
			"capability)\n",
			error.op, names, strerror(-error.err));
		return EXIT_RUNTIME;
	}
	if (cfg->bypass)
		fprintf(stderr, "captrail: capabilities bypass: every capability stays effective\n");
	return -1;
}

void cmd_proc_miss_ring(void *rings, bool begin)
{
	if (begin)
		rings_enter_specific(rings, RINGS_NEED_PROC, "read a process missing from the cache");
	else
		rings_leave(rings);
}
