#!/bin/bash
# A hostile process: its binary path and cwd hold a newline followed by a
# forged event line, escape sequences, a C1 CSI, a bidi override and
# invalid UTF-8; its argv holds invalid UTF-8 and is longer than the bound
# (and than the kernel's record), with a 4-byte character across the cut.
# It makes a real check (unshare(CLONE_NEWUTS): CAP_SYS_ADMIN). trace in
# compact, table and JSON, and record's JSON and text profiles, must show
# one line per event, no control byte, valid UTF-8, and the cut at a
# character boundary with the mark.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "needs python3"

evil=$'x\nFAKE 10:00:00.000000 granted CAP_SYS_ADMIN pid=1 uid=0 forged'
evil+=$'\e[2J\e]0;pwned\a\xc2\x9b31m\xe2\x80\xae\xff\xfe\xc0\xaf'
dir="$WORK/d$evil"
bin="$dir/b$evil"
mkdir "$dir" || fail "cannot make the hostile directory"
cp "$(command -v unshare)" "$bin" || fail "cannot copy unshare"

# argv[1..]: "--uts -- true BAD LONG"; LONG starts with k bytes of 'A' so
# that the bound (TEXT_ARGS_MAX 1000, the mark's 3 bytes included) falls
# 2 bytes into a rocket, as does the kernel's 1024-byte record.
bad=$'bad\xff\xe2\x82x\xf0\x9f\x98'
prefix="--uts -- true $bad "
plen=$(printf '%s' "$prefix" | wc -c)
k=$(((997 - plen - 2) % 4))
long=$(head -c "$k" /dev/zero | tr '\0' A)
for ((i = 0; i < 300; i++)); do long+=$'\xf0\x9f\x9a\x80'; done
printf '%s' "$prefix$long" >"$WORK/args"
printf '%s' "$bin" >"$WORK/binary"
printf '%s' "$dir" >"$WORK/cwd"

# check.py FORMAT OUT PID: the assertions, on the bytes as written.
cat >"$WORK/check.py" <<'PY'
import json, re, sys

fmt, path, pid, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
raw = open(path, "rb").read()
binary = open(work + "/binary", "rb").read()
cwd = open(work + "/cwd", "rb").read()
args = open(work + "/args", "rb").read()
MARK = "\u2026"

def fail(why):
    sys.exit("FAIL %s: %s" % (fmt, why))

def controls(text):
    """Characters a terminal acts on."""
    return [c for c in text if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0
            or c in "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
                    "\u2066\u2067\u2068\u2069"]

try:
    text = raw.decode("utf-8")  # strict
except UnicodeDecodeError as e:
    fail("not valid UTF-8: %s" % e)
if not text.endswith("\n"):
    fail("output does not end with a newline")
lines = text[:-1].split("\n")
for n, line in enumerate(lines):
    if controls(line):
        fail("line %d holds controls %r: %r" % (n + 1, controls(line), line[:200]))

if fmt == "json":
    mine = []
    for n, line in enumerate(lines):
        try:
            ev = json.loads(line)
        except ValueError as e:
            fail("line %d is not one JSON document: %s" % (n + 1, e))
        p = ev["process_kprobe"]["process"]
        if p["pid"] == int(pid) and p.get("binary", "").startswith(work):
            mine.append(p)
    if not mine:
        fail("no event of pid %s with its binary" % pid)
    p = mine[0]
    if p["binary"] != binary.decode("utf-8", "replace"):
        fail("binary %r" % p["binary"])
    if p["cwd"] != cwd.decode("utf-8", "replace"):
        fail("cwd %r" % p["cwd"])
    # the bound's 997 bytes end 2 bytes into a rocket: it goes whole
    keep = 997 - 2
    if args[keep:keep + 4] != b"\xf0\x9f\x9a\x80":
        fail("the test's arguments do not put a rocket across the bound")
    want = args[:keep].decode("utf-8", "replace") + MARK
    if p["arguments"] != want:
        fail("arguments end %r, want %r" % (p["arguments"][-12:], want[-12:]))
    if "truncArgs" not in p["flags"].split():
        fail("no truncArgs flag: %r" % p["flags"])
    sys.exit(0)

# compact and table: every line is an event line, none forged
event = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} (granted|denied) +CAP_[A-Z_0-9]+ +pid=\d+ uid=\d+ \S")
row = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} +(granted|denied) +CAP_[A-Z_0-9]+ +\d+ +\d+ +\S+ +\S")
if fmt == "table":
    if not lines[0].startswith("TIME "):
        fail("no header: %r" % lines[0])
    lines = lines[1:]
