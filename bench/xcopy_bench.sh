#!/usr/bin/env bash
# EXTENDED COPY against the two ways of doing without it, in one run:
#
#   offload    `prkit copy SRC DST`: prkitd's copy manager reads and writes
#              the LUs itself; no data crosses the network
#   host copy  `prkit copy --host-copy SRC DST`: the same copy read and
#              written through iSCSI by the host (every byte crosses the
#              network twice)
#   dd         a direct copy between the backing files, with the same block
#              size as the copy manager's chunks (1 MiB)
#
#   bench/xcopy_bench.sh [BUILD_DIR]      (default: build; builds nothing)
#
# prkitd gets one portal on 127.0.0.1 (port 0), an admin socket and two
# file-backed LUs of BENCH_SIZE in a temporary directory (BENCH_DIR, default
# under /tmp), the source filled with random data; it is stopped by its PID
# at the end. Each round runs the three copies (the order rotates from round
# to round); the median of BENCH_ROUNDS rounds is reported, with the ratios
#   host copy / offload   (goal: >= 3, the offload at least 3x faster)
#   offload / dd          (goal: <= 1.10, within 10% of a direct copy)
# The destination is compared with the source after the first offload (of
# the warm-up) and after the first timed one.
#
# Durability: the file backstore writes through the page cache and flushes
# only on SYNCHRONIZE CACHE or FUA, which the copy manager's writes do not
# carry; dd runs without conv=fsync so that the three copies leave their
# data in the same state (in the page cache). BENCH_DIRECT=1 gives both LUs
# O_DIRECT and dd iflag=direct oflag=direct instead (needs a file system
# with O_DIRECT: not tmpfs).
#
# One untimed round of each way comes first (BENCH_WARMUP, default 1): the
# first write of a sparse backing file allocates its blocks, which no way
# should pay for alone. Times are what `prkit copy --json` reports (the
# copy, from its first command to its last answer; not the login) and dd's
# run.
#
# Environment: BENCH_SIZE (1G; 256M for a quick run), BENCH_ROUNDS (3),
# BENCH_DIR, BENCH_DIRECT (0), BENCH_PIN (1: prkitd and dd on the last CPU,
# prkit on CPU 0, when there are 2 or more CPUs).
#
# Exits 1 when a copy failed or the data differ, 2 when the set-up failed.
# The goals are reported, not enforced: on a small shared machine the
# figures are noisy, the ratios less so.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
prkitd=$build/src/target/prkitd
prkit=$build/src/cli/prkit
size=${BENCH_SIZE:-1G}
rounds=${BENCH_ROUNDS:-3}
direct=${BENCH_DIRECT:-0}
[ -x "$prkitd" ] || { echo "xcopy_bench: no $prkitd (build first)" >&2; exit 2; }
[ -x "$prkit" ] || { echo "xcopy_bench: no $prkit (build first)" >&2; exit 2; }
bytes=$(numfmt --from=iec "${size%B}" 2>/dev/null) || { echo "xcopy_bench: BENCH_SIZE $size?" >&2; exit 2; }
mib=$((bytes / 1048576))
if [ "$mib" -lt 1 ] || [ $((mib * 1048576)) -ne "$bytes" ]; then
	echo "xcopy_bench: BENCH_SIZE must be a whole number of MiB" >&2
	exit 2
fi

srv=()
cli=()
ncpu=$(nproc)
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	srv=(taskset -c "$((ncpu - 1))")
	cli=(taskset -c 0)
fi

tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/prkit-xcopybench-XXXXXX") || exit 2
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

echo "xcopy_bench: filling a $size source with random data in $tmp"
dd if=/dev/urandom of="$tmp/src.img" bs=1M count="$mib" status=none || exit 2
truncate -s "$bytes" "$tmp/dst.img" "$tmp/dd.img" || exit 2

iqn=iqn.2026-12.io.prkit:xcopybench
dflag=""
ddflags=()
if [ "$direct" = 1 ]; then
	dflag=', "direct": true'
	ddflags=(iflag=direct oflag=direct)
fi
cat >"$tmp/prkitd.json" <<JSON
{"admin_socket": "$tmp/admin.sock", "state_dir": "$tmp/state",
 "portals": [{"address": "127.0.0.1", "port": 0}],
 "targets": [{"name": "$iqn",
              "luns": [{"lun": 0, "backstore": {"type": "file", "path": "$tmp/src.img"$dflag}},
                       {"lun": 1, "backstore": {"type": "file", "path": "$tmp/dst.img"$dflag}}]}]}
