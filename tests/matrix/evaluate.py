#!/usr/bin/env python3
"""Judge the kernel matrix from the guests' consoles (python3 stdlib only).

evaluate.py WORK CASES_DIR JSON_OUT

WORK holds run.meta and kernels/SERIES/{meta,console.log} as run.sh wrote
them. Each console is parsed for the markers of guest/lib.sh; each case's
host check (CASES_DIR/NAME.py, a check(r) function) judges what its guest
part dumped. Prints the matrix kernel x hook x test and writes it as JSON;
exits 0 only when nothing failed.
"""
import importlib.util
import json
import os
import re
import sys

DEFAULT_HOOKS = ["tracepoint", "fexit", "kprobe"]
sys.dont_write_bytecode = True  # no __pycache__ in the source tree


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def read_meta(path):
    meta = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep:
                    meta[key] = value
    except FileNotFoundError:
        pass
    return meta


def words(text):
    """'a=1 b=2' -> {'a': '1', 'b': '2'}"""
    out = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if sep:
            out[key] = value
    return out


class Step:
    def __init__(self, name):
        self.name = name
        self.pid = None
        self.ready = None
        self.seen = None
        self.rc = None
        self.killed = False
        self.streams = {"stdout": [], "stderr": []}
        self.total = {"stdout": 0, "stderr": 0}

    def text(self, stream="stdout"):
        return "\n".join(self.streams[stream])


class Block:
    """One guest section: a case run with one hook, or facts / hooks."""

    def __init__(self, case, hook):
        self.case, self.hook = case, hook
        self.steps = {}
        self.rc = None
        self.ended = False


class Console:
    """The markers of one guest's console, parsed."""

    def __init__(self, text):
        self.boot = None
        self.plan = None
        self.done = False
        self.probe = False
        self.blocks = {}
        self.noise = []
        block = step = stream = None
        for raw in text.split("\n"):
            line = raw.rstrip("\r")
            if stream is not None and line.startswith("|"):
                step.streams[stream].append(line[1:])
                continue
            at = line.find("@@CT ")
            if at < 0:
                if line.strip():
                    self.noise.append(line)
                continue
            verb, _, rest = line[at + 5:].partition(" ")
            w = words(rest)
            if verb == "boot":
                self.boot = w
            elif verb == "probe":
                self.probe = True
            elif verb == "plan":
                self.plan = w
            elif verb == "done":
                self.done = True
            elif verb == "begin":
                block = Block(w.get("case"), w.get("hook"))
                self.blocks[(block.case, block.hook)] = block
            elif verb == "end" and block is not None:
                block.rc = int(w.get("rc", "0"))
                block.ended = True
                block = None
            elif block is not None and verb in ("start", "ready", "seen", "out",
                                                "out-end", "exit"):
                name = w.get("step", "?")
                step = block.steps.get(name)
                if step is None or verb == "start":
                    step = block.steps[name] = Step(name)
                if verb == "start":
                    step.pid = w.get("pid")
                elif verb in ("ready", "seen"):
                    setattr(step, verb, w.get("ok") == "1")
                elif verb == "out":
                    stream = w.get("stream", "stdout")
                    step.streams[stream] = []
                    continue
                elif verb == "out-end":
                    step.total[w.get("stream", "stdout")] = int(w.get("lines", "0"))
                elif verb == "exit":
                    step.rc = int(w.get("rc", "-1"))
                    step.killed = w.get("killed") == "1"
            stream = None


def summary(step):
    """The line of a step's stderr that says what went wrong."""
    lines = [l.strip() for l in step.streams["stderr"] if l.strip()]
    for line in lines:
        if line.startswith("captrail") and "ready" not in line:
            return line[:300]
    return (lines[0] if lines else "(no stderr)")[:300]


