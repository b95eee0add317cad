#!/usr/bin/env bash
# Where prkitd's time goes under one load: a CPU profile and system call
# counts, for comparing two builds ("before and after").
#
#   bench/profile_target.sh [BUILD_DIR]      (default: build)
#
# Starts BUILD_DIR's prkitd on 127.0.0.1 (port 0) with one LU, RAM or a file
# in /dev/shm as bench/run_vs_tgt.sh does, writes it once, then runs one
# bench/iscsi_load case twice:
#   1. under `perf record -g -p PID` for PROFILE_SECONDS, then prints the
#      top PROFILE_TOP lines of `perf report --no-children` (self time per
#      symbol, all of prkitd's threads);
#   2. under `perf stat -e syscalls:sys_enter_...` (tracepoint counts,
#      which barely slow the target) for PROFILE_SECONDS, then prints the
#      calls per I/O of the system calls of the I/O path (io_uring_enter,
#      recvfrom, read, writev, epoll_wait); needs tracefs;
#   3. under `strace -c -f -p PID` for PROFILE_SECONDS, then prints the
#      system call counts, and the calls per I/O of the ones that matter on
#      the I/O path (io_uring_enter, recvfrom/read, writev/sendmsg,
#      epoll_wait). strace slows the target a lot: its times are not worth
#      reading, its counts per I/O are (the I/O count is iscsi_load's).
# The runs are separate so that no tool distorts another's figures.
#
# Environment: PROFILE_BACKING ("file", or "ram"), PROFILE_RW (randwrite),
# PROFILE_BS (4K), PROFILE_QD (32), PROFILE_SESSIONS (1), PROFILE_SECONDS
# (5), PROFILE_TOP (30), PROFILE_THREADS (unset: prkitd's default; else
# written as "threads" in its configuration, which needs a prkitd that
# knows the member), PROFILE_SIZE (256M), PROFILE_OUT (a directory to keep
# perf.data, the reports and prkitd's log in; default: a temporary one,
# removed). Without perf or strace that part says so and is skipped.
#
# Needs no root when perf_event_paranoid allows profiling one's own
# processes (<= 1 for kernel symbols too). Exits 2 when the set-up fails,
# 1 when the load saw errors.
set -euo pipefail

build=${1:-build}
backing=${PROFILE_BACKING:-file}
rw=${PROFILE_RW:-randwrite}
bs=${PROFILE_BS:-4K}
qd=${PROFILE_QD:-32}
sessions=${PROFILE_SESSIONS:-1}
secs=${PROFILE_SECONDS:-5}
top=${PROFILE_TOP:-30}
size=${PROFILE_SIZE:-256M}
threads=${PROFILE_THREADS:-}

prkitd=$build/src/target/prkitd
load=$build/bench/iscsi_load
iqn=iqn.2026-11.io.prkit:profile
initiator=iqn.2026-11.io.prkit:profile-client

die() {
	echo "profile_target: $*" >&2
	exit 2
}

[ -x "$prkitd" ] || die "no $prkitd (build first)"
[ -x "$load" ] || die "no $load (libiscsi-dev missing at meson setup?)"
case $backing in ram | file) ;; *) die "PROFILE_BACKING is ram or file, not '$backing'" ;; esac
[ -z "$threads" ] || [[ $threads =~ ^[1-9][0-9]*$ ]] || die "PROFILE_THREADS: a count, not '$threads'"

if [ -n "${PROFILE_OUT:-}" ]; then
	out=$PROFILE_OUT
	mkdir -p "$out"
	keep=1
else
	out=$(mktemp -d /tmp/prkit-profile.XXXXXX)
	keep=0
fi
img=/dev/shm/prkit-profile-$$.img
pid=""

