#include "cmd/cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <bpf/libbpf.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "lib/caps.h"
#include "lib/text.h"

static volatile sig_atomic_t *stop_flag, *hangup_flag;

/* Every message is one line whatever it quotes (a path, a pod name, a
 * request, a notice from the agent): escaped here, and only here. */
#define MESSAGE_MAX 1024

static void report(const char *cmd, const char *kind, int err, const char *fmt, va_list ap)
{
	char line[MESSAGE_MAX + 1], text[TEXT_BUF(MESSAGE_MAX)];

	vsnprintf(line, sizeof(line), fmt, ap);
	text_render(text, sizeof(text), line, MESSAGE_MAX, TEXT_LINE, NULL);
	if (err)
		fprintf(stderr, "captrail %s: %s%s: %s\n", cmd, kind, text, strerror(-err));
	else
		fprintf(stderr, "captrail %s: %s%s\n", cmd, kind, text);
}

void cmd_say(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cmd, "", 0, fmt, ap);
	va_end(ap);
}

void cmd_warn(const char *cmd, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cmd, "warning: ", err, fmt, ap);
	va_end(ap);
}

int cmd_fail(const char *cmd, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cmd, "", err, fmt, ap);
	va_end(ap);
	return EXIT_RUNTIME;
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(cmd, "", 0, fmt, ap);
	va_end(ap);
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

int cmd_load_failed(const char *cmd, int err, const struct loader_report *report)
{
	char why[HOOK_COUNT * (HOOK_WHY_LEN + 16)] = "";
	size_t len = 0;

	for (size_t i = 0; report && i < report->n_tried; i++)
		len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%s: %s", i ? "; " : "",
					hook_name(report->tried[i].hook), report->tried[i].why);
	if (!len)
		return cmd_fail(cmd, err, "cannot load the BPF programs");
	return cmd_fail(cmd, 0, "cannot load the BPF programs: %s%s", why,
			err == -EPERM ? " (refused: tracing needs root, or CAP_BPF and CAP_PERFMON, "
					"and the kernel's policy may refuse a hook)" :
					"");
}

const char *cmd_hook_note(const struct loader_report *report)
{
	static __thread char note[64];

	snprintf(note, sizeof(note), " (hook %s)", hook_name(report->used));
	return note;
}

void cmd_say_hooks(const char *cmd, const struct loader_report *report, bool verbose)
{
	for (size_t i = 0; verbose && i < report->n_tried; i++)
		if (report->tried[i].err)
			cmd_say(cmd, "hook %s not used: %s", hook_name(report->tried[i].hook),
				report->tried[i].why);
}

int cmd_hook_option(const char *cmd, const char *text, enum hook *ret_hook)
{
	if (hook_parse(text, ret_hook))
		return cmd_usage_error(cmd, "unknown hook '%s' (auto, tracepoint, fexit, kprobe)",
				       text);
	return -1;
}

int cmd_rings_failed(const char *cmd, struct rings *rings)
{
	const char *why = "?";
	int err = rings_failure(rings, &why);

	return cmd_fail(cmd, err, "cannot change captrail's capabilities to %s", why);
}

int cmd_exit_code(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return EXIT_RUNTIME;
}

static void on_stop_signal(int sig)
{
	*stop_flag = sig;
}

int cmd_catch_stop_signals(volatile sig_atomic_t *flag)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct sigaction ignore = { .sa_handler = SIG_IGN };

	stop_flag = flag;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&ignore.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGPIPE, &ignore, NULL))
		return -errno;
	return 0;
}

static void on_hangup(int sig)
{
	(void)sig;
	*hangup_flag = 1;
}

int cmd_catch_hangup(volatile sig_atomic_t *flag)
{
	struct sigaction sa = { .sa_handler = on_hangup };

	hangup_flag = flag;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGHUP, &sa, NULL) ? -errno : 0;
}

int cmd_parse_options(const struct cmd_options *o, int argc, char **argv, int *ret_operand)
{
	char shortopts[64];
	int opt, rc;

	/* '+': stop at the first operand, which starts the command to run. */
	snprintf(shortopts, sizeof(shortopts), "%s:%s", o->operands ? "+" : "", o->shortopts);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, o->longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': o->usage(stdout); return EXIT_OK;
		case ':': return cmd_usage_error(o->cmd, "option '%s' needs a value", argv[optind - 1]);
		case '?': return cmd_usage_error(o->cmd, "unknown option '%s'", argv[optind - 1]);
		}
		rc = o->parse(o->ctx, opt, optarg);
		if (rc >= 0)
			return rc;
	}
	if (!o->operands && !o->files && optind < argc)
		return cmd_usage_error(o->cmd, "unexpected argument '%s'", argv[optind]);
	*ret_operand = optind;
	return -1;
}

