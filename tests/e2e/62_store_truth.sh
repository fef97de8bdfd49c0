#!/bin/bash
# The store tells the truth about itself. A store a real agent wrote:
# - with a damaged page is refused at open by the agent and by profile --db
#   (exit 1), saying it is corrupt and how to move it aside; done so, the
#   agent starts a new store;
# - with rows edited to hostile values: profile skips them and says how
#   many, never prints a wrapped count, and sums saturate; the same through
#   the agent's API;
# - on a full disk (a small tmpfs): the agent warns at each failed flush and
#   keeps the counts; profile says how many rows it holds unstored and why,
#   not "no capability checks recorded"; once there is room, every check
#   is stored, none lost.
. "$(dirname "$0")/lib.sh"
need_root
LOOP=$HELPERS/cap_loop
[ -x "$LOOP" ] || fail "no $LOOP (make all)"
command -v sqlite3 >/dev/null || fail "no sqlite3 (scripts/install-deps.sh)"

AGENT=
# start_agent DB SOCK [OPTIONS]: the agent in the background, until ready.
start_agent() {
	local db=$1 sock=$2; shift 2
	: >"$WORK/agent.err"
	"$CAPTRAIL" agent --db "$db" --socket "$sock" "$@" 2>"$WORK/agent.err" &
	AGENT=$!
	cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
	wait_agent
}
stop_agent() {
	kill -INT "$AGENT"
	wait "$AGENT"
	AGENT_RC=$?
}

# sethostname N times (CAP_SYS_ADMIN) in a UTS namespace of its own.
checks() { "$LOOP" "$1" 1 || fail "cap_loop $1 failed"; }

# expect_fail RC PATTERN CMD...: CMD exits RC and says PATTERN on stderr.
expect_fail() {
	local rc=$1 want=$2; shift 2
	"$@" >"$WORK/cmd.out" 2>"$WORK/cmd.err"
	local got=$?
	[ "$got" -eq "$rc" ] || fail "'$*' exited $got, want $rc: $(cat "$WORK/cmd.err")"
	grep -qF -- "$want" "$WORK/cmd.err" || fail "'$*' said '$(cat "$WORK/cmd.err")', want '$want'"
}

# A store a real agent wrote, with the real checks of cap_loop.
DB=$WORK/store/captrail.db SOCK=$WORK/captrail.sock
start_agent "$DB" "$SOCK"
checks 25
"$CAPTRAIL" profile --socket "$SOCK" --binary "$LOOP" -o json >"$WORK/p.json" ||
	fail "no profile of cap_loop: $(cat "$WORK/p.json")"
[ "$(record_count "$WORK/p.json" CAP_SYS_ADMIN sethostname)" -eq 25 ] ||
	fail "cap_loop's sethostname checks: $(record_count "$WORK/p.json" CAP_SYS_ADMIN sethostname)"
stop_agent
[ "$(sqlite3 "$DB" 'PRAGMA page_count')" -ge 4 ] || fail "the store has fewer than 4 pages"

# --- a damaged page ---
cp "$DB" "$WORK/corrupt.db"
# page 2's b-tree header overwritten (page 1 is the file header)
printf '\377%.0s' $(seq 64) | dd of="$WORK/corrupt.db" bs=1 seek=4096 conv=notrunc 2>/dev/null
sum=$(sha256sum <"$WORK/corrupt.db")
moveit="it is corrupt (PRAGMA quick_check failed): move it and its -wal and -shm files aside"
# (an agent that opens it would run: bounded, only so as not to hang)
expect_fail 1 "$moveit" timeout -s KILL 120 \
	"$CAPTRAIL" agent --db "$WORK/corrupt.db" --socket "$WORK/c.sock"
expect_fail 1 "$moveit" "$CAPTRAIL" profile --db "$WORK/corrupt.db" --all
[ "$(sha256sum <"$WORK/corrupt.db")" = "$sum" ] || fail "the refused store was written to"
[ -s "$WORK/cmd.out" ] && fail "profile printed a profile of a corrupt store"
# Doing what the message says gives a new store.
mv "$WORK/corrupt.db" "$WORK/corrupt.db.corrupt"
start_agent "$WORK/corrupt.db" "$WORK/c.sock"
stop_agent
[ "$(sqlite3 "$WORK/corrupt.db" 'SELECT count(*) FROM checks')" -ge 0 ] ||
	fail "no new store after moving the corrupt one aside"

# --- hostile values ---
edited() { # SQL: a copy of the store, edited
	cp "$DB" "$WORK/hostile.db"
	sqlite3 "$WORK/hostile.db" "$1" || fail "sqlite3: $1"
}
loop_rows="workload_id = (SELECT id FROM workloads WHERE binary = '$LOOP')"
n_loop=$(sqlite3 "$DB" "SELECT count(*) FROM checks WHERE $loop_rows")
[ "$n_loop" -ge 2 ] || fail "cap_loop has $n_loop rows"