cleanup() {
	set +e
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -f "$img"
	[ "$keep" = 1 ] || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$backing" = ram ]; then
	lu="{\"lun\": 0, \"backstore\": {\"type\": \"ram\", \"size\": \"$size\"}}"
else
	lu="{\"lun\": 0, \"backstore\": {\"type\": \"file\", \"path\": \"$img\", \"size\": \"$size\",
	     \"create\": true, \"direct\": false}}"
fi
cat >"$out/prkitd.json" <<EOF
{
  "log_level": "info",
  ${threads:+\"threads\": $threads,}
  "portals": [{"address": "127.0.0.1", "port": 0}],
  "targets": [{"name": "$iqn", "luns": [$lu]}]
}
EOF
"$prkitd" -c "$out/prkitd.json" 2>"$out/prkitd.log" &
pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -nE 's/^prkitd info: listening on 127\.0\.0\.1:([0-9]+) \(tpgt.*/\1/p' \
		"$out/prkitd.log" | head -n1)
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	cat "$out/prkitd.log" >&2
	if [ -n "$threads" ] && grep -q threads "$out/prkitd.log"; then
		die "this prkitd does not take \"threads\" (PROFILE_THREADS=$threads)"
	fi
	die "prkitd did not start"
fi
url=iscsi://127.0.0.1:$port/$iqn/0

# load ARGS...: runs iscsi_load, prints its RESULT line; exit 1 on errors.
load_run() {
	local line
	line=$("$load" --url "$url" --initiator "$initiator" "$@" 2>"$out/load.err" |
		grep '^RESULT ') || {
		sed 's/^/    /' "$out/load.err" >&2
		echo "profile_target: iscsi_load failed" >&2
		exit 1
	}
	case $line in *" errors=0 "*) ;; *) echo "profile_target: $line" >&2 && exit 1 ;; esac
	echo "$line"
}
iops_of() { sed -E 's/.*iops=([^ ]+).*/\1/' <<<"$1"; }

load_run --fill --bs 1M --qd 8 --seconds 120 >/dev/null
args=(--rw "$rw" --bs "$bs" --qd "$qd" --sessions "$sessions" --warmup 1)
echo "prkitd $prkitd (pid $pid), $backing LU, $rw bs $bs qd $qd x$sessions sessions," \
	"${secs}s per tool${threads:+, threads $threads}"

# The tools attach when iscsi_load's warmup second ends and watch the
# measured seconds, so iops x seconds is the I/O count of their window.
if command -v perf >/dev/null; then
	load_run "${args[@]}" --seconds "$secs" >"$out/perf.result" &
	lpid=$!
	sleep 1
	perf record -q -g -o "$out/perf.data" -p "$pid" -- sleep "$secs" >/dev/null 2>&1 ||
		echo "profile_target: perf record failed (perf_event_paranoid?)" >&2
	wait "$lpid"
	echo
	echo "=== perf (self time, all threads): $(cat "$out/perf.result")"
	perf report -i "$out/perf.data" --no-children --stdio --percent-limit 0.5 \
		--sort symbol -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n "$top" |
		tee "$out/perf.top"
else
	echo "=== perf: not installed, no profile"
fi

sys_calls="io_uring_enter recvfrom read writev epoll_wait"
events=$(for sc in $sys_calls; do printf 'syscalls:sys_enter_%s,' "$sc"; done)
if command -v perf >/dev/null && perf stat -e "${events%,}" -- true >/dev/null 2>&1; then
	load_run "${args[@]}" --seconds "$secs" >"$out/sys.result" &
	lpid=$!
	sleep 1
	perf stat -x, -e "${events%,}" -p "$pid" -o "$out/sys.txt" -- sleep "$secs" >/dev/null 2>&1 ||
		true
	wait "$lpid"
	result=$(cat "$out/sys.result")
	ios=$(awk -v i="$(iops_of "$result")" -v s="$secs" 'BEGIN { printf "%.0f", i * s }')
	echo
	echo "=== system calls per I/O over ${secs}s (~$ios I/Os; perf tracepoints): $result"
	awk -F, -v n="$ios" '$3 ~ /^syscalls:sys_enter_/ && n > 0 {
		sub(/^syscalls:sys_enter_/, "", $3); printf "  %-15s %.3f\n", $3, $1 / n }' "$out/sys.txt"
else
	echo "=== perf syscall tracepoints: not available"
fi

if command -v strace >/dev/null; then
	load_run "${args[@]}" --seconds "$secs" >"$out/strace.result" &
	lpid=$!
	sleep 1
	timeout -s INT "$secs" strace -c -S calls -f -p "$pid" -o "$out/strace.txt" >/dev/null 2>&1 ||
		true
	wait "$lpid"
	result=$(cat "$out/strace.result")
	ios=$(awk -v i="$(iops_of "$result")" -v s="$secs" 'BEGIN { printf "%.0f", i * s }')
	echo
	echo "=== system calls over ${secs}s (~$ios I/Os; slowed by strace): $result"
	head -n 16 "$out/strace.txt"
	echo "calls per I/O:"
	for sc in io_uring_enter recvfrom read recvmsg writev sendmsg epoll_wait; do
		awk -v sc="$sc" -v n="$ios" \
			'$NF == sc && n > 0 { printf "  %-15s %.3f\n", sc, $4 / n }' "$out/strace.txt"
	done
else
	echo "=== strace: not installed, no system call counts"
fi
[ "$keep" = 1 ] && echo "kept in $out"
exit 0
