"""record: dmesg as nobody is denied CAP_SYSLOG, and every denial's EPERM is seen."""


def check(r):
    step = r.step("record")
    if step.rc == 0:
        r.fail("dmesg as nobody succeeded under record")
    profile = r.json("profile")
    grant = profile.get("grant") or []
    if "CAP_SYSLOG" in grant:
        r.fail(f"CAP_SYSLOG granted: {grant}")
    denied = (profile.get("classes") or {}).get("denied") or []
    if "CAP_SYSLOG" not in denied:
        r.fail(f"CAP_SYSLOG not in classes.denied {denied}")
    denials = [d for d in profile.get("denials") or [] if d.get("capability") == "CAP_SYSLOG"]
    if not denials:
        r.fail(f"no CAP_SYSLOG denial: {profile.get('denials')}")
    if not any(d.get("mattered", 0) >= 1 for d in denials):
        r.fail(f"no CAP_SYSLOG denial seen to matter: {denials}")
    unobserved = [d for d in denials if d.get("unobserved", 0)]
    if unobserved:
        r.fail(f"denials left unobserved: {unobserved}")
