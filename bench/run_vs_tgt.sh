#!/usr/bin/env bash
# prkitd against Debian's tgt, side by side, with the same client.
#
#   bench/run_vs_tgt.sh [BUILD_DIR]      (default: build)
#
# Starts prkitd (BUILD_DIR/src/target/prkitd) and tgtd on loopback, gives
# both the same LUs, writes every LU once, then runs bench/iscsi_load over
# the matrix below against one and then the other (the order alternates from
# case to case) and prints a table of prkit/tgt ratios.
#
#   backing "ram":  prkitd RAM backstore     vs  tgt rdwr on a file in /dev/shm
#                   (tgt has no RAM backstore; a tmpfs file is its nearest)
#   backing "file": prkitd file backstore    vs  tgt rdwr on a file in /dev/shm
#                   (both buffered: tmpfs has no O_DIRECT)
#
#   cases: 4 KiB randread and randwrite at QD1 and QD32, 1 MiB sequential
#   read and write at QD8; each with 1 and 8 sessions (QD is per session).
#
# CPUs: with BENCH_PIN=1 (the default, on 2 or more CPUs) both daemons run on
# the last CPU and the client on CPU 0, so that each target gets the same one
# core and the client never competes with it; unpinned, a QD1 latency
# depends on where the scheduler happens to put the two (26 vs 80 us here).
#
# Environment: BENCH_SECONDS (5) measured seconds per run, BENCH_WARMUP (1),
# BENCH_BACKINGS ("ram file"), BENCH_SESSIONS ("1 8"), BENCH_CASES (an ERE
# on the case names, default all), BENCH_SIZE (256M), BENCH_PIN (1),
# BENCH_RESULTS (a file to copy the table to).
#
# Needs root (tgtd) and the Debian package tgt. Exits 1 when the load
# generator saw an error against prkitd (or prkitd could not be run), 2 when
# the set-up failed; errors against tgt are reported, not fatal. The goals
# (4 KiB QD32 IOPS >= 2x tgt, 1 MiB MB/s >= 1x tgt) are reported, not
# enforced: absolute numbers on a small machine are noise, ratios are not.
set -euo pipefail

build=${1:-build}
secs=${BENCH_SECONDS:-5}
warm=${BENCH_WARMUP:-1}
backings=${BENCH_BACKINGS:-ram file}
sessions_list=${BENCH_SESSIONS:-1 8}
size=${BENCH_SIZE:-256M}
case_filter=${BENCH_CASES:-.}
pin=${BENCH_PIN:-1}

prkitd=$build/src/target/prkitd
load=$build/bench/iscsi_load
prkit_iqn=iqn.2026-11.io.prkit:bench
tgt_iqn=iqn.2026-11.io.tgt:bench
initiator=iqn.2026-11.io.prkit:bench-client

die() {
	echo "run_vs_tgt: $*" >&2
	exit 2
}

[ -x "$prkitd" ] || die "no $prkitd (build first: meson setup $build && ninja -C $build)"
[ -x "$load" ] || die "no $load (libiscsi-dev missing at meson setup?)"
if ! command -v tgtd >/dev/null || ! command -v tgtadm >/dev/null; then
	die "tgtd/tgtadm not found: apt-get install tgt (or scripts/install-deps.sh)"
fi
[ "$(id -u)" -eq 0 ] || die "tgtd needs root"
[ -w /dev/shm ] || die "/dev/shm is not writable"

srv=()
cli=()
ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	srv=(taskset -c "$((ncpu - 1))")
	cli=(taskset -c 0)
fi

tmp=$(mktemp -d /tmp/prkit-bench.XXXXXX)
shm_prkit=/dev/shm/prkit-bench-$$.img
shm_tgt_ram=/dev/shm/tgt-bench-$$-ram.img
shm_tgt_file=/dev/shm/tgt-bench-$$-file.img
prkit_pid=""
tgt_pid=""
tgt_cport=""

cleanup() {
	set +e
	if [ -n "$prkit_pid" ]; then
		kill -TERM "$prkit_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$prkit_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$prkit_pid" 2>/dev/null
		wait "$prkit_pid" 2>/dev/null
	fi
	if [ -n "$tgt_pid" ]; then
		# tgtd ignores SIGTERM while it has targets: remove them, then
		# ask it to exit; SIGKILL only if that did not work.
		tgtadm -C "$tgt_cport" --lld iscsi --op delete --mode target --tid 1 --force \
			>/dev/null 2>&1
		tgtadm -C "$tgt_cport" --op delete --mode system >/dev/null 2>&1
		for _ in $(seq 50); do kill -0 "$tgt_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$tgt_pid" 2>/dev/null
		wait "$tgt_pid" 2>/dev/null
		rm -f "/var/run/tgtd/socket.$tgt_cport" "/var/run/tgtd/socket.$tgt_cport.lock"
	fi
	rm -f "$shm_prkit" "$shm_tgt_ram" "$shm_tgt_file"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- prkitd ------------------------------------------------------------
cat >"$tmp/prkitd.json" <<EOF
{
  "log_level": "info",
  "admin_socket": "$tmp/admin.sock",
  "portals": [{"address": "127.0.0.1", "port": 0}],
  "targets": [
    {
      "name": "$prkit_iqn",
      "luns": [
        {"lun": 0, "backstore": {"type": "ram", "size": "$size"}},
        {"lun": 1, "backstore": {"type": "file", "path": "$shm_prkit", "size": "$size",
                                 "create": true, "direct": false}}
      ]
    }
  ]
}
EOF
"${srv[@]}" "$prkitd" -c "$tmp/prkitd.json" 2>"$tmp/prkitd.log" &
prkit_pid=$!
prkit_port=""
for _ in $(seq 100); do
	prkit_port=$(sed -nE 's/^prkitd info: listening on 127\.0\.0\.1:([0-9]+) \(tpgt.*/\1/p' \
		"$tmp/prkitd.log" | head -n1)
	[ -n "$prkit_port" ] && break
	kill -0 "$prkit_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$prkit_port" ]; then
	cat "$tmp/prkitd.log" >&2
	echo "run_vs_tgt: prkitd did not start" >&2
	exit 1
