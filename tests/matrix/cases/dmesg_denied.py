"""dmesg as uid 65534 is denied CAP_SYSLOG (34), with the syscall named."""


def check(r):
    r.ready("trace")
    events = r.events("trace")
    hits = [e for e in events
            if r.get(e, "process.uid") == 65534 and r.capability(e) == 34]
    if not hits:
        r.fail(f"no CAP_SYSLOG event of uid 65534 among {len(events)} events")
    e = hits[0]
    r.expect(e, "capability name", r.capability(e, "name"), "CAP_SYSLOG")
    r.expect(e, "return.int_arg", r.get(e, "return.int_arg"), -1)
    tags = r.get(e, "tags") or []
    if not any(str(t).startswith("syscall:") for t in tags):
        r.fail(f"no syscall: tag on the CAP_SYSLOG event (tags {tags})")
    r.exited_ok("trace")
