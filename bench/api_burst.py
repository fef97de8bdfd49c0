#!/usr/bin/python3
"""A bursty, filtered API client: how much of a burst it keeps.

`captrail agent` runs with a scratch store and socket; `captrail events
--processes 'capcheck$' -o json` follows it (the filter leaves out every
other process on the node) and writes to a pipe whose reader counts the
burst's events; `capcheck -n N` makes N checks as fast as it can (about
20 ms for 20,000). After each burst the harness waits until the client has
been quiet for a while, then reads what it got, the notices it printed (the
agent's count of what it dropped for this client) and the agent's metrics
(what the kernel's ring buffer lost). Prints one line per run and the
fraction kept; the 90% target is printed PASS/FAIL, never asserted.

Run by bench/run.sh (make bench) or alone, as root, after the main build
and `make -C bench BUILD=<abs build dir>`:
    BUILD=/abs/build bench/api_burst.py
Knobs: BENCH_BURST_N [20000] checks per burst, BENCH_BURST_RUNS [5],
BENCH_BURST_QUIET [2] seconds without an event that end a run,
CAPTRAIL [$BUILD/captrail]. Standard library only.
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ENV = os.environ
BUILD = ENV.get("BUILD", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "build")))
CAPTRAIL = ENV.get("CAPTRAIL", os.path.join(BUILD, "captrail"))
CAPCHECK = os.path.join(BUILD, "bench", "capcheck")
N = int(ENV.get("BENCH_BURST_N", "20000"))
RUNS = int(ENV.get("BENCH_BURST_RUNS", "5"))
QUIET = float(ENV.get("BENCH_BURST_QUIET", "2"))
TARGET = 0.90
READY_TIMEOUT = 60
RUN_TIMEOUT = 300  # seconds for a client to work through one burst
BURST_TAG = b'"syscall:sethostname"'
NOTICE = re.compile(r"notice: .*?dropped (\d+) events")
READY = re.compile(r"ready")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Lines(threading.Thread):
    """Reads a pipe to its end; counts lines with a needle, or keeps them."""

    def __init__(self, pipe, needle=None):
        super().__init__(daemon=True)
        self.pipe, self.needle = pipe, needle
        self.count, self.lines, self.last = 0, [], time.monotonic()
        self.lock = threading.Lock()

    def run(self):
        for line in self.pipe:
            with self.lock:
                if self.needle is None:
                    self.lines.append(line.decode(errors="replace").rstrip("\n"))
                elif self.needle in line:
                    self.count += 1
                self.last = time.monotonic()

    def snapshot(self):
        with self.lock:
            return self.count, list(self.lines), self.last


def wait_line(reader, pattern, what):
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        _, lines, _ = reader.snapshot()
        for line in lines:
            if pattern.search(line):
                return line
        time.sleep(0.05)
    sys.exit(f"api_burst: {what} not ready: {lines}")


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    return 0


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    if os.geteuid() != 0:
        sys.exit("api_burst: must run as root (the agent loads BPF programs)")
    for path in (CAPTRAIL, CAPCHECK):
        if not os.access(path, os.X_OK):
            sys.exit(f"api_burst: {path} missing (make all; make -C bench BUILD=...)")
    tmp = tempfile.mkdtemp(prefix="captrail-burst.")
    sock = os.path.join(tmp, "captrail.sock")
    agent = subprocess.Popen([CAPTRAIL, "agent", "--db", os.path.join(tmp, "db"), "--socket",
                              sock, "--metrics", "127.0.0.1:0"], stderr=subprocess.PIPE)
    agent_err = Lines(agent.stderr)
    agent_err.start()
    client = None
    try:
        wait_line(agent_err, READY, "the agent")
        port = int(wait_line(agent_err, re.compile(r"metrics on port \d+"),
                                   "the agent's metrics").split()[-1])
        client = subprocess.Popen([CAPTRAIL, "events", "--socket", sock, "--processes",
                                   "capcheck$", "-o", "json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        events = Lines(client.stdout, BURST_TAG)
        notices = Lines(client.stderr)
        events.start()
        notices.start()
        wait_line(notices, READY, "captrail events")
        rows = []
        for run in range(RUNS):
            before, _, _ = events.snapshot()
            dropped_before = sum(int(m.group(1)) for l in notices.snapshot()[1]
                                 for m in [NOTICE.search(l)] if m)
            lost_before = metric(port, "captrail_events_lost_total")
            t0 = time.monotonic()
            subprocess.run([CAPCHECK, "-n", str(N)], check=True, stdout=subprocess.DEVNULL)
            while time.monotonic() - t0 < RUN_TIMEOUT:
                count, _, last = events.snapshot()
                if count - before >= N or time.monotonic() - max(last, t0) > QUIET:
                    break
                time.sleep(0.05)
            count, _, last = events.snapshot()
            dropped = sum(int(m.group(1)) for l in notices.snapshot()[1]
                          for m in [NOTICE.search(l)] if m) - dropped_before
            row = {
                "kept": count - before,
                "api_dropped": dropped,
                "ring_lost": metric(port, "captrail_events_lost_total") - lost_before,
                "drain_s": max(last - t0, 0.0),
            }
            row["fraction"] = row["kept"] / N
            rows.append(row)
            print(f"run {run + 1}: kept {row['kept']} of {N} ({row['fraction']:.1%}), "
                  f"dropped for the client {row['api_dropped']}, lost in the ring "
                  f"{row['ring_lost']}, last event after {row['drain_s']:.2f} s", flush=True)
        peak = vm(agent.pid, "VmHWM")
        rss = vm(agent.pid, "VmRSS")
        fractions = [r["fraction"] for r in rows]
        median, worst = statistics.median(fractions), min(fractions)
        verdict = "PASS" if median >= TARGET else "FAIL"
        print(f"api burst: kept median {median:.1%}, worst {worst:.1%} of {N} events over "
              f"{RUNS} runs (target >= {TARGET:.0%}: {verdict}); agent RSS peak "
              f"{peak:.0f} MiB, {rss:.0f} MiB after", flush=True)
    finally:
        if client:
            client.terminate()
            client.wait()
        agent.send_signal(signal.SIGINT)
        agent.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