fi

# ---- tgtd --------------------------------------------------------------
# A free TCP port for the portal and a control port whose socket is not in
# use, so a system tgtd (control port 0) is never touched.
tgt_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for _ in $(seq 20); do
	tgt_cport=$((1000 + RANDOM % 31000)) # tgtd takes 0..32767
	[ -e "/var/run/tgtd/socket.$tgt_cport" ] || break
done
truncate -s "$size" "$shm_tgt_ram" "$shm_tgt_file"
"${srv[@]}" tgtd -f -C "$tgt_cport" --iscsi "portal=127.0.0.1:$tgt_port" >"$tmp/tgtd.log" 2>&1 &
tgt_pid=$!
tgtadm_() { tgtadm -C "$tgt_cport" --lld iscsi "$@"; }
for _ in $(seq 100); do
	tgtadm_ --op show --mode target >/dev/null 2>&1 && break
	kill -0 "$tgt_pid" 2>/dev/null || break
	sleep 0.1
done
if ! tgtadm_ --op new --mode target --tid 1 -T "$tgt_iqn" ||
	! tgtadm_ --op new --mode logicalunit --tid 1 --lun 1 -b "$shm_tgt_ram" ||
	! tgtadm_ --op new --mode logicalunit --tid 1 --lun 2 -b "$shm_tgt_file" ||
	! tgtadm_ --op bind --mode target --tid 1 -I ALL; then
	cat "$tmp/tgtd.log" >&2
	die "tgtd set-up failed"
fi

# tgt's LUN 0 is its controller: its disks are LUNs 1 and 2.
prkit_url() { echo "iscsi://127.0.0.1:$prkit_port/$prkit_iqn/$([ "$1" = ram ] && echo 0 || echo 1)"; }
tgt_url() { echo "iscsi://127.0.0.1:$tgt_port/$tgt_iqn/$([ "$1" = ram ] && echo 1 || echo 2)"; }

prkit_failed=0

# CPU time (user + system, all threads, in clock ticks) of a process.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo $((${12} + ${13}))
}
clk_tck=$(getconf CLK_TCK)

# run WHO URL ARGS...: sets res to "iops mbps errors p50 p99 cpu" ("- - - - - -"
# when the run gave no result), cpu being the target's CPU microseconds per
# I/O over the whole run (warmup included, so approximate). Not in a
# subshell: it sets prkit_failed.
res=""
run() {
	local who=$1 url=$2 out rc=0 pid c0 c1
	shift 2
	[ "$who" = prkit ] && pid=$prkit_pid || pid=$tgt_pid
	c0=$(cpu_ticks "$pid")
	# A bound on everything, login included (a fill may take its 120 s).
	out=$(timeout 300 "${cli[@]}" "$load" --url "$url" --initiator "$initiator" "$@" \
		2>"$tmp/load.err") || rc=$?
	c1=$(cpu_ticks "$pid")
	local line
	line=$(grep '^RESULT ' <<<"$out" || true)
	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		echo "run_vs_tgt: $who $url $*: exit $rc" >&2
		sed 's/^/    /' "$tmp/load.err" >&2
		[ "$who" = prkit ] && prkit_failed=1
	fi
	if [ -z "$line" ]; then
		res="- - - - - -"
		return
	fi
	res=$(sed -E 's/.*iops=([^ ]+) mbps=([^ ]+) errors=([^ ]+) p50_us=([^ ]+) p99_us=([^ ]+).*/\1 \2 \3 \4 \5/' \
		<<<"$line")
	res="$res $(awk -v t=$((c1 - c0)) -v hz="$clk_tck" -v iops="${res%% *}" -v s="$secs" -v w="$warm" \
		'BEGIN { n = iops * (s + w); if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }')"
}

echo "prkitd pid $prkit_pid on 127.0.0.1:$prkit_port;" \
	"tgtd $(tgtd -V 2>/dev/null | head -n1) pid $tgt_pid on 127.0.0.1:$tgt_port"