for sql in "count = -100" "count = 'many'" "cap = 999" "audit = 77" "flags = -1" \
	"denied = 7" "count = 4.5"; do
	edited "UPDATE checks SET $sql WHERE $loop_rows"
	expect_fail 1 "no valid capability checks stored for binary $LOOP" \
		"$CAPTRAIL" profile --db "$WORK/hostile.db" --binary "$LOOP"
	grep -qF "warning: $n_loop store rows skipped" "$WORK/cmd.err" ||
		fail "$sql: $(cat "$WORK/cmd.err")"
	grep -q "Cannot allocate memory\|Invalid argument\|1844674407370955" \
		"$WORK/cmd.err" "$WORK/cmd.out" && fail "$sql: $(cat "$WORK/cmd.err" "$WORK/cmd.out")"
	# the other workloads' profiles still come, with the warning
	"$CAPTRAIL" profile --db "$WORK/hostile.db" --all -o json >"$WORK/all.json" \
		2>"$WORK/all.err" || true
	grep -qF "warning: $n_loop store rows skipped" "$WORK/all.err" ||
		fail "--all with '$sql': $(cat "$WORK/all.err")"
done
note "an edited row: $(head -n 1 "$WORK/cmd.err")"

# Through the agent's API: the agent skips them and the reply says so.
edited "UPDATE checks SET count = -100 WHERE $loop_rows"
start_agent "$WORK/hostile.db" "$WORK/h.sock"
expect_fail 1 "warning: $n_loop store rows skipped" \
	"$CAPTRAIL" profile --socket "$WORK/h.sock" --binary "$LOOP"
stop_agent

# Sums of counts at the store's bound saturate instead of wrapping.
edited "UPDATE checks SET count = 9223372036854775807 WHERE $loop_rows"
"$CAPTRAIL" profile --db "$WORK/hostile.db" --binary "$LOOP" -o json >"$WORK/max.json" ||
	fail "profile of saturated counts failed"
grep -q '"granted": 18446744073709551615' "$WORK/max.json" ||
	fail "the sum of $n_loop maximal counts is $(grep -o '"granted": [0-9]*' "$WORK/max.json")"

# --- a full disk ---
mkdir "$WORK/small"
mount -t tmpfs -o size=1m captrail-e2e "$WORK/small" || skip "cannot mount a tmpfs"
cleanup_hooks+=("umount -l '$WORK/small' 2>/dev/null")
start_agent "$WORK/small/captrail.db" "$WORK/s.sock" --flush-interval 1
dd if=/dev/zero of="$WORK/small/fill" bs=4k 2>/dev/null # until ENOSPC
checks 30
wait_for "$WORK/agent.err" 'warning: store flush failed .*: No space left on device' ||
	fail "the agent did not say its flush failed: $(cat "$WORK/agent.err")"
expect_fail 1 "no capability checks stored yet for binary $LOOP" \
	"$CAPTRAIL" profile --socket "$WORK/s.sock" --binary "$LOOP"
grep -qE "warning: the agent holds [0-9]+ rows of counts it could not store, which this profile lacks: its last flush failed: No space left on device" \
	"$WORK/cmd.err" || fail "profile did not say what is not stored: $(cat "$WORK/cmd.err")"
note "full disk: $(head -n 1 "$WORK/cmd.err")"
# Room again: what was held is stored, every check of it.
rm "$WORK/small/fill"
"$CAPTRAIL" profile --socket "$WORK/s.sock" --binary "$LOOP" -o json >"$WORK/s.json" 2>"$WORK/s.err" ||
	fail "no profile once there is room: $(cat "$WORK/s.err")"
[ -s "$WORK/s.err" ] && fail "profile still warns: $(cat "$WORK/s.err")"
[ "$(record_count "$WORK/s.json" CAP_SYS_ADMIN sethostname)" -eq 30 ] ||
	fail "stored $(record_count "$WORK/s.json" CAP_SYS_ADMIN sethostname) of 30 sethostname checks"
# Said once when it starts failing, once when it works again: not every flush.
[ "$(grep -c 'store flush failed' "$WORK/agent.err")" -eq 1 ] ||
	fail "the flush failure was said $(grep -c 'store flush failed' "$WORK/agent.err") times"
grep -q 'warning: store flush works again' "$WORK/agent.err" ||
	fail "the agent did not say its flush works again: $(cat "$WORK/agent.err")"
# Full again at exit: the summary says how much is lost, and the exit is 1.
dd if=/dev/zero of="$WORK/small/fill" bs=4k 2>/dev/null
checks 5
stop_agent
[ "$AGENT_RC" -eq 1 ] || fail "the agent exited $AGENT_RC with counts it could not store, want 1"
grep -qE 'warning: [1-9][0-9]* rows of counts could not be stored and are lost: No space left on device' \
	"$WORK/agent.err" || fail "the summary did not say what was lost: $(tail -n 3 "$WORK/agent.err")"
grep -q 'the event loop failed' "$WORK/agent.err" &&
	fail "a full disk at exit was called an event loop failure"
exit 0
