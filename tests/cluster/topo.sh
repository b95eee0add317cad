#!/usr/bin/env bash
# The network-namespace topology of the cluster tests and of
# scripts/cluster-demo.sh (the design is "Test topology" in docs/cluster.md):
# one namespace per node (prkc-n1..N), a switch namespace prkc-sw with bridge
# br0 (knet link 0) and br1 (link 1), and a front veth per node from the root
# namespace for iSCSI. One Corosync per node, each with a private /run.
#
# Both a library (source it, call topo_* functions) and a command:
#   topo.sh up N WORK [--links 2] [--token MS] [--qdevice | --two-node]
#                                      # exit 3: another topology is up
#   topo.sh corosync-start WORK i      # prints corosync's PID
#   topo.sh corosync-kill WORK i       # SIGKILL, by the recorded PID
#   topo.sh qdevice-start WORK i       # (after up --qdevice) prints its PID
#   topo.sh partition i | heal i       # all links of node i
#   topo.sh link-down i L | link-up i L
#   topo.sh wait-quorate WORK i [SECONDS]
#   topo.sh down WORK                  # stops what WORK recorded; idempotent
#
# Everything the script starts is recorded in WORK/pids/<name> as
# "PID STARTTIME", and down kills only those (the start time guards against a
# recycled PID). Namespaces are machine-wide: one topology at a time.

# The names a topology takes in the machine-wide places (namespaces, the
# root namespace's front veths and their network) can be set from the
# environment, so that a benchmark may run beside the tests' topology:
# TOPO_NS (namespace prefix), TOPO_FRONT (front /16), TOPO_FDEV (prefix of
# the front veths in the root namespace). The claim (exit 3) is per TOPO_NS.
TOPO_NS=${TOPO_NS:-prkc}
TOPO_NET0=10.99.0
TOPO_NET1=10.99.1
TOPO_FRONT=${TOPO_FRONT:-10.98}
TOPO_FDEV=${TOPO_FDEV:-f}
TOPO_QNETD_IP=10.99.0.250
TOPO_QD_TIMEOUT=${TOPO_QD_TIMEOUT:-2000}

topo_die()
{
	echo "topo.sh: $*" >&2
	return 1
}

# The 22nd field of /proc/PID/stat: the process's start time in clock ticks.
topo_starttime()
{
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	# A zombie (no reaper in a container without init) counts as gone.
	[ "$1" != Z ] || return 1
	echo "${20}"
}

# topo_record WORK NAME PID: down will stop PID. Other scripts (prkitd
# starters) use it too, so that one trap cleans everything.
topo_record()
{
	local st
	mkdir -p "$1/pids" || return 1
	st=$(topo_starttime "$3") || st=0
	echo "$3 $st" >"$1/pids/$2"
}

# topo_pid WORK NAME: the recorded PID if that process still runs.
topo_pid()
{
	local pid st now
	[ -r "$1/pids/$2" ] || return 1
	read -r pid st <"$1/pids/$2" || return 1
	now=$(topo_starttime "$pid") || return 1
	[ "$now" = "$st" ] || return 1
	echo "$pid"
}

# topo_kill WORK NAME SIGNAL: signals the recorded process, waits (2 s) until
# it is gone, and forgets it.
topo_kill()
{
	local pid i
	if pid=$(topo_pid "$1" "$2"); then
		kill "-$3" "$pid" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			topo_pid "$1" "$2" >/dev/null || break
			sleep 0.01
		done
		if topo_pid "$1" "$2" >/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			sleep 0.05
		fi
	fi
	rm -f "$1/pids/$2"
}

topo_env()
{
	[ -r "$1/topo.env" ] || topo_die "no topology in $1 (run: topo.sh up N $1)" || return 1
	# shellcheck disable=SC1091
	. "$1/topo.env"
}

