# Results of a verbose iscsi-test-cu log, one line per test:
#   LU<TAB>SUITE<TAB>TEST<TAB>passed|failed|skipped<TAB>reason
#   awk -v lu=LU -v suite=SUITE -f scripts/cu_results.awk LOG
# Used by scripts/conformance.sh and scripts/conformance-cluster.sh.
#
# CUnit ends each test with "passed" or "FAILED" right after "Test: X ..." or at the start of a
# line after the test's messages (the suite's clean-up messages may follow
# on the same line); libiscsi's own messages are indented. The first "[SKIPPED]"
# message of a passed test is its skip reason. A test without an outcome
# (the process crashed or timed out) is a failure.
function flush() {
	if (name == "")
		return
	st = res == "" ? "failed" : res
	if (st == "passed" && reason != "")
		st = "skipped"
	if (st == "failed" && res == "")
		reason = "no outcome (crashed or timed out)"
	printf "%s\t%s\t%s\t%s\t%s\n", lu, suite, name, st, reason
	name = ""
}
function take(l) {
	if (name == "" || res != "")
		return
	if (reason == "" && match(l, /\[SKIPPED\] */))
		reason = substr(l, RSTART + RLENGTH)
	if (l ~ /^passed/ || l ~ /^\.\.\.passed/)
		res = "passed"
	else if (l ~ /^FAILED/ || l ~ /^\.\.\.FAILED/)
		res = "failed"
}
/^  Test: / {
	flush()
	name = $2; res = ""; reason = ""
	take(substr($0, index($0, "...")))
	next
}
/^Run Summary:/ { flush() }
{ take($0) }
END { flush() }
