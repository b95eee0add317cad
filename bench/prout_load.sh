#!/usr/bin/env bash
# What I/O load costs a PR OUT: REGISTER, RESERVE and PREEMPT latency
# (bench/prout_latency, APTPL off) on an idle LU and on the same LU while
# another initiator keeps 4 KiB random reads in flight on it, prkitd with
# one event loop beside prkitd with N.
#
#   bench/prout_load.sh [BUILD_DIR]      (default: build)
#
# Why: with several loops prkitd runs READ and WRITE on each connection's
# own loop behind a gate (src/lu/gate.h), and a PR OUT first drains that
# gate: it waits for the fast commands in flight on the LU, so that no I/O
# checked against the old reservation is still running when the PR OUT
# completes. That wait is the price of the exactness; this measures it.
# With one loop there is no gate: the PR OUT waits its turn on the loop
# behind the I/O that arrived before it. (Debian's tgt, the peer of the
# other benchmarks, answers PR OUT in this set-up with INVALID OPERATION
# CODE, REGISTER AND IGNORE EXISTING KEY and plain REGISTER alike, so it
# has no figure here.)
#
# For each configuration ("one": "threads": 1; "multi": "threads": N, a RAM
# LU written once first) and each run, in an order that rotates:
# prout_latency on the idle LU, then again while iscsi_load (--batch,
# randread, BENCH_QD per session, BENCH_SESSIONS sessions) runs on the same
# LU. Reads are allowed to everyone under the WRITE EXCLUSIVE - REGISTRANTS
# ONLY reservation prout_latency takes, so the load never conflicts. With N
# >= 2 the load's sessions spread over the loops; the LU's rw_fast counter
# (admin socket) shows how many of its commands took the fast path during
# the PR OUTs, and the script fails if none did.
#
# Prints per configuration and state the median over runs of each
# command's median and p99, the ratio loaded/idle, and multi/one. The
# ratios are reported, not enforced: it exits 1 only when a PR OUT failed,
# the load died, or the fast path carried nothing.
#
# Environment: BENCH_THREADS (N, 2), BENCH_SESSIONS (4), BENCH_QD (32),
# BENCH_RUNS (3), BENCH_PR_ROUNDS (200: PR OUT sequences per prout_latency
# run), BENCH_SIZE (256M).
set -euo pipefail

build=${1:-build}
nthr=${BENCH_THREADS:-2}
nsess=${BENCH_SESSIONS:-4}
qd=${BENCH_QD:-32}
runs=${BENCH_RUNS:-3}
prrounds=${BENCH_PR_ROUNDS:-200}
size=${BENCH_SIZE:-256M}

prkitd=$build/src/target/prkitd
cli_prkit=$build/src/cli/prkit
load=$build/bench/iscsi_load
lat=$build/bench/prout_latency
iqn=iqn.2026-11.io.prkit:proutload
initiator=iqn.2026-11.io.prkit:proutload-io

die() {
	echo "prout_load: $*" >&2
	exit 2
}
for v in nthr nsess qd runs prrounds; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v: a count >= 1, not '${!v}'"
done
[ "$nthr" -ge 2 ] || die "BENCH_THREADS: 2 or more (the other configuration has 1)"
for f in "$prkitd" "$cli_prkit" "$load" "$lat"; do
	[ -x "$f" ] || die "no $f (build first: meson setup $build && ninja -C $build)"
done

tmp=$(mktemp -d /tmp/prkit-proutload.XXXXXX)
declare -A pid=() port=() threads=([one]=1 [multi]=$nthr)
configs=(one multi)
load_pid=""
failed=0

stop_pid() {
	local p=$1
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	set +e
	stop_pid "$load_pid"
	for c in "${configs[@]}"; do stop_pid "${pid[$c]:-}"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start CONFIG: prkitd with one RAM LU and that configuration's loops.
start() {
	local c=$1
	cat >"$tmp/$c.json" <<JSON
{"log_level": "info", "threads": ${threads[$c]}, "admin_socket": "$tmp/$c.sock",
 "portals": [{"address": "127.0.0.1", "port": 0}],
 "targets": [{"name": "$iqn",
              "luns": [{"lun": 0, "backstore": {"type": "ram", "size": "$size"}}]}]}
JSON
	"$prkitd" -c "$tmp/$c.json" 2>"$tmp/$c.log" &
	pid[$c]=$!
	port[$c]=""
	for _ in $(seq 100); do
		port[$c]=$(sed -nE 's/^prkitd info: listening on 127\.0\.0\.1:([0-9]+) .*/\1/p' \
			"$tmp/$c.log" | head -n1)
		[ -n "${port[$c]}" ] && break
		kill -0 "${pid[$c]}" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "${port[$c]}" ] || { cat "$tmp/$c.log" >&2; die "prkitd ($c) did not start"; }
}
url_of() { echo "iscsi://127.0.0.1:${port[$1]}/$iqn/0"; }

