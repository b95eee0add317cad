#!/usr/bin/env bash
# Three prkitd nodes in cluster mode on one machine (root): a network
# namespace per node with its own Corosync (knet, two links), one shared
# 64 MiB backing file, and each node's portal on 10.98.N.2:3260, reachable
# from this shell. docs/cluster.md explains what runs.
#   scripts/cluster-demo.sh [start]   build, start, print what to try
#   scripts/cluster-demo.sh stop      stop everything it started
# WORK (default /tmp/prkit-cluster-demo) holds configurations, logs, the
# shared file and the PIDs; stop kills only those PIDs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
WORK=${WORK:-/tmp/prkit-cluster-demo}
IQN=iqn.2026-12.io.prkit:cluster-demo
topo=tests/cluster/topo.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "cluster-demo: needs root (network namespaces and Corosync)" >&2
	exit 1
fi

if [ "${1:-start}" = stop ]; then
	"$topo" down "$WORK"
	echo "cluster-demo: stopped"
	exit 0
fi

scripts/install-deps.sh
if [ -d build ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build src/target/prkitd src/cli/prkit >/dev/null

"$topo" down "$WORK" >/dev/null 2>&1 || true
mkdir -p "$WORK"
truncate -s 64M "$WORK/shared.img"
"$topo" up 3 "$WORK" --links 2 --token 1000

# shellcheck source=../tests/cluster/topo.sh
source "$topo"
for i in 1 2 3; do
	d="$WORK/n$i"
	mkdir -p "$d/state"
	cat >"$d/prkitd.json" <<EOF
{
  "admin_socket": "$d/admin.sock",
  "state_dir": "$d/state",
  "portals": [{"address": "10.98.$i.2", "port": 3260, "tpgt": $i, "rtpi": $i}],
  "targets": [{"name": "$IQN",
               "luns": [{"lun": 0, "serial": "clusterdemo0",
                         "backstore": {"type": "file", "path": "$WORK/shared.img",
                                       "direct": true}}]}],
  "cluster": {"name": "demo"}
}
EOF
	"$topo" corosync-start "$WORK" "$i" >/dev/null
done
for i in 1 2 3; do
	ip netns exec "prkc-n$i" "$root/build/src/target/prkitd" -c "$WORK/n$i/prkitd.json" \
		>"$WORK/n$i/prkitd.log" 2>&1 &
	topo_record "$WORK" "prkitd$i" $!
done

echo "cluster-demo: waiting for the three nodes to serve"
for i in 1 2 3; do
	for _ in $(seq 100); do
		if build/src/cli/prkit target -s "$WORK/n$i/admin.sock" cluster --json 2>/dev/null |
			grep -q '"state": "serving"'; then
			break
		fi
		sleep 0.1
	done
	build/src/cli/prkit target -s "$WORK/n$i/admin.sock" cluster | head -1
done

cat <<EOF

Three nodes serve $IQN LUN 0 (one shared file) through
  iscsi://10.98.1.2:3260/$IQN/0   iscsi://10.98.2.2:3260/$IQN/0   iscsi://10.98.3.2:3260/$IQN/0

Try:
  build/src/cli/prkit target -s $WORK/n1/admin.sock cluster
  build/src/cli/prkit persist --out --register --param-sark=0xabc iscsi://10.98.1.2:3260/$IQN/0
  build/src/cli/prkit persist --out --reserve --param-rk=0xabc --prout-type=1 iscsi://10.98.1.2:3260/$IQN/0
  build/src/cli/prkit persist -i -s iscsi://10.98.3.2:3260/$IQN/0      # the same state on node 3
  $topo link-down 3 1        # one cable of node 3: a link failure, nothing else
  $topo partition 3          # node 3 alone: it stops serving within the lease
  build/src/cli/prkit target -s $WORK/n3/admin.sock cluster
  $topo heal 3               # it takes the majority's state and serves again
Logs: $WORK/n*/prkitd.log and $WORK/n*/corosync.log
Stop: scripts/cluster-demo.sh stop
EOF