for n, line in enumerate(lines):
    if not (event if fmt == "compact" else row).match(line):
        fail("line %r is not an event line" % line[:200])
shown = ("b" + "x\\nFAKE 10:00:00.000000 granted CAP_SYS_ADMIN pid=1 uid=0 forged"
         "\\x1b[2J\\x1b]0;pwned\\x07\\u009b31m\\u202e\\xff\\xfe\\xc0\\xaf")
mine = re.compile(r"pid=%s " % pid if fmt == "compact" else r"^\S+ +\S+ +\S+ +%s " % pid)
hits = [l for l in lines if mine.search(l) and shown in l]
if not hits:
    fail("no line of pid %s shows the escaped binary %r" % (pid, shown))
PY

for fmt in compact table json; do
	start_trace -o "$fmt" --caps sys_admin
	(cd "$dir" && exec "$bin" --uts -- true "$bad" "$long") &
	pid=$!
	wait $pid || fail "the hostile unshare failed"
	case $fmt in
	json) wait_event "\"pid\":$pid," ;;
	compact) wait_event "pid=$pid " ;;
	table) wait_event "^[0-9:.]+ +[a-z]+ +CAP_[A-Z_]+ +$pid " ;;
	esac
	stop_trace
	[ "$TRACE_RC" -eq 0 ] || fail "trace -o $fmt exited $TRACE_RC: $(cat "$WORK/err")"
	python3 "$WORK/check.py" "$fmt" "$WORK/out" "$pid" "$WORK" || {
		head -c 3000 "$WORK/out" | cat -v >&2
		fail "trace -o $fmt"
	}
	if [ "$fmt" = json ]; then
		grep -q "strings longer than their bound were cut" "$WORK/err" ||
			fail "trace did not count the cut: $(cat "$WORK/err")"
	fi
done

# record: the JSON profile (binary as given, the command well-formed and
# whole) and the text profile (escaped, the command quoted for bash).
record_json "$WORK/p.json" -- sh -c 'cd "$1" && exec "$2" --uts -- true "$3" "$4"' sh \
	"$dir" "$bin" "$bad" "$long"
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC: $(cat "$WORK/record.err")"
python3 - "$WORK/p.json" "$WORK" <<'PY' || fail "record -o json"
import json, sys

path, work = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
binary = open(work + "/binary", "rb").read().decode("utf-8", "replace")
try:
    doc = json.loads(raw.decode("utf-8"))
except (UnicodeDecodeError, ValueError) as e:
    sys.exit("FAIL: the profile is not valid UTF-8 JSON: %s" % e)
if any(b < 0x20 and b != 0x0a for b in raw):
    sys.exit("FAIL: a raw control byte in the profile")
bins = [c.get("binary") for cap in doc["capabilities"] if cap["name"] == "CAP_SYS_ADMIN"
        for c in cap["checks"]]
if binary not in bins:
    sys.exit("FAIL: no CAP_SYS_ADMIN check of %r among %r" % (binary, bins))
cmd = doc["command"]
args = open(work + "/args", "rb").read().split(b" ", 4)
if cmd[-2:] != [args[3].decode("utf-8", "replace"), args[4].decode("utf-8", "replace")]:
    sys.exit("FAIL: command %r" % cmd[-2:])
PY

"$CAPTRAIL" record -- sh -c 'cd "$1" && exec "$2" --uts -- true "$3" "$4"' sh \
	"$dir" "$bin" "$bad" "$long" >"$WORK/p.txt" 2>"$WORK/record.err" ||
	fail "record (text) failed: $(cat "$WORK/record.err")"
python3 - "$WORK/p.txt" <<'PY' || fail "record's text profile"
import sys

raw = open(sys.argv[1], "rb").read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit("FAIL: not valid UTF-8: %s" % e)
bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0 or c == "\u202e"]
if bad:
    sys.exit("FAIL: controls %r" % bad)
want = ["x\\nFAKE", "\\x1b[2J", "$'bad\\xff\\xe2\\x82x\\xf0\\x9f\\x98'"]
if any(w not in text for w in want):
    sys.exit("FAIL: the binary or the command is not shown escaped:\n" + text[:2000])
for line in text.split("\n"):
    if line.startswith("FAKE"):
        sys.exit("FAIL: a forged line: %r" % line)
PY
