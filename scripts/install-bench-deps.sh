#!/usr/bin/env bash
# Installs what bench/run_vs_tgt.sh needs beyond scripts/install-deps.sh:
# Debian's tgt (the peer target). Its package would start a system tgtd;
# the benchmark runs its own on a private port, so service starts are
# refused during the install (policy-rc.d). Idempotent.
set -euo pipefail
dpkg-query -W -f='${Status}' tgt 2>/dev/null | grep -q "install ok installed" && exit 0
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
$sudo apt-get install -y -qq --no-install-recommends tgt || rc=$?
[ -n "$made_policy" ] && $sudo rm -f "$policy"
exit $rc
