#!/bin/bash
# captrail run confines a command to a JSON profile: the recorded profile
# works, the same profile without one required capability makes it fail.
# Every output format parses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_parse.sh"
need_root

cat >"$WORK/own.sh" <<'SCRIPT'
#!/bin/sh
f=$(mktemp /tmp/captrail-e2e-run.XXXXXX)
chown 4321 "$f" && rm -f "$f"
SCRIPT
chmod 755 "$WORK/own.sh"
record_json "$WORK/p.json" -- "$WORK/own.sh"
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC"
[ "$(profile_grant "$WORK/p.json")" = "CHOWN" ] || fail "grant is '$(profile_grant "$WORK/p.json")'"

"$CAPTRAIL" run --profile "$WORK/p.json" -- "$WORK/own.sh" || fail "run with the profile failed"
jq '.grant = []' "$WORK/p.json" >"$WORK/none.json"
if "$CAPTRAIL" run --profile "$WORK/none.json" -- "$WORK/own.sh" 2>/dev/null; then
	fail "run without CAP_CHOWN succeeded"
fi

for format in json oci; do
	"$CAPTRAIL" record -o $format -- "$WORK/own.sh" >"$WORK/out.$format" 2>/dev/null
	assert_json "$WORK/out.$format"
done
for format in k8s compose; do
	"$CAPTRAIL" record -o $format -- "$WORK/own.sh" >"$WORK/out.$format" 2>/dev/null
	assert_yaml "$WORK/out.$format"
done
[ "$(yaml_get "$WORK/out.k8s" securityContext.capabilities.add)" = CHOWN ] ||
	fail "k8s add: $(cat "$WORK/out.k8s")"
[ "$(yaml_get "$WORK/out.k8s" securityContext.capabilities.drop)" = ALL ] ||
	fail "k8s drop: $(cat "$WORK/out.k8s")"
[ "$(jq -r '.process.capabilities.bounding | join(",")' "$WORK/out.oci")" = CAP_CHOWN ] ||
	fail "oci: $(cat "$WORK/out.oci")"
"$CAPTRAIL" record -o docker -- "$WORK/own.sh" >"$WORK/out.docker" 2>/dev/null
[ "$(cat "$WORK/out.docker")" = "--cap-drop=ALL --cap-add=CHOWN" ] || fail "docker: $(cat "$WORK/out.docker")"

# Bad input.
"$CAPTRAIL" record -o yaml -- true 2>"$WORK/err"; [ $? -eq 2 ] || fail "-o yaml: not a usage error"
"$CAPTRAIL" record --grant chown -- true 2>"$WORK/err"; [ $? -eq 2 ] || fail "--grant without --user accepted"
"$CAPTRAIL" record 2>"$WORK/err"; [ $? -eq 2 ] || fail "record without a command accepted"
"$CAPTRAIL" run --profile /nonexistent -- true 2>"$WORK/err"; [ $? -ne 0 ] || fail "missing profile accepted"
grep -q "cannot read profile '/nonexistent'" "$WORK/err" || fail "missing profile: $(cat "$WORK/err")"
echo '{"captrail_profile": 1, "grant": ["CAP_NOPE"]}' >"$WORK/bad.json"
"$CAPTRAIL" run --profile "$WORK/bad.json" -- true 2>"$WORK/err"; [ $? -eq 2 ] || fail "bad profile: exit $?"
"$CAPTRAIL" record -- /nonexistent/cmd 2>"$WORK/err"; [ $? -eq 127 ] || fail "missing command: exit not 127"
grep -q "cannot run '/nonexistent/cmd'" "$WORK/err" || fail "missing command: $(cat "$WORK/err")"