JSON
"${srv[@]}" "$prkitd" -c "$tmp/prkitd.json" 2>"$tmp/prkitd.log" &
pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/prkitd.log" | head -1)
	[ -n "$port" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	cat "$tmp/prkitd.log" >&2
	echo "xcopy_bench: prkitd did not start" >&2
	exit 2
fi
src="iscsi://127.0.0.1:$port/$iqn/0"
dst="iscsi://127.0.0.1:$port/$iqn/1"
export PRKIT_STATE_DIR=$tmp/host PRKIT_INITIATOR_NAME=iqn.2026-12.io.prkit:xcopybench-host
echo "prkitd pid $pid, 127.0.0.1:$port; $size, $rounds round(s), durability:" \
	"$([ "$direct" = 1 ] && echo "O_DIRECT" || echo "page cache (no fsync)")" \
	"$([ ${#srv[@]} -gt 0 ] && echo "(prkitd and dd on CPU $((ncpu - 1)), prkit on CPU 0)")"

now() { date +%s.%N; }
rc=0
# Seconds of one way of copying, on stdout; 1 when it failed.
run_offload() {
	local out
	out=$("${cli[@]}" "$prkit" copy --json "$@" "$src" "$dst") || {
		echo "$out" >&2
		return 1
	}
	sed -n 's/^  "seconds": *\([0-9.eE+-]*\).*/\1/p' <<<"$out" | head -1
}
run_dd() {
	local t0 t1
	t0=$(now)
	"${srv[@]}" dd if="$tmp/src.img" of="$tmp/dd.img" bs=1M conv=notrunc "${ddflags[@]}" \
		status=none || return 1
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}

# The first write of a sparse destination file allocates its blocks: one
# untimed round of each way first, so that no way pays for that alone.
for ((w = 0; w < ${BENCH_WARMUP:-1}; w++)); do
	if ! run_offload >/dev/null; then
		echo "xcopy_bench: the offload failed (warm-up)" >&2
		exit 1
	fi
	if ! cmp -s "$tmp/src.img" "$tmp/dst.img"; then
		echo "xcopy_bench: the destination differs from the source after the offload" >&2
		exit 1
	fi
	if ! run_offload --host-copy >/dev/null || ! run_dd >/dev/null; then
		echo "xcopy_bench: the host copy or dd failed (warm-up)" >&2
		exit 1
	fi
done
declare -a t_off t_host t_dd
for ((i = 0; i < rounds; i++)); do
	order=(offload host dd)
	for ((k = 0; k < i % 3; k++)); do order=("${order[@]:1}" "${order[0]}"); done
	for m in "${order[@]}"; do
		case $m in
		offload) t=$(run_offload) || { echo "xcopy_bench: the offload failed" >&2; rc=1; break 2; }
			t_off+=("$t")
			if [ "$i" = 0 ] && ! cmp -s "$tmp/src.img" "$tmp/dst.img"; then
				echo "xcopy_bench: the destination differs from the source after the offload" >&2
				rc=1
				break 2
			fi ;;
		host) t=$(run_offload --host-copy) || { echo "xcopy_bench: the host copy failed" >&2; rc=1; break 2; }
			t_host+=("$t") ;;
		dd) t=$(run_dd) || { echo "xcopy_bench: dd failed" >&2; rc=2; break 2; }
			t_dd+=("$t") ;;
		esac
		printf '  round %d  %-8s %8.3f s  %8.1f MB/s\n' "$((i + 1))" "$m" "$t" \
			"$(echo "$bytes / $t / 1000000" | bc -l)"
	done
done
[ "$rc" -eq 0 ] || exit "$rc"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
m_off=$(median "${t_off[@]}")
m_host=$(median "${t_host[@]}")
m_dd=$(median "${t_dd[@]}")
mbs() { echo "$bytes / $1 / 1000000" | bc -l; }
echo
printf '%-34s %10s %10s\n' "median of $rounds, $size" seconds MB/s
printf '%-34s %10.3f %10.1f\n' "offload (EXTENDED COPY)" "$m_off" "$(mbs "$m_off")"
printf '%-34s %10.3f %10.1f\n' "host copy (read + write via iSCSI)" "$m_host" "$(mbs "$m_host")"
printf '%-34s %10.3f %10.1f\n' "dd between the backing files" "$m_dd" "$(mbs "$m_dd")"
speedup=$(echo "$m_host / $m_off" | bc -l)
vsdd=$(echo "$m_off / $m_dd" | bc -l)
printf 'host copy / offload = %.2fx (goal >= 3: %s)\n' "$speedup" \
	"$(echo "$speedup >= 3" | bc -l | sed 's/1/met/;s/0/not met/')"
printf 'offload / dd        = %.2f  (goal <= 1.10: %s)\n' "$vsdd" \
	"$(echo "$vsdd <= 1.10" | bc -l | sed 's/1/met/;s/0/not met/')"
if ! kill -0 "$pid" 2>/dev/null; then
	echo "xcopy_bench: prkitd died during the run" >&2
	tail -20 "$tmp/prkitd.log" >&2
	exit 1
fi
exit 0
