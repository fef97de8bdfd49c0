#!/usr/bin/python3
"""captrail overhead benchmark; run through bench/run.sh (see README.md).

Every tracer row is measured in the same run, interleaved round by round
(A B C ... then again, each round rotated by one so that no row always runs
right after the same neighbour), and summarised by medians: the machines are
shared and noisy, so only ratios between rows of one run mean anything.

Standard library only. Configuration comes from the environment (run.sh).
"""

import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ENV = os.environ
BUILD = ENV.get("BUILD", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "build")))
BENCH_BIN = os.path.join(BUILD, "bench")
CAPTRAIL = ENV.get("CAPTRAIL", os.path.join(BUILD, "captrail"))
BPFTRACE = ENV.get("BPFTRACE", "bpftrace")
RESULTS = ENV.get("BENCH_RESULTS", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "results.json"))
ROUNDS = int(ENV.get("BENCH_ROUNDS", "9"))
N = int(ENV.get("BENCH_N", "300000"))
MIXED_N = int(ENV.get("BENCH_MIXED_N", "500"))
STREAM_SECS = float(ENV.get("BENCH_STREAM_SECS", "5"))
STREAM_RUNS = int(ENV.get("BENCH_STREAM_RUNS", "3"))
STREAM_RATE = int(ENV.get("BENCH_STREAM_RATE", "300000"))
STARTUP_RUNS = int(ENV.get("BENCH_STARTUP_RUNS", "7"))
PROCS = int(ENV.get("BENCH_PROCS", "10000"))
TOGGLE_RUNS = int(ENV.get("BENCH_TOGGLE_RUNS", "3"))
TOGGLE_SECS = float(ENV.get("BENCH_TOGGLE_SECS", "20"))
ONLY = [r for r in ENV.get("BENCH_ROWS", "").split(",") if r]
SKIP = set(s for s in ENV.get("BENCH_SKIP", "").split(",") if s)

READY_TIMEOUT = 60  # seconds for a tracer to attach
STOP_TIMEOUT = 60   # seconds for a tracer to exit after SIGINT
# Waiting for other sessions' tracers to go: per measurement, and in all.
QUIET_WAIT = float(ENV.get("BENCH_QUIET_WAIT", "20"))
QUIET_BUDGET = [float(ENV.get("BENCH_QUIET_BUDGET", "120"))]
BPFTOOL = ENV.get("BPFTOOL", "bpftool")
TRACING_LINKS = ("raw_tracepoint", "tracing", "perf_event", "kprobe_multi", "uprobe_multi")
SETTLE = 0.3        # seconds after the workload so a streaming tracer drains its ring
MIB = 1024 * 1024

TARGETS = {
    "agg_x_floor": 1.5,
    "agg_x_bpftrace": 0.5,
    "stream_events_per_s": 250000,
    "stream_x_bpftrace": 0.25,
    "startup_s": 0.5,
    "rss_10k_mib": 32,
}

BT_COUNT = "tracepoint:capability:cap_capable { @[args->cap] = count(); }"
BT_PRINTF = ('tracepoint:capability:cap_capable '
             '{ printf("%d %d %s %d %d\\n", pid, tid, comm, args->cap, args->ret); }')

CAPTRAIL_READY = re.compile(r"^captrail [a-z]+: ready")
# bpftrace prints "Attaching N probes..." before it attaches, and drops a
# SIGINT that arrives in between; the variable below (used by bpftrace's own
# runtime tests) makes it say on stderr when the probes really are attached.
BPFTRACE_READY = re.compile(r"^__BPFTRACE_NOTIFY_PROBES_ATTACHED")
FLOOR_READY = re.compile(r"^floor: ready")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Row:
    """One way of running the workload: bare, wrapped, or beside a tracer."""

    def __init__(self, key, label, kind, argv=None, ready=None, group=None, why_not=None,
                 bpftrace=False, stdout="count"):
        self.key = key
        self.label = label
        self.kind = kind      # "none", "background" or "wrap"
        self.argv = argv
        self.ready = ready
        self.group = group    # "agg" or "stream": which bpftrace row it is compared with
        self.why_not = why_not  # set when the row cannot run here
        self.bpftrace = bpftrace
        self.stdout = stdout  # "count" (lines read by the harness) or "null" (/dev/null)


