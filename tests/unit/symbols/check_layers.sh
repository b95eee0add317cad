#!/bin/sh
# The files of a library call only files below them: the layers are
# given bottom first, and a call from one object of the library to a
# function defined in an object of a higher layer (or a file missing
# from the list) fails. Calls through hooks (function pointers) are how
# a lower file reports upwards, and nm does not see them.
# Usage: check_layers.sh NM LIBRARY FILE...  (FILE: an object's source
# name without .c, bottom layer first). Prints TAP, one line per object.
nm=$1
lib=$2
shift 2
order=$*
rank() {
	i=0
	for f in $order; do
		[ "$f" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}
tmp=${TMPDIR:-/tmp}/check_layers.$$
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT
# nm -A prefixes each line with "LIBRARY:MEMBER:" (MEMBER may be a path,
# meson makes thin archives). "symbol object" for every global symbol
# defined in the library:
"$nm" -A -g --defined-only "$lib" 2>/dev/null |
	awk '{ split($1, a, ":"); o = a[2]; sub(/.*\//, "", o); sub(/\.c\.o$/, "", o); sub(/\.o$/, "", o); print $NF, o }' |
	sort >"$tmp/defs"
objs=$(awk '{ print $2 }' "$tmp/defs" | sort -u)
if [ -z "$objs" ]; then
	echo "1..1"
	echo "not ok 1 - nm listed nothing in $lib"
	exit 1
fi
echo "1..$(printf '%s\n' "$objs" | wc -l)"
n=0
status=0
for o in $objs; do
	n=$((n + 1))
	r=$(rank "$o")
	if [ "$r" -lt 0 ]; then
		echo "not ok $n - $o is in no layer: add it to the list (tests/unit/symbols/meson.build, docs/architecture.md)"
		status=1
		continue
	fi
	"$nm" -A -u "$lib" 2>/dev/null | awk -v o="$o" '$(NF - 1) == "U" { split($1, a, ":"); x = a[2]; sub(/.*\//, "", x); sub(/\.c\.o$/, "", x); sub(/\.o$/, "", x); if (x == o) print $NF }' |
		sort -u | join - "$tmp/defs" >"$tmp/calls"
	bad=""
	while read -r sym callee; do
		[ "$callee" = "$o" ] && continue
		cr=$(rank "$callee")
		if [ "$cr" -lt 0 ] || [ "$cr" -ge "$r" ]; then
			bad="$bad $callee:$sym"
		fi
	done <"$tmp/calls"
	if [ -n "$bad" ]; then
		echo "not ok $n - $o calls up:"
		for b in $bad; do echo "#   $b"; done
		status=1
	else
		echo "ok $n - $o calls only files below it"
	fi
done
exit $status
