#!/bin/bash
# profile --merge: two real recordings of a non-root program, one that
# chowns (--grant chown) and one that opens a raw socket (--grant net_raw),
# merged. The union needs both; counts are the sums of the runs'; each
# capability says in how many runs it was checked, in text and JSON; a
# merged file merges again; a bad file is named, with what is wrong.
. "$(dirname "$0")/lib.sh"
need_root
command -v perl >/dev/null || skip "no perl"

chmod 711 "$WORK"
mkdir "$WORK/files" && chmod 777 "$WORK/files"
echo hi >"$WORK/files/f"

record_json "$WORK/chown.json" --user nobody --grant chown -- chown nobody "$WORK/files/f"
[ "$RECORD_RC" -eq 0 ] || fail "chown run exited $RECORD_RC: $(cat "$WORK/record.err")"
record_json "$WORK/raw.json" --user nobody --grant net_raw -- \
	perl -MSocket -e 'socket(my $s, AF_INET, SOCK_RAW, 1) or die "raw socket: $!\n"'
[ "$RECORD_RC" -eq 0 ] || fail "raw socket run exited $RECORD_RC: $(cat "$WORK/record.err")"
[ "$(profile_grant "$WORK/chown.json")" = CHOWN ] || fail "chown run: $(profile_grant "$WORK/chown.json")"
[ "$(profile_grant "$WORK/raw.json")" = NET_RAW ] || fail "raw run: $(profile_grant "$WORK/raw.json")"

granted() { jq "[.capabilities[] | select(.name == \"$2\") | .granted] | add // 0" "$1"; }
cap_runs() { jq -r ".capabilities[] | select(.name == \"$2\") | .runs" "$1"; }

"$CAPTRAIL" profile --merge "$WORK/chown.json" "$WORK/raw.json" -o json >"$WORK/m.json" \
	2>"$WORK/merge.err" || fail "merge exited $?: $(cat "$WORK/merge.err")"
jq -e . "$WORK/m.json" >/dev/null || fail "merge wrote invalid JSON"
[ "$(profile_grant "$WORK/m.json")" = "CHOWN NET_RAW" ] ||
	fail "merged grant is '$(profile_grant "$WORK/m.json")'"
[ "$(jq .runs "$WORK/m.json")" = 2 ] || fail "merged runs: $(jq .runs "$WORK/m.json")"
[ "$(cap_runs "$WORK/m.json" CAP_CHOWN)" = 1 ] || fail "CAP_CHOWN runs: $(cap_runs "$WORK/m.json" CAP_CHOWN)"
[ "$(cap_runs "$WORK/m.json" CAP_NET_RAW)" = 1 ] || fail "CAP_NET_RAW runs: $(cap_runs "$WORK/m.json" CAP_NET_RAW)"
[ "$(jq -r .user.name "$WORK/m.json")" = nobody ] || fail "merged user: $(jq -c .user "$WORK/m.json")"
# Per capability and per check, the sum of the runs'.
for cap in CAP_CHOWN CAP_NET_RAW CAP_SYS_ADMIN; do
	want=$(($(granted "$WORK/chown.json" $cap) + $(granted "$WORK/raw.json" $cap)))
	[ "$(granted "$WORK/m.json" $cap)" = "$want" ] ||
		fail "$cap granted $(granted "$WORK/m.json" $cap) times in the union, want $want"
done
want=$(jq -s '[.[].capabilities[].checks[].count] | add' "$WORK/chown.json" "$WORK/raw.json")
[ "$(jq '[.capabilities[].checks[].count] | add' "$WORK/m.json")" = "$want" ] ||
	fail "the union does not count every check of the runs ($want)"
# Both runs' mmap overcommit probes: every exec checks it, so 2 of 2.
[ "$(cap_runs "$WORK/m.json" CAP_SYS_ADMIN)" = 2 ] || fail "CAP_SYS_ADMIN runs: $(cap_runs "$WORK/m.json" CAP_SYS_ADMIN)"

"$CAPTRAIL" profile --merge "$WORK/chown.json" "$WORK/raw.json" >"$WORK/m.txt" ||
	fail "text merge exited $?"
