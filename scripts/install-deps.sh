#!/usr/bin/env bash
# Installs every Debian package prkit needs to build, test and fuzz.
# Idempotent: installs only what is missing. Runs apt-get as root (directly,
# or through sudo when not root).
set -euo pipefail

packages=(
	gcc pkg-config meson ninja-build python3
	libfuse3-dev fuse3               # prkit mount (FUSE)
	libcmocka-dev                   # unit tests
	liburing-dev                    # backstore I/O
	libjson-c-dev                   # prkitd configuration, JSON output
	nettle-dev                      # MD5 for iSCSI CHAP
	libiscsi-dev libiscsi-bin       # integration tests, iscsi-test-cu conformance
	clang libclang-rt-14-dev        # libFuzzer targets and their sanitizers
	clang-format                    # the style check in CI
	corosync libcpg-dev libvotequorum-dev libcfg-dev libquorum-dev libcmap-dev  # cluster mode
	corosync-qdevice corosync-qnetd # two-node tie-breaker
	iproute2                        # network namespaces of the cluster tests
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Without systemd, invoke-rc.d would start the packaged corosync (and qnetd) with
# their default configurations; a policy-rc.d that refuses keeps the machine's
# namespace clean, and is removed again afterwards (only if we put it there).
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	ours=1
fi
trap '[ $ours -eq 1 ] && $sudo rm -f "$policy"' EXIT
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
