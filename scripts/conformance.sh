#!/usr/bin/env bash
# Runs libiscsi's conformance suite (iscsi-test-cu, Debian libiscsi-bin 1.19)
# against prkitd: a thick (file) and a thin (RAM) LU, two initiator names,
# two portals (so the multipath tests run), each test suite in its own
# process (COMPARE AND WRITE failures in libiscsi 1.19 leave a hook behind
# that corrupts later tests of the same process). The ReadOnly suite also
# runs against a read-only LU (its tests skip on a writable one).
#
# Counted per test, not per suite: iscsi-test-cu runs in verbose mode, where
# CUnit prints a "Test: NAME ..." line and the test's outcome for every
# test, and a test that printed "[SKIPPED]" is a skip even though CUnit
# counts it as passed. (Normal mode prints no per-test lines, so a suite
# with many skipped tests looked like one skip.)
#
# Prints the failures, a line per LU, the expected failures with their
# reasons and the summary line
# "conformance: N passed, M failed, X expected failures, K skipped".
#   scripts/conformance.sh [BUILD_DIR]
# Environment:
#   CONFORMANCE_SHOW_SKIPS=1   list every skipped test with its reason
#   CONFORMANCE_RESULTS=FILE   keep the per-test results, one per line:
#                              LU<TAB>SUITE<TAB>TEST<TAB>passed|failed|xfail|skipped<TAB>reason
#   CONFORMANCE_SUITES=REGEX   run only the suites whose name matches
#   CONFORMANCE_THREADS=N      prkitd's "threads" (event loops); unset: the
#                              daemon's default (one per online CPU)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
prkitd="$build/src/target/prkitd"
[ -x "$prkitd" ] || { echo "conformance: build $prkitd first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/prkit-conformance-XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
threads_member=""
if [ -n "${CONFORMANCE_THREADS:-}" ]; then
	threads_member="\"threads\": $CONFORMANCE_THREADS,"
fi
cat >"$tmp/prkitd.json" <<JSON
{
  $threads_member
  "admin_socket": "$tmp/admin.sock",
  "state_dir": "$tmp/state",
  "portals": [{"address": "127.0.0.1", "port": 0}, {"address": "127.0.0.1", "port": 0}],
  "targets": [
    {"name": "iqn.2026-11.io.prkit:thick",
     "luns": [{"backstore": {"type": "file", "path": "$tmp/thick.img", "size": "128M",
                                   "create": true}}]},
    {"name": "iqn.2026-11.io.prkit:thin",
     "luns": [{"backstore": {"type": "ram", "size": "128M"}, "thin": true}]},
    {"name": "iqn.2026-11.io.prkit:ro",
     "luns": [{"backstore": {"type": "ram", "size": "16M"}, "thin": true, "readonly": true}]}
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

mapfile -t suites < <(iscsi-test-cu -l 2>/dev/null | grep -E '^ALL\.[^.]+$' |
	grep -E "${CONFORMANCE_SUITES:-.}")
results="$tmp/results.tsv"
: >"$results"

# One line per test of a verbose iscsi-test-cu log. CUnit ends each test
# with "passed" or "FAILED" right after "Test: X ..." or at the start of a
# line after the test's messages (the suite's clean-up messages may follow
# on the same line); libiscsi's own messages are indented. The first "[SKIPPED]"
# message of a passed test is its skip reason. A test without an outcome
# (the process crashed or timed out) is a failure. The parser is shared
# with scripts/conformance-cluster.sh.
parse() { # LU SUITE LOG
	awk -v lu="$1" -v suite="$2" -f scripts/cu_results.awk "$3"
}

run() { # LU SUITE
	local lu=$1 suite=$2 log="$tmp/$1-$2.log"
	timeout 300 iscsi-test-cu -d -S -v -t "$suite" \
		-i iqn.2026-11.io.prkit.conformance:one -I iqn.2026-11.io.prkit.conformance:two \
		"iscsi://127.0.0.1:${ports[0]}/iqn.2026-11.io.prkit:$lu/0" \
		"iscsi://127.0.0.1:${ports[1]}/iqn.2026-11.io.prkit:$lu/0" >"$log" 2>&1
	local before n
	before=$(wc -l <"$results")
	parse "$lu" "$suite" "$log" >>"$results"
	n=$(($(wc -l <"$results") - before))
	# A suite that printed no test at all (crashed before its first test)
	# still counts as a failure.
	[ "$n" -gt 0 ] || printf '%s\t%s\t%s\tfailed\tno test ran\n' "$lu" "$suite" "-" >>"$results"
}

# Tests known to fail for a reason that is not a prkitd defect, one per
# line: LU (or *), suite, test, reason, separated by tabs. Such a failure
# is counted as "expected failure" and listed with its reason; if one of
# them passes it counts as a failure ("unexpected pass"), so the list
# cannot go stale silently.
expected_failures=$(
	cat <<'EOF_XFAIL'
thin	ALL.WriteSame10	UnmapUntilEnd	libiscsi 1.19 sends WRITE SAME(10) with UNMAP=1 and 0xFF data and expects zeros back; SBC-4 says reads return the data written, so prkitd deallocates only when the data equals what an unmapped block reads (zeros, LBPRZ=1). Its WRITE SAME(16) twin sends zeros and passes.
thin	ALL.WriteSame10	InvalidDataOutSize	libiscsi 1.19 expects ILLEGAL REQUEST when the Data-Out length of a WRITE SAME is not exactly one block (as Linux LIO answers); prkitd follows the RFC 7143 / SAM residual rules of this project instead: data beyond the one block is discarded and reported as residual underflow (EDTL above the one block, RFC 7143 11.4.5.2), less than a block writes nothing and is reported as residual overflow (EDTL below it).
thin	ALL.WriteSame16	InvalidDataOutSize	the same as WriteSame10.InvalidDataOutSize, for WRITE SAME(16).
thin	ALL.GetLBAStatus	UnmapSingle	with more than one logical block per physical block (a 512-byte LU reports 4 KiB physical blocks) libiscsi 1.19 asks for the status of LBA i+1 and requires the first descriptor to start at LBA i+8, a block it did not ask about; SBC-4 wants the first descriptor to contain the LBA asked for, which prkitd's does (the two agree only when there is one logical block per physical block).
*	ALL.Sanitize	Reset	needs a SANITIZE OVERWRITE still running 3 s after it was sent (it then sends resets and checks that it goes on); on the 128 MiB LUs of this run the overwrite completes in well under a second, so the checks for SANITIZE IN PROGRESS find it done.
EOF_XFAIL
)

for lu in thick thin; do
	for suite in "${suites[@]}"; do
		run "$lu" "$suite"
	done
done
for suite in "${suites[@]}"; do
	[ "$suite" = ALL.ReadOnly ] && run ro "$suite"
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# Apply the expected failures.
awk -F'\t' -v OFS='\t' -v xf="$expected_failures" '
BEGIN {
	n = split(xf, lines, "\n")
	for (i = 1; i <= n; i++) {
		if (split(lines[i], f, "\t") < 4)
			continue
		why[f[1], f[2], f[3]] = f[4]
	}
}
{
	r = ""
	if (($1, $2, $3) in why)
		r = why[$1, $2, $3]
	else if (("*", $2, $3) in why)
		r = why["*", $2, $3]
	if (r != "" && $4 == "failed") {
		$4 = "xfail"
		$5 = r
	} else if (r != "" && $4 == "passed") {
		$4 = "failed"
		$5 = "unexpected pass (listed as an expected failure: " r ")"
	}
	print
}' "$results" >"$results.x" && mv "$results.x" "$results"

# The log excerpt of every suite with a real failure.
awk -F'\t' '$4 == "failed" {print $1 "\t" $2}' "$results" | sort -u |
	while IFS=$'\t' read -r lu suite; do
		grep -E '^  Test: |^    [0-9]+\. |FAILED' "$tmp/$lu-$suite.log" | sed "s/^/$lu $suite: /" | head -40
	done

count() { # LU-REGEX STATUS [SUITE-EXCLUDE-REGEX]
	awk -F'\t' -v lu="$1" -v st="$2" -v ex="${3:-^$}" \
		'$1 ~ lu && $4 == st && $2 !~ ex {n++} END {print n+0}' "$results"
}
for lu in thick thin ro; do
	p=$(count "^$lu\$" passed) f=$(count "^$lu\$" failed) s=$(count "^$lu\$" skipped)
	x=$(count "^$lu\$" xfail)
	[ $((p + f + s + x)) -gt 0 ] || continue
	sx=$(count "^$lu\$" skipped 'ExtendedCopy|ReceiveCopyResults')
	echo "conformance $lu: $p passed, $f failed, $x expected failures, $s skipped" \
		"($sx outside ExtendedCopy and ReceiveCopyResults)"
done
awk -F'\t' '$4 == "failed" && $5 != "" {printf "failed %s %s.%s: %s\n", $1, $2, $3, $5}
	$4 == "xfail" {printf "expected failure %s %s.%s: %s\n", $1, $2, $3, $5}' "$results"
if [ -n "${CONFORMANCE_SHOW_SKIPS:-}" ]; then
	awk -F'\t' '$4 == "skipped" {printf "skipped %s %s.%s: %s\n", $1, $2, $3, $5}' "$results"
fi
[ -n "${CONFORMANCE_RESULTS:-}" ] && cp "$results" "$CONFORMANCE_RESULTS"
echo "conformance: $(count . passed) passed, $(count . failed) failed," \
	"$(count . xfail) expected failures, $(count . skipped) skipped"
[ "$(count . failed)" -eq 0 ]