grep -qx 'runs       2 merged' "$WORK/m.txt" || fail "no runs line: $(cat "$WORK/m.txt")"
grep -qx '  CAP_CHOWN: 1 of 2 runs' "$WORK/m.txt" || fail "no CHOWN coverage: $(cat "$WORK/m.txt")"
grep -qx '  CAP_NET_RAW: 1 of 2 runs' "$WORK/m.txt" || fail "no NET_RAW coverage: $(cat "$WORK/m.txt")"
grep -qx 'recommended: CAP_CHOWN CAP_NET_RAW' "$WORK/m.txt" || fail "text: $(cat "$WORK/m.txt")"
# The other formats render the union; YAML and unit files carry the
# coverage as comments, docker's flags stay bare.
"$CAPTRAIL" profile --merge "$WORK/chown.json" "$WORK/raw.json" -o k8s >"$WORK/m.yaml" ||
	fail "k8s merge exited $?"
grep -q 'add: \[CHOWN, NET_RAW\]' "$WORK/m.yaml" || fail "k8s: $(cat "$WORK/m.yaml")"
grep -qx '#   CAP_CHOWN: 1 of 2 runs' "$WORK/m.yaml" || fail "k8s coverage: $(cat "$WORK/m.yaml")"
[ "$("$CAPTRAIL" profile --merge "$WORK/chown.json" "$WORK/raw.json" -o docker)" = \
	"--cap-drop=ALL --cap-add=CHOWN --cap-add=NET_RAW" ] || fail "docker rendering of the union"

# A union merges again as its runs: 3 runs, CHOWN in 2.
"$CAPTRAIL" profile --merge "$WORK/m.json" "$WORK/chown.json" -o json >"$WORK/m3.json" ||
	fail "merging the union exited $?"
[ "$(jq .runs "$WORK/m3.json")" = 3 ] || fail "runs of the union merged again: $(jq .runs "$WORK/m3.json")"
[ "$(cap_runs "$WORK/m3.json" CAP_CHOWN)" = 2 ] || fail "CHOWN runs: $(cap_runs "$WORK/m3.json" CAP_CHOWN)"
[ "$(granted "$WORK/m3.json" CAP_CHOWN)" = $((2 * $(granted "$WORK/chown.json" CAP_CHOWN))) ] ||
	fail "CHOWN count of the union merged again"

# Bad files: one line naming the file; not a profile is a usage error (2),
# a file that cannot be read a runtime one (1); nothing on stdout.
echo '{"captrail_profile": 1, "grant": ["CAP_CHWON"]}' >"$WORK/bad.json"
bad_merge() {
	local want=$1 what=$2; shift 2
	"$CAPTRAIL" profile --merge "$@" >"$WORK/bad.out" 2>"$WORK/bad.err"
	local rc=$?
	[ "$rc" -eq "$want" ] || fail "merge of $* exited $rc, want $want"
	[ "$(wc -l <"$WORK/bad.err")" -eq 1 ] || fail "merge of $*: $(cat "$WORK/bad.err")"
	grep -qF -- "$what" "$WORK/bad.err" || fail "merge of $*: '$(cat "$WORK/bad.err")' lacks '$what'"
	[ ! -s "$WORK/bad.out" ] || fail "merge of $* wrote a profile anyway"
}
bad_merge 2 "cannot merge '$WORK/bad.json': grant[0]: unknown capability" "$WORK/chown.json" "$WORK/bad.json"
bad_merge 1 "cannot read '$WORK/none.json': No such file or directory" "$WORK/chown.json" "$WORK/none.json"
bad_merge 2 "cannot merge '$WORK': not a regular file" "$WORK"
bad_merge 2 "--merge needs the profiles to merge"
"$CAPTRAIL" profile "$WORK/chown.json" >/dev/null 2>"$WORK/bad.err"
[ $? -eq 2 ] && grep -q -- "--merge" "$WORK/bad.err" || fail "a file without --merge: $(cat "$WORK/bad.err")"
exit 0
