"""record --cgroup: a loop running before captrail started, recorded for two
seconds: CAP_CHOWN granted, named by the program that chowned (a chown that
exited before captrail could read its program is counted without one), and
never CAP_SYS_ADMIN."""


def check(r):
    r.exited_ok("record")
    profile = r.json("profile")
    grant = profile.get("grant") or []
    if "CAP_CHOWN" not in grant:
        r.fail(f"CAP_CHOWN not in the profile's grant list {grant}")
    if "CAP_SYS_ADMIN" in grant:
        r.fail(f"CAP_SYS_ADMIN granted: {grant}")
    binaries = {
        check.get("binary")
        for c in profile.get("capabilities") or []
        if c.get("name") == "CAP_CHOWN"
        for check in c.get("checks") or []
    }
    if not any(binaries):
        r.fail(f"no CAP_CHOWN check names its binary: {binaries}")
