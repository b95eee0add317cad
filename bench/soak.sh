#!/usr/bin/env bash
# Soak: 64 sessions x QD32 mixed random I/O (70% reads, 4 KiB) against one
# prkitd for a bounded time (SOAK_SECONDS, default 20), then checks zero
# errors and flat memory: prkitd's RSS at the end may not exceed its RSS
# after the warm-up by more than 10% + 8 MiB. Prints one line
# "soak: N IOPS, E errors, RSS A -> B KiB" and exits non-zero on failure.
#   bench/soak.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${SOAK_SECONDS:-20}
tmp=$(mktemp -d /tmp/prkit-soak-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/prkitd.json" <<JSON
{"admin_socket": "$tmp/admin.sock", "state_dir": "$tmp/state",
 "portals": [{"address": "127.0.0.1", "port": 0}],
 "targets": [{"name": "iqn.2026-11.io.prkit:soak",
              "luns": [{"backstore": {"type": "ram", "size": "256M"}}]}]}
JSON
"$build/src/target/prkitd" -c "$tmp/prkitd.json" 2>"$tmp/prkitd.log" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/prkitd.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\) .*/\1/p' "$tmp/prkitd.log" | head -n1)
[ -n "$port" ] || { cat "$tmp/prkitd.log"; echo "soak: prkitd did not start"; exit 1; }
url="iscsi://127.0.0.1:$port/iqn.2026-11.io.prkit:soak/0"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

# Warm-up: the same load briefly, so that buffers and sessions exist.
"$build/bench/iscsi_load" --url "$url" --sessions 64 --qd 32 --rw mixed --span 128M \
	--warmup 0 --seconds 3 >"$tmp/warm.out" 2>&1 || { cat "$tmp/warm.out"; exit 1; }
before=$(rss)
"$build/bench/iscsi_load" --url "$url" --sessions 64 --qd 32 --rw mixed --span 128M \
	--warmup 1 --seconds "$seconds" >"$tmp/soak.out" 2>&1
rc=$?
after=$(rss)
iops=$(sed -n 's/.*RESULT iops=\([0-9.]*\).*/\1/p' "$tmp/soak.out")
errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$tmp/soak.out")
echo "soak: 64 sessions x QD32, ${seconds}s: ${iops:-?} IOPS, ${errors:-?} errors, RSS $before -> $after KiB"
[ "$rc" -eq 0 ] && [ "${errors:-1}" -eq 0 ] || { tail -5 "$tmp/soak.out"; echo "soak: errors"; exit 1; }
limit=$((before + before / 10 + 8192))
[ "$after" -le "$limit" ] || { echo "soak: RSS grew beyond $limit KiB"; exit 1; }
kill "$pid"
wait "$pid" || { echo "soak: prkitd did not stop cleanly"; exit 1; }
pid=""