echo "LUs: $size each; ram = prkitd RAM backstore vs tgt rdwr on a /dev/shm file;" \
	"file = both on a /dev/shm file (buffered)"
echo "each run: ${warm}s warmup + ${secs}s measured; QD is per session; MB/s = 10^6 B/s"
if [ ${#srv[@]} -gt 0 ]; then
	echo "CPUs: targets on CPU $((ncpu - 1)), client on CPU 0 (of $ncpu)"
else
	echo "CPUs: not pinned ($ncpu)"
fi

# Write every LU once, so that reads never hit holes.
for b in $backings; do
	for who in prkit tgt; do
		url=$("${who}_url" "$b")
		run "$who" "$url" --fill --bs 1M --qd 8 --seconds 120
		read -r _ mb errs _ _ _ <<<"$res"
		echo "fill $b $who: $mb MB/s, errors $errs"
	done
done

# case: name rw bs qd
cases=(
	"4k-randread-qd1 randread 4K 1"
	"4k-randread-qd32 randread 4K 32"
	"4k-randwrite-qd1 randwrite 4K 1"
	"4k-randwrite-qd32 randwrite 4K 32"
	"1m-read-qd8 read 1M 8"
	"1m-write-qd8 write 1M 8"
)

table=$tmp/table.txt
fmt="%-7s %-17s %4s | %8s %7s %12s %6s | %8s %7s %12s %6s | %5s %5s\n"
# shellcheck disable=SC2059
{
	printf "$fmt" "" "" "" prkit "" "" "" tgt "" "" "" "" cpu
	printf "$fmt" backing case sess IOPS MB/s p50/p99us cpu/io IOPS MB/s p50/p99us cpu/io ratio ratio
} >"$table"
cat "$table"
goal_lines=()
n=0
for b in $backings; do
	for c in "${cases[@]}"; do
		read -r name rw bs qd <<<"$c"
		grep -Eq -- "$case_filter" <<<"$name" || continue
		for ns in $sessions_list; do
			args=(--rw "$rw" --bs "$bs" --qd "$qd" --sessions "$ns" --seconds "$secs"
				--warmup "$warm")
			if [ $((n % 2)) -eq 0 ]; then
				run prkit "$(prkit_url "$b")" "${args[@]}"
				read -r pi pm pe p50 p99 pc <<<"$res"
				run tgt "$(tgt_url "$b")" "${args[@]}"
				read -r ti tm te t50 t99 tc <<<"$res"
			else
				run tgt "$(tgt_url "$b")" "${args[@]}"
				read -r ti tm te t50 t99 tc <<<"$res"
				run prkit "$(prkit_url "$b")" "${args[@]}"
				read -r pi pm pe p50 p99 pc <<<"$res"
			fi
			n=$((n + 1))
			ratio=$(awk -v a="$pi" -v b="$ti" \
				'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }')
			cratio=$(awk -v a="$pc" -v b="$tc" \
				'BEGIN { if (a == "-" || b == "-" || a + 0 == 0) print "-"; else printf "%.2f", b / a }')
			[ "$pe" != "-" ] && [ "$pe" != 0 ] && prkit_failed=1
			[ "$te" != "-" ] && [ "$te" != 0 ] && echo "run_vs_tgt: tgt reported $te errors in $b $name x$ns" >&2
			# shellcheck disable=SC2059
			printf "$fmt" "$b" "$name" "$ns" \
				"$pi" "$pm" "$(printf %.0f/%.0f "${p50/-/0}" "${p99/-/0}")" "$pc" \
				"$ti" "$tm" "$(printf %.0f/%.0f "${t50/-/0}" "${t99/-/0}")" "$tc" \
				"$ratio" "$cratio" | tee -a "$table"
			case $name in
			4k-rand*-qd32) want=2 ;;
			1m-*) want=1 ;;
			*) want="" ;;
			esac
			if [ -n "$want" ]; then
				verdict=$(awk -v r="$ratio" -v w="$want" \
					'BEGIN { if (r == "-") print "n/a"; else if (r + 0 >= w) print "met"; else print "NOT met" }')
				goal_lines+=("goal ${want}x: $b $name x$ns sessions: ratio $ratio: $verdict")
			fi
		done
	done
done

echo
echo "=== prkitd vs tgt: ratio = prkit/tgt IOPS (= MB/s ratio at one I/O size);" \
	"cpu/io = the target's CPU us per I/O, all its threads; cpu ratio = tgt/prkit cpu/io ==="
cat "$table"
echo
[ ${#goal_lines[@]} -gt 0 ] && printf '%s\n' "${goal_lines[@]}"
[ -n "${BENCH_RESULTS:-}" ] && cp "$table" "$BENCH_RESULTS"

if ! kill -0 "$prkit_pid" 2>/dev/null; then
	echo "run_vs_tgt: prkitd died during the run" >&2
	sed 's/^/    /' "$tmp/prkitd.log" | tail -20 >&2
	prkit_failed=1
fi
if [ "$prkit_failed" -ne 0 ]; then
	echo "run_vs_tgt: FAILED: errors against prkitd (see above)" >&2
	exit 1
fi
echo "run_vs_tgt: done, no errors against prkitd"