def captrail_has(args, needle=None):
    """True when `captrail ARGS --help` succeeds (and mentions needle)."""
    if not os.access(CAPTRAIL, os.X_OK):
        return False
    try:
        p = subprocess.run([CAPTRAIL] + args + ["--help"], capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0 and (needle is None or needle in p.stdout + p.stderr)


def make_rows():
    have_bt = subprocess.run(["sh", "-c", "command -v " + BPFTRACE],
                             capture_output=True).returncode == 0
    bt_tp = os.path.exists("/sys/kernel/tracing/events/capability/cap_capable")
    bt_why = None if have_bt and bt_tp else (
        "bpftrace not installed" if not have_bt else "no tracefs capability:cap_capable")
    no_ct = "no captrail binary at " + CAPTRAIL
    rec = captrail_has(["record"])
    trace = captrail_has(["trace"])
    agent = captrail_has(["agent"])
    rows = [
        Row("none", "no tracer", "none"),
        Row("floor", "floor (empty tp_btf prog)", "background",
            [os.path.join(BENCH_BIN, "floor")], FLOOR_READY),
        Row("record", "captrail record", "wrap", [CAPTRAIL, "record", "--"], CAPTRAIL_READY,
            "agg", None if rec else (no_ct if not os.access(CAPTRAIL, os.X_OK)
                                     else "no 'captrail record'")),
        # Relative paths: each tracer runs in the run's scratch directory.
        Row("agent", "captrail agent", "background",
            [CAPTRAIL, "agent", "--db", "agent.db", "--socket", "agent.sock"], CAPTRAIL_READY,
            "agg", None if agent else "no 'captrail agent'"),
        # To /dev/null as the target says: a harness reading 500,000 JSON
        # lines a second would be the bottleneck; captrail's own summary
        # counts what it delivered.
        Row("stream", "captrail trace -o json", "background",
            [CAPTRAIL, "trace", "-o", "json"], CAPTRAIL_READY, "stream",
            None if trace else "no 'captrail trace'", stdout="null"),
        Row("bt_count", "bpftrace count()", "background", [BPFTRACE, "-e", BT_COUNT],
            BPFTRACE_READY, "agg", bt_why, bpftrace=True),
        Row("bt_printf", "bpftrace printf", "background", [BPFTRACE, "-e", BT_PRINTF],
            BPFTRACE_READY, "stream", bt_why, bpftrace=True),
    ]
    for r in rows:
        if ONLY and r.key not in ONLY and r.key != "none":
            r.why_not = "not in BENCH_ROWS"
    return rows


def proc_sample(pid):
    """CPU seconds (utime+stime, all threads), VmHWM and VmRSS in KiB."""
    out = {"cpu_s": None, "hwm_kb": None, "rss_kb": None}
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    out["hwm_kb"] = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    out["rss_kb"] = int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return out


LOST_LINE = re.compile(rb"^Lost (\d+) events")


class Sink(threading.Thread):
    """Reads a tracer's stdout and only counts lines, like `wc -l`; keeps the
    first KEEP bytes for parsing (bpftrace's count map)."""

    KEEP = 1 << 20

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.fd = fd
        self.lines = 0
        self.meta = 0     # lines that are not events: bpftrace's chatter, blank lines
        self.bt_lost = 0  # bpftrace's "Lost N events"
        self.kept = bytearray()

    def run(self):
        carry = b""
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            block, carry = data[:cut], data[cut:]
            self.lines += block.count(b"\n")
            # Only blocks that may hold chatter are split into lines.
            if b"Attaching " in block or b"Lost " in block or b"\n\n" in block \
                    or block.startswith(b"\n"):
                for line in block.split(b"\n")[:-1]:
                    m = LOST_LINE.match(line)
                    if m:
                        self.bt_lost += int(m.group(1))
                    if m or not line or line.startswith(b"Attaching "):
                        self.meta += 1
            if len(self.kept) < self.KEEP:
                self.kept += block[:self.KEEP - len(self.kept)]
        os.close(self.fd)

    def text(self):
        return self.kept.decode("utf-8", "replace")


class Stderr(threading.Thread):
    def __init__(self, fd, ready):
        super().__init__(daemon=True)
        self.fd = fd
        self.ready_re = ready
        self.lines = []
        self.ready = threading.Event()
        self.ready_at = None

    def run(self):
        with os.fdopen(self.fd, "r", errors="replace") as f:
            for line in f:
                if len(self.lines) < 1000:
                    self.lines.append(line.rstrip("\n"))
                if self.ready_re and not self.ready.is_set() and self.ready_re.search(line):
                    self.ready_at = time.monotonic()
                    self.ready.set()
        self.ready.set()  # EOF: stop waiting either way


class Tracer:
    """A background tracer: start, wait for its readiness line, sample, stop."""

    def __init__(self, argv, ready, stdout="count", cwd=None):
        self.argv = argv
        self.ready_re = ready
        self.stdout_mode = stdout
        self.cwd = cwd
        self.proc = None
        self.sink = None

    def start(self):
        env = dict(ENV, __BPFTRACE_NOTIFY_PROBES_ATTACHED="1")
        err_r, err_w = os.pipe()
        out_r = out_w = None
        stdout = subprocess.DEVNULL
        if self.stdout_mode == "count":
            out_r, out_w = os.pipe()
            stdout = out_w
        self.t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=stdout,
                                         stderr=err_w, cwd=self.cwd, env=env,
                                         start_new_session=True)
        finally:
            os.close(err_w)
            if out_w is not None:
                os.close(out_w)
        self.err = Stderr(err_r, self.ready_re)
        self.err.start()
        if out_r is not None:
            self.sink = Sink(out_r)
            self.sink.start()
        if not self.err.ready.wait(READY_TIMEOUT) or self.err.ready_at is None:
            self.stop()
            raise RuntimeError("%s did not become ready: %s" % (
                os.path.basename(self.argv[0]), " | ".join(self.err.lines[-3:]) or "no output"))
        return self.err.ready_at - self.t0

    def sample(self):
        return proc_sample(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            # A second SIGINT covers a tracer that was still setting up its
            # handler; SIGKILL covers one that hangs.
            for sig, wait in ((signal.SIGINT, STOP_TIMEOUT / 2), (signal.SIGINT, STOP_TIMEOUT / 2),
                              (signal.SIGKILL, 10)):
                try:
                    self.proc.send_signal(sig)
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.err.join(10)
        if self.sink:
            self.sink.join(30)
        return self.proc.returncode

    def stderr_text(self):
        return "\n".join(self.err.lines)


def parse_kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            out[k] = v
    return out


def num(pattern, text):
    m = re.search(pattern, text, re.I)
    return int(m.group(1)) if m else None


def captrail_summary(text):
    """Loose parse of captrail's exit summary ("N checks seen, ... N lost")."""
    lost = num(r"(\d+)\s+lost", text)
    if lost is None:
        lost = num(r"lost[:= ]+(\d+)", text)
    return {"seen": num(r"(\d+)\s+checks\s+seen", text), "lost": lost}


def run_workload(wl, extra_prefix=None, parent=False, cwd=None):
    """Runs a workload, optionally wrapped; returns its key=value results and
    the wrapper's stdout+stderr."""
    fd, res = tempfile.mkstemp(prefix="captrail-bench-", suffix=".txt")
    os.close(fd)
    argv = list(extra_prefix or []) + wl.argv + ["-o", res] + (["-p"] if parent else [])
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", cwd=cwd, timeout=wl.timeout)
        kv = parse_kv(res) if os.path.getsize(res) else {}
        if not kv:
            raise RuntimeError("workload failed (exit %d): %s" % (
                p.returncode, (p.stderr.strip().splitlines() or ["no output"])[-1]))
        return kv, p.stdout + p.stderr, p.returncode
    finally:
        os.unlink(res)


class Workload:
    def __init__(self, key, argv, unit_ns, unit, timeout):
        self.key = key
        self.argv = argv
        self.unit_ns = unit_ns  # 1 for ns/op, 1000 for µs/iteration
        self.unit = unit
        self.timeout = timeout


def foreign_tracers(exclude=()):
    """BPF tracing attachments this run did not make: another session's
    tracer on any hook slows the untraced baseline as much as the rows.
    Processes holding one are listed by pid; links pinned without a process
    are counted."""
    def bpftool(*args):
        p = subprocess.run([BPFTOOL, "-j"] + list(args), capture_output=True, text=True,
                           timeout=10)
        return json.loads(p.stdout or "[]")
    try:
        perf, links = bpftool("perf", "list"), bpftool("link", "list")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return []  # cannot tell: assume quiet rather than stall the run
    found, held = [], set()
    for e in perf:
        held.add(e.get("prog_id"))
        if e.get("pid") in exclude:
            continue
        try:
            with open("/proc/%d/comm" % e["pid"]) as f:
                comm = f.read().strip()
        except (OSError, KeyError, TypeError):
            comm = "?"
        what = e.get("tracepoint") or e.get("func") or e.get("fd_type")
        found.append("pid %s %s on %s" % (e.get("pid"), comm, what))
    pinned = [lk for lk in links if lk.get("type") in TRACING_LINKS
              and lk.get("prog_id") not in held]
    if pinned:
        found.append("%d pinned tracing link(s)" % len(pinned))
    return sorted(set(found))


def wait_quiet():
    """Waits a while for other tracers to go; returns the ones still there."""
    t0 = time.monotonic()
    deadline = t0 + min(QUIET_WAIT, QUIET_BUDGET[0])
    found = foreign_tracers()
    if found:
        log("  other BPF tracers attached: " + "; ".join(found))
    while found and time.monotonic() < deadline:
        time.sleep(0.5)
        found = foreign_tracers()
    QUIET_BUDGET[0] -= time.monotonic() - t0
    if found:
        log("  measuring anyway (marked in results.json)")
    return found


def measure(row, wl, workdir):
    """One run of wl under row; returns a sample dict."""
    s = {"value": None}
    if row.kind == "none":
        kv, _, _ = run_workload(wl)
        s["value"] = float(kv["ns_per_op"])
        s["ops"] = int(kv["ops"])
        return s
    if row.kind == "wrap":
        kv, text, rc = run_workload(wl, row.argv, parent=True, cwd=workdir)
        s["value"] = float(kv["ns_per_op"])
        s["ops"] = int(kv["ops"])
        if kv.get("parent_comm", "").startswith("captrail"):
            s["cpu_s"] = float(kv["parent_cpu_s"])
            s["hwm_kb"] = int(kv["parent_hwm_kb"])
        sm = captrail_summary(text)
        s["delivered"], s["lost"] = sm["seen"], sm["lost"]
        s["exit"] = rc
        s["foreign"] = foreign_tracers()
        return s
    t = Tracer(row.argv, row.ready, stdout=row.stdout, cwd=workdir)
    s["start_s"] = t.start()
    try:
        before = t.sample()
        kv, _, _ = run_workload(wl)
        time.sleep(SETTLE)
        after = t.sample()
        s["foreign"] = foreign_tracers(exclude={t.proc.pid})
    finally:
        s["exit"] = t.stop()
    s["value"] = float(kv["ns_per_op"])
    s["ops"] = int(kv["ops"])
    if before["cpu_s"] is not None and after["cpu_s"] is not None:
        s["cpu_s"] = after["cpu_s"] - before["cpu_s"]
    s["hwm_kb"] = after["hwm_kb"]
    err = t.stderr_text()
    if row.bpftrace:
        out = t.sink.text()
        if "count()" in row.label:
            counts = re.findall(r"^@\[\d+\]: (\d+)$", out, re.M)
            s["delivered"] = sum(int(c) for c in counts) if counts else None
            s["lost"] = t.sink.bt_lost + (num(r"Lost (\d+) events", err) or 0)
        else:
            s["delivered"] = t.sink.lines - t.sink.meta
            s["lost"] = t.sink.bt_lost + (num(r"Lost (\d+) events", err) or 0)
    elif row.key in ("stream", "agent"):
        sm = captrail_summary(err)
        s["delivered"], s["lost"] = sm["seen"], sm["lost"]
    return s


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def run_table(wl, rows, workdir):
    """Rounds of (none, A), (none, B), ...: every tracer run is bracketed by
    the untraced runs right before and right after it, and compared with
    their mean, so slow drifts of the machine's load cancel out of the added
    cost (a drift within the bracket cancels to first order; comparing with
    the run before only, it did not)."""
    log("== %s: %d rounds" % (wl.key, ROUNDS))
    run_workload(wl)  # warm-up: page cache, branch predictors, CPU frequency
    live = [r for r in rows if not r.why_not and r.kind != "none"]
    samples = {r.key: [] for r in rows}
    errors = {}
    for rnd in range(ROUNDS):
        order = live[rnd % len(live):] + live[:rnd % len(live)] if live else []
        for r in order:
            try:
                quiet = wait_quiet()
                base = measure(rows[0], wl, workdir)
                base["foreign"] = quiet
                samples["none"].append(base)
                s = measure(r, wl, workdir)
            except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError,
                    ValueError) as e:
                errors.setdefault(r.key, str(e))
                log("  round %d %-32s error: %s" % (rnd + 1, r.label, e))
                continue
            s["base"] = base["value"]
            s["base_index"] = len(samples["none"]) - 1
            s["foreign"] = sorted(set(s.get("foreign", []) + quiet))
            samples[r.key].append(s)
            log("  round %d %-32s %10.1f %s (untraced %.1f)" % (
                rnd + 1, r.label, s["value"] / wl.unit_ns, wl.unit, base["value"] / wl.unit_ns))
    try:
        samples["none"].append(measure(rows[0], wl, workdir))  # closes the last bracket
    except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError, ValueError):
        pass
    bracket(rows, samples)
    return summarise(wl, rows, samples, errors)