for c in "${configs[@]}"; do
	start "$c"
	out=$(timeout 300 "$load" --url "$(url_of "$c")" --initiator "$initiator" --fill --bs 1M \
		--qd 8 --seconds 120 2>&1) || die "fill ($c) failed: $out"
done

# The LU's count of READ/WRITE run on the fast path.
rw_fast() {
	"$cli_prkit" target -s "$tmp/$1.sock" --json list |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["targets"][0]["luns"][0]["rw_fast"])'
}

# measure CONFIG STATE RUN: one prout_latency run; its lines go to
# $tmp/CONFIG.STATE.RUN.
measure() {
	local c=$1 state=$2 r=$3 f0=0 f1=0
	if [ "$state" = loaded ]; then
		"$load" --url "$(url_of "$c")" --initiator "$initiator" --batch --rw randread --bs 4K \
			--qd "$qd" --sessions "$nsess" --seconds 600 --warmup 0 >"$tmp/load.out" \
			2>"$tmp/load.err" &
		load_pid=$!
		sleep 1.5 # logins, and the queues full
		if ! kill -0 "$load_pid" 2>/dev/null; then
			cat "$tmp/load.err" >&2
			echo "prout_load: $c: the load ended before the PR OUTs started" >&2
			failed=1
		fi
		f0=$(rw_fast "$c")
	fi
	if ! timeout 300 "$lat" --url "$(url_of "$c")" --rounds "$prrounds" --aptpl off \
		>"$tmp/$c.$state.$r" 2>"$tmp/lat.err"; then
		echo "prout_load: $c $state run $r: prout_latency failed:" >&2
		sed 's/^/    /' "$tmp/lat.err" >&2
		failed=1
	fi
	if [ "$state" = loaded ]; then
		f1=$(rw_fast "$c")
		if ! kill -0 "$load_pid" 2>/dev/null; then
			cat "$tmp/load.err" >&2
			echo "prout_load: $c: the load died during the PR OUTs" >&2
			failed=1
		fi
		stop_pid "$load_pid"
		load_pid=""
		echo "   run $r $c: the fast path carried $((f1 - f0)) READs of the load during the PR OUTs"
		if [ "${threads[$c]}" -ge 2 ] && [ $((f1 - f0)) -le 0 ]; then
			echo "prout_load: the load never took the fast path of the $c configuration" >&2
			failed=1
		fi
	fi
}

echo "prout_load: one = 1 event loop, multi = $nthr; load: randread 4K, $nsess session(s) x QD" \
	"$qd; $prrounds PR OUT sequences per run, APTPL off; $runs run(s)"
n=0
for ((r = 1; r <= runs; r++)); do
	for ((j = 0; j < ${#configs[@]}; j++)); do
		c=${configs[$(((n + j) % ${#configs[@]}))]}
		measure "$c" idle "$r"
		measure "$c" loaded "$r"
	done
	n=$((n + 1))
done

# field CONFIG STATE CMD COL: the median over runs of COL (median or p99).
field() {
	local c=$1 s=$2 cmd=$3 col=$4
	for ((r = 1; r <= runs; r++)); do
		awk -v c="$cmd" -v col="$col" '$1 == c {
			for (i = 1; i < NF; i++) if ($i == col) { print $(i + 1); exit } }' \
			"$tmp/$c.$s.$r" 2>/dev/null || true
	done | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

echo
echo "=== PR OUT latency, us: median over $runs run(s) of each run's median and p99;" \
	"x = loaded/idle; multi/one per state ==="
printf '%-12s | %-26s | %-26s | %-9s\n' "" "one: idle  loaded    x" "multi: idle loaded    x" \
	"multi/one"
printf '%-12s | %-26s | %-26s | %-9s %-9s\n' command "" "" idle loaded
for cmd in REGISTER RESERVE PREEMPT; do
	for col in median p99; do
		oi=$(field one idle $cmd $col) ol=$(field one loaded $cmd $col)
		mi=$(field multi idle $cmd $col) ml=$(field multi loaded $cmd $col)
		printf '%-12s | %8s %8s %8s | %8s %8s %8s | %-9s %-9s\n' "$cmd ${col/median/p50}" \
			"$oi" "$ol" "$(ratio "$ol" "$oi")" "$mi" "$ml" "$(ratio "$ml" "$mi")" \
			"$(ratio "$mi" "$oi")" "$(ratio "$ml" "$ol")"
	done
done

if [ "$failed" -ne 0 ]; then
	echo "prout_load: FAILED (see above)" >&2
	exit 1
fi
echo "prout_load: done"
