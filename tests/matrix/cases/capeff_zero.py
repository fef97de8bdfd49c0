"""While captrail trace runs, its CapEff is 0000000000000000."""


def check(r):
    r.ready("trace")
    r.exited_ok("status")
    status = dict(line.split(":", 1) for line in r.lines("status")
                  if ":" in line)
    capeff = status.get("CapEff", "").strip()
    r.expect(None, "CapEff", capeff, "0000000000000000")
    r.exited_ok("trace")