def bracket(rows, samples):
    """Each traced run's base becomes the mean of the untraced runs on either
    side of it (the one after is the next pair's, or the closing run)."""
    untraced = samples["none"]
    for r in rows:
        if r.key == "none":
            continue
        for s in samples[r.key]:
            i = s.pop("base_index", None)
            if i is not None and i + 1 < len(untraced):
                s["base"] = (untraced[i]["value"] + untraced[i + 1]["value"]) / 2


def summarise(wl, rows, samples, errors):
    out = {}
    for r in rows:
        ss = samples[r.key]
        vals = [s["value"] for s in ss]
        added = [s["value"] - s["base"] for s in ss if "base" in s]
        done = [s for s in ss if s]
        delivered = [s["delivered"] for s in done if s.get("delivered") is not None]
        lost = [s["lost"] for s in done if s.get("lost") is not None]
        out[r.key] = {
            "label": r.label,
            "available": r.why_not is None,
            "why_not": r.why_not,
            "error": errors.get(r.key),
            "group": r.group,
            "samples": ss,
            "value_ns": med(vals),
            "added_ns": med(added) if r.key != "none" else 0.0,
            "runs": len(done),
            "runs_with_other_tracers": sum(1 for s in done if s.get("foreign")),
            # Totals over all runs, so that one lossy run cannot hide in a median.
            "delivered_total": sum(delivered) if delivered else None,
            "delivered_median": med(delivered),
            "lost_total": sum(lost) if lost else None,
            "cpu_s": med([s.get("cpu_s") for s in ss if s]),
            "hwm_kb": med([s.get("hwm_kb") for s in ss if s]),
            "start_s": med([s.get("start_s") for s in ss if s]),
        }
    floor = out["floor"]["added_ns"]
    for r in rows:
        o = out[r.key]
        o["x_floor"] = ratio(o["added_ns"], floor) if r.key not in ("none", "floor") else None
        ref = {"agg": "bt_count", "stream": "bt_printf"}.get(r.group)
        o["x_bpftrace"] = (ratio(o["added_ns"], out[ref]["added_ns"])
                           if ref and not r.bpftrace else None)
    return {"workload": wl.key, "argv": wl.argv, "unit": wl.unit, "rounds": ROUNDS,
            "rows": out}


