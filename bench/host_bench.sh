#!/usr/bin/env bash
# The host library's benchmarks (bench/host_failover.c) against a prkitd it
# starts here: failover time (a portal removed over the admin socket, and a
# portal gone silent) and multipath overhead (prk_mpdev with 1 and 2 paths
# against a plain libiscsi session).
#
#   bench/host_bench.sh [BUILD_DIR]      (default: build; builds nothing)
#
# prkitd gets two portals on 127.0.0.1 (port 0: the kernel picks them), an
# admin socket, one event loop (BENCH_TARGET_THREADS, below) and one
# 256 MiB RAM LU, all in a temporary directory; it is stopped by its PID at
# the end.
#
# Case io: `prkit io` over one path against bench/iscsi_load (one plain
# libiscsi context), two processes, same LU, same load (BENCH_IO_CASES,
# default 4 KiB random reads at QD32), BENCH_OVERHEAD_ROUNDS rounds, the
# order alternating. Each leg runs BENCH_WARMUP + BENCH_SECONDS (+ its
# start and drain); the script reads the process's utime + stime from
# /proc/PID/stat when the warm-up is over and again BENCH_SECONDS later:
# CPU per I/O = that CPU time / (the leg's IOPS x the window). The IOPS is
# iscsi_load's own measured window, and prkit io's whole --time (warm-up
# included: a ramp of milliseconds). Reported: each leg, then the medians,
# the IOPS ratio prkit-io / iscsi and the CPU-per-I/O ratio (the goal is
# within 3%: IOPS ratio >= 0.97, CPU ratio <= 1.03). The CPU figure is
# steadier than the IOPS on a shared machine (not steady: contention
# still moves it); it has the resolution of the kernel's
# clock ticks (getconf CLK_TCK, 10 ms at 100 Hz) over the window.
#
# Environment: BENCH_ROUNDS (10) failover rounds per case,
# BENCH_OVERHEAD_ROUNDS (3), BENCH_SECONDS (5) measured seconds per
# overhead run and io leg, BENCH_WARMUP (1), BENCH_CASE (all | remove |
# silent | overhead | io), BENCH_IO_CASES ("randread:4k:32": space-separated
# RW:BS:QD), BENCH_PIN (1: prkitd on the last CPU, the benchmark on CPU 0,
# when there are 2 or more CPUs), BENCH_IO_PREFILL (1: host_io_cmp.sh
# writes the LU once before its legs), BENCH_IO_INSTR (0; 1: host_io_cmp.sh
# also counts user-space instructions per I/O under callgrind),
# BENCH_TARGET_THREADS (1: prkitd's "threads").
#
# Why one event loop in prkitd: it deals connections to its loops in turn,
# and a connection on a loop other than the first posts every command to
# the first and back. Each io leg opens one connection, so consecutive
# legs (prkit io and iscsi_load, in an order that alternates) would meet
# different loops, and the ratio would compare the target's loops as much
# as the two clients (the overhead case's sessions likewise). These
# benchmarks measure the host side; the target only has to be the same.
#
# Exits with host_failover's status: 0, 1 (an I/O failed or a round did not
# complete), 2 (set-up failed); a failed io leg makes it 1.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
prkitd=$build/src/target/prkitd
bench=$build/bench/host_failover
[ -x "$prkitd" ] || { echo "host_bench: no $prkitd (build first)" >&2; exit 2; }
[ -x "$bench" ] || { echo "host_bench: no $bench (libiscsi-dev missing at meson setup?)" >&2; exit 2; }

srv=()
cli=()
ncpu=$(nproc)
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	srv=(taskset -c "$((ncpu - 1))")
	cli=(taskset -c 0)
fi

tmp=$(mktemp -d /tmp/prkit-hostbench-XXXXXX)
pid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

what=${BENCH_CASE:-all}
threads=${BENCH_TARGET_THREADS:-1}
iqn=iqn.2026-11.io.prkit:hostbench
cat >"$tmp/prkitd.json" <<JSON
{"admin_socket": "$tmp/admin.sock", "state_dir": "$tmp/state", "threads": $threads,
 "portals": [{"address": "127.0.0.1", "port": 0}, {"address": "127.0.0.1", "port": 0}],
 "targets": [{"name": "$iqn",
              "luns": [{"backstore": {"type": "ram", "size": "256M"}}]}]}
JSON
"${srv[@]}" "$prkitd" -c "$tmp/prkitd.json" 2>"$tmp/prkitd.log" &
pid=$!
ports=()
for _ in $(seq 100); do
	mapfile -t ports < <(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/prkitd.log")
	[ "${#ports[@]}" -ge 2 ] && grep -q 'admin socket' "$tmp/prkitd.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ "${#ports[@]}" -lt 2 ]; then
	cat "$tmp/prkitd.log" >&2
	echo "host_bench: prkitd did not start" >&2
	exit 2
fi
echo "prkitd pid $pid, portals 127.0.0.1:${ports[0]} and 127.0.0.1:${ports[1]}" \
	"$([ ${#srv[@]} -gt 0 ] && echo "(prkitd on CPU $((ncpu - 1)), benchmark on CPU 0)")"

rc=0
if [ "$what" != io ]; then
	"${cli[@]}" "$bench" \
		--url0 "iscsi://127.0.0.1:${ports[0]}/$iqn/0" \
		--url1 "iscsi://127.0.0.1:${ports[1]}/$iqn/0" \
		--admin "$tmp/admin.sock" --state-dir "$tmp/host" \
		--case "$what" --rounds "${BENCH_ROUNDS:-10}" \
		--rounds-overhead "${BENCH_OVERHEAD_ROUNDS:-3}" \
		--seconds "${BENCH_SECONDS:-5}" --warmup "${BENCH_WARMUP:-1}"
	rc=$?
fi
if [ "$what" = all ] || [ "$what" = io ]; then
	bench/host_io_cmp.sh "$build" "iscsi://127.0.0.1:${ports[0]}/$iqn/0" "$tmp/io" \
		"${cli[@]}" || rc=$(( rc ? rc : 1 ))
fi
# Fencing time (prkit fence off against a victim writing at QD32), with one
# key per node and with the cluster-wide key.
if [ "$what" != io ] && [ -x "$build/bench/fence_time" ]; then
	for mode in node cluster; do
		"${cli[@]}" "$build/bench/fence_time" \
			"iscsi://127.0.0.1:${ports[0]}/$iqn/0" "iscsi://127.0.0.1:${ports[1]}/$iqn/0" \
			"$tmp/fence-$mode" "${BENCH_FENCE_ROUNDS:-20}" "$mode" || rc=1
	done
fi
if ! kill -0 "$pid" 2>/dev/null; then
	echo "host_bench: prkitd died during the run" >&2
	tail -20 "$tmp/prkitd.log" >&2
	[ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
