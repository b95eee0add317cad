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
#   cases: 4 KiB randread and randwrite at QD1 and QD32, 4 KiB sequential
#   read and write at QD32, 1 MiB sequential read and write at QD8; each
#   with 1 and 8 sessions (QD is per session).
#
# Rounds: every case runs BENCH_ROUNDS times (3) against each target, the
# order of the targets rotating from run to run; the table gives the median
# of each figure, and the median and the range (min-max) of the per-round
# ratio prkit/tgt. CI passes BENCH_ROUNDS=1.
#
# Threads: BENCH_THREADS ("1 2" ...; default 1) runs the whole matrix once
# per count N, prkitd given "threads": N in its configuration (one event
# loop per thread) and tgtd started with -t N (--nr_iothreads). A prkitd
# that does not know the member refuses the configuration: with
# BENCH_THREADS set, the script says so and exits 2; unset, prkitd is
# started without the member (it has one event loop, as asked). Note that
# tgtd's own default is 16 I/O threads per LU (its rdwr thread pool) beside
# its one event-loop thread; runs before this option gave it those 16, so
# their ratios are not comparable with -t 1 ones.
#
# A build to compare: BENCH_BEFORE=DIR runs DIR/src/target/prkitd too, as a
# third target "before" beside prkit and tgt (same LUs, same rounds, same
# rotation), and adds the ratio prkit/before.
#
# CPU per I/O: each target's CPU time (user + system, all threads, from
# /proc/PID/stat) over exactly the measured window (iscsi_load --marks says
# where it starts and ends: warm-up and drain are not counted), divided by
# the I/Os of the window. Cycles per I/O the same way from
# `perf stat -e cycles -p PID` where perf is installed ("n/a" otherwise).
# The cpu ratio is tgt/prkit: the goal is >= 2 (prkit at most half).
#
# CPUs (BENCH_PIN): with 1 (the default), for N threads the targets share
# the last N CPUs and the client gets the others, so the client never takes
# a target's CPU and each target has the same N cores; this needs more than
# N CPUs, and a thread count that does not fit runs unpinned (the header of
# its section says so). On a 2-core machine that means: 1 thread pinned
# (targets on CPU 1, client on CPU 0), 2 threads unpinned, with the client
# competing for both cores, so the 2-thread IOPS understate the scaling;
# cpu/io and cycles/io do not depend on that and are the figures to compare.
# BENCH_PIN=0 never pins.
#
# The client (BENCH_CLIENT): "batch" (the default) runs iscsi_load --batch,
# which sends the commands a wake-up's answers freed at once, as one corked
# burst (as fio's iodepth_batch_submit does); "plain" runs libiscsi's own
# loop, which sends them on the next wake-up, each PDU as two TCP segments
# (header, data). Every target of a run faces the same client. With the
# plain client, 4 KiB QD32 writes over one session were bistable: a target
# faster than the client woke for the first segment and found one command,
# so both sides fell into one wake-up per command (prkitd paid recv +
# writev + epoll_wait per I/O: about 44k IOPS at 15.9 us of CPU per I/O
# pinned), or into batches (92k IOPS at 8.6 us), from round to round (1.65-
# 2.30x tgt in one run). prkitd already makes one recv, one writev and one
# epoll_wait per wake-up whatever it finds: the pattern was the client's.
# `iscsi_load --verbose` prints the client's wake-ups and data segments per
# command (plain about 1.2-1.5 segments per command at QD32, batch 0.09).
#
# Selecting cases: BENCH_CASES, an extended regular expression matched
# against the case names below ("^4k-.*-qd32$": the 2x goal cases only);
# BENCH_BACKINGS ("ram file"), BENCH_SESSIONS ("1 8").
#
# Consecutive runs: BENCH_RUNS=N (1) runs the whole script N times in a row
# (each with its own target start-up, fills and rounds, as separate runs
# are) and then prints, for every case with a goal, the median ratio of each
# run and whether the goal held in all N. The exit status is the worst of
# the runs' (1: errors against prkitd). Example, the goal cases three times
# at 1 and 2 loops:
#   BENCH_RUNS=3 BENCH_THREADS="1 2" BENCH_CASES='^4k-.*-qd32$' bench/run_vs_tgt.sh build
set -euo pipefail