def ratio(a, b):
    # A non-positive denominator is noise swamping the reference: no ratio.
    if a is None or b is None or b <= 0:
        return None
    return a / b


def fmt(v, spec, na="n/a"):
    return na if v is None else format(v, spec)


def print_table(res, wl):
    rows = res["rows"]
    u = wl.unit
    head = ("%-32s %10s %10s %8s %10s %10s %9s %7s %8s %7s" %
            ("tracer", u, "+" + u, "x floor", "x bpftrace", "delivered", "lost", "CPU s",
             "RSS MiB", "start s"))
    print(head)
    print("-" * len(head))
    for key, o in rows.items():
        if not o["available"] or o["value_ns"] is None:
            why = o["why_not"] or o["error"] or "no data"
            print("%-32s %10s   (%s)" % (o["label"], "n/a", why))
            continue
        d = wl.unit_ns
        print("%-32s %10s %10s %8s %10s %10s %9s %7s %8s %7s" % (
            o["label"], fmt(o["value_ns"] / d, ".1f"),
            fmt(o["added_ns"] / d if key != "none" else None, "+.1f", "-"),
            fmt(o["x_floor"], ".2f", "-" if key in ("none", "floor") else "n/a"),
            fmt(o["x_bpftrace"], ".2f", "-" if not o["group"] or key.startswith("bt_")
                else "n/a"),
            fmt(o["delivered_total"], ".0f", "-" if key in ("none", "floor") else "n/a"),
            fmt(o["lost_total"], "d", "-" if key in ("none", "floor") else "n/a"),
            fmt(o["cpu_s"], ".2f", "-" if key == "none" else "n/a"),
            fmt(o["hwm_kb"] / 1024 if o["hwm_kb"] is not None else None, ".1f",
                "-" if key == "none" else "n/a"),
            fmt(o["start_s"], ".2f", "-")))
    dirty = ["%s %d/%d" % (o["label"], o["runs_with_other_tracers"], o["runs"])
             for o in rows.values() if o.get("runs_with_other_tracers")]
    if dirty:
        print("warning: other BPF tracers were attached during some runs (see results.json): "
              + ", ".join(dirty))