topo_conf()
{
	local work=$1 i=$2 n=$3 links=$4 token=$5 qdevice=$6 two_node=$7 j
	cat <<EOF
# Written by tests/cluster/topo.sh for node $i of $n.
totem {
	version: 2
	cluster_name: prkit
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: $token
	token_coefficient: 0
}
nodelist {
EOF
	for ((j = 1; j <= n; j++)); do
		echo "	node {"
		echo "		ring0_addr: $TOPO_NET0.$j"
		[ "$links" -ge 2 ] && echo "		ring1_addr: $TOPO_NET1.$j"
		echo "		nodeid: $j"
		echo "		name: n$j"
		echo "	}"
	done
	echo "}"
	echo "quorum {"
	echo "	provider: corosync_votequorum"
	# votequorum's two-node mode: each half of a split keeps quorum (wait_for_all
	# is implied, so a fresh start waits for both), and something else (prkit
	# fenced's coordinator race) must pick the one winner.
	[ "$two_node" = 1 ] && echo "	two_node: 1"
	if [ "$qdevice" = 1 ]; then
		# qdevice and two_node exclude each other: the tie-breaker is qnetd.
		cat <<EOF
	device {
		model: net
		votes: 1
		# How long a node keeps the device's vote without hearing from
		# qnetd (default 10 s): the isolated node of a split stays
		# quorate for about this long plus the token timeout.
		timeout: $TOPO_QD_TIMEOUT
		sync_timeout: $TOPO_QD_TIMEOUT
		net {
			host: $TOPO_QNETD_IP
			algorithm: ffsplit
			tls: off
		}
	}
EOF
	fi
	cat <<EOF
}
logging {
	to_stderr: no
	to_syslog: no
	to_logfile: yes
	logfile: $work/n$i/corosync.log
	timestamp: hires
}
system {
	state_dir: $work/n$i
}
EOF
}

# A veth pair: $1 in namespace $2 (or the root when empty), $3 in namespace $4.
# Both ends are created in place, so their names never meet the root's
# (which has its own eth0).
topo_veth()
{
	if [ -n "$2" ]; then
		ip link add "$1" netns "$2" type veth peer name "$3" netns "$4"
	else
		ip link add "$1" type veth peer name "$3" netns "$4"
	fi
}

topo_up()
{
	local n=$1 work=$2 links=1 token=1000 qdevice=0 two_node=0 i ns
	shift 2 || true
	while [ $# -gt 0 ]; do
		case $1 in
		--links) links=$2; shift 2 ;;
		--token) token=$2; shift 2 ;;
		--qdevice) qdevice=1; shift ;;
		--two-node) two_node=1; shift ;;
		*) topo_die "up: unknown option $1"; return 1 ;;
		esac
	done
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 16 ] ||
		{ topo_die "up: N must be 1..16, not '$n'"; return 1; }
	[ "$links" = 1 ] || [ "$links" = 2 ] || { topo_die "up: --links is 1 or 2"; return 1; }
	if [ "$two_node" = 1 ]; then
		[ "$n" = 2 ] || { topo_die "up: --two-node needs N=2, not $n"; return 1; }
		[ "$qdevice" = 0 ] ||
			{ topo_die "up: --two-node and --qdevice exclude each other"; return 1; }
	fi
	[[ $token =~ ^[0-9]+$ ]] && [ "$token" -ge 100 ] ||
		{ topo_die "up: --token is milliseconds >= 100"; return 1; }
	[ -n "$work" ] || { topo_die "up: WORK directory missing"; return 1; }
	mkdir -p "$work/pids" || return 1
	work=$(cd "$work" && pwd)
	# The switch namespace is the claim on the machine's one topology:
	# `ip netns add` fails when it exists, so two users cannot both win.
	ns=$TOPO_NS-sw
	if ! ip netns add "$ns" 2>/dev/null; then
		if [ -e "/run/netns/$ns" ]; then
			topo_die "up: namespace $ns exists (another topology runs; topo.sh down its WORK)"
			return 3
		fi
		topo_die "up: cannot create namespace $ns"
		return 1
	fi
	# Written once the claim is ours (down deletes what it names), before
	# anything else, so that down can clean a half-built topology.
	cat >"$work/topo.env" <<EOF