runs=${BENCH_RUNS:-1}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "run_vs_tgt: BENCH_RUNS: a count >= 1, not '$runs'" >&2; exit 2; }
if [ "$runs" -gt 1 ]; then
	# Each run is this script again with BENCH_RUNS=1; its goal lines
	# ("goal 2x: threads 1 ram 4k-write-qd32 x1: median ratio R (...): met")
	# are collected by their case (the text before ": median").
	runs_log=$(mktemp -d /tmp/prkit-bench-runs.XXXXXX)
	trap 'rm -rf "$runs_log"' EXIT
	worst=0
	for ((i = 1; i <= runs; i++)); do
		echo "=== run $i of $runs ==="
		rc=0
		BENCH_RUNS=1 "$0" "$@" | tee "$runs_log/$i.out" || rc=$?
		# set -o pipefail: rc is the script's (tee does not fail).
		[ "$rc" -eq 1 ] && worst=1
		[ "$rc" -ne 0 ] && [ "$worst" -eq 0 ] && worst=$rc
	done
	echo
	echo "=== $runs consecutive runs: per case with a goal, the median ratio prkit/tgt of each run ==="
	for ((i = 1; i <= runs; i++)); do
		sed -n 's/^\(goal [0-9.]*x: .*\): median ratio \([^ ]*\) .*/\1\t'"$i"'\t\2/p' "$runs_log/$i.out"
	done | awk -F'\t' -v n="$runs" '
		!($1 in seen) { seen[$1] = 1; order[++k] = $1 }
		{ r[$1, $2] = $3 }
		END {
			for (j = 1; j <= k; j++) {
				c = order[j]
				split(c, w, /[ x:]+/) # w[2] is the goal factor
				line = c ":"; held = 1
				for (i = 1; i <= n; i++) {
					v = ((c, i) in r) ? r[c, i] : "-"
					line = line " " v
					if (v == "-" || v + 0 < w[2] + 0) held = 0
				}
				print line ": " (held ? "held in all " n " runs" : "NOT held in all " n " runs")
			}
		}'
	exit "$worst"
fi

build=${1:-build}
secs=${BENCH_SECONDS:-5}
warm=${BENCH_WARMUP:-1}
backings=${BENCH_BACKINGS:-ram file}
sessions_list=${BENCH_SESSIONS:-1 8}
size=${BENCH_SIZE:-256M}
case_filter=${BENCH_CASES:-.}
pin=${BENCH_PIN:-1}
rounds=${BENCH_ROUNDS:-3}
threads_list=${BENCH_THREADS:-1}
threads_set=${BENCH_THREADS:+1}
client=${BENCH_CLIENT:-batch}
before_dir=${BENCH_BEFORE:-}

load=$build/bench/iscsi_load
prkit_iqn=iqn.2026-11.io.prkit:bench
tgt_iqn=iqn.2026-11.io.tgt:bench
initiator=iqn.2026-11.io.prkit:bench-client

die() {
	echo "run_vs_tgt: $*" >&2
	exit 2
}

# The targets compared, in this order in the table.
targets=(prkit)
declare -A bin=([prkit]=$build/src/target/prkitd)
if [ -n "$before_dir" ]; then
	targets+=(before)
	bin[before]=$before_dir/src/target/prkitd
fi
targets+=(tgt)
for t in prkit before; do
	[ -z "${bin[$t]:-}" ] || [ -x "${bin[$t]}" ] ||
		die "no ${bin[$t]} (build first: meson setup DIR && ninja -C DIR)"
