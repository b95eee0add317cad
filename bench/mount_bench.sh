#!/usr/bin/env bash
# `prkit mount` against `prkit io` and the plain libiscsi load generator, on
# the same LU in the same run (docs/mount.md, "Measured").
#
#   bench/mount_bench.sh [BUILD_DIR]      (default: build; builds nothing)
#
# prkitd gets one RAM LU and BENCH_PATHS portals on 127.0.0.1 (port 0: the
# kernel picks them), all in a temporary directory; the LU is written once
# (so that no read meets a hole). Then, for each case, BENCH_ROUNDS rounds of
# three legs, the order rotating from round to round:
#
#   mount     fio (ioengine=libaio, direct=1) on the file of a `prkit mount`
#             of the LU's paths (the mount runs for the whole benchmark; the
#             file is opened by fio, mode default, for each leg)
#   prkit-io  `prkit io` on the same paths with the same --rw/--bs/--qd
#   iscsi     build/bench/iscsi_load: one session per path (all to the first
#             portal), the queue depth split between them, no multipath layer
#
#   cases: 4 KiB randread and randwrite at QD32, 1 MiB sequential read and
#   write at QD8.
#
# Reported: the medians over the rounds (IOPS, MB/s, p50/p99 latency from
# submission to completion, client CPU per I/O) and the ratios mount/prkit-io
# (goals: >= 0.6 at 4 KiB, >= 0.9 at 1 MiB; reported, not enforced) and
# mount/iscsi, and prkit io's client CPU per I/O over the mount's (the ratio
# a run bound by the client core would give; steadier on a busy machine
# than the IOPS). Every leg is also printed as it ends. Client CPU: user +
# system time of fio plus the mount process (mount), of prkit io, of
# iscsi_load; kernel work done outside those processes is not counted.
#
# Between legs the script waits until the target shows no reservation: a
# FUSE file's RELEASE (the mount's close, which releases) arrives after
# close(2) has returned, and the next leg's open would otherwise find the
# previous leg's reservation.
#
# CPUs: with BENCH_PIN=1 (the default, on 2 or more CPUs) prkitd runs on the
# last CPU and every client (fio and the mount process together, prkit io,
# iscsi_load) on CPU 0, so that each client leg gets the same one core.
#
# Environment: BENCH_SECONDS (5) measured seconds per leg, BENCH_ROUNDS (3),
# BENCH_SIZE (512M), BENCH_PATHS (2: 1 or 2), BENCH_CASES (an ERE on the case
# names, default all), BENCH_LEGS ("mount io iscsi": the legs to run; a
# ratio whose legs did not run is "-"), BENCH_PIN (1), BENCH_RESULTS (a file to copy the table
# to), TMPDIR (where the temporary directory and the mountpoint go).
#
# Needs root or a user allowed to mount FUSE, /dev/fuse, fio and python3.
# Exits 0, 1 (an I/O error in any leg, a leg that gave no result, the mount
# or prkitd died) or 2 (set-up failed: a tool missing, prkitd or the mount did
# not start, the LU could not be written).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

build=${1:-build}
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
size=${BENCH_SIZE:-512M}
npaths=${BENCH_PATHS:-2}
case_filter=${BENCH_CASES:-.}
pin=${BENCH_PIN:-1}
only_legs=${BENCH_LEGS:-mount io iscsi}

prkitd=$build/src/target/prkitd
prkit=$build/src/cli/prkit
load=$build/bench/iscsi_load
iqn=iqn.2026-11.io.prkit:mountbench
ini_mount=iqn.2026-11.io.prkit:mountbench-mount
ini_io=iqn.2026-11.io.prkit:mountbench-io
ini_load=iqn.2026-11.io.prkit:mountbench-load
key_mount=0xb1
key_io=0xb2

die() {
	echo "mount_bench: $*" >&2
	exit 2
}

