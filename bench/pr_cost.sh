#!/usr/bin/env bash
# What the PR access check costs on the data path: the same 4 KiB random I/O
# against prkitd with no PR state, and with 1,000 registrations plus a
# reservation that the load generator is allowed through.
#
#   bench/pr_cost.sh [BUILD_DIR]      (default: build)
#
# Cases:
#   none      no APTPL record: no registrations, no reservation
#   1k-we-ro  1,000 registrations + WE-RO (type 5) held by one of them
#   1k-we-ar  1,000 registrations + WE-AR (type 7)
# The record is written by BUILD_DIR/bench/mk_pr_record into a fresh
# state_dir before prkitd starts (prkitd restores it before listening); it
# also registers the load generator's initiator name with a format-00b
# TransportID (SPEC_I_PT), so every ISID iscsi_load picks is a registrant.
# For each case prkitd (RAM LU, one portal) runs fresh; the LU is filled once,
# then iscsi_load runs 4 KiB randread and randwrite at QD32 on one session.
#
# Prints IOPS per case and its ratio to "none" (expected ~1: the check is
# O(1) whatever the number of registrations). The ratio is reported, not
# enforced. Exits 1 if iscsi_load saw any error (a RESERVATION CONFLICT
# would mean the record did not cover the load generator) or prkitd did not
# restore the record, 2 if the set-up failed.
#
# Environment: BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_ROUNDS (1: with
# more, each cell is the median over rounds), BENCH_PIN (1: prkitd on the
# last CPU, the client on CPU 0, when there are 2 or more), BENCH_REGS (1000).
set -euo pipefail

build=${1:-build}
secs=${BENCH_SECONDS:-5}
warm=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-1}
pin=${BENCH_PIN:-1}
nregs=${BENCH_REGS:-1000}

prkitd=$build/src/target/prkitd
load=$build/bench/iscsi_load
mkrec=$build/bench/mk_pr_record
target=iqn.2026-11.io.prkit:prcost
initiator=iqn.2026-11.io.prkit:prcost-load

die() {
	echo "pr_cost: $*" >&2
	exit 2
}
[ -x "$prkitd" ] || die "no $prkitd (build first: meson setup $build && ninja -C $build)"
[ -x "$load" ] || die "no $load (libiscsi-dev missing at meson setup?)"
[ -x "$mkrec" ] || die "no $mkrec"

srv=()
cli=()
ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	srv=(taskset -c "$((ncpu - 1))")
	cli=(taskset -c 0)
fi

tmp=$(mktemp -d /tmp/prkit-prcost.XXXXXX)
pid=""
stop_prkitd() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
}
trap 'stop_prkitd; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The record's file name, as prkitd's aptpl.c forms it.
recname="$(tr -c 'A-Za-z0-9._\n-' '_' <<<"$target")-lun0.pr"

failed=0
port=""
# start CASE TYPE: fresh state_dir (with a record unless TYPE is "-"), then prkitd.
start() {
	local c=$1 type=$2 dir=$tmp/$1
	rm -rf "$dir"
	mkdir -p "$dir/state"
	if [ "$type" != - ]; then
		"$mkrec" -o "$dir/state/$recname" -n "$nregs" -i "$initiator" -t "$type" >/dev/null ||
			die "mk_pr_record failed"
	fi
	cat >"$dir/prkitd.json" <<EOF
{"log_level": "info", "admin_socket": "$dir/admin.sock", "state_dir": "$dir/state",
 "portals": [{"address": "127.0.0.1", "port": 0}],
 "targets": [{"name": "$target",
              "luns": [{"lun": 0, "backstore": {"type": "ram", "size": "256M"}}]}]}
EOF
	"${srv[@]}" "$prkitd" -c "$dir/prkitd.json" 2>"$dir/prkitd.log" &
	pid=$!
	port=""
	for _ in $(seq 100); do
		port=$(sed -nE 's/^prkitd info: listening on 127\.0\.0\.1:([0-9]+) .*/\1/p' \
			"$dir/prkitd.log" | head -n1)
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		cat "$dir/prkitd.log" >&2
		echo "pr_cost: prkitd did not start ($c)" >&2
		exit 1
	fi
	if [ "$type" != - ]; then
		local want=$((nregs + 1)) got
		got=$(sed -nE 's/.*APTPL record .*: ([0-9]+) registrations restored.*/\1/p' \
			"$dir/prkitd.log" | head -n1)
		if [ "$got" != "$want" ]; then
			sed 's/^/    /' "$dir/prkitd.log" >&2
			echo "pr_cost: $c: prkitd restored '${got:-nothing}', want $want registrations" >&2
			exit 1
		fi
	fi
}