done
[ -x "$load" ] || die "no $load (libiscsi-dev missing at meson setup?)"
if ! command -v tgtd >/dev/null || ! command -v tgtadm >/dev/null; then
	die "tgtd/tgtadm not found: apt-get install tgt (or scripts/install-deps.sh)"
fi
[ "$(id -u)" -eq 0 ] || die "tgtd needs root"
[ -w /dev/shm ] || die "/dev/shm is not writable"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS: a count >= 1, not '$rounds'"
case $client in
batch) client_args=(--batch) ;;
plain) client_args=() ;;
*) die "BENCH_CLIENT: batch or plain, not '$client'" ;;
esac
for nt in $threads_list; do
	[ "$nt" = - ] || [[ $nt =~ ^[1-9][0-9]*$ ]] || die "BENCH_THREADS: counts >= 1, not '$nt'"
done
have_perf=0
# perf, and a cycles counter it can read (a VM without a PMU says
# "<not supported>").
if command -v perf >/dev/null &&
	perf stat -x, -e cycles -- true 2>&1 >/dev/null | grep -qE '^[0-9]+,'; then
	have_perf=1
fi

ncpu=$(nproc)
tmp=$(mktemp -d /tmp/prkit-bench.XXXXXX)
declare -A pid=() port=() shm=()
for t in "${targets[@]}"; do
	shm[$t]=/dev/shm/prkit-bench-$$-$t.img
done
shm_tgt_ram=/dev/shm/tgt-bench-$$-ram.img
tgt_cport=""

perf_pid=""
# Ends perf stat (SIGINT makes it write its counts), never waiting long.
stop_perf() {
	[ -n "$perf_pid" ] || return 0
	kill -INT "$perf_pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$perf_pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$perf_pid" 2>/dev/null
	wait "$perf_pid" 2>/dev/null || true
	perf_pid=""
}

stop_prkitd() {
	local p=${pid[$1]:-}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	pid[$1]=""
}

stop_tgtd() {
	local p=${pid[tgt]:-}
	[ -n "$p" ] || return 0
	# tgtd ignores SIGTERM while it has targets: remove them, then ask it
	# to exit; SIGKILL only if that did not work.
	tgtadm -C "$tgt_cport" --lld iscsi --op delete --mode target --tid 1 --force \
		>/dev/null 2>&1
	tgtadm -C "$tgt_cport" --op delete --mode system >/dev/null 2>&1
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "/var/run/tgtd/socket.$tgt_cport" "/var/run/tgtd/socket.$tgt_cport.lock"
	pid[tgt]=""
}

stop_all() {
	set +e
	for t in "${targets[@]}"; do
		if [ "$t" = tgt ]; then stop_tgtd; else stop_prkitd "$t"; fi
	done
	set -e
}

