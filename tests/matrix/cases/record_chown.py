"""record: chown + chmod of another user's file need CAP_CHOWN and CAP_FOWNER."""


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
