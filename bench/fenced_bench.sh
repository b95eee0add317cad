#!/usr/bin/env bash
# How long prkit fenced holds the survivors' I/O when a node dies (issue
# 15, deliverable 8): three host nodes in network namespaces
# (tests/cluster/topo.sh), each with Corosync, `prkit fenced` over 16 LUs
# and one `prkit io` writer (so there is local I/O to stall and release),
# one prkitd in the root namespace serving the 16 file-backed LUs on each
# node's front address. Each round SIGKILLs node 3 (Corosync, fenced and
# its writer: a crash), waits until node 1 (the executor) reports the
# fencing, then restarts node 3 and waits until it runs again. From node
# 1's status JSON (docs/fenced.md "Status"):
#
#   detection  kill -> membership change (changed_at_ms, CLOCK_REALTIME):
#              Corosync's token timeout plus consensus
#   fencing    membership change -> local I/O released (resume_ms): the
#              stall, PREEMPT AND ABORT of node 3's key on 16 LUs, the
#              verify, FENCED over CPG, the resume
#
# medians over the rounds, at token 1000 and 500 ms (knet, one link).
# Goal: fencing < 1 s on top of detection.
#
#   bench/fenced_bench.sh [BUILD_DIR]      (root; default build)
# Environment: BENCH_ROUNDS (5), BENCH_TOKENS ("1000 500"), BENCH_LUS (16),
# BENCH_KEEP=1 keeps the work directory. TOPO_NS (prkf), TOPO_FRONT
# (10.95), TOPO_FDEV (e): names of its own, so it runs beside the tests.
#
# Prints "fenced_bench: ..." lines. Exit 1 when a fencing failed or did not
# happen (never a benchmark result), 2 when the set-up failed, 0 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
build=${1:-build}
rounds=${BENCH_ROUNDS:-5}
tokens=${BENCH_TOKENS:-1000 500}
lus=${BENCH_LUS:-16}
IQN=iqn.2026-12.io.prkit:fenced-bench
topo=tests/cluster/topo.sh

die()
{
	echo "fenced_bench: $*" >&2
	exit 2
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces and Corosync)"
command -v corosync >/dev/null || die "corosync not installed (scripts/install-deps.sh)"
command -v python3 >/dev/null || die "python3 missing (scripts/install-deps.sh)"
ip netns list >/dev/null 2>&1 || die "ip netns unavailable"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS is a positive integer"
[[ $lus =~ ^[1-9][0-9]*$ ]] && [ "$lus" -le 16 ] || die "BENCH_LUS is 1..16"
prkitd=$root/$build/src/target/prkitd
prkit=$root/$build/src/cli/prkit
[ -x "$prkitd" ] && [ -x "$prkit" ] || die "no $prkitd or $prkit (build first)"
"$prkit" fenced --help >/dev/null 2>&1 || die "this prkit has no 'fenced' command"