cleanup() {
	set +e
	stop_perf
	stop_all
	for t in "${targets[@]}"; do rm -f "${shm[$t]}"; done
	rm -f "$shm_tgt_ram"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Pinning for N threads (see the header): sets srv and cli, empty when not
# pinned.
srv=()
cli=()
set_pinning() {
	local k=$1
	[ "$k" = - ] && k=1
	srv=()
	cli=()
	if [ "$pin" = 1 ] && [ "$ncpu" -gt "$k" ] && command -v taskset >/dev/null; then
		srv=(taskset -c "$((ncpu - k))-$((ncpu - 1))")
		cli=(taskset -c "0-$((ncpu - k - 1))")
	fi
}

# start_prkitd WHO THREADS: a RAM LU 0 and a /dev/shm file LU 1.
start_prkitd() {
	local who=$1 k=$2 log=$tmp/$1.log thr=""
	[ "$k" = - ] || thr="\"threads\": $k,"
	cat >"$tmp/$who.json" <<JSON
{
  "log_level": "info",
  $thr
  "admin_socket": "$tmp/$who.sock",
  "portals": [{"address": "127.0.0.1", "port": 0}],
  "targets": [
    {
      "name": "$prkit_iqn",
      "luns": [
        {"lun": 0, "backstore": {"type": "ram", "size": "$size"}},
        {"lun": 1, "backstore": {"type": "file", "path": "${shm[$who]}", "size": "$size",
                                 "create": true, "direct": false}}
      ]
    }
  ]
}
JSON
	"${srv[@]}" "${bin[$who]}" -c "$tmp/$who.json" 2>"$log" &
	pid[$who]=$!
	port[$who]=""
	for _ in $(seq 100); do
		port[$who]=$(sed -nE 's/^prkitd info: listening on 127\.0\.0\.1:([0-9]+) \(tpgt.*/\1/p' \
			"$log" | head -n1)
		[ -n "${port[$who]}" ] && break
		kill -0 "${pid[$who]}" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "${port[$who]}" ] && return 0
	if ! kill -0 "${pid[$who]}" 2>/dev/null; then
		wait "${pid[$who]}" 2>/dev/null || true
		pid[$who]="" # else cleanup stops it
	fi
	if grep -q 'unknown field "threads"' "$log"; then
		if [ -z "$threads_set" ] && [ "$k" = 1 ]; then
			# BENCH_THREADS was not set: a prkitd without the member has
			# one event loop anyway.
			echo "   $who: ${bin[$who]} takes no \"threads\" (one event loop): started without it"
			start_prkitd "$who" -
			return
		fi
		cat "$log" >&2
		die "$who: ${bin[$who]} does not take \"threads\" (BENCH_THREADS=$k needs a" \
			"prkitd with one event loop per thread); unset BENCH_THREADS to run without it"
	fi
	cat "$log" >&2
	echo "run_vs_tgt: $who (${bin[$who]}) did not start" >&2
	exit 1
}

# start_tgtd THREADS: a free TCP port for the portal and a control port
# whose socket is not in use, so a system tgtd (control port 0) is never
# touched.
tgtadm_() { tgtadm -C "$tgt_cport" --lld iscsi "$@"; }
start_tgtd() {
	local targs=()
	[ "$1" = - ] || targs=(-t "$1")
	port[tgt]=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	for _ in $(seq 20); do
		tgt_cport=$((1000 + RANDOM % 31000)) # tgtd takes 0..32767
		[ -e "/var/run/tgtd/socket.$tgt_cport" ] || break
	done
	truncate -s "$size" "$shm_tgt_ram" "${shm[tgt]}"
	"${srv[@]}" tgtd -f "${targs[@]}" -C "$tgt_cport" --iscsi "portal=127.0.0.1:${port[tgt]}" \
		>"$tmp/tgtd.log" 2>&1 &
	pid[tgt]=$!
	for _ in $(seq 100); do
		tgtadm_ --op show --mode target >/dev/null 2>&1 && break
		kill -0 "${pid[tgt]}" 2>/dev/null || break
		sleep 0.1
	done
	if ! tgtadm_ --op new --mode target --tid 1 -T "$tgt_iqn" ||
		! tgtadm_ --op new --mode logicalunit --tid 1 --lun 1 -b "$shm_tgt_ram" ||
		! tgtadm_ --op new --mode logicalunit --tid 1 --lun 2 -b "${shm[tgt]}" ||
		! tgtadm_ --op bind --mode target --tid 1 -I ALL; then
		cat "$tmp/tgtd.log" >&2
		die "tgtd set-up failed"
	fi
}

# url_of WHO BACKING. tgt's LUN 0 is its controller: its disks are 1 and 2.
url_of() {
	if [ "$1" = tgt ]; then
		echo "iscsi://127.0.0.1:${port[tgt]}/$tgt_iqn/$([ "$2" = ram ] && echo 1 || echo 2)"
	else
		echo "iscsi://127.0.0.1:${port[$1]}/$prkit_iqn/$([ "$2" = ram ] && echo 0 || echo 1)"
	fi
}

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

