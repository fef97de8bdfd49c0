#!/bin/sh
# Fails when a source file includes a header of a layer it may not use.
# Each folder of src/ is a layer; a layer may include its own headers and
# those of the layers listed after it here (docs/HACKING.md draws them).
# Includes are written from src/: #include "identity/proc_cache.h".
set -eu
src=${1:-src}

allowed() {
	case $1 in
	lib) echo "lib" ;;
	bpf) echo "bpf" ;;
	kernel) echo "kernel lib bpf" ;;
	privilege) echo "privilege lib" ;;
	identity) echo "identity kernel lib bpf" ;;
	event) echo "event identity kernel lib bpf" ;;
	profile) echo "profile lib" ;;
	record) echo "record profile identity privilege kernel lib bpf" ;;
	agent) echo "agent profile event identity privilege kernel lib bpf" ;;
	cmd) echo "cmd agent record profile event identity privilege kernel lib bpf" ;;
	main) echo "cmd lib" ;;
	*) echo "" ;;
	esac
}

bad=0
for file in "$src"/*.c "$src"/*/*.[ch]; do
	[ -e "$file" ] || continue
	case $file in
	*/bpf/*.bpf.c) continue ;; # the BPF program: its own build, vmlinux.h
	"$src"/*/*) layer=$(basename "$(dirname "$file")") ;;
	*) layer=main ;;
	esac
	ok=$(allowed "$layer")
	if [ -z "$ok" ]; then
		echo "layers: $file: $layer is not a known layer (add it to scripts/layers.sh)" >&2
		bad=1
		continue
	fi
	# shellcheck disable=SC2013 # one include per line
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file"); do
		case $inc in
		*/*) used=${inc%%/*} ;;
		*.skel.h) used=kernel ;; # generated from src/bpf, for the loader
		*)
			echo "layers: $file: #include \"$inc\": name the layer (\"<layer>/$inc\")" >&2
			bad=1
			continue
			;;
		esac
		case " $ok " in
		*" $used "*) ;;
		*)
			echo "layers: $file ($layer) includes $inc: $layer may use only: $ok" >&2
			bad=1
			;;
		esac
	done
done
exit $bad