def stream_run(workdir, rate):
    """capcheck for STREAM_SECS under trace -o json > /dev/null; rate 0 is
    flat out."""
    argv = [os.path.join(BENCH_BIN, "capcheck"), "-d", str(STREAM_SECS)]
    if rate:
        argv += ["-r", str(rate)]
    capcheck = Workload("capcheck", argv, 1, "ns/op", STREAM_SECS + 60)
    quiet = wait_quiet()
    t = Tracer([CAPTRAIL, "trace", "-o", "json"], CAPTRAIL_READY, stdout="devnull", cwd=workdir)
    t.start()
    try:
        kv, _, _ = run_workload(capcheck)
        time.sleep(SETTLE)
        hwm = t.sample()["hwm_kb"]
    finally:
        t.stop()
    sm = captrail_summary(t.stderr_text())
    secs, ops = float(kv["secs"]), int(kv["ops"])
    run = {"rate": rate, "secs": secs, "produced": ops, "delivered": sm["seen"],
           "lost": sm["lost"], "delivered_per_s": sm["seen"] / secs if sm["seen"] is not None else None,
           "hwm_kb": hwm, "foreign": quiet}
    log("  %s: %.0f produced/s, %s delivered, %s lost" % (
        "paced at %d/s" % rate if rate else "flat out", ops / secs, sm["seen"], sm["lost"]))
    return run