# run WHO URL ARGS...: sets res to "iops mbps errors p50 p99 cpu cycles"
# ("-" for what the run did not give); cpu is the target's CPU microseconds
# and cycles its cycles per I/O, both over the measured window only
# (between iscsi_load's MARK lines). Not in a subshell: it sets
# prkit_failed.
res=""
run() {
	local who=$1 url=$2 p line="" rc=0 c0="" c1="" l cycles=- use_perf=$have_perf
	shift 2
	p=${pid[$who]}
	[[ " $* " == *" --fill "* ]] && use_perf=0 # a fill is not measured
	rm -f "$tmp/perf.out"
	while IFS= read -r l; do
		case $l in
		"MARK measure")
			c0=$(cpu_ticks "$p")
			if [ "$use_perf" = 1 ]; then
				perf stat -x, -e cycles -p "$p" -o "$tmp/perf.out" >/dev/null 2>&1 &
				perf_pid=$!
			fi
			;;
		"MARK end")
			c1=$(cpu_ticks "$p")
			stop_perf
			;;
		RESULT*) line=$l ;;
		"EXIT "*) rc=${l#EXIT } ;;
		esac
	done < <(
		# A bound on everything, login included (a fill may take its 120 s).
		xrc=0
		timeout 300 "${cli[@]}" "$load" --url "$url" --initiator "$initiator" --marks \
			"${client_args[@]}" "$@" \
			2>"$tmp/load.err" || xrc=$?
		echo "EXIT $xrc"
	)
	stop_perf
	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		echo "run_vs_tgt: $who $url $*: exit $rc" >&2
		sed 's/^/    /' "$tmp/load.err" >&2
		[ "$who" != tgt ] && prkit_failed=1
	fi
	if [ -z "$line" ]; then
		res="- - - - - - -"
		return
	fi
	res=$(sed -E 's/.*iops=([^ ]+) mbps=([^ ]+) errors=([^ ]+) p50_us=([^ ]+) p99_us=([^ ]+).*/\1 \2 \3 \4 \5/' \
		<<<"$line")
	if [ -s "$tmp/perf.out" ]; then
		cycles=$(awk -F, '$3 ~ /^cycles/ && $1 ~ /^[0-9]+$/ { print $1; exit }' "$tmp/perf.out")
	fi
	res="$res $(awk -v c0="$c0" -v c1="$c1" -v hz="$clk_tck" -v iops="${res%% *}" -v s="$secs" \
		-v cyc="${cycles:--}" 'BEGIN {
			n = iops * s
			if (n > 0 && c0 != "" && c1 != "") printf "%.1f", (c1 - c0) * 1e6 / hz / n; else printf "-"
			if (n > 0 && cyc != "-") printf " %.0f", cyc / n; else printf " -"
		}')"
}

