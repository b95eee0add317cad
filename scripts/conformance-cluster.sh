#!/usr/bin/env bash
# libiscsi's iscsi-test-cu, its persistent-reservation families, against
# every node of a three-node cluster (root: network namespaces and Corosync,
# tests/cluster/topo.sh): one shared file LU exported by all three nodes.
# The nodes are tested one after another; for node i the second path of the
# multipath tests (-I, the second initiator) goes to the next node, so
# those tests see the reservation of one initiator on one node from the
# other initiator on another node.
#
# Counted per test and per node as scripts/conformance.sh does (the same
# parser, scripts/cu_results.awk). Prints the failures, a line per node and
# the summary line
# "conformance-cluster: N passed, M failed, K skipped"; exits 1 on any
# failure, 2 when the cluster could not be set up.
#   scripts/conformance-cluster.sh [BUILD_DIR]
# Environment:
#   CONFORMANCE_SUITES=REGEX   the suites (default: the PR families,
#                              ^ALL\.(Prin|Prout|Reserve6))
#   CONFORMANCE_RESULTS=FILE   keep the per-test results
#                              (NODE<TAB>SUITE<TAB>TEST<TAB>STATUS<TAB>reason)
#   CONFORMANCE_KEEP=1         keep the work directory (logs)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
build=${1:-build}
IQN=iqn.2026-12.io.prkit:cluster-conf
suites_re=${CONFORMANCE_SUITES:-'^ALL\.(Prin|Prout|Reserve6)'}

die()
{
	echo "conformance-cluster: $*" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces and Corosync)"
command -v corosync >/dev/null || die "corosync not installed (scripts/install-deps.sh)"
command -v iscsi-test-cu >/dev/null || die "iscsi-test-cu not installed (libiscsi-bin)"
prkitd=$root/$build/src/target/prkitd
prkit=$root/$build/src/cli/prkit
[ -x "$prkitd" ] && [ -x "$prkit" ] || die "build $build first (ninja -C $build)"