def stream_summary(runs):
    lost = [r["lost"] for r in runs if r["lost"] is not None]
    return {"runs": runs,
            "produced_per_s": med([r["produced"] / r["secs"] for r in runs]),
            "delivered_per_s": med([r["delivered_per_s"] for r in runs]),
            "lost": sum(lost) if len(lost) == len(runs) else None,
            # Every check is delivered or counted lost (a few more are other
            # processes' checks seen meanwhile).
            "unaccounted": sum(max(0, r["produced"] - (r["delivered"] or 0) - (r["lost"] or 0))
                               for r in runs)}


def throughput(workdir):
    """The target's steady producer (STREAM_RATE checks/s, above the 250,000
    events/s the target asks for), then the loop flat out, faster than one
    consumer renders JSON on this machine: what is not delivered must be
    counted lost."""
    log("== streaming: %d x %.0f s of capcheck at %d/s, then %d x flat out, under trace -o json "
        "> /dev/null" % (STREAM_RUNS, STREAM_SECS, STREAM_RATE, STREAM_RUNS))
    paced = [stream_run(workdir, STREAM_RATE) for _ in range(STREAM_RUNS)]
    flat = [stream_run(workdir, 0) for _ in range(STREAM_RUNS)]
    return {"secs": STREAM_SECS, "rate": STREAM_RATE, "paced": stream_summary(paced),
            "flat_out": stream_summary(flat)}


def toggled(workdir):
    """The aggregation program against the floor with the links switched
    every 20 ms under one running sethostname() loop (bench/aggtoggle.c):
    run-level comparisons carry the machine's drift between runs, tens of
    ns per check, as large as what is measured."""
    log("== in-kernel cost, toggled: %d x %.0f s of aggtoggle" % (TOGGLE_RUNS, TOGGLE_SECS))
    runs = []
    wl = Workload("aggtoggle", [os.path.join(BENCH_BIN, "aggtoggle"), "-d", str(TOGGLE_SECS)],
                  1, "ns/op", TOGGLE_SECS + 60)
    for _ in range(TOGGLE_RUNS):
        quiet = wait_quiet()
        kv, _, _ = run_workload(wl, cwd=workdir)
        run = {"none_ns": float(kv["none_ns_per_op"]), "floor_added_ns": float(kv["floor_added_ns"]),
               "record_added_ns": float(kv["record_added_ns"]), "cycles": int(kv["cycles"]),
               "record_counted": int(kv["record_counted"]), "foreign": quiet}
        run["x_floor"] = ratio(run["record_added_ns"], run["floor_added_ns"])
        runs.append(run)
        log("  untraced %.1f ns/op, floor %+.1f, record %+.1f (%s x floor), %d cycles, "
            "%d checks counted" % (run["none_ns"], run["floor_added_ns"], run["record_added_ns"],
                                   fmt(run["x_floor"], ".2f"), run["cycles"],
                                   run["record_counted"]))
        if run["record_counted"] == 0:
            raise RuntimeError("captrail's program counted none of the loop's checks")
    floor, rec = med([r["floor_added_ns"] for r in runs]), med([r["record_added_ns"] for r in runs])
    return {"runs": runs, "secs": TOGGLE_SECS, "period_ms": 20, "floor_added_ns": floor,
            "record_added_ns": rec, "x_floor": ratio(rec, floor),
            "x_floor_max": max((r["x_floor"] for r in runs if r["x_floor"] is not None),
                               default=None)}


def startup(workdir):
    log("== start-up: %d runs of trace -o json" % STARTUP_RUNS)
    times = []
    for _ in range(STARTUP_RUNS):
        t = Tracer([CAPTRAIL, "trace", "-o", "json"], CAPTRAIL_READY, stdout="devnull",
                   cwd=workdir)
        times.append(t.start())
        t.stop()
    return {"runs": times, "median_s": med(times), "min_s": min(times), "max_s": max(times)}


def rss_with_procs(workdir):
    log("== trace RSS with %d live processes" % PROCS)
    wait_quiet()
    sp = Tracer([os.path.join(BENCH_BIN, "spawn"), "-k", str(PROCS)],
                re.compile(r"^spawn: ready"), stdout="devnull")
    sp.start()
    try:
        nprocs = sum(1 for d in os.listdir("/proc") if d.isdigit())
        t = Tracer([CAPTRAIL, "trace", "-o", "json"], CAPTRAIL_READY, stdout="devnull",
                   cwd=workdir)
        start_s = t.start()
        try:
            # A few checks from fresh processes, so the cache is exercised too.
            subprocess.run(["sh", "-c", "for i in 1 2 3 4 5; do /bin/true; done"])
            time.sleep(1.0)
            smp = t.sample()
        finally:
            t.stop()
    finally:
        sp.stop()
    return {"procs_alive": nprocs, "start_s": start_s, "hwm_kb": smp["hwm_kb"],
            "rss_kb": smp["rss_kb"]}