# The median of the numbers given ("-" when there are none).
median() {
	printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
			else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratios "A-LIST" "B-LIST": the per-round ratios a_i / b_i as
# "median min max", or "- - -".
ratios() {
	local -a a b out=()
	local i m
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	for i in "${!a[@]}"; do
		out+=("$(awk -v a="${a[$i]}" -v b="${b[$i]:--}" 'BEGIN {
			if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "-"
			else printf "%.4f", a / b }')")
	done
	m=$(median "${out[@]}")
	if [ "$m" = - ]; then
		echo "- - -"
		return
	fi
	printf '%s\n' "${out[@]}" | { grep -E '^[0-9.]+$' || true; } | sort -g |
		awk -v m="$m" '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

fmt_num() { awk -v v="$1" -v f="$2" 'BEGIN { if (v ~ /^[0-9.]+$/) printf f, v; else print "-" }'; }

echo "targets: ${targets[*]}; prkit = ${bin[prkit]}${bin[before]:+, before = ${bin[before]:-}};" \
	"tgtd $(tgtd -V 2>/dev/null | head -n1)"
echo "LUs: $size each; ram = prkitd RAM backstore vs tgt rdwr on a /dev/shm file;" \
	"file = both on a /dev/shm file (buffered)"
echo "each run: ${warm}s warmup + ${secs}s measured; $rounds round(s) per case (medians);" \
	"QD is per session; MB/s = 10^6 B/s; cyc/io: $([ "$have_perf" = 1 ] && echo "perf stat" ||
		echo "n/a (no perf, or no cycles counter)"); client: iscsi_load${client_args[*]:+ ${client_args[*]}}"

# case: name rw bs qd
cases=(
	"4k-randread-qd1 randread 4K 1"
	"4k-randread-qd32 randread 4K 32"
	"4k-randwrite-qd1 randwrite 4K 1"
	"4k-randwrite-qd32 randwrite 4K 32"
	"4k-read-qd32 read 4K 32"
	"4k-write-qd32 write 4K 32"
	"1m-read-qd8 read 1M 8"
	"1m-write-qd8 write 1M 8"
)

table=$tmp/table.txt
# Per target: IOPS MB/s p50/p99 cpu/io cyc/io.
cols="%8s %7s %11s %6s %6s"
hdr=$(printf "%-3s %-7s %-17s %4s" thr backing case sess)
hdr2=$(printf "%-3s %-7s %-17s %4s" "" "" "" "")
for t in "${targets[@]}"; do
	# shellcheck disable=SC2059
	hdr="$hdr | $(printf "$cols" IOPS MB/s p50/p99us cpu/io cyc/io)"
	hdr2="$hdr2 | $(printf "%-42s" "$t")"
done
hdr="$hdr | $(printf "%-16s %5s" "prkit/tgt(range)" cpu)"
hdr2="$hdr2 | ratios"
[ -n "$before_dir" ] && hdr="$hdr $(printf "%-16s" "prkit/before")"
printf '%s\n%s\n' "$hdr2" "$hdr" >"$table"

goal_lines=()
n=0
for nthr in $threads_list; do
	stop_all
	set_pinning "$nthr"
	for t in "${targets[@]}"; do
		if [ "$t" = tgt ]; then start_tgtd "$nthr"; else start_prkitd "$t" "$nthr"; fi
	done
	echo
	echo "== threads $nthr:$(for t in "${targets[@]}"; do
		printf ' %s pid %s port %s;' "$t" "${pid[$t]}" "${port[$t]}"
	done)"
	if [ ${#srv[@]} -gt 0 ]; then
		echo "   CPUs: targets on ${srv[2]}, client on ${cli[2]} (of $ncpu)"
	else
		echo "   CPUs: not pinned ($ncpu CPUs; BENCH_PIN=$pin)"
	fi
	# Write every LU once, so that reads never hit holes.
	for b in $backings; do
		for t in "${targets[@]}"; do
			run "$t" "$(url_of "$t" "$b")" --fill --bs 1M --qd 8 --seconds 120
			read -r _ mb errs _ <<<"$res"
			echo "   fill $b $t: $mb MB/s, errors $errs"
		done
	done
	cat "$table"
	for b in $backings; do
		for c in "${cases[@]}"; do
			read -r name rw bs qd <<<"$c"
			grep -Eq -- "$case_filter" <<<"$name" || continue
			for ns in $sessions_list; do
				args=(--rw "$rw" --bs "$bs" --qd "$qd" --sessions "$ns" --seconds "$secs"
					--warmup "$warm")
				declare -A iops=() mbps=() p50=() p99=() cpu=() cyc=()
				for ((r = 0; r < rounds; r++)); do
					# The order of the targets rotates from run to run.
					k=${#targets[@]}
					for ((j = 0; j < k; j++)); do
						t=${targets[$(((n + j) % k))]}
						run "$t" "$(url_of "$t" "$b")" "${args[@]}"
						read -r i m e l50 l99 cp cy <<<"$res"
						iops[$t]+="$i " mbps[$t]+="$m " p50[$t]+="$l50 " p99[$t]+="$l99 "
						cpu[$t]+="$cp " cyc[$t]+="$cy "
						if [ "$e" != - ] && [ "$e" != 0 ]; then
							if [ "$t" = tgt ]; then
								echo "run_vs_tgt: tgt reported $e errors in $b $name x$ns" >&2
							else
								prkit_failed=1
							fi
						fi
					done
					n=$((n + 1))
				done
				row=$(printf "%-3s %-7s %-17s %4s" "$nthr" "$b" "$name" "$ns")
				for t in "${targets[@]}"; do
					# shellcheck disable=SC2086
					mi=$(median ${iops[$t]}) mm=$(median ${mbps[$t]}) m50=$(median ${p50[$t]})
					# shellcheck disable=SC2086
					m99=$(median ${p99[$t]}) mc=$(median ${cpu[$t]}) my=$(median ${cyc[$t]})
					# shellcheck disable=SC2059
					row="$row | $(printf "$cols" "$(fmt_num "$mi" %.0f)" "$(fmt_num "$mm" %.1f)" \
						"$(fmt_num "$m50" %.0f)/$(fmt_num "$m99" %.0f)" "$(fmt_num "$mc" %.1f)" \
						"$(fmt_num "$my" %.0f)")"
				done
				read -r rm rlo rhi <<<"$(ratios "${iops[prkit]}" "${iops[tgt]}")"
				read -r cm _ <<<"$(ratios "${cpu[tgt]}" "${cpu[prkit]}")"
				row="$row | $(printf "%-16s %5s" "$rm($rlo-$rhi)" "$cm")"
				if [ -n "$before_dir" ]; then
					read -r bm blo bhi <<<"$(ratios "${iops[prkit]}" "${iops[before]}")"
					row="$row $(printf "%-16s" "$bm($blo-$bhi)")"
				fi
				echo "$row" | tee -a "$table"
				case $name in
				4k-*-qd32) want=2 ;;
				1m-* | 4k-*-qd1) want=1 ;;
				*) want="" ;;
				esac
				if [ -n "$want" ]; then
					verdict=$(awk -v r="$rm" -v w="$want" 'BEGIN {
						if (r == "-") print "n/a"; else if (r + 0 >= w) print "met"; else print "NOT met" }')
					goal_lines+=("goal ${want}x: threads $nthr $b $name x$ns: median ratio $rm ($rlo-$rhi): $verdict")
				fi
			done
		done
	done
	for t in "${targets[@]}"; do
		if [ "$t" != tgt ] && ! kill -0 "${pid[$t]}" 2>/dev/null; then
			echo "run_vs_tgt: $t's prkitd died during the run" >&2
			sed 's/^/    /' "$tmp/$t.log" | tail -20 >&2
			prkit_failed=1
			pid[$t]=""
		fi
	done
done

echo
echo "=== prkitd vs tgt: medians of $rounds round(s); prkit/tgt = median (min-max) of the" \
	"per-round IOPS ratios; cpu/io = the target's CPU us per I/O in the measured window, all" \
	"its threads; cyc/io = its cycles per I/O; cpu ratio = tgt/prkit cpu/io (goal >= 2) ==="
cat "$table"
echo
[ ${#goal_lines[@]} -gt 0 ] && printf '%s\n' "${goal_lines[@]}"
[ -n "${BENCH_RESULTS:-}" ] && cp "$table" "$BENCH_RESULTS"

if [ "$prkit_failed" -ne 0 ]; then
	echo "run_vs_tgt: FAILED: errors against prkitd (see above)" >&2
	exit 1
fi
echo "run_vs_tgt: done, no errors against prkitd"
