"""agent + profile --db --all: the store has the workload's CAP_CHOWN."""


def check(r):
    r.ready("agent")
    r.exited_ok("workload")
    r.exited_ok("agent")
    r.exited_ok("profile")
    data = r.json("profile")
    profiles = data if isinstance(data, list) else [data]
    if not any("CAP_CHOWN" in (p.get("grant") or []) for p in profiles):
        seen = {p.get("workload"): p.get("grant") for p in profiles}
        r.fail(f"no workload's profile grants CAP_CHOWN: {seen}")