TOPO_N=$n
TOPO_LINKS=$links
TOPO_TOKEN=$token
TOPO_QDEVICE=$qdevice
TOPO_TWO_NODE=$two_node
TOPO_NS=$TOPO_NS
TOPO_FRONT=$TOPO_FRONT
TOPO_FDEV=$TOPO_FDEV
EOF
	ip -n "$ns" link set lo up
	ip -n "$ns" link add br0 type bridge && ip -n "$ns" link set br0 up || return 1
	if [ "$links" = 2 ]; then
		ip -n "$ns" link add br1 type bridge && ip -n "$ns" link set br1 up || return 1
	fi
	for ((i = 1; i <= n; i++)); do
		ns=$TOPO_NS-n$i
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		topo_veth eth0 "$ns" "p$i" "$TOPO_NS-sw" || return 1
		ip -n "$ns" addr add "$TOPO_NET0.$i/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$TOPO_NS-sw" link set "p$i" master br0 up || return 1
		if [ "$links" = 2 ]; then
			topo_veth eth1 "$ns" "q$i" "$TOPO_NS-sw" || return 1
			ip -n "$ns" addr add "$TOPO_NET1.$i/24" dev eth1
			ip -n "$ns" link set eth1 up
			ip -n "$TOPO_NS-sw" link set "q$i" master br1 up || return 1
		fi
		# The front network: the test process in the root namespace
		# reaches node i's prkitd at $TOPO_FRONT.i.2.
		topo_veth "$TOPO_FDEV$i" "" front "$ns" || return 1
		ip addr add "$TOPO_FRONT.$i.1/24" dev "$TOPO_FDEV$i" &&
			ip link set "$TOPO_FDEV$i" up || return 1
		ip -n "$ns" addr add "$TOPO_FRONT.$i.2/24" dev front
		ip -n "$ns" link set front up
		mkdir -p "$work/n$i" || return 1
		topo_conf "$work" "$i" "$n" "$links" "$token" "$qdevice" "$two_node" >"$work/n$i/corosync.conf" ||
			return 1
	done
	if [ "$qdevice" = 1 ]; then
		topo_qnetd_up "$work" || return 1
	fi
}

# The tie-breaker of a two-node cluster: corosync-qnetd on br0, without TLS
# (so without an NSS database), in its own namespace and /run.
topo_qnetd_up()
{
	local work=$1 ns=$TOPO_NS-q pid i
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	topo_veth eth0 "$ns" pq "$TOPO_NS-sw" || return 1
	ip -n "$ns" addr add "$TOPO_QNETD_IP/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$TOPO_NS-sw" link set pq master br0 up || return 1
	mkdir -p "$work/q" || return 1
	ip netns exec "$ns" sh -c "mount -t tmpfs -o size=1m prkc-run /run &&
		mkdir -p /run/corosync-qnetd && exec corosync-qnetd -f -s off -l $TOPO_QNETD_IP" \
		>"$work/q/qnetd.log" 2>&1 </dev/null &
	pid=$!
	disown "$pid" 2>/dev/null # no "Killed" notice from an interactive or sourcing shell
	topo_record "$work" qnetd "$pid"
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$TOPO_QNETD_IP/5403" 2>/dev/null && return 0
		topo_pid "$work" qnetd >/dev/null || break
		sleep 0.1
	done
	topo_die "qnetd did not start listening (see $work/q/qnetd.log)"
}

topo_corosync_start()
{
	local work=$1 i=$2 pid t
	topo_env "$work" || return 1
	[ -r "$work/n$i/corosync.conf" ] || { topo_die "no node $i in $work"; return 1; }
	if topo_pid "$work" "n$i.corosync" >/dev/null; then
		topo_die "corosync of node $i already runs"
		return 1
	fi
	ip netns exec "$TOPO_NS-n$i" sh -c "mount -t tmpfs -o size=1m prkc-run /run &&
		exec corosync -f -c $work/n$i/corosync.conf" \
		>>"$work/n$i/corosync.out" 2>&1 </dev/null &
	pid=$!
	disown "$pid" 2>/dev/null
	topo_record "$work" "n$i.corosync" "$pid"
	# Ready when its IPC answers (the cmap service is up); at most 5 s.
	for ((t = 0; t < 100; t++)); do
		if ip netns exec "$TOPO_NS-n$i" corosync-cmapctl -g totem.cluster_name \
			>/dev/null 2>&1; then
			echo "$pid"
			return 0
		fi
		topo_pid "$work" "n$i.corosync" >/dev/null || break
		sleep 0.05
	done
	topo_die "corosync of node $i did not answer within 5 s (see $work/n$i/corosync.log)"
}

topo_qdevice_start()
{
	local work=$1 i=$2 pid
	topo_env "$work" || return 1
	[ "$TOPO_QDEVICE" = 1 ] || { topo_die "the topology has no quorum device (up --qdevice)"; return 1; }
	ip netns exec "$TOPO_NS-n$i" sh -c "mount -t tmpfs -o size=1m prkc-run /run &&
		mkdir -p /run/corosync-qdevice && exec corosync-qdevice -f" \
		>>"$work/n$i/qdevice.log" 2>&1 </dev/null &
	pid=$!
	disown "$pid" 2>/dev/null
	topo_record "$work" "n$i.qdevice" "$pid"
	echo "$pid"
}

