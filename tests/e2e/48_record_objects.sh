#!/bin/bash
# Each check keeps what it was made on: the file and owner of a chown, the
# port of a bind, the uid of a setuid; JSON lists them per check
# ("objects"), text shows the first after the syscall.
. "$(dirname "$0")/lib.sh"
need_root
BIND=$(realpath "$HELPERS/bind_port")
[ -x "$BIND" ] || fail "no $BIND (make all)"

chmod 755 "$WORK"
touch "$WORK/owned"
# Port 80 may be taken on this host: its bind still makes the check.
cat >"$WORK/work.sh" <<SCRIPT
#!/bin/sh
chown 65534:65534 "$WORK/owned" || exit 1
"$BIND" 80 2>/dev/null
"$BIND" 81 || exit 1
SCRIPT
chmod 755 "$WORK/work.sh"
record_json "$WORK/p.json" --user nobody --grant chown,net_bind_service -- "$WORK/work.sh"
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC: $(cat "$WORK/record.err")"
objects() {
	jq -r --arg cap "$1" --arg sys "$2" '.capabilities[] | select(.name == $cap) | .checks[] |
		select(.syscall == $sys) | (.objects // [])[]' "$WORK/p.json" | sort | tr '\n' ' '
}
[ "$(objects CAP_CHOWN fchownat)" = "$WORK/owned -> 65534:65534 " ] ||
	fail "chown objects: '$(objects CAP_CHOWN fchownat)' in $(jq -c .capabilities "$WORK/p.json")"
[ "$(objects CAP_NET_BIND_SERVICE bind)" = "port 80 port 81 " ] ||
	fail "bind objects: '$(objects CAP_NET_BIND_SERVICE bind)'"

chown root:root "$WORK/owned"
"$CAPTRAIL" record --user nobody --grant chown,net_bind_service -- "$WORK/work.sh" \
	>"$WORK/p.txt" 2>"$WORK/record.err" || fail "text record: $(cat "$WORK/record.err")"
grep -qxF "  CAP_CHOWN: fchownat $WORK/owned -> 65534:65534" "$WORK/p.txt" ||
	fail "text chown: $(cat "$WORK/p.txt")"
grep -qE "^  CAP_NET_BIND_SERVICE: bind port 8[01] \(and 1 more\)$" "$WORK/p.txt" ||
	fail "text bind: $(cat "$WORK/p.txt")"

# Read back, the objects stay with their checks; a bad one is refused.
"$CAPTRAIL" run --profile "$WORK/p.json" -- true || fail "profile with objects refused"
jq '.capabilities[0].checks[0].objects = [1]' "$WORK/p.json" >"$WORK/bad.json"
"$CAPTRAIL" run --profile "$WORK/bad.json" -- true 2>"$WORK/err"; [ $? -eq 2 ] ||
	fail "a number as an object accepted"
grep -q 'objects\[0\]: not a string' "$WORK/err" || fail "bad object: $(cat "$WORK/err")"

# setuid's object is the uid; as root, no grant needed.
record_json "$WORK/su.json" -- setpriv --reuid 65534 true
jq -e '.capabilities[] | select(.name == "CAP_SETUID") | .checks[] |
	select(.objects != null) | .objects | any(startswith("uid "))' "$WORK/su.json" >/dev/null ||
	fail "setuid objects: $(jq -c '.capabilities[] | select(.name == "CAP_SETUID")' "$WORK/su.json")"
echo ok