def verdict(ok):
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def targets(cap, tog, thr, st, rss):
    rows = cap["rows"] if cap else {}
    rec = rows.get("record", {})
    stream = rows.get("stream", {})
    out = []

    def add(name, value, limit, ok, text):
        out.append({"target": name, "value": value, "limit": limit, "pass": ok, "text": text})

    v = rec.get("x_floor")
    add("aggregation added cost <= 1.5x floor (record runs)", v, TARGETS["agg_x_floor"],
        None if v is None else v <= TARGETS["agg_x_floor"], fmt(v, ".2f") + ("x" if v is not None else ""))
    v = tog.get("x_floor") if tog else None
    worst = tog.get("x_floor_max") if tog else None
    add("aggregation added cost <= 1.5x floor (toggled)", v, TARGETS["agg_x_floor"],
        None if v is None else v <= TARGETS["agg_x_floor"],
        fmt(v, ".2f") + ("x, worst run %sx" % fmt(worst, ".2f") if v is not None else ""))
    v = rec.get("x_bpftrace")
    add("aggregation added cost <= 0.5x bpftrace count()", v, TARGETS["agg_x_bpftrace"],
        None if v is None else v <= TARGETS["agg_x_bpftrace"], fmt(v, ".2f") + ("x" if v is not None else ""))
    paced = thr.get("paced", {}) if thr else {}
    rate, lost = paced.get("delivered_per_s"), paced.get("lost")
    ok = None if rate is None or lost is None else (
        rate >= TARGETS["stream_events_per_s"] and lost == 0)
    add("streaming >= 250,000 events/s with 0 lost", rate, TARGETS["stream_events_per_s"], ok,
        "%s events/s, %s lost" % (fmt(rate, ",.0f"), fmt(lost, "d")))
    flat = thr.get("flat_out", {}) if thr else {}
    left = flat.get("unaccounted")
    add("outrun: every check delivered or counted lost", left, 0,
        None if left is None else left == 0,
        "%s delivered/s of %s produced/s, %s lost, %s unaccounted" % (
            fmt(flat.get("delivered_per_s"), ",.0f"), fmt(flat.get("produced_per_s"), ",.0f"),
            fmt(flat.get("lost"), "d"), fmt(left, "d")))
    v = stream.get("x_bpftrace")
    add("streaming added cost per event <= 0.25x bpftrace printf", v,
        TARGETS["stream_x_bpftrace"], None if v is None else v <= TARGETS["stream_x_bpftrace"],
        fmt(v, ".2f") + ("x" if v is not None else ""))
    v = st.get("median_s") if st else None
    add("start-up <= 0.5 s", v, TARGETS["startup_s"],
        None if v is None else v <= TARGETS["startup_s"], fmt(v, ".3f") + (" s" if v is not None else ""))
    v = rss["hwm_kb"] / 1024 if rss and rss.get("hwm_kb") is not None else None
    add("trace RSS <= 32 MiB with %d processes" % PROCS, v, TARGETS["rss_10k_mib"],
        None if v is None else v <= TARGETS["rss_10k_mib"], fmt(v, ".1f") + (" MiB" if v is not None else ""))
    return out


def git_rev():
    try:
        return subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                               "describe", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=5).stdout.strip() or None
    except OSError:
        return None