topo_links_of()
{
	local i=$1 links
	links=1
	if ip -n "$TOPO_NS-sw" link show "q$i" >/dev/null 2>&1; then
		links=2
	fi
	echo "$links"
}

topo_link_set()
{
	local i=$1 l=$2 state=$3 dev
	case $l in
	0) dev=p$i ;;
	1) dev=q$i ;;
	*) topo_die "link number is 0 or 1, not '$l'"; return 1 ;;
	esac
	ip -n "$TOPO_NS-sw" link set "$dev" "$state"
}

topo_partition()
{
	topo_link_set "$1" 0 down || return 1
	[ "$(topo_links_of "$1")" = 2 ] && topo_link_set "$1" 1 down
	return 0
}

topo_heal()
{
	topo_link_set "$1" 0 up || return 1
	[ "$(topo_links_of "$1")" = 2 ] && topo_link_set "$1" 1 up
	return 0
}

topo_quorate()
{
	ip netns exec "$TOPO_NS-n$1" corosync-quorumtool -s 2>/dev/null | grep -Eq '^Quorate: +Yes'
}

topo_wait_quorate()
{
	local i=$2 timeout=${3:-10} t
	for ((t = 0; t < timeout * 20; t++)); do
		topo_quorate "$i" && return 0
		sleep 0.05
	done
	topo_die "node $i not quorate after $timeout s"
}

# topo_kill_all WORK SIGNAL NAME...: topo_kill for several at once (signals
# them all first, so their shutdowns overlap).
topo_kill_all()
{
	local work=$1 sig=$2 name pid k left
	shift 2
	for name in "$@"; do
		pid=$(topo_pid "$work" "$name") && kill "-$sig" "$pid" 2>/dev/null
	done
	for ((k = 0; k < 200; k++)); do
		left=0
		for name in "$@"; do
			topo_pid "$work" "$name" >/dev/null && left=1
		done
		[ $left = 0 ] && break
		sleep 0.01
	done
	for name in "$@"; do
		topo_kill "$work" "$name" KILL
	done
}

topo_down()
{
	local work=$1 f name i clients=() corosyncs=()
	if [ -d "$work/pids" ]; then
		for f in "$work"/pids/*; do
			[ -e "$f" ] || continue
			name=${f##*/}
			case $name in
			*.corosync) corosyncs+=("$name") ;;
			qnetd) ;;
			*) clients+=("$name") ;;
			esac
		done
		# Clients first (prkitd, probes, qdevice), then corosync, then qnetd.
		[ ${#clients[@]} -gt 0 ] && topo_kill_all "$work" TERM "${clients[@]}"
		[ ${#corosyncs[@]} -gt 0 ] && topo_kill_all "$work" TERM "${corosyncs[@]}"
		topo_kill "$work" qnetd TERM
	fi
	if [ -r "$work/topo.env" ]; then
		(
			. "$work/topo.env"
			for ((i = 1; i <= TOPO_N; i++)); do
				ip netns del "$TOPO_NS-n$i" 2>/dev/null
				ip link del "$TOPO_FDEV$i" 2>/dev/null
			done
			ip netns del "$TOPO_NS-q" 2>/dev/null
			ip netns del "$TOPO_NS-sw" 2>/dev/null
		)
		rm -f "$work/topo.env"
	fi
	return 0
}

topo_main()
{
	local cmd=$1
	shift || { topo_die "usage: topo.sh up|down|corosync-start|corosync-kill|qdevice-start|partition|heal|link-down|link-up|wait-quorate ..."; return 2; }
	case $cmd in
	up) topo_up "$@" ;;
	down) topo_down "$1" ;;
	corosync-start) topo_corosync_start "$1" "$2" ;;
	corosync-kill) topo_kill "$1" "n$2.corosync" KILL ;;
	qdevice-start) topo_qdevice_start "$1" "$2" ;;
	partition) topo_partition "$1" ;;
	heal) topo_heal "$1" ;;
	link-down) topo_link_set "$1" "$2" down ;;
	link-up) topo_link_set "$1" "$2" up ;;
	wait-quorate) topo_wait_quorate "$1" "$2" "${3:-10}" ;;
	*) topo_die "unknown command '$cmd'"; return 2 ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	topo_main "$@"
fi
