#!/bin/bash
# Capabilities a program keeps without any check asking for them: kept
# across a uid change with capset(), raised as ambient, gained from file
# capabilities at exec. record recommends them ("kept"), and captrail run
# with the profile lets the program work, without them it fails.
. "$(dirname "$0")/lib.sh"
need_root
KEEP=$HELPERS/keep_cap
[ -x "$KEEP" ] || fail "no $KEEP (make all)"

record_json "$WORK/kept.json" -- "$KEEP" ambient
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC: $(cat "$WORK/record.err")"
[ "$(profile_class "$WORK/kept.json" kept)" = NET_BIND_SERVICE ] ||
	fail "kept class: $(jq -c .classes "$WORK/kept.json")"
[ "$(profile_grant "$WORK/kept.json")" = "NET_BIND_SERVICE SETUID" ] ||
	fail "grant: $(profile_grant "$WORK/kept.json")"
[ "$(jq -r '.kept | map(.how) | sort | join(" ")' "$WORK/kept.json")" = "ambient capset" ] ||
	fail "kept: $(jq -c .kept "$WORK/kept.json")"
jq -e --arg b "$(realpath "$KEEP")" \
	'.kept | all(.capability == "CAP_NET_BIND_SERVICE" and .binary == $b and .count == 1)' \
	"$WORK/kept.json" >/dev/null || fail "kept entries: $(jq -c .kept "$WORK/kept.json")"
[ "$(jq -r .keep_caps "$WORK/kept.json")" = true ] || fail "keep_caps not set"
[ "$(jq -r .exec_gained_privilege "$WORK/kept.json")" = false ] || fail "exec gain set"
# capset()'s own SETPCAP check is not said as if the program raised it.
"$CAPTRAIL" record -- "$KEEP" >"$WORK/kept.txt" 2>"$WORK/record.err" ||
	fail "text record failed: $(cat "$WORK/record.err")"
grep -q "^CAP_NET_BIND_SERVICE: kept: keep_cap keeps it with capset() across its uid change$" \
	"$WORK/kept.txt" || fail "text: $(cat "$WORK/kept.txt")"
if grep -q "raised by the program" "$WORK/kept.txt"; then fail "capset class worded as a raise"; fi

# The profile read back keeps what it says; it lets the program keep the
# capability, and without it capset() fails.
"$CAPTRAIL" run --profile "$WORK/kept.json" -- "$KEEP" ambient 2>"$WORK/run.err" ||
	fail "run with the profile failed: $(cat "$WORK/run.err")"
jq '.grant = ["CAP_SETUID"] | .kept = []' "$WORK/kept.json" >"$WORK/without.json"
if "$CAPTRAIL" run --profile "$WORK/without.json" -- "$KEEP" 2>"$WORK/run.err"; then
	fail "run without CAP_NET_BIND_SERVICE succeeded"
fi
grep -q "capset: Operation not permitted" "$WORK/run.err" || fail "run: $(cat "$WORK/run.err")"
jq '.kept[0].how = "magic"' "$WORK/kept.json" >"$WORK/bad.json"
"$CAPTRAIL" run --profile "$WORK/bad.json" -- true 2>"$WORK/err"; [ $? -eq 2 ] ||
	fail "bad kept.how accepted"
grep -q 'kept\[0\].how' "$WORK/err" || fail "bad kept.how: $(cat "$WORK/err")"

# File capabilities gained at exec by a user that had none.
command -v setcap >/dev/null || skip "no setcap (libcap2-bin)"
cp "$HELPERS/bind_port" "$WORK/bind_fcaps"
chmod 755 "$WORK" "$WORK/bind_fcaps"
setcap cap_net_bind_service+ep "$WORK/bind_fcaps" || skip "setcap refused on $WORK"
record_json "$WORK/fcaps.json" --user nobody -- "$WORK/bind_fcaps" 0
[ "$RECORD_RC" -eq 0 ] || fail "file caps record exited $RECORD_RC: $(cat "$WORK/record.err")"
[ "$(jq -r .exec_gained_privilege "$WORK/fcaps.json")" = true ] || fail "exec gain not seen"
[ "$(jq -r .allow_privilege_escalation "$WORK/fcaps.json")" = true ] ||
	fail "escalation not allowed after a gaining exec"
jq -e '.kept | any(.capability == "CAP_NET_BIND_SERVICE" and .how == "file_caps")' \
	"$WORK/fcaps.json" >/dev/null || fail "file caps: $(jq -c .kept "$WORK/fcaps.json")"
echo ok
