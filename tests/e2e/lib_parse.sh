# Format validators for end-to-end tests; source it (after lib.sh).
# YAML goes through a real parser (PyYAML's safe_load) and JSON through
# Python's, so "it parses" means what a consumer would see. Debian's
# /usr/bin/python3 is used on purpose: another python3 on PATH may lack
# the yaml module.
PARSE_PYTHON=${PARSE_PYTHON:-/usr/bin/python3}

_parse_fail() {
	if declare -F fail >/dev/null; then fail "$*"; fi
	echo "FAIL: $*" >&2
	exit 1
}

_parse_need() {
	[ -x "$PARSE_PYTHON" ] || _parse_fail "no $PARSE_PYTHON (install python3)"
	if [ "$1" = yaml ] && ! "$PARSE_PYTHON" -c 'import yaml' 2>/dev/null; then
		_parse_fail "$PARSE_PYTHON cannot import yaml (install python3-yaml: scripts/install-deps.sh test)"
	fi
}

# _parse_run yaml|json FILE [PATH]: parses FILE (one document, not empty);
# with PATH (dotted keys, numeric list indices), prints the value there: a
# scalar as is (true/false/null for JSON's), a list one item per line, a
# mapping as JSON.
_parse_run() {
	"$PARSE_PYTHON" - "$@" <<'PY'
import json, sys
kind, path = sys.argv[1], sys.argv[2]
keys = sys.argv[3].split(".") if len(sys.argv) > 3 and sys.argv[3] else None
try:
    with open(path, encoding="utf-8") as f:
        if kind == "yaml":
            import yaml
            doc = yaml.safe_load(f)
        else:
            doc = json.load(f)
except Exception as e:
    sys.exit(f"{path}: not valid {kind.upper()}: {e}")
if doc is None:
    sys.exit(f"{path}: empty {kind.upper()} document")

def scalar(v):
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    return str(v)

if keys is not None:
    v = doc
    for k in keys:
        try:
            v = v[int(k)] if isinstance(v, list) else v[k]
        except (KeyError, IndexError, ValueError, TypeError):
            sys.exit(f"{path}: no {sys.argv[3]} (at {k})")
    if isinstance(v, list):
        for item in v:
            print(scalar(item) if not isinstance(item, (dict, list)) else json.dumps(item))
    elif isinstance(v, dict):
        print(json.dumps(v))
    else:
        print(scalar(v))
PY
}

# assert_yaml FILE: one valid, non-empty YAML document.
assert_yaml() {
	local err
	_parse_need yaml
	err=$(_parse_run yaml "$1" 2>&1) || _parse_fail "$err"
}

# assert_json FILE: one valid, non-empty JSON document.
assert_json() {
	local err
	_parse_need json
	err=$(_parse_run json "$1" 2>&1) || _parse_fail "$err"
}

# yaml_get FILE PATH, json_get FILE PATH: the value at PATH (see
# _parse_run), e.g. `yaml_get out.yaml securityContext.capabilities.add`.
yaml_get() {
	_parse_need yaml
	_parse_run yaml "$1" "$2" || _parse_fail "yaml_get $1 $2"
}

json_get() {
	_parse_need json
	_parse_run json "$1" "$2" || _parse_fail "json_get $1 $2"
}
