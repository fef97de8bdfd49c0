# shellcheck shell=bash
# The acceptance suite's driver; a program's script sets what to run and how
# to tell that it works, then calls acc_main. Every run is real: the Debian
# program, the recorded profile, captrail run confining it. Nothing is timed:
# a daemon gets a generous -d and the probe is retried until it passes or the
# run ends.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

# Set by the program's script:
# ACC_NAME       the program's name in the closing table
# ACC_KIND       daemon (stopped at -d, the probe runs while it serves) or
#                oneshot (ends by itself; its exit status and the probe after)
# ACC_CMD        the command, an array
# ACC_RECORD     extra record options, an array (--user nobody --grant ...)
# ACC_EXPECT     capabilities the grant must hold (what makes the test real)
# ACC_PROBE      the probe, a script under $WORK (empty: the exit status only)
# acc_reset      (optional function) puts the host back into the state every
#                run starts from, before each run
# record runs a daemon to its deadline (what the probe caused is recorded);
# captrail run is stopped as soon as the probe passed, so its deadline only
# bounds a run that does not work and can be generous.
ACC_DURATION=${ACC_DURATION:-8}
ACC_RUN_DURATION=${ACC_RUN_DURATION:-20}
ACC_STOP_TIMEOUT=5
ACC_RECORD=()
ACC_EXPECT=""
ACC_PROBE=""
# The daemons drop to their own users and must still reach their files here.
chmod 755 "$WORK"

acc_reset() { :; }

# acc_need BINARY...: root, a captrail with issue 15's options, and the
# programs (from scripts/install-deps.sh test).
acc_need() {
	local bin
	need_root
	"$CAPTRAIL" record --help 2>&1 | grep -q -- '--minimize' ||
		fail "$CAPTRAIL has no 'record --minimize' (the suite needs record --probe, --minimize, --stop-timeout and run -d)"
	"$CAPTRAIL" run --help 2>&1 | grep -q -- '--duration' ||
		fail "$CAPTRAIL has no 'run --duration'"
	for bin in "$@"; do
		[ -x "$bin" ] || skip "no $bin (install it: scripts/install-deps.sh test)"
	done
}

# acc_port_free tcp|udp PORT: nothing listens on PORT (any address).
acc_port_free() {
	local flag=t
	[ "$1" = udp ] && flag=u
	[ -z "$(ss -Hln$flag "sport = :$2")" ]
}

# acc_pick_port VAR tcp|udp PORT...: VAR is the first free one (ports below
# 1024 where binding one is a CAP_NET_BIND_SERVICE check the test is about).
acc_pick_port() {
	local _var=$1 _proto=$2 _port
	shift 2
	for _port in "$@"; do
		acc_port_free "$_proto" "$_port" && { printf -v "$_var" %s "$_port"; return 0; }
	done
	fail "none of $_proto ports $* is free"
}

# acc_restore PATH...: what does not exist yet and the program may create on
# the host is removed when the test ends; what existed is left alone.
acc_restore() {
	local path
	for path in "$@"; do
		[ -e "$path" ] || [ -L "$path" ] || cleanup_hooks+=("rm -rf '$path'")
	done
}

# acc_probe_file: writes stdin to $WORK/probe.sh, the probe.
acc_probe_file() {
	ACC_PROBE=$WORK/probe.sh
	{ echo '#!/bin/sh'; cat; } >"$ACC_PROBE"
	chmod 755 "$ACC_PROBE"
}

# acc_no_leftover: no process of the test (its command line names $WORK)
# outlives the captrail that ran it; waits for the kill to land.
acc_no_leftover() {
	local i
	for ((i = 0; i < 100; i++)); do
		pgrep -f -- "$WORK" >/dev/null || return 0
		sleep 0.1
	done
	fail "$1 left processes behind: $(pgrep -af -- "$WORK" | head -n 5)"
}

acc_caps() { jq -r "$1 | map(sub(\"^CAP_\"; \"\")) | sort | join(\" \")" "$2"; }

# acc_record: the recording with --probe and --minimize; the profile in
# $WORK/$ACC_NAME.json.
acc_record() {
	local prof=$WORK/$ACC_NAME.json opts=() rc
	[ "$ACC_KIND" = daemon ] &&
		opts+=(-d "$ACC_DURATION" --stop-timeout "$ACC_STOP_TIMEOUT")
	[ -n "$ACC_PROBE" ] && opts+=(--probe "$ACC_PROBE")
	acc_reset
	"$CAPTRAIL" record "${opts[@]}" --minimize -o json --output "$prof" \
		"${ACC_RECORD[@]}" -- "${ACC_CMD[@]}" 2>"$WORK/record.err"
	rc=$?
	grep -q "cannot load the BPF programs" "$WORK/record.err" &&
		skip "BPF programs cannot load here: $(head -n 1 "$WORK/record.err")"
	sed 's/^/# record: /' "$WORK/record.err"
	if [ "$rc" -ne 0 ]; then
		ACC_ROW[0]="no profile: record exited $rc ($(grep '^captrail record:' \
			"$WORK/record.err" | tail -n 1 | tr '|' '/'))"
		fail "record exited $rc"
	fi
	jq -e . "$prof" >/dev/null || fail "record wrote no valid JSON profile"
	jq -e '.minimize.runs >= 0' "$prof" >/dev/null || fail "the profile has no \"minimize\""
	acc_no_leftover record
}

