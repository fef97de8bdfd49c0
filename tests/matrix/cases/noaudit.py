"""The kernel's noaudit probes are never recommended.

fexit and kprobe see cap_capable()'s opts argument, so there the class is
exact: reading /proc/kallsyms asks CAP_SYSLOG without auditing, and it must
be in classes.noaudit. The tracepoint carries no opts (captrail infers
noaudit from the call chain), so there only "not granted" is required.
Overcommit's CAP_SYS_ADMIN probe is never granted either; on kernels whose
cap_vm_enough_memory() has cap_capable() inlined, function hooks do not
see it at all, so it is not required to appear.
"""


def check(r):
    r.exited_ok("record")
    profile = r.json("profile")
    grant = profile.get("grant") or []
    noaudit = (profile.get("classes") or {}).get("noaudit") or []
    for cap in ("CAP_SYSLOG", "CAP_SYS_ADMIN"):
        if cap in grant:
            r.fail(f"{cap} granted: {grant}")
    if r.hook in ("fexit", "kprobe") and "CAP_SYSLOG" not in noaudit:
        r.fail(f"CAP_SYSLOG not in classes.noaudit {noaudit}")
