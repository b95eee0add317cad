#!/usr/bin/env bash
# The test command of the README: installs dependencies, builds with
# -Werror, runs every unit test and prints one summary line,
# "tests: N passed, M failed, K skipped", counted per test case.
#   scripts/test.sh [BUILD_DIR [extra meson setup options...]]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true

scripts/install-deps.sh || exit 1
if [ -d "$build" ]; then
	meson setup --reconfigure "$build" "$@" >/dev/null || exit 1
else
	meson setup "$build" "$@" >/dev/null || exit 1
fi
ninja -C "$build" || exit 1

meson test -C "$build" --suite unit --print-errorlogs
status=$?

# Every test program speaks TAP; count the test cases, not the programs.
log="$build/meson-logs/testlog.txt"
passed=$(grep -E '^ok [0-9]+' "$log" | grep -cv '# SKIP' || true)
skipped=$(grep -E '^(not )?ok [0-9]+' "$log" | grep -c '# SKIP' || true)
failed=$(grep -E '^not ok [0-9]+' "$log" | grep -cv '# SKIP' || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # a test program crashed or could not run
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