# load CASE ARGS...: prints iops (or "-"), sets failed on any error.
load() {
	local c=$1 out rc=0 line errs
	shift
	out=$(timeout 300 "${cli[@]}" "$load" --url "iscsi://127.0.0.1:$port/$target/0" \
		--initiator "$initiator" "$@" 2>"$tmp/load.err") || rc=$?
	line=$(grep '^RESULT ' <<<"$out" || true)
	errs=$(sed -nE 's/.* errors=([0-9]+).*/\1/p' <<<"$line")
	if [ "$rc" -ne 0 ] || [ -z "$line" ] || [ "${errs:-1}" != 0 ]; then
		echo "pr_cost: $c $*: exit $rc, errors ${errs:-?}" >&2
		sed 's/^/    /' "$tmp/load.err" | head -20 >&2
		failed=1
	fi
	if [ -n "$line" ]; then
		sed -E 's/.*iops=([0-9.]+).*/\1/' <<<"$line"
	else
		echo -
	fi
}

# case: name type-for-mk_pr_record ("-": no record)
cases=("none -" "1k-we-ro 5" "1k-we-ar 7")
[ "$nregs" = 1000 ] || cases=("none -" "${nregs}-we-ro 5" "${nregs}-we-ar 7")
declare -A res

echo "prkitd RAM LU 256M; iscsi_load 1 session, QD32, 4 KiB; ${warm}s warmup + ${secs}s;" \
	"$rounds round(s); $([ ${#srv[@]} -gt 0 ] && echo "prkitd on CPU $((ncpu - 1)), client on CPU 0" || echo "not pinned")"
for r in $(seq "$rounds"); do
	for c in "${cases[@]}"; do
		read -r name type <<<"$c"
		start "$name" "$type"
		load "$name" --fill --bs 1M --qd 8 --seconds 120 >/dev/null
		for rw in randread randwrite; do
			v=$(load "$name" --rw "$rw" --bs 4K --qd 32 --sessions 1 --seconds "$secs" \
				--warmup "$warm")
			res[$name.$rw]="${res[$name.$rw]:-} $v"
			echo "round $r: $name $rw: $v IOPS" >&2
		done
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "pr_cost: prkitd died ($name)" >&2
			tail -20 "$tmp/$name/prkitd.log" >&2
			failed=1
		fi
		stop_prkitd
	done
done

median() { tr ' ' '\n' | grep -v '^$' | grep -v '^-$' | sort -n |
	awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
	      else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-";
	else printf "%.3f", a / b }'; }

base_name=${cases[0]%% *}
fmt="%-10s %6s %-7s | %10s %7s | %10s %7s\n"
echo
# shellcheck disable=SC2059
printf "$fmt" case regs resv "randread" ratio "randwrite" ratio
for c in "${cases[@]}"; do
	read -r name type <<<"$c"
	rr=$(median <<<"${res[$name.randread]}")
	rw=$(median <<<"${res[$name.randwrite]}")
	br=$(median <<<"${res[$base_name.randread]}")
	bw=$(median <<<"${res[$base_name.randwrite]}")
	case $type in
	-) regs=0 resv=none ;;
	5) regs=$((nregs + 1)) resv=WE-RO ;;
	7) regs=$((nregs + 1)) resv=WE-AR ;;
	esac
	# shellcheck disable=SC2059
	printf "$fmt" "$name" "$regs" "$resv" "$rr" "$(ratio "$rr" "$br")" "$rw" "$(ratio "$rw" "$bw")"
done
echo "(IOPS; ratio = IOPS / IOPS of '$base_name'; regs counts the load generator's any-ISID registration)"

if [ "$failed" -ne 0 ]; then
	echo "pr_cost: FAILED: errors against prkitd (see above)" >&2
	exit 1
fi
echo "pr_cost: done, no errors"
