#!/usr/bin/env bash
# Runs libiscsi's conformance suite (iscsi-test-cu, Debian libiscsi-bin)
# against prkitd: a thick (file) and a thin (RAM) LU, two initiator names,
# two portals (so the multipath tests run), each test suite in its own
# process (COMPARE AND WRITE failures in libiscsi 1.19 leave a hook behind
# that corrupts later tests of the same process). Prints the failures and a
# summary line "conformance: N passed, M failed, K skipped".
#   scripts/conformance.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
prkitd="$build/src/target/prkitd"
[ -x "$prkitd" ] || { echo "conformance: build $prkitd first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/prkit-conformance-XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/prkitd.json" <<JSON
{
  "admin_socket": "$tmp/admin.sock",
  "state_dir": "$tmp/state",
  "portals": [{"address": "127.0.0.1", "port": 0}, {"address": "127.0.0.1", "port": 0}],
  "targets": [
    {"name": "iqn.2026-11.io.prkit:thick",
     "luns": [{"backstore": {"type": "file", "path": "$tmp/thick.img", "size": "128M",
                                   "create": true}}]},
    {"name": "iqn.2026-11.io.prkit:thin",
     "luns": [{"backstore": {"type": "ram", "size": "128M"}, "thin": true}]}
  ]
}
JSON
"$prkitd" -c "$tmp/prkitd.json" 2>"$tmp/prkitd.log" &
pid=$!
for _ in $(seq 100); do
	[ "$(grep -c 'listening on' "$tmp/prkitd.log")" -ge 2 ] && break
	sleep 0.1
done
mapfile -t ports < <(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\) .*/\1/p' "$tmp/prkitd.log")
[ ${#ports[@]} -ge 2 ] || { cat "$tmp/prkitd.log"; echo "conformance: prkitd did not start"; exit 1; }

mapfile -t suites < <(iscsi-test-cu -l 2>/dev/null | grep -E '^ALL\.[^.]+$')
passed=0 failed=0 skipped=0
for lu in thick thin; do
	for suite in "${suites[@]}"; do
		log="$tmp/$lu-$suite.log"
		timeout 300 iscsi-test-cu -d -S -n -t "$suite" \
			-i iqn.2026-11.io.prkit.conformance:one -I iqn.2026-11.io.prkit.conformance:two \
			"iscsi://127.0.0.1:${ports[0]}/iqn.2026-11.io.prkit:$lu/0" \
			"iscsi://127.0.0.1:${ports[1]}/iqn.2026-11.io.prkit:$lu/0" >"$log" 2>&1
		read -r ran p f < <(awk '$1 == "tests" {print $3, $4, $5}' "$log")
		if [ -z "${ran:-}" ]; then
			echo "$lu $suite: no summary (crashed or timed out)"
			failed=$((failed + 1))
			continue
		fi
		# CUnit counts a skipped test as passed: count the tests that
		# printed [SKIPPED] before the next "Test:" line.
		s=$(awk '/^  Test: /{if (sk) n++; sk=0} /\[SKIPPED\]/{sk=1} END{if (sk) n++; print n+0}' "$log")
		passed=$((passed + p - s))
		skipped=$((skipped + s))
		failed=$((failed + f))
		if [ "$s" -gt 0 ] && [ -n "${CONFORMANCE_SHOW_SKIPS:-}" ]; then
			grep -o '\[SKIPPED\].*' "$log" | sort -u | sed "s/^/$lu $suite: /"
		fi
		if [ "$f" -gt 0 ]; then
			grep -E '^  Test: .*FAILED|^    [0-9]+\. ' "$log" | sed "s/^/$lu $suite: /" | head -20
		fi
		ran=""
	done
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
echo "conformance: $passed passed, $failed failed, $skipped skipped"
