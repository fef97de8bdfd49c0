#!/bin/bash
# --minimize: one run per granted capability without it. A program run as
# nobody with --grant chown,net_raw that tries a chown (and ignores its
# failure) and opens a raw socket (which it needs): CAP_CHOWN is not
# needed, with its evidence; CAP_NET_RAW stays. CAP_DAC_READ_SEARCH next to
# CAP_DAC_OVERRIDE is covered without a run. The minimized profile is read
# back by captrail run.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "no python3"
chmod 711 "$WORK"

cat >"$WORK/prog.py" <<'SCRIPT'
import os, socket, tempfile
fd, path = tempfile.mkstemp()
try:
    os.chown(path, -1, 0)  # to group root: CAP_CHOWN, but a failure is fine
except PermissionError:
    pass
os.close(fd)
os.unlink(path)
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
SCRIPT
chmod 644 "$WORK/prog.py"

start=$(date +%s.%N)
record_json "$WORK/p.json" --user nobody --grant chown,net_raw --minimize --verify -- \
	python3 "$WORK/prog.py"
end=$(date +%s.%N)
note "record --minimize --verify took $(echo "$end - $start" | bc) s"
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC: $(cat "$WORK/record.err")"
[ "$(profile_class "$WORK/p.json" required)" = "CHOWN NET_RAW" ] ||
	fail "required: $(profile_class "$WORK/p.json" required)"
[ "$(profile_grant "$WORK/p.json")" = "NET_RAW" ] || fail "grant: $(profile_grant "$WORK/p.json")"
[ "$(profile_class "$WORK/p.json" not_needed)" = "CHOWN" ] ||
	fail "classes.not_needed: $(profile_class "$WORK/p.json" not_needed)"
[ "$(jq -r '.not_needed | map(.capability + ": " + .reason) | join(";")' "$WORK/p.json")" = \
	"CAP_CHOWN: without it: exit 0 (same as recorded)" ] || fail "not_needed: $(jq -c .not_needed "$WORK/p.json")"
[ "$(jq -c .minimize "$WORK/p.json")" = '{"runs":2}' ] || fail "minimize: $(jq -c .minimize "$WORK/p.json")"
grep -q "minimize: CAP_NET_RAW needed: without it exit 1 (recorded: exit 0)" "$WORK/record.err" ||
	fail "no needed line: $(cat "$WORK/record.err")"
grep -q "verify: ok" "$WORK/record.err" || fail "verify with the minimized set: $(cat "$WORK/record.err")"

# Read back: run confines to the minimized grant; the text says why.
"$CAPTRAIL" run --profile "$WORK/p.json" -- python3 "$WORK/prog.py" 2>"$WORK/run.err" ||
	fail "run with the minimized profile: $(cat "$WORK/run.err")"
"$CAPTRAIL" record --user nobody --grant chown,net_raw --minimize -- python3 "$WORK/prog.py" \
	>"$WORK/text" 2>/dev/null
grep -qx "not needed: CAP_CHOWN: without it: exit 0 (same as recorded)" "$WORK/text" ||
	fail "text: $(cat "$WORK/text")"
grep -qx "recommended: CAP_NET_RAW" "$WORK/text" || fail "text: $(grep recommended "$WORK/text")"

# Kernel knowledge: appending to a root-only file (DAC_OVERRIDE: a write)
# and listing /root (DAC_READ_SEARCH, checked first for a read) as nobody.
echo x >"$WORK/rootfile"
chmod 644 "$WORK/rootfile"
record_json "$WORK/dac.json" --user nobody --grant dac_override,dac_read_search --minimize -- \
	sh -c "echo y >>'$WORK/rootfile' && ls /root >/dev/null"
[ "$RECORD_RC" -eq 0 ] || fail "dac: record exited $RECORD_RC: $(cat "$WORK/record.err")"
[ "$(profile_class "$WORK/dac.json" required)" = "DAC_OVERRIDE DAC_READ_SEARCH" ] ||
	fail "dac: required $(profile_class "$WORK/dac.json" required)"
[ "$(jq -r '.not_needed | map(.capability + ": " + .reason) | join(";")' "$WORK/dac.json")" = \
	"CAP_DAC_READ_SEARCH: covered by CAP_DAC_OVERRIDE" ] ||
	fail "dac: not_needed $(jq -c .not_needed "$WORK/dac.json")"
[ "$(profile_grant "$WORK/dac.json")" = "DAC_OVERRIDE" ] || fail "dac: grant $(profile_grant "$WORK/dac.json")"
# One run, for DAC_OVERRIDE: without it (and without the covered one) the write fails.
[ "$(jq .minimize.runs "$WORK/dac.json")" = 1 ] || fail "dac: $(jq -c .minimize "$WORK/dac.json")"
grep -q "minimize: CAP_DAC_OVERRIDE needed" "$WORK/record.err" || fail "dac: $(cat "$WORK/record.err")"
exit 0