export TOPO_NS=${TOPO_NS:-prkf} TOPO_FRONT=${TOPO_FRONT:-10.95} TOPO_FDEV=${TOPO_FDEV:-e}
# shellcheck source=../tests/cluster/topo.sh
source "$topo"
work=$(mktemp -d /tmp/prkit-fenced-bench.XXXXXX)
cleanup()
{
	topo_down "$work"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "fenced_bench: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The namespaces are machine-wide: wait (up to 5 min) while another
# topology under our names holds them.
topo_claim()
{
	local k rc
	for ((k = 0; ; k++)); do
		topo_up "$@" 2>"$work/up.err"
		rc=$?
		[ $rc = 3 ] || break
		[ $k -lt 1500 ] || die "another topology held the namespaces for 5 min"
		sleep 0.2
	done
	[ $rc = 0 ] || { cat "$work/up.err" >&2; die "topo.sh up failed"; }
}

now_ms() { local t=$EPOCHREALTIME; echo $((${t/./} / 1000)); }

# wait_until SECONDS CMD...: polls CMD every 50 ms, for SECONDS of wall
# time (a poll through prkit and python3 takes a while itself).
wait_until()
{
	local end=$((${EPOCHREALTIME/./} / 1000 + $1 * 1000))
	shift
	while [ $((${EPOCHREALTIME/./} / 1000)) -lt $end ]; do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

status() { "$prkit" fenced status --json -s "$work/n$1/fenced.sock" 2>/dev/null; }
# jget I EXPR: a Python expression over node I's status s ("" on failure).
jget()
{
	status "$1" | python3 -c "import json,sys
try:
    s = json.load(sys.stdin); print($2)
except Exception:
    print('')" 2>/dev/null
}
running() { [ "$(jget "$1" 's["state"]')" = running ]; }
fencings_over() { local f; f=$(jget "$1" 's["fencings"]'); [ -n "$f" ] && [ "$f" -gt "$2" ]; }

median()
{
	sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'
}

prkitd_conf()
{
	local i l
	printf '{"nop_interval_ms": 60000, "portals": ['
	for i in 1 2 3; do
		[ "$i" = 1 ] || printf ', '
		printf '{"address": "%s.%d.1", "port": 3260, "tpgt": %d, "rtpi": %d}' "$TOPO_FRONT" "$i" "$i" "$i"
	done
	printf '], "targets": [{"name": "%s", "luns": [' "$IQN"
	for ((l = 0; l < lus; l++)); do
		[ "$l" = 0 ] || printf ', '
		printf '{"lun": %d, "serial": "fdbench%02d", "backstore": {"type": "file", "path": "%s/lu%d.img", "size": 16777216, "create": true, "direct": true}}' \
			"$l" "$l" "$work" "$l"
	done
	printf ']}]}\n'
}

fenced_conf()
{
	local i=$1 l
	printf '{"cluster_name": "prkit", "key_mode": "node", "devices": ['
	for ((l = 0; l < lus; l++)); do
		[ "$l" = 0 ] || printf ', '
		printf '"iscsi://%s.%d.1:3260/%s/%d"' "$TOPO_FRONT" "$i" "$IQN" "$l"
	done
	printf '],\n "initiator": "iqn.2026-12.io.prkit:fdbench-n%d", "state_dir": "%s/n%d/fd",\n' \
		"$i" "$work" "$i"
	printf ' "socket": "%s/n%d/fenced.sock"}\n' "$work" "$i"
}

# spawn_fenced I: node I's fenced, in the background.
spawn_fenced()
{
	local i=$1
	mkdir -p "$work/n$i/fd"
	ip netns exec "$TOPO_NS-n$i" "$prkit" fenced -c "$work/n$i/fenced.json" \
		>>"$work/n$i/fenced.log" 2>&1 </dev/null &
	topo_record "$work" "n$i.fenced" $!
	disown $! 2>/dev/null
}

# start_node I: waits until node I's fenced (spawned: a daemon joins once
# its view with the peers is quorate) has joined, then starts its writer.
start_node()
{
	local i=$1 key
	wait_until 30 running "$i" || { tail -n 20 "$work/n$i/fenced.log" >&2; return 1; }
	key=$("$prkit" fenced key -s "$work/n$i/fenced.sock") || return 1
	ip netns exec "$TOPO_NS-n$i" "$prkit" io --key "$key" --mode cluster --rw randwrite \
		--bs 4k --qd 2 --offset $(((i - 1) * 4))m --size 4m --time 3600 --run-id "$i" \
		--seq-clock --initiator "iqn.2026-12.io.prkit:fdbench-n$i-io" \
		--state-dir "$work/n$i/fd" --quiet "iscsi://$TOPO_FRONT.$i.1:3260/$IQN/0" \
		>"$work/n$i/io.out" 2>&1 </dev/null &
	topo_record "$work" "n$i.io" $!
	disown $! 2>/dev/null
}

# Another topology on the same front network would take our connections.
ip -br addr | grep -q " ${TOPO_FRONT//./\\.}\\." &&
	die "the front network $TOPO_FRONT.0.0/16 is in use here (set TOPO_FRONT)"

failed=0
for token in $tokens; do
	[[ $token =~ ^[0-9]+$ ]] || die "BENCH_TOKENS: '$token' is not milliseconds"
	topo_claim 3 "$work" --links 1 --token "$token"
	prkitd_conf >"$work/prkitd.json"
	"$prkitd" -c "$work/prkitd.json" 2>"$work/prkitd.log" </dev/null &
	topo_record "$work" prkitd $!
	disown $! 2>/dev/null
	wait_until 10 grep -q 'listening on' "$work/prkitd.log" ||
		{ cat "$work/prkitd.log" >&2; die "prkitd did not start"; }
	for i in 1 2 3; do
		mkdir -p "$work/n$i"
		fenced_conf "$i" >"$work/n$i/fenced.json"
		topo_corosync_start "$work" "$i" >/dev/null || die "corosync of node $i did not start"
	done
	for i in 1 2 3; do
		topo_wait_quorate "$work" "$i" 30 || die "node $i not quorate"
	done
	for i in 1 2 3; do
		spawn_fenced "$i"
	done
	for i in 1 2 3; do
		start_node "$i" || die "node $i's fenced did not join"
	done
	det=() fen=() stl=() fnc=()
	for ((r = 1; r <= rounds; r++)); do
		before=$(jget 1 's["fencings"]')
		t_kill=$(now_ms)
		topo_kill_all "$work" KILL n3.corosync n3.fenced n3.io
		if ! wait_until 60 fencings_over 1 "$before"; then
			echo "fenced_bench: token $token round $r: node 1 reported no fencing of node 3 within 60 s"
			failed=1
			break
		fi
		read -r result changed stall fence resume < <(jget 1 \
			'" ".join(str(x) for x in [s["last_fencing"]["result"], s["last_fencing"]["changed_at_ms"], s["last_fencing"]["stall_ms"], s["last_fencing"]["fence_ms"], s["last_fencing"]["resume_ms"]])')
		if [ "$result" != ok ]; then
			echo "fenced_bench: token $token round $r: fencing result '$result'"
			failed=1
			break
		fi
		det+=($((changed - t_kill)))
		fen+=("$resume")
		stl+=("$stall")
		fnc+=("$fence")
		echo "fenced_bench: token $token round $r: detection $((changed - t_kill)) ms, stalled +$stall ms, fenced +$fence ms, resumed +$resume ms"
		topo_corosync_start "$work" 3 >/dev/null || die "corosync of node 3 did not restart"
		spawn_fenced 3
		start_node 3 || die "node 3 did not rejoin"
	done
	if [ ${#fen[@]} -gt 0 ]; then
		d=$(printf '%s\n' "${det[@]}" | median)
		f=$(printf '%s\n' "${fen[@]}" | median)
		s=$(printf '%s\n' "${stl[@]}" | median)
		p=$(printf '%s\n' "${fnc[@]}" | median)
		echo "fenced_bench: token $token ms, $lus LUs, 3 nodes, ${#fen[@]} rounds (medians):" \
			"detection $d ms (kill -> membership change)," \
			"fencing $f ms (change -> local I/O released; stalled at +$s, fenced at +$p)"
		echo "fenced_bench: token $token ms: fencing / goal (1000 ms) = $(awk -v f="$f" 'BEGIN {printf "%.2f", f / 1000}')" \
			"$([ "$f" -lt 1000 ] && echo '(goal met)' || echo '(goal missed)');" \
			"kill -> I/O released $((d + f)) ms"
	fi
	topo_down "$work"
	# The next token starts afresh: new LU files, no incarnations.
	rm -rf "$work"/lu*.img "$work"/n[0-9]*
	[ $failed = 0 ] || break
done
exit $failed
