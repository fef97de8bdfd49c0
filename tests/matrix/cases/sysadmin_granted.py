"""sethostname in a new UTS namespace: CAP_SYS_ADMIN (21) granted, syscall named."""


def check(r):
    r.ready("trace")
    r.exited_ok("uts")
    events = r.events("trace")
    hits = [e for e in events if r.capability(e) == 21
            and "syscall:sethostname" in (r.get(e, "tags") or [])]
    if not hits:
        seen = sorted({t for e in events for t in (r.get(e, "tags") or [])
                       if str(t).startswith("syscall:")})
        r.fail(f"no CAP_SYS_ADMIN event tagged syscall:sethostname among "
               f"{len(events)} events (syscall tags seen: {seen})")
    r.expect(hits[0], "return.int_arg", r.get(hits[0], "return.int_arg"), 0)
    r.exited_ok("trace")