def main():
    if os.geteuid() != 0:
        log("bench: must run as root")
        return 1
    t_start = time.monotonic()
    rows = make_rows()
    for r in rows:
        if r.why_not:
            log("bench: row '%s' n/a: %s" % (r.label, r.why_not))
    workdir = tempfile.mkdtemp(prefix="captrail-bench-")
    capcheck = Workload("capcheck", [os.path.join(BENCH_BIN, "capcheck"), "-n", str(N)], 1,
                        "ns/op", 600)
    mixed = Workload("mixed", [os.path.join(BENCH_BIN, "mixed"), "-n", str(MIXED_N)], 1000,
                     "us/iter", 600)
    have_trace = captrail_has(["trace"])
    res = {"meta": {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "kernel": platform.release(),
                    "cpus": os.cpu_count(), "git": git_rev(), "captrail": CAPTRAIL},
           "config": {"rounds": ROUNDS, "capcheck_ops": N, "mixed_iterations": MIXED_N,
                      "stream_secs": STREAM_SECS, "stream_runs": STREAM_RUNS,
                      "stream_rate": STREAM_RATE, "toggle_runs": TOGGLE_RUNS,
                      "toggle_secs": TOGGLE_SECS, "startup_runs": STARTUP_RUNS,
                      "procs": PROCS},
           "targets_def": TARGETS}
    try:
        cap = res["capcheck"] = run_table(capcheck, rows, workdir)
        if "mixed" not in SKIP:
            res["mixed"] = run_table(mixed, rows, workdir)
        thr = st = rss = None
        why = None if have_trace else "no 'captrail trace'"
        for key, fn in (("toggled", toggled), ("throughput", throughput), ("startup", startup),
                        ("rss_10k", rss_with_procs)):
            if key in SKIP or why:
                res[key] = {"n/a": why or "skipped"}
                continue
            try:
                res[key] = fn(workdir)
            except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError,
                    ValueError) as e:
                log("bench: %s failed: %s" % (key, e))
                res[key] = {"error": str(e)}
        tog, thr, st, rss = (res["toggled"], res["throughput"], res["startup"], res["rss_10k"])
        res["targets"] = targets(cap, tog, thr, st, rss)
    finally:
        subprocess.run(["rm", "-rf", workdir])
    res["meta"]["bench_secs"] = time.monotonic() - t_start
    with open(RESULTS, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    report(res, capcheck, mixed)
    return 0


def report(res, capcheck, mixed):
    m, c = res["meta"], res["config"]
    print()
    print("captrail bench  %s  kernel %s  %d CPUs  git %s" % (m["date"], m["kernel"], m["cpus"],
                                                             m["git"]))
    print("%d interleaved rounds, medians; each tracer run is bracketed by untraced runs, and "
          "the added cost is the median of (traced - mean of the two)" % c["rounds"])
    print("delivered and lost: totals over all runs of the row; CPU s (during the workload) "
          "and peak RSS: the tracer's, medians")
    print()
    print("capcheck: %d sethostname() per run, one CAP_SYS_ADMIN check each "
          "(so +ns/op = ns added per check)" % c["capcheck_ops"])
    print_table(res["capcheck"], capcheck)
    if "mixed" in res:
        rows = res["mixed"]["rows"]
        bt = rows["bt_count"]["delivered_median"]
        per = "≈ %.0f checks per iteration (bpftrace count)" % (bt / c["mixed_iterations"]) \
            if bt else ""
        print()
        print("mixed: sh loop of %d fork+exec of /bin/true; %s" % (c["mixed_iterations"], per))
        print_table(res["mixed"], mixed)
    print()
    tog = res.get("toggled", {})
    if "runs" in tog:
        print("in-kernel cost, toggled (bench/aggtoggle: one sethostname() loop; no program, the "
              "floor and record's program switched every %d ms, %d x %.0f s; each cycle against "
              "the untraced phases around it, medians):" % (tog["period_ms"], len(tog["runs"]),
                                                            tog["secs"]))
        for r in tog["runs"]:
            print("  untraced %7.1f ns/op   floor %+6.1f   record %+6.1f   %s x floor   "
                  "(%d cycles, %d checks counted)" % (r["none_ns"], r["floor_added_ns"],
                                                      r["record_added_ns"], fmt(r["x_floor"], ".2f"),
                                                      r["cycles"], r["record_counted"]))
        print("  median: floor %+.1f ns, record %+.1f ns per check: %s x floor" % (
            tog["floor_added_ns"], tog["record_added_ns"], fmt(tog["x_floor"], ".2f")))
        print()
    thr, st, rss = res.get("throughput", {}), res.get("startup", {}), res.get("rss_10k", {})
    for key, what in (("paced", "capcheck at %d/s" % thr.get("rate", 0)), ("flat_out", "flat out")):
        if key in thr:
            v = thr[key]
            print("streaming, trace -o json > /dev/null, %s, %d x %.1f s: median %s produced/s, "
                  "%s delivered/s; %s lost, %s unaccounted in all" % (
                      what, len(v["runs"]), thr["secs"], fmt(v["produced_per_s"], ",.0f"),
                      fmt(v["delivered_per_s"], ",.0f"), fmt(v["lost"], "d"),
                      fmt(v["unaccounted"], "d")))
    if "median_s" in st:
        print("start-up (command start to 'captrail trace: ready'): median %.3f s (min %.3f, max %.3f,"
              " %d runs)" % (st["median_s"], st["min_s"], st["max_s"], len(st["runs"])))
    if "hwm_kb" in rss:
        print("trace with %d processes alive: peak RSS %s MiB, start-up %.3f s" % (
            rss["procs_alive"], fmt(rss["hwm_kb"] / 1024 if rss["hwm_kb"] else None, ".1f"),
            rss["start_s"]))
    for key in ("toggled", "throughput", "startup", "rss_10k"):
        v = res.get(key, {})
        if "n/a" in v or "error" in v:
            print("%s: %s" % (key, v.get("n/a") or v.get("error")))
    print()
    print("targets (reported, not enforced):")
    for t in res.get("targets", []):
        print("  [%s] %-56s %s" % (verdict(t["pass"]), t["target"], t["text"]))
    print()
    print("results: %s  (%.0f s)" % (RESULTS, m["bench_secs"]))


if __name__ == "__main__":
    sys.exit(main())
