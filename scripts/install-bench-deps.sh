#!/usr/bin/env bash
# Installs what the benchmarks need beyond scripts/install-deps.sh: Debian's
# tgt (the peer target of bench/run_vs_tgt.sh) and fio (the load on the
# mounted file in bench/mount_bench.sh). tgt's package would start a system
# tgtd; the benchmark runs its own on a private port, so service starts are
# refused during the install (policy-rc.d). Idempotent: installs only what
# is missing.
set -euo pipefail
missing=()
for p in tgt fio; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	made_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
rc=0
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
[ -n "$made_policy" ] && $sudo rm -f "$policy"
exit $rc