int cmd_filter_option(const char *cmd, struct evfilter **filter, enum evfilter_field field,
		      const char *value)
{
	char why[256];
	int err;

	if (!*filter && (err = evfilter__new(filter)))
		return cmd_fail(cmd, err, "cannot set up the filter");
	err = field == EVFILTER_FIELDS ? evfilter_set_host(*filter, true, why, sizeof(why)) :
					 evfilter_add_list(*filter, field, value, why, sizeof(why));
	if (err == -EINVAL)
		return cmd_usage_error(cmd, "%s", why);
	if (err)
		return cmd_fail(cmd, err, "cannot set up the filter");
	return -1;
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

int cmd_caps_option(const char *cmd, const char *option, const char *text, uint64_t *ret_mask)
{
	char closest[CAPS_NAME_LEN];
	const char *bad = NULL;
	int err = caps_parse_list(text, ret_mask, &bad);

	if (!err)
		return -1;
	if (err != -EINVAL)
		return cmd_fail(cmd, err, "cannot read %s", option);
	if (!bad)
		return cmd_usage_error(cmd, "%s needs a list of capabilities", option);
	caps_closest(bad, closest);
	return cmd_usage_error(cmd, "unknown capability '%s' (did you mean %s?)", bad, closest);
}

int cmd_seconds_option(const char *cmd, const char *what, const char *text, double *ret_seconds)
{
	if (cli_parse_seconds(text, ret_seconds))
		return cmd_usage_error(cmd, "invalid %s '%s' (seconds, %g to %.0f: a year)", what,
				       text, CLI_SECONDS_MIN, CLI_SECONDS_MAX);
	return -1;
}

int cmd_format_option(const char *cmd, const char *text, enum profile_format *ret_format)
{
	if (profile_format_parse(text, ret_format))
		return cmd_usage_error(cmd, "unknown format '%s' (text, json, k8s, docker, compose, "
					    "systemd, oci)",
				       text);
	return -1;
}

int cmd_store_open_failed(const char *cmd, const char *path, int err)
{
	switch (err) {
	case -EUCLEAN:
		/* A -wal file left beside a new store would be replayed into it. */
		return cmd_fail(cmd, 0, "cannot open store %s: it is corrupt (PRAGMA quick_check "
					"failed): move it and its -wal and -shm files aside (e.g. "
					"to %s.corrupt); the agent then starts a new store",
				path, path);
	case -EBADMSG:
		return cmd_fail(cmd, 0, "cannot open store %s: not a captrail store (another "
					"program's file, or its header is damaged): move it aside, or "
					"name another with --db",
				path);
	case -EPROTO:
		return cmd_fail(cmd, 0, "cannot open store %s: written by a newer captrail", path);
	default:
		return cmd_fail(cmd, err, "cannot open store %s", path);
	}
}

int cmd_write_profiles(const char *cmd, const char *path, struct profile *const *profiles,
		       size_t n, enum profile_format format)
{
	FILE *out = stdout;
	int err;

	if (path) {
		out = fopen(path, "we");
		if (!out)
			return cmd_fail(cmd, -errno, "cannot write '%s'", path);
	}
	err = profile_render_list(profiles, n, format, out);
	if (out != stdout && fclose(out) && !err)
		err = -errno;
	if (err)
		return cmd_fail(cmd, err, "cannot write the profile");
	return EXIT_OK;
}

static void log_ring_change(void *data, const char *line)
{
	cmd_say(data, "%s", line);
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
	cfg->log_data = (void *)cmd;
	/* While CAP_SYS_RESOURCE may still be ours: kernels before 5.11 charge
	 * BPF maps to it. Where it is not, they need not. */
	(void)loader_raise_memlock();
	needed |= cfg->ebpf_extra;
	if (rings__new(cfg, needed | rings_need_ebpf(cfg->procfs_root), ret_rings, &error)) {
		caps_mask_names(error.caps, ",", names, sizeof(names));
		return cmd_fail(cmd, error.err, "cannot %s %s (--capabilities bypass=true runs with "
						"every capability)",
				error.op, names);
	}
	if (cfg->bypass)
		cmd_say(cmd, "capabilities bypass: every capability stays effective");
	return -1;
}
