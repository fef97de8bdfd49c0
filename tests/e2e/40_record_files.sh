#!/bin/bash
# A root script that creates a file, chowns it to another user, chmods it,
# reads and writes it needs CHOWN, FOWNER, DAC_READ_SEARCH and
# DAC_OVERRIDE, and not SYS_ADMIN (every exec and mmap's overcommit probe
# checks it without auditing). The checks come from children and
# grandchildren of the recorded command. --verify re-runs it confined.
. "$(dirname "$0")/lib.sh"
need_root

cat >"$WORK/files.sh" <<'SCRIPT'
#!/bin/sh
set -e
f=$(mktemp /tmp/captrail-e2e-file.XXXXXX)
echo hi >"$f"
chown 1234 "$f"      # another uid; a foreign group would add an FSETID check to chmod
chmod 600 "$f"
sh -c "sh -c 'cat $f >/dev/null'"   # a grandchild reads it
echo more >>"$f"
rm -f "$f"
SCRIPT
chmod 755 "$WORK/files.sh"

record_json "$WORK/p.json" --verify -- "$WORK/files.sh"
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC: $(cat "$WORK/record.err")"
grep -q "verify: ok" "$WORK/record.err" || fail "--verify did not pass: $(cat "$WORK/record.err")"

[ "$(profile_class "$WORK/p.json" required)" = "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER" ] ||
	fail "required is '$(profile_class "$WORK/p.json" required)'"
[ "$(profile_grant "$WORK/p.json")" = "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER" ] ||
	fail "grant is '$(profile_grant "$WORK/p.json")'"
[[ " $(profile_class "$WORK/p.json" noaudit) " == *" SYS_ADMIN "* ]] ||
	fail "the overcommit SYS_ADMIN probe was not classified noaudit"

# The grandchild's read is attributed to the recording, with its binary.
jq -e '.capabilities[] | select(.name == "CAP_DAC_READ_SEARCH") | .checks[]
	| select(.binary | test("/cat$"))' "$WORK/p.json" >/dev/null ||
	fail "the grandchild's CAP_DAC_READ_SEARCH check is missing"