[ -x "$prkitd" ] || die "no $prkitd (build first: meson setup $build && ninja -C $build)"
[ -x "$prkit" ] || die "no $prkit (build first)"
[ -x "$load" ] || die "no $load (libiscsi-dev missing at meson setup?)"
command -v fio >/dev/null || die "fio not found: apt-get install fio (scripts/install-bench-deps.sh)"
command -v python3 >/dev/null || die "python3 not found"
[ -c /dev/fuse ] || die "no /dev/fuse"
case $npaths in 1 | 2) ;; *) die "BENCH_PATHS must be 1 or 2, not '$npaths'" ;; esac
case $rounds in '' | *[!0-9]* | 0) die "BENCH_ROUNDS must be a positive integer" ;; esac

srv=()
cli=()
ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	srv=(taskset -c "$((ncpu - 1))")
	cli=(taskset -c 0)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/prkit-mountbench-XXXXXX") || die "mktemp failed"
mnt=$tmp/mnt
mkdir -p "$mnt"
pid=""
mpid=""

# shellcheck disable=SC2317 # called by the EXIT trap
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# shellcheck disable=SC2317
cleanup() {
	set +e
	# The mount first (it closes its device through prkitd), then prkitd.
	# A mount left behind would hang every later look at its parent: fall
	# back to a lazy unmount, and never remove the directory under a mount.
	[ -n "$mpid" ] && stop_pid "$mpid"
	if mountpoint -q "$mnt" 2>/dev/null || grep -q " $mnt fuse" /proc/mounts; then
		umount -l "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
	fi
	[ -n "$pid" ] && stop_pid "$pid"
	if grep -q " $mnt " /proc/mounts; then
		echo "mount_bench: $mnt is still mounted; $tmp left in place" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- prkitd ------------------------------------------------------------
portals='{"address": "127.0.0.1", "port": 0}'
[ "$npaths" = 2 ] && portals="$portals, $portals"
cat >"$tmp/prkitd.json" <<JSON
{"admin_socket": "$tmp/admin.sock", "state_dir": "$tmp/state",
 "portals": [$portals],
 "targets": [{"name": "$iqn",
              "luns": [{"backstore": {"type": "ram", "size": "$size"}}]}]}
JSON
"${srv[@]}" "$prkitd" -c "$tmp/prkitd.json" 2>"$tmp/prkitd.log" &
pid=$!
ports=()
for _ in $(seq 100); do
	mapfile -t ports < <(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/prkitd.log")
	[ "${#ports[@]}" -ge "$npaths" ] && grep -q 'admin socket' "$tmp/prkitd.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ "${#ports[@]}" -lt "$npaths" ]; then
	cat "$tmp/prkitd.log" >&2
	die "prkitd did not start"
fi
urls=()
for ((i = 0; i < npaths; i++)); do urls+=("iscsi://127.0.0.1:${ports[i]}/$iqn/0"); done

# Write the LU once, before any key is registered.
if ! out=$(timeout 300 "${cli[@]}" "$load" --url "${urls[0]}" --initiator "$ini_load" \
	--fill --bs 1M --qd 8 --seconds 120 2>"$tmp/fill.err") || ! grep -q '^RESULT ' <<<"$out"; then
	cat "$tmp/fill.err" >&2
	die "writing the LU once (iscsi_load --fill) failed"
fi

want_leg() { [[ " $only_legs " == *" $1 "* ]]; }

# ---- the mount ---------------------------------------------------------
# The mount process shares CPU 0 with fio: the client side of the mount leg
# is both of them (and the kernel's FUSE work done in their system calls).
if want_leg mount; then
	"${cli[@]}" "$prkit" mount --key "$key_mount" --initiator "$ini_mount" \
		--state-dir "$tmp/host-mount" "$mnt" "${urls[@]}" 2>"$tmp/mount.log" &
	mpid=$!
fi
ready=0
want_leg mount || ready=1
for _ in $(seq 300); do
	[ -n "$mpid" ] || break
	grep -q "prkit mount: mounted" "$tmp/mount.log" && { ready=1; break; }
	kill -0 "$mpid" 2>/dev/null || break
	sleep 0.1
done
if [ "$ready" != 1 ] || { [ -n "$mpid" ] && [ ! -f "$mnt/lu" ]; }; then
	sed 's/^/    /' "$tmp/mount.log" >&2
	die "prkit mount did not come up (no ready line or no $mnt/lu within 30 s)"
fi

echo "prkitd pid $pid, ${npaths} portal(s) on 127.0.0.1 (${ports[*]}), RAM LU $size;" \
	"$([ -n "$mpid" ] && echo "prkit mount pid $mpid at $mnt" || echo "no mount (BENCH_LEGS)")"
echo "each leg: ${secs}s; $rounds round(s) per case, leg order rotating; medians reported"
if [ ${#srv[@]} -gt 0 ]; then
	echo "CPUs: prkitd on CPU $((ncpu - 1)), clients (fio + mount, prkit io, iscsi_load) on CPU 0 (of $ncpu)"
else
	echo "CPUs: not pinned ($ncpu)"
fi

failed=0
clk_tck=$(getconf CLK_TCK)
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo $((${12} + ${13}))
}

# Until the target shows no reservation (bounded: 10 s). The mount's close
# (default mode: RELEASE) runs when FUSE's RELEASE arrives, after fio's
# close(2) returned.
wait_released() {
	local out
	for _ in $(seq 100); do
		out=$("$prkit" target -s "$tmp/admin.sock" pr "$iqn" 0 2>&1) || true
		grep -q '^reservation: none' <<<"$out" && return 0
		sleep 0.1
	done
	echo "mount_bench: a reservation is still held 10 s after the $1 leg:" >&2
	sed 's/^/    /' <<<"$out" >&2
	return 1
}

# Each leg sets res to "iops mbps p50_us p99_us cpu_us_per_io" ("- - - - -"
# when it gave no result) and sets failed=1 on an error. Not in subshells.
res=""
TIMEFORMAT='%U %S'

leg_mount() { # rw bs qd
	local rw=$1 bs=$2 qd=$3 c0 c1 t rc=0
	c0=$(cpu_ticks "$mpid")
	# The job must not create, extend or fallocate the file: it is the LU.
	{ time timeout $((secs + 60)) "${cli[@]}" fio --name=mnt --filename="$mnt/lu" \
		--ioengine=libaio --direct=1 --rw="$rw" --bs="$bs" --iodepth="$qd" \
		--time_based --runtime="$secs" --allow_file_create=0 --fallocate=none \
		--randrepeat=0 --norandommap --lat_percentiles=1 --output-format=json \
		>"$tmp/fio.json" 2>"$tmp/fio.err"; } 2>"$tmp/time" || rc=$?
	c1=$(cpu_ticks "$mpid")
	t=$(tail -n1 "$tmp/time")
	res=$(python3 - "$tmp/fio.json" "$t" "$((c1 - c0))" "$clk_tck" <<'PY' 2>>"$tmp/fio.err"
import json, sys
text = open(sys.argv[1]).read()
# fio may print notes before the JSON object.
doc = json.loads(text[text.index("{"):])
job = doc["jobs"][0]
d = job["read"] if job["read"]["total_ios"] > 0 else job["write"]
pct = (d.get("lat_ns") or {}).get("percentile") or d["clat_ns"]["percentile"]
user, system = (float(x) for x in sys.argv[2].split())
cpu_s = user + system + int(sys.argv[3]) / int(sys.argv[4])
ios = d["total_ios"]
print("%.0f %.1f %.0f %.0f %s %d" % (
    d["iops"], d["bw_bytes"] / 1e6, pct["50.000000"] / 1e3, pct["99.000000"] / 1e3,
    "%.1f" % (cpu_s * 1e6 / ios) if ios else "-", job["error"]))
PY
	) || res=""
	local err=${res##* }
	res=${res% *}
	if [ "$rc" -ne 0 ] || [ -z "$res" ] || [ "$err" != 0 ]; then
		echo "mount_bench: fio $rw bs $bs qd $qd on the mount: exit $rc, error ${err:-?}" >&2
		sed -n "1,20s/^/    /p" "$tmp/fio.err" >&2
		failed=1
		[ -z "$res" ] && res="- - - - -"
	fi
	wait_released mount || failed=1
}

leg_io() { # rw bs qd
	local rw=$1 bs=$2 qd=$3 t rc=0
	{ time timeout $((secs + 60)) "${cli[@]}" "$prkit" io --key "$key_io" \
		--initiator "$ini_io" --state-dir "$tmp/host-io" --no-ctl --quiet --json \
		--rw "$rw" --bs "$bs" --qd "$qd" --time "$secs" "${urls[@]}" \
		>"$tmp/io.json" 2>"$tmp/io.err"; } 2>"$tmp/time" || rc=$?
	t=$(tail -n1 "$tmp/time")
	res=$(python3 - "$tmp/io.json" "$t" <<'PY' 2>>"$tmp/io.err"
import json, sys
r = json.load(open(sys.argv[1]))
user, system = (float(x) for x in sys.argv[2].split())
n = r["ops"]
print("%.0f %.1f %d %d %s" % (r["iops"], r["mbps"], r["latency_us"]["p50"],
      r["latency_us"]["p99"], "%.1f" % ((user + system) * 1e6 / n) if n else "-"))
PY
	) || res=""
	if [ "$rc" -ne 0 ] || [ -z "$res" ]; then
		echo "mount_bench: prkit io $rw bs $bs qd $qd: exit $rc" >&2
		sed 's/^/    /' "$tmp/io.err" >&2
		failed=1
		[ -z "$res" ] && res="- - - - -"
	fi
	wait_released prkit-io || failed=1
}

leg_iscsi() { # rw bs qd
	local rw=$1 bs=$2 qd=$3 t rc=0 line
	{ time timeout $((secs + 60)) "${cli[@]}" "$load" --url "${urls[0]}" \
		--initiator "$ini_load" --rw "$rw" --bs "$bs" --sessions "$npaths" \
		--qd $((qd / npaths)) --seconds "$secs" --warmup 0 \
		>"$tmp/load.out" 2>"$tmp/load.err"; } 2>"$tmp/time" || rc=$?
	t=$(tail -n1 "$tmp/time")
	line=$(grep '^RESULT ' "$tmp/load.out")
	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		echo "mount_bench: iscsi_load $rw bs $bs qd $qd: exit $rc" >&2
		sed 's/^/    /' "$tmp/load.err" >&2
		failed=1
	fi
	if [ -z "$line" ]; then
		res="- - - - -"
		return
	fi
	# iscsi_load counts the measured window only; its CPU time includes the
	# login and the drain (a small overestimate).
	res=$(awk -v t="$t" -v s="$secs" '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		split(t, c, " "); n = v["iops"] * s
		cpu = "-"
		if (n > 0) cpu = sprintf("%.1f", (c[1] + c[2]) * 1e6 / n)
		printf "%.0f %.1f %.0f %.0f %s\n", v["iops"], v["mbps"], v["p50_us"], v["p99_us"], cpu
	}' <<<"$line")
}

# median FORMAT NUMBER...: the median of the numbers ("-" among them are
# skipped; "-" when none is left), printed with FORMAT.
median() {
	local f=$1
	shift
	printf '%s\n' "$@" | grep -v '^-$' | sort -g |
		awk -v f="$f" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf f "\n", m }'
}

ratio() {
	awk -v a="$1" -v b="$2" \
		'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# case: name rw bs qd goal
cases=(
	"4k-randread-qd32 randread 4k 32 0.6"
	"4k-randwrite-qd32 randwrite 4k 32 0.6"
	"1m-read-qd8 read 1m 8 0.9"
	"1m-write-qd8 write 1m 8 0.9"
)
legs=(mount io iscsi)

table=$tmp/table.txt
fmt="%-17s | %6s %6s %11s %6s | %6s %6s %11s %6s | %6s %6s %11s %6s | %5s %5s %5s\n"
# shellcheck disable=SC2059
{
	printf "$fmt" "" mount "" "" "" prkit-io "" "" "" iscsi_load "" "" "" mount/ mount/ cpu
	printf "$fmt" case IOPS MB/s p50/p99us cpu/io IOPS MB/s p50/p99us cpu/io \
		IOPS MB/s p50/p99us cpu/io io iscsi io/mt
} >"$table"
echo
cat "$table"
goal_lines=()
for c in "${cases[@]}"; do
	read -r name rw bs qd goal <<<"$c"
	grep -Eq -- "$case_filter" <<<"$name" || continue
	declare -A vals=()
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < 3; k++)); do
			leg=${legs[$(((r + k) % 3))]}
			want_leg "$leg" || continue
			"leg_$leg" "$rw" "$bs" "$qd"
			read -r a b p50 p99 cpu <<<"$res"
			# Each leg as it ends: the spread behind the medians.
			printf '  %s round %d %-5s %s IOPS, %s MB/s, p50/p99 %s/%s us, cpu/io %s us\n' \
				"$name" $((r + 1)) "$leg" "$a" "$b" "$p50" "$p99" "$cpu"
			vals[$leg.iops]+="$a "
			vals[$leg.mbps]+="$b "
			vals[$leg.p50]+="$p50 "
			vals[$leg.p99]+="$p99 "
			vals[$leg.cpu]+="$cpu "
		done
	done
	cols=()
	for leg in "${legs[@]}"; do
		if ! want_leg "$leg"; then
			cols+=(- - -/- -)
			continue
		fi
		# shellcheck disable=SC2086
		cols+=("$(median %.0f ${vals[$leg.iops]})" "$(median %.1f ${vals[$leg.mbps]})"
			"$(median %.0f ${vals[$leg.p50]})/$(median %.0f ${vals[$leg.p99]})"
			"$(median %.1f ${vals[$leg.cpu]})")
	done
	r_io=$(ratio "${cols[0]}" "${cols[4]}")
	r_load=$(ratio "${cols[0]}" "${cols[8]}")
	# prkit io's client CPU per I/O over the mount's: the IOPS ratio the
	# two would reach if the one client core were all that limited them.
	# It moves far less than the IOPS on a busy machine.
	r_cpu=$(ratio "${cols[7]}" "${cols[3]}")
	unset vals
	# shellcheck disable=SC2059
	printf "$fmt" "$name" "${cols[@]}" "$r_io" "$r_load" "$r_cpu" | tee -a "$table"
	verdict=$(awk -v r="$r_io" -v w="$goal" \
		'BEGIN { if (r == "-") print "n/a"; else if (r + 0 >= w) print "met"; else print "NOT met" }')
	goal_lines+=("goal mount/prkit-io >= $goal: $name: $r_io: $verdict")
done

echo
echo "=== fio on the prkit mount vs prkit io vs iscsi_load, same LU; medians of $rounds round(s)" \
	"of ${secs}s; ratios of median IOPS; cpu/io = client CPU us per I/O;" \
	"cpu io/mt = prkit io's cpu/io over the mount's ==="
cat "$table"
echo
printf '%s\n' "${goal_lines[@]}"
[ -n "${BENCH_RESULTS:-}" ] && cp "$table" "$BENCH_RESULTS"

if [ -n "$mpid" ] && ! kill -0 "$mpid" 2>/dev/null; then
	echo "mount_bench: prkit mount died during the run" >&2
	sed 's/^/    /' "$tmp/mount.log" | tail -20 >&2
	failed=1
fi
if ! kill -0 "$pid" 2>/dev/null; then
	echo "mount_bench: prkitd died during the run" >&2
	sed 's/^/    /' "$tmp/prkitd.log" | tail -20 >&2
	failed=1
fi
if [ "$failed" -ne 0 ]; then
	echo "mount_bench: FAILED: errors above" >&2
	exit 1
fi
echo "mount_bench: done, no errors"
