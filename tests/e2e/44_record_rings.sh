#!/bin/bash
# While recording, captrail itself runs in the Base ring (nothing
# effective) while the command it runs keeps CAP_CHOWN and uses it.
. "$(dirname "$0")/lib.sh"
need_root

mkfifo "$WORK/go"
cat >"$WORK/wait_then_chown.sh" <<SCRIPT
#!/bin/sh
read _ <"$WORK/go"
f=\$(mktemp /tmp/captrail-e2e-rings.XXXXXX)
chown 4321 "\$f" && rm -f "\$f"
SCRIPT
chmod 755 "$WORK/wait_then_chown.sh"
"$CAPTRAIL" record -o json --output "$WORK/p.json" -- "$WORK/wait_then_chown.sh" 2>"$WORK/err" &
rec=$!
# A failure below must not leave record waiting on the fifo for good.
cleanup_hooks+=("kill -TERM $rec 2>/dev/null")
wait_for "$WORK/err" '^captrail [a-z]*: ready' || fail "record not ready: $(cat "$WORK/err")"
eff=$(awk '/^CapEff/ {print $2}' "/proc/$rec/status")
prm=$(awk '/^CapPrm/ {print $2}' "/proc/$rec/status")
echo go >"$WORK/go"
wait $rec || fail "record exited $? (the command lost CAP_CHOWN?): $(cat "$WORK/err")"
[ "$eff" = 0000000000000000 ] || fail "captrail's CapEff while recording is $eff, want 0"
(( (0x$prm & 1) == 0 )) || fail "captrail kept CAP_CHOWN permitted ($prm)"
[ "$(profile_grant "$WORK/p.json")" = CHOWN ] || fail "grant is '$(profile_grant "$WORK/p.json")'"
