"""record: chown + chmod of another user's file need CAP_CHOWN and CAP_FOWNER, and
the chown checks name the file and its new owner."""


def check(r):
    r.exited_ok("setup")
    r.exited_ok("record")
    profile = r.json("profile")
    grant = profile.get("grant") or []
    for cap in ("CAP_CHOWN", "CAP_FOWNER"):
        if cap not in grant:
            r.fail(f"{cap} not in the profile's grant list {grant}")
    if "CAP_SYS_ADMIN" in grant:
        r.fail(f"CAP_SYS_ADMIN granted: {grant}")
    # Each check's object, read from the syscall's registers (before 5.15
    # where task_pt_regs() puts them): the file and its new owner.
    objects = [
        obj
        for c in profile.get("capabilities") or []
        if c.get("name") == "CAP_CHOWN"
        for check in c.get("checks") or []
        for obj in check.get("objects") or []
    ]
    if not any(o.endswith("/owned -> 0:0") for o in objects):
        r.fail(f"CAP_CHOWN checks name no '.../owned -> 0:0': {objects}")
