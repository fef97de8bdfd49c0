#!/bin/bash
# --user gives the command that user's environment (HOME, USER, LOGNAME,
# SHELL from the passwd entry, a non-root PATH), the rest kept: root's HOME
# no longer sends it to /root, where it would be denied. run, which takes
# the profile's user, does the same.
. "$(dirname "$0")/lib.sh"
need_root
chmod 711 "$WORK"
IFS=: read -r _ _ _ _ _ home shell < <(getent passwd nobody)
[ -n "$home" ] || skip "no passwd entry for nobody"

cat >"$WORK/env.sh" <<'SCRIPT'
#!/bin/sh
echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME SHELL=$SHELL PATH=$PATH KEPT=$CT_E2E_KEPT"
SCRIPT
chmod 755 "$WORK/env.sh"
want="HOME=$home USER=nobody LOGNAME=nobody SHELL=$shell PATH=/usr/local/bin:/usr/bin:/bin KEPT=yes"

HOME=/root CT_E2E_KEPT=yes "$CAPTRAIL" record -o json --output "$WORK/p.json" --user nobody -- \
	"$WORK/env.sh" >"$WORK/out" 2>"$WORK/err" || fail "record: $(cat "$WORK/err")"
[ "$(cat "$WORK/out")" = "$want" ] || fail "record --user nobody: '$(cat "$WORK/out")', want '$want'"
# Nothing under /root was looked at: no denial at all.
[ -z "$(profile_class "$WORK/p.json" denied)" ] || fail "denied: $(profile_class "$WORK/p.json" denied)"

HOME=/root CT_E2E_KEPT=yes "$CAPTRAIL" run --profile "$WORK/p.json" -- "$WORK/env.sh" \
	>"$WORK/out" 2>"$WORK/err" || fail "run: $(cat "$WORK/err")"
[ "$(cat "$WORK/out")" = "$want" ] || fail "run as the profile's user: '$(cat "$WORK/out")'"

# Without --user the environment is captrail's.
HOME=/somewhere "$CAPTRAIL" record -- "$WORK/env.sh" >"$WORK/out" 2>/dev/null
grep -q "^HOME=/somewhere " "$WORK/out" || fail "root run: $(head -n 1 "$WORK/out")"
exit 0