# Names of its own, so that it runs beside the cluster tests' topology.
export TOPO_NS=${TOPO_NS:-prkq} TOPO_FRONT=${TOPO_FRONT:-10.93} TOPO_FDEV=${TOPO_FDEV:-c}
# shellcheck source=../tests/cluster/topo.sh
source tests/cluster/topo.sh
work=$(mktemp -d /tmp/prkit-conformance-cluster.XXXXXX)
cleanup()
{
	topo_down "$work"
	if [ "${CONFORMANCE_KEEP:-0}" = 1 ]; then
		echo "conformance-cluster: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Another topology on the same front network would take our connections.
ip -br addr | grep -q " ${TOPO_FRONT//./\\.}\\." &&
	die "the front network $TOPO_FRONT.0.0/16 is in use here (set TOPO_FRONT)"
for ((k = 0; ; k++)); do
	topo_up 3 "$work" --links 1 --token 1000 2>"$work/up.err"
	rc=$?
	[ $rc = 3 ] || break
	[ $k -lt 1500 ] || die "another topology named $TOPO_NS held the namespaces for 5 min"
	sleep 0.2
done
[ $rc = 0 ] || { cat "$work/up.err" >&2; die "topo.sh up failed"; }
truncate -s 128M "$work/shared.img"
for i in 1 2 3; do
	d=$work/n$i
	mkdir -p "$d/state"
	cat >"$d/prkitd.json" <<EOF
{
  "admin_socket": "$d/admin.sock",
  "state_dir": "$d/state",
  "portals": [{"address": "$TOPO_FRONT.$i.2", "port": 3260, "tpgt": $i, "rtpi": $i}],
  "targets": [{"name": "$IQN",
               "luns": [{"lun": 0, "serial": "clusterconf0",
                         "backstore": {"type": "file", "path": "$work/shared.img"}}]}],
  "cluster": {"name": "conformance"}
}
EOF
	topo_corosync_start "$work" "$i" >/dev/null || die "corosync of node $i did not start"
done
for i in 1 2 3; do
	ip netns exec "$TOPO_NS-n$i" "$prkitd" -c "$work/n$i/prkitd.json" \
		>"$work/n$i/prkitd.log" 2>&1 </dev/null &
	topo_record "$work" "prkitd$i" $!
done
serving()
{
	"$prkit" target -s "$work/n$1/admin.sock" cluster --json 2>/dev/null |
		grep -Eq '"state": ?"serving"'
}
for i in 1 2 3; do
	for ((t = 0; t < 300; t++)); do
		serving "$i" && break
		sleep 0.1
	done
	serving "$i" || { tail -n 20 "$work/n$i/prkitd.log" >&2; die "node $i does not serve"; }
done

mapfile -t suites < <(iscsi-test-cu -l 2>/dev/null | grep -E '^ALL\.[^.]+$' | grep -E "$suites_re")
[ ${#suites[@]} -gt 0 ] || die "no iscsi-test-cu suite matches $suites_re"
results=$work/results.tsv
: >"$results"
url() { echo "iscsi://$TOPO_FRONT.$1.2:3260/$IQN/0"; }

run() { # NODE SUITE
	local i=$1 suite=$2 log="$work/node$1-$2.log" before n
	# A dead node fails every suite at once: libiscsi would retry its
	# login until the timeout.
	if ! topo_pid "$work" "prkitd$i" >/dev/null; then
		printf 'node%s\t%s\t-\tfailed\tprkitd of node %s is dead\n' "$i" "$suite" "$i" >>"$results"
		return
	fi
	# A PR suite takes seconds; 120 s bounds one that hangs.
	timeout 120 iscsi-test-cu -d -S -v -t "$suite" \
		-i iqn.2026-12.io.prkit.conformance:one -I iqn.2026-12.io.prkit.conformance:two \
		"$(url "$i")" "$(url $((i % 3 + 1)))" >"$log" 2>&1
	before=$(wc -l <"$results")
	awk -v lu="node$i" -v suite="$suite" -f scripts/cu_results.awk "$log" >>"$results"
	n=$(($(wc -l <"$results") - before))
	[ "$n" -gt 0 ] || printf 'node%s\t%s\t-\tfailed\tno test ran\n' "$i" "$suite" >>"$results"
	# A login refused in the middle of a suite (a node that stopped
	# serving for a moment) turns libiscsi's tests that need the second
	# session into skips; it is a failure of the cluster, not a skip.
	grep -m1 '^Login Failed' "$log" | while IFS= read -r l; do
		printf 'node%s\t%s\t-\tfailed\ta login failed during the suite: %s\n' "$i" "$suite" "$l"
	done >>"$results"
}
for i in 1 2 3; do
	for suite in "${suites[@]}"; do
		run "$i" "$suite"
	done
done

# A node that died or stopped serving during the run is a failure too.
for i in 1 2 3; do
	if ! topo_pid "$work" "prkitd$i" >/dev/null || ! serving "$i"; then
		printf 'node%s\t-\t-\tfailed\tprkitd of node %s died or stopped serving\n' "$i" "$i" \
			>>"$results"
		tail -n 30 "$work/n$i/prkitd.log" | sed "s/^/node$i prkitd: /"
	fi
done

awk -F'\t' '$4 == "failed" && $2 != "-" {print $1 "\t" $2}' "$results" | sort -u |
	while IFS=$'\t' read -r node suite; do
		grep -E '^  Test: |^    [0-9]+\. |FAILED' "$work/$node-$suite.log" |
			sed "s/^/$node $suite: /" | head -40
	done
count() { # NODE-REGEX STATUS
	awk -F'\t' -v n="$1" -v st="$2" '$1 ~ n && $4 == st {k++} END {print k+0}' "$results"
}
for i in 1 2 3; do
	echo "conformance-cluster node $i (second path: node $((i % 3 + 1))):" \
		"$(count "^node$i\$" passed) passed, $(count "^node$i\$" failed) failed," \
		"$(count "^node$i\$" skipped) skipped"
done
awk -F'\t' '$4 == "failed" && $5 != "" {printf "failed %s %s.%s: %s\n", $1, $2, $3, $5}' "$results"
[ -n "${CONFORMANCE_RESULTS:-}" ] && cp "$results" "$CONFORMANCE_RESULTS"
echo "conformance-cluster: suites ${suites[*]}"
echo "conformance-cluster: $(count . passed) passed, $(count . failed) failed," \
	"$(count . skipped) skipped"
[ "$(count . failed)" -eq 0 ]
