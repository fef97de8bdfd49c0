#!/bin/bash
# A non-root program binding a port below 1024, recorded as it would be
# deployed (--user nobody --grant net_bind_service), needs
# NET_BIND_SERVICE only; --verify re-runs it with exactly that, ambient.
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$HELPERS/bind_port" ] || fail "no $HELPERS/bind_port"

record_json "$WORK/p.json" --user nobody --grant net_bind_service --verify -- \
	"$HELPERS/bind_port" 81
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC: $(cat "$WORK/record.err")"
grep -q "verify: ok" "$WORK/record.err" || fail "--verify did not pass: $(cat "$WORK/record.err")"
[ "$(profile_grant "$WORK/p.json")" = "NET_BIND_SERVICE" ] ||
	fail "grant is '$(profile_grant "$WORK/p.json")', want NET_BIND_SERVICE"
[ "$(jq -r '.user.uid' "$WORK/p.json")" = 65534 ] || fail "profile does not name the user"

# Without the grant the same program is denied, and says so.
record_json "$WORK/denied.json" --user nobody -- "$HELPERS/bind_port" 81
[ "$RECORD_RC" -eq 1 ] || fail "bind without the capability exited $RECORD_RC, want 1"
[ "$(profile_class "$WORK/denied.json" denied)" = "NET_BIND_SERVICE" ] ||
	fail "denied is '$(profile_class "$WORK/denied.json" denied)'"
[ -z "$(profile_grant "$WORK/denied.json")" ] || fail "a denied capability was granted"

# systemd needs AmbientCapabilities for a non-root User=.
"$CAPTRAIL" record -o systemd --user nobody --grant net_bind_service -- \
	"$HELPERS/bind_port" 81 >"$WORK/unit" 2>/dev/null
grep -qx 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' "$WORK/unit" || fail "systemd: $(cat "$WORK/unit")"
grep -qx 'AmbientCapabilities=CAP_NET_BIND_SERVICE' "$WORK/unit" || fail "systemd: $(cat "$WORK/unit")"