# acc_works PROFILE: one confined run; true when it works: a daemon's probe
# passed while it ran (then captrail run is stopped with SIGTERM, which it
# forwards), a oneshot exited 0 and its probe passes after.
acc_works() {
	local pid ok=1 rc i
	acc_reset
	if [ "$ACC_KIND" = daemon ]; then
		"$CAPTRAIL" run --profile "$1" -d "$ACC_RUN_DURATION" --stop-timeout "$ACC_STOP_TIMEOUT" \
			-- "${ACC_CMD[@]}" >"$WORK/run.out" 2>"$WORK/run.err" &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			if "$ACC_PROBE" >>"$WORK/probe.log" 2>&1; then
				ok=0
				kill -TERM "$pid"
				break
			fi
			sleep 0.3
		done
		wait "$pid"
	else
		"$CAPTRAIL" run --profile "$1" -- "${ACC_CMD[@]}" >"$WORK/run.out" 2>"$WORK/run.err"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			ok=0
			# The probe checks a state the command left: a few tries, for
			# what the kernel finishes after the exit.
			if [ -n "$ACC_PROBE" ]; then
				ok=1
				for ((i = 0; i < 3; i++)); do
					"$ACC_PROBE" >>"$WORK/probe.log" 2>&1 && { ok=0; break; }
					sleep 0.5
				done
			fi
		fi
	fi
	acc_no_leftover "run --profile $1"
	# A profile captrail refuses would pass for a capability that matters.
	grep -q "^captrail run: cannot read profile" "$WORK/run.err" &&
		fail "captrail run refused $1: $(cat "$WORK/run.err")"
	return $ok
}

# The program's row of the closing table, printed however the test ends
# (tests/run.sh collects the rows): what was found so far.
ACC_ROW=("-" "-" "-")
acc_row() { echo "| $ACC_NAME | ${ACC_ROW[0]} | ${ACC_ROW[1]} | ${ACC_ROW[2]} |"; }

acc_main() {
	local prof=$WORK/$ACC_NAME.json grant cap minus notes
	cleanup_hooks+=(acc_row)
	ACC_ROW=("no profile" "-" "-")
	acc_record
	grant=$(acc_caps .grant "$prof")
	ACC_ROW[0]=${grant:-none}
	note "recommended: ${grant:-none}"
	note "kept: $(jq -c '.kept // []' "$prof")"
	note "not needed: $(jq -c '.not_needed // []' "$prof")"
	# A capability marked not needed has left the grant and says why.
	jq -e '[.not_needed // [] | .[] | select((.reason // "") == "")] | length == 0' \
		"$prof" >/dev/null || fail "a not_needed entry has no reason"
	for cap in $(jq -r '.not_needed // [] | .[].capability' "$prof"); do
		jq -e --arg c "$cap" '.grant | index($c) == null' "$prof" >/dev/null ||
			fail "$cap is both granted and not needed"
	done

	if ! acc_works "$prof"; then
		ACC_ROW[1]="no: $(tail -n 1 "$WORK/run.err" | tr '|' '/')"
		fail "the recommended set is not sufficient: $(tail -n 5 "$WORK/run.err")"
	fi
	ACC_ROW[1]=yes
	for cap in $ACC_EXPECT; do
		[[ " $grant " == *" $cap "* ]] ||
			fail "the grant lacks $cap: '$grant'"
	done

	# Minimal: without any one granted capability it stops working.
	for cap in $(jq -r '.grant[]' "$prof"); do
		minus=$WORK/$ACC_NAME-without-$cap.json
		jq --arg c "$cap" '.grant -= [$c]' "$prof" >"$minus"
		ACC_ROW[2]="no: works without ${cap#CAP_}"
		acc_works "$minus" &&
			fail "works without $cap, which the profile grants: not minimal"
		note "without $cap: fails ($(tail -n 1 "$WORK/run.err"))"
	done
	notes=$(jq -r '[.not_needed // [] | .[] | "\(.capability | sub("^CAP_"; "")): \(.reason)"]
		| join("; ")' "$prof")
	ACC_ROW[2]="yes${notes:+ (not needed: $notes)}"
}
