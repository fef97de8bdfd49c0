"""Overcommit's CAP_SYS_ADMIN probe is noaudit, never granted.

fexit and kprobe see cap_capable()'s opts argument, so there the class is
exact: CAP_SYS_ADMIN must be in classes.noaudit. The tracepoint carries no
opts (captrail infers noaudit from the call chain), so there only "not
granted" is required.
"""


def check(r):
    r.exited_ok("record")
    profile = r.json("profile")
    grant = profile.get("grant") or []
    noaudit = (profile.get("classes") or {}).get("noaudit") or []
    if "CAP_SYS_ADMIN" in grant:
        r.fail(f"CAP_SYS_ADMIN granted: {grant}")
    if r.hook in ("fexit", "kprobe") and "CAP_SYS_ADMIN" not in noaudit:
        r.fail(f"CAP_SYS_ADMIN not in classes.noaudit {noaudit}")