class Check:
    """What a case's check(r) gets: its steps, and ways to judge them."""

    def __init__(self, kernel, hook, block, facts):
        self.kernel, self.hook, self.facts = kernel, hook, facts
        self._block = block

    # Verdicts.
    def fail(self, msg):
        raise Fail(msg)

    def skip(self, msg):
        raise Skip(msg)

    def expect(self, _obj, what, got, want):
        if got != want:
            self.fail(f"{what} is {got!r}, want {want!r}")

    # Steps.
    def step(self, name):
        step = self._block.steps.get(name)
        if step is None:
            ran = ", ".join(self._block.steps) or "none"
            self.fail(f"step {name} did not run (steps that ran: {ran})")
        return step

    def ready(self, name):
        step = self.step(name)
        if not step.ready:
            how = f"exit {step.rc}" if step.rc is not None else "still running"
            self.fail(f"captrail {name} did not become ready ({how}): {summary(step)}")
        return step

    def exited_ok(self, name):
        step = self.step(name)
        if step.rc != 0:
            killed = ", killed at the bound" if step.killed else ""
            self.fail(f"{name} exited {step.rc}{killed}: {summary(step)}")
        return step

    def lines(self, name, stream="stdout"):
        return self.step(name).streams[stream]

    def json(self, name):
        text = self.step(name).text()
        try:
            return json.loads(text)
        except ValueError:
            self.fail(f"{name}'s output is not JSON: {text[:200]!r}")

    def events(self, name):
        """The process_kprobe objects of a JSON-lines stdout."""
        step = self.step(name)
        if step.total["stdout"] > len(step.streams["stdout"]):
            self.fail(f"{name} printed {step.total['stdout']} lines, more than "
                      f"the guest dumps ({len(step.streams['stdout'])})")
        out = []
        for i, line in enumerate(step.streams["stdout"], 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                self.fail(f"{name} stdout line {i} is not JSON: {line[:120]!r}")
            if "process_kprobe" not in obj:
                self.fail(f"{name} stdout line {i} has no process_kprobe: {line[:120]!r}")
            out.append(obj["process_kprobe"])
        return out

    # Event fields.
    @staticmethod
    def get(obj, path):
        for key in path.split("."):
            if isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
                obj = obj[int(key)]
            elif isinstance(obj, dict) and key in obj:
                obj = obj[key]
            else:
                return None
        return obj

    @staticmethod
    def capability(event, field="value"):
        for arg in event.get("args") or []:
            if isinstance(arg, dict) and "capability_arg" in arg:
                return arg["capability_arg"].get(field)
        return None


def load_cases(cases_dir, names):
    checks = {}
    for name in names:
        path = os.path.join(cases_dir, name + ".py")
        if not os.path.exists(path):
            checks[name] = None
            continue
        spec = importlib.util.spec_from_file_location("matrix_case_" + name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        checks[name] = module.check
    return checks


# The guest fact that says a kernel offers a hook: where it says yes, a hook
# captrail calls unavailable is captrail's failure, not the kernel's.
OFFERED_BY = {
    "tracepoint": "capability_tracepoint",
    "fexit": "cap_capable_ftrace",
    "kprobe": "kprobe_events",
}


def offered(facts, hook):
    return hook in OFFERED_BY and facts.get(OFFERED_BY[hook]) == "yes"


def facts_of(console):
    """What the facts section says about the kernel, in a few words."""
    block = console.blocks.get(("facts", "-"))
    if block is None:
        return {}
    def ok(name):
        step = block.steps.get(name)
        return step is not None and step.rc == 0
    def out(name):
        step = block.steps.get(name)
        return step.text().strip() if step else ""
    facts = {}
    if ok("btf"):
        size = out("btf").split()
        facts["btf"] = f"yes ({size[4]} bytes)" if len(size) > 4 else "yes"
    else:
        facts["btf"] = "no"
    facts["capability_tracepoint"] = "yes" if ok("cap_tracepoint") else "no"
    facts["kprobe_events"] = "yes" if ok("kprobe_events") else "no"
    facts["cap_capable_ftrace"] = "yes" if ok("ftrace_cap_capable") else "no"
    facts["cap_capable_kallsyms"] = "yes" if ok("kallsyms_cap_capable") else "no"
    mounts = out("mounts")
    def mounted(where, fstype):  # the source is "none" on some kernels
        return re.search(rf"^\S+ {re.escape(where)} {fstype} ", mounts, re.M) is not None
    facts["cgroup2"] = ("mounted, controllers: " + (out("cgroup_controllers") or "none")
                        if mounted("/sys/fs/cgroup", "cgroup2") else "not mounted")
    facts["bpffs"] = "mounted" if mounted("/sys/fs/bpf", "bpf") else "not mounted"
    facts["tracefs"] = "mounted" if mounted("/sys/kernel/tracing", "tracefs") else "not mounted"
    facts["debugfs"] = "mounted" if mounted("/sys/kernel/debug", "debugfs") else "not mounted"
    facts["mount_errors"] = out("mount_errors")
    facts["lsm"] = out("lsm")
    facts["sysctl"] = out("sysctl").replace("\n", ", ")
    facts["uname"] = out("uname")
    return facts


def judge_kernel(series, meta, console, case_names, checks):
    """(kernel record, [result]) for one kernel."""
    kernel = {
        "series": series,
        "package": meta.get("package", ""),
        "version": meta.get("version", ""),
        "status": meta.get("status", "unknown"),
        "vm_seconds": float(meta["wall"]) if meta.get("wall") else None,
        "qemu_rc": int(meta["qemu_rc"]) if meta.get("qemu_rc") else None,
    }
    results = []

    def all_fail(reason, hooks=DEFAULT_HOOKS):
        for hook in hooks:
            for case in case_names:
                results.append({"kernel": series, "hook": hook, "test": case,
                                "result": "fail", "reason": reason})

    if kernel["status"] != "ok":
        kernel["reason"] = meta.get("reason", "")
        all_fail(f"kernel not available: {kernel['reason']}")
        return kernel, results
    if console is None or console.boot is None:
        tail = " | ".join((console.noise if console else [])[-3:])
        kernel["status"] = "boot-failed"
        kernel["reason"] = (f"no /init output (qemu exit {kernel['qemu_rc']}"
                            f"{', timed out' if meta.get('timed_out') == '1' else ''}): {tail}")
        all_fail(f"kernel did not boot: {kernel['reason']}")
        return kernel, results

    kernel["release"] = console.boot.get("kernel", "")
    kernel["boot_seconds"] = float(console.boot.get("uptime", "0") or 0)
    kernel["facts"] = facts_of(console)
    stopped = ("the VM stopped before the end "
               f"(qemu exit {kernel['qemu_rc']}"
               f"{', timed out after ' + meta.get('timeout', '?') + ' s' if meta.get('timed_out') == '1' else ''})")
    kernel["status"] = "completed" if console.done else "incomplete"
    if not console.done:
        kernel["reason"] = stopped
    if console.plan is None:
        all_fail(f"no hook plan: {stopped}")
        return kernel, results

    plan = console.plan
    planned = [h for h in plan.get("hooks", "").split(",") if h]
    noflag = [s for s in plan.get("noflag", "").split(",") if s]
    kernel["hooks_source"] = plan.get("source")
    kernel["no_hook_option"] = noflag
    verdicts = {}  # hook -> (state, reason)
    if plan.get("source") == "captrail":
        listed = {}
        hooks_step = console.blocks[("hooks", "-")].steps.get("hooks")
        for line in hooks_step.streams["stdout"] if hooks_step else []:
            parts = line.split(None, 2)
            if len(parts) >= 2:
                listed[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
        hooks = DEFAULT_HOOKS + [h for h in listed if h not in DEFAULT_HOOKS]
        for hook in hooks:
            if hook not in listed:
                verdicts[hook] = ("fail", "captrail hooks does not list this hook")
            elif listed[hook][0] != "available" and offered(kernel["facts"], hook):
                verdicts[hook] = ("fail", "captrail says unavailable ("
                                  + (listed[hook][1] or listed[hook][0])
                                  + f") but the kernel offers it ({OFFERED_BY[hook]} yes)")
            elif listed[hook][0] != "available":
                verdicts[hook] = ("skip", listed[hook][1] or listed[hook][0])
            else:
                verdicts[hook] = ("run", "")
    else:
        hooks = planned
        verdicts = {h: ("run", "") for h in hooks}
    kernel["hooks"] = {h: {"state": v[0], "reason": v[1]} for h, v in verdicts.items()}
    note = ""
    if noflag:
        note = (f"this captrail has no --hook on {', '.join(noflag)}: "
                "those runs used captrail's default hook whatever the hook column says")
        kernel["note"] = note

    for hook in hooks:
        state, why = verdicts[hook]
        for case in case_names:
            res = {"kernel": series, "hook": hook, "test": case}
            results.append(res)
            if state != "run":
                res.update(result=state, reason=why)
                continue
            block = console.blocks.get((case, hook))
            if block is None:
                why = (stopped if not console.done else
                       f"the guest did not run it (its plan: hooks={plan.get('hooks', '')})")
                res.update(result="fail", reason=f"not run: {why}")
                continue
            if not block.ended:
                res.update(result="fail", reason=f"did not finish: {stopped}")
                continue
            check = checks.get(case)
            if check is None:
                res.update(result="fail", reason=f"no host check cases/{case}.py")
                continue
            try:
                check(Check(series, hook, block, kernel["facts"]))
                res.update(result="pass")
            except Fail as e:
                res.update(result="fail", reason=str(e))
                if note:
                    res["note"] = note
            except Skip as e:
                res.update(result="skip", reason=str(e))
            except Exception as e:  # a bug in the check is a failure too
                res.update(result="fail", reason=f"check crashed: {type(e).__name__}: {e}")
    return kernel, results


def print_report(run, kernels, results, case_names):
    print()
    print(f"captrail kernel matrix: {run.get('captrail', '?')}")
    print(f"accelerator: {run.get('accel', '?')}"
          + (f" ({run['accel_note']})" if run.get("accel_note") else ""))
    print()
    print(f"{'kernel':<7} {'package':<40} {'version':<12} {'boot':>7} {'vm run':>7}  status")
    for k in kernels:
        boot = f"{k['boot_seconds']:.1f} s" if k.get("boot_seconds") is not None else "-"
        vm = f"{k['vm_seconds']:.0f} s" if k.get("vm_seconds") is not None else "-"
        status = k["status"] + (f": {k['reason']}" if k.get("reason") else "")
        print(f"{k['series']:<7} {k['package']:<40} {k['version']:<12} {boot:>7} {vm:>7}  {status}")
    print("(boot: kernel start to /init, the guest's uptime; vm run: the whole VM, wall clock)")

    facts = [k for k in kernels if k.get("facts")]
    if facts:
        print()
        print("guest facts:")
        for k in facts:
            f = k["facts"]
            print(f"  {k['series']}: BTF {f['btf']}; capability tracepoint {f['capability_tracepoint']}; "
                  f"kprobe_events {f['kprobe_events']}; cap_capable ftrace-able (fexit) "
                  f"{f['cap_capable_ftrace']}; cgroup2 {f['cgroup2']}; bpffs {f['bpffs']}; "
                  f"tracefs {f['tracefs']}; debugfs {f['debugfs']}")
            print(f"        lsm {f['lsm'] or '?'}; {f['sysctl']}")
            if f["mount_errors"]:
                print(f"        mount errors: {f['mount_errors']}")

    cell = {"pass": "pass", "fail": "FAIL", "skip": "skip"}
    width = max([len(c) for c in case_names] + [4])
    print()
    print(f"{'kernel':<7} {'hook':<11} " + " ".join(f"{c:<{width}}" for c in case_names))
    rows = []
    for r in results:
        if (r["kernel"], r["hook"]) not in rows:
            rows.append((r["kernel"], r["hook"]))
    for kern, hook in rows:
        cells = []
        for case in case_names:
            r = next((x for x in results if (x["kernel"], x["hook"], x["test"]) == (kern, hook, case)), None)
            cells.append(f"{cell[r['result']] if r else '-':<{width}}")
        print(f"{kern:<7} {hook:<11} " + " ".join(cells))

    # Reasons, each once, with the cells it explains (kernel/hook/test).
    groups = {}
    for r in results:
        if r["result"] != "pass":
            groups.setdefault((r["result"], r.get("reason", "")), []).append(r)
    if groups:
        print()
        print("reasons:")
        for (result, reason), rs in groups.items():
            print(f"  {cell[result]} ({len(rs)}): {reason}")
            cells = [f"{r['kernel']}/{r['hook']}/{r['test']}" for r in rs]
            line = "     "
            for c in cells:
                if len(line) + len(c) + 1 > 100:
                    print(line)
                    line = "     "
                line += " " + c
            print(line)
    notes = [k for k in kernels if k.get("note")]
    if notes:
        print()
        for k in notes:
            print(f"note: {k['series']}: {k['note']}")
    counts = {s: sum(1 for r in results if r["result"] == s) for s in ("pass", "fail", "skip")}
    print()
    print(f"matrix: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    return counts


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: evaluate.py WORK CASES_DIR JSON_OUT")
    work, cases_dir, json_out = sys.argv[1:]
    run = read_meta(os.path.join(work, "run.meta"))
    series_list = [s for s in run.get("kernels", "").split(",") if s]
    case_names = [c for c in run.get("cases", "").split(",") if c]
    checks = load_cases(cases_dir, case_names)

    kernels, results = [], []
    for series in series_list:
        kdir = os.path.join(work, "kernels", series)
        meta = read_meta(os.path.join(kdir, "meta"))
        console = None
        path = os.path.join(kdir, "console.log")
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                console = Console(f.read())
        kernel, res = judge_kernel(series, meta, console, case_names, checks)
        kernels.append(kernel)
        results.extend(res)

    counts = print_report(run, kernels, results, case_names)
    doc = {"captrail": run.get("captrail"), "accelerator": run.get("accel"),
           "accelerator_note": run.get("accel_note", ""), "kernels": kernels,
           "tests": case_names, "results": results, "summary": counts}
    with open(json_out + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(json_out + ".tmp", json_out)
    print(f"json: {json_out}")
    sys.exit(1 if counts["fail"] else 0)


if __name__ == "__main__":
    main()
