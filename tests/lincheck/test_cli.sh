#!/bin/sh
# prkit-lincheck as the cluster tests run it: exit status and first line for
# a generated linearizable history, for the same history with one answer
# broken, and for a malformed line. Usage: test_cli.sh LINCHECK GEN
lincheck=$1
gen=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..3"

"$gen" 600 5 10 >"$dir/ok.jsonl" || exit 1
out=$("$lincheck" "$dir/ok.jsonl")
rc=$?
if [ $rc -eq 0 ] && [ "$out" = "linearizable: 600 ops" ]; then
	echo "ok 1 - generated history: exit 0, \"$out\""
else
	echo "not ok 1 - generated history: exit $rc, \"$out\""
fi

"$gen" 600 5 10 --corrupt >"$dir/bad.jsonl" || exit 1
out=$("$lincheck" "$dir/bad.jsonl")
rc=$?
case $out in
"not linearizable: op "*"PR IN READ KEYS"*"generation 4294967280"*) good=1 ;;
*) good=0 ;;
esac
if [ $rc -eq 1 ] && [ $good -eq 1 ]; then
	echo "ok 2 - corrupted history: exit 1, \"$out\""
else
	echo "not ok 2 - corrupted history: exit $rc, \"$out\""
fi

head -n 9 "$dir/ok.jsonl" >"$dir/malformed.jsonl"
echo '{"id":99,"lu":"lu0"}' >>"$dir/malformed.jsonl"
err=$("$lincheck" "$dir/malformed.jsonl" 2>&1 >/dev/null)
rc=$?
case $err in
*"line 10: \"nexus\" must be an object"*) good=1 ;;
*) good=0 ;;
esac
if [ $rc -eq 2 ] && [ $good -eq 1 ]; then
	echo "ok 3 - malformed line: exit 2, \"$err\""
else
	echo "not ok 3 - malformed line: exit $rc, \"$err\""
fi
