#!/usr/bin/env bash
# The Corosync adapter against real Corosyncs: three nodes in network
# namespaces (topo.sh), two knet links, token 1000 ms, one cs_probe per node.
# TAP. Skips when not root or without `ip netns` or corosync.
#   test_cs.sh PATH/TO/cs_probe PATH/TO/topo.sh
# Event times are printed as TAP comments (fault -> callback, in ms).
set -u
probe=$1
topo=$2
plan=8

skip_all()
{
	echo "1..$plan"
	for ((k = 1; k <= plan; k++)); do
		echo "ok $k # SKIP $1"
	done
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
ip netns list >/dev/null 2>&1 || skip_all "ip netns unavailable"
command -v corosync >/dev/null || skip_all "corosync not installed"

# shellcheck source=topo.sh
. "$topo"
work=$(mktemp -d /tmp/prkc-test-cs.XXXXXX)
cleanup()
{
	topo_down "$work"
	# PRKC_KEEP=1 keeps the logs (corosync, probes) for a post-mortem.
	if [ "${PRKC_KEEP:-0}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
ok()
{
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok()
{
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do
		echo "# --- $f (events)"
		grep -v '^m ' "$f" | sed 's/^/#   /'
	done
}
now() { date +%s%3N; }

# wait_for SECONDS CMD...: polls CMD every 50 ms.
wait_for()
{
	local t=$1 k
	shift
	for ((k = 0; k < t * 20; k++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# Lines of probe i's output after line `mark` (see mark()).
out() { echo "$work/p$1.out"; }
mark() { wc -l <"$(out "$1")"; }
since() { tail -n +"$(($2 + 1))" "$(out "$1")"; }
has() { since "$1" "$2" | grep -Eq "$3"; }
# The wall-clock time (ms) of the first matching line after the mark.
stamp() { since "$1" "$2" | grep -E "$3" | head -1 | awk '{ printf "%.0f", $2 }'; }

# The namespaces are machine-wide: when another test holds the topology,
# wait for it (up to 60 s) rather than fail.
for ((k = 0; ; k++)); do
	topo_up 3 "$work" --links 2 --token 1000 2>"$work/up.err"
	rc=$?
	[ $rc = 3 ] || break
	if [ $k -ge 300 ]; then
		trap - EXIT
		rm -rf "$work"
		skip_all "another cluster topology held the namespaces for 60 s"
	fi
	sleep 0.2
done
echo "1..$plan"
[ $rc = 0 ] || { cat "$work/up.err" >&2; exit 1; }
[ $k = 0 ] || echo "# waited $((k / 5)) s for another topology to go"
t_up=$(now)
for i in 1 2 3; do
	topo_corosync_start "$work" "$i" >/dev/null || exit 1
done
for i in 1 2 3; do
	topo_wait_quorate "$work" "$i" 15 || exit 1
done
echo "# up -> 3 quorate corosyncs: $(($(now) - t_up)) ms"

for i in 1 2 3; do
	ip netns exec "$TOPO_NS-n$i" "$probe" prkit-test --send 2000 --wait-members 3 \
		>"$(out $i)" 2>"$work/p$i.err" </dev/null &
	topo_record "$work" "p$i" $!
	disown $! 2>/dev/null
done

# 1. Total order: every node delivers the same 6000 messages in the same
# order, and each sender's own messages in the order it sent them.
all_delivered()
{
	for i in 1 2 3; do
		[ "$(grep -c '^m ' "$(out $i)")" -ge 6000 ] || return 1
	done
}
if wait_for 30 all_delivered; then
	for i in 1 2 3; do grep '^m ' "$(out $i)" >"$work/order$i"; done
	fifo=1
	for s in 1 2 3; do
		awk -v s=$s '$2 == s { if ($3 != k++) bad = 1 } END { exit bad }' "$work/order1" ||
			fifo=0
	done
	if cmp -s "$work/order1" "$work/order2" && cmp -s "$work/order1" "$work/order3" &&
		[ "$(wc -l <"$work/order1")" = 6000 ] && [ $fifo = 1 ] &&
		! grep -q '^bad' "$(out 1)" "$(out 2)" "$(out 3)"; then
		ok "3 nodes x 2000 messages: one total order everywhere"
	else
		not_ok "3 nodes x 2000 messages: delivery orders differ" "$(out 1)" "$(out 2)" "$(out 3)"
	fi
else
	not_ok "3 nodes x 2000 messages: not all delivered within 30 s" "$(out 1)" "$(out 2)" "$(out 3)"
fi

# 2. A cable: link 1 of node 3 down. Nodes 1 and 2 report exactly that
# link; nobody sees a membership change.
for i in 1 2 3; do m0[$i]=$(mark $i); done
t0=$(now)
topo_link_set 3 1 down
link_seen() { has 1 "${m0[1]}" '^link .* node=3 link=1 up=0' && has 2 "${m0[2]}" '^link .* node=3 link=1 up=0'; }
if wait_for 5 link_seen; then
	echo "# link 1 down -> link event: node1 $(($(stamp 1 "${m0[1]}" '^link') - t0)) ms," \
		"node2 $(($(stamp 2 "${m0[2]}" '^link') - t0)) ms"
	sleep 1 # long enough for a wrong membership change to show
	if has 1 "${m0[1]}" '^(confchg|quorum|link .* link=0)' ||
		has 2 "${m0[2]}" '^(confchg|quorum|link .* link=0)' ||
		has 3 "${m0[3]}" '^(confchg|quorum|link .* link=0)'; then
		not_ok "link 1 of node 3 down: a membership or link-0 change was reported" \
			"$(out 1)" "$(out 2)" "$(out 3)"
	else
		ok "link 1 of node 3 down: reported as that link, no membership change"
	fi
else
	not_ok "link 1 of node 3 down: no link event on nodes 1 and 2" "$(out 1)" "$(out 2)"
fi

# 3. Every link of node 3 down (a partition): a node failure. The majority
# sees a view without node 3 and stays quorate; node 3 loses quorum.
for i in 1 2 3; do m0[$i]=$(mark $i); done
t0=$(now)
topo_partition 3
view12='^confchg .* n=2 members=1:[0-9]+,2:[0-9]+$'
split_seen()
{
	has 1 "${m0[1]}" "$view12" && has 2 "${m0[2]}" "$view12" && has 3 "${m0[3]}" '^quorum .* q=0'
}
if wait_for 10 split_seen && ! has 1 "${m0[1]}" '^quorum .* q=0' &&
	! has 2 "${m0[2]}" '^quorum .* q=0'; then
	echo "# partition -> majority confchg: $(($(stamp 1 "${m0[1]}" '^confchg') - t0)) ms," \
		"node 3 quorate=0: $(($(stamp 3 "${m0[3]}" '^quorum') - t0)) ms"
	ok "node 3 partitioned: nodes 1 and 2 see it leave and stay quorate; node 3 inquorate"
else
	not_ok "node 3 partitioned: expected events missing" "$(out 1)" "$(out 2)" "$(out 3)"
fi

# 4. Heal: the three merge again, node 3 quorate.
for i in 1 2 3; do m0[$i]=$(mark $i); done
t0=$(now)
topo_heal 3
view123='^confchg .* n=3 members=1:[0-9]+,2:[0-9]+,3:[0-9]+$'
merged()
{
	has 1 "${m0[1]}" "$view123" && has 2 "${m0[2]}" "$view123" &&
		has 3 "${m0[3]}" "$view123" && has 3 "${m0[3]}" '^quorum .* q=1'
}
if wait_for 10 merged; then
	echo "# heal -> merged: $(($(stamp 3 "${m0[3]}" '^confchg') - t0)) ms"
	ok "healed: one view of three again, node 3 quorate"
else
	not_ok "healed: no merged view" "$(out 1)" "$(out 2)" "$(out 3)"
fi

# 5. Corosync of node 2 killed: nodes 1 and 3 get a view without it and
# stay quorate; node 2's adapter reports the lost connection.
for i in 1 2 3; do m0[$i]=$(mark $i); done
t0=$(now)
topo_kill "$work" n2.corosync KILL
view13='^confchg .* n=2 members=1:[0-9]+,3:[0-9]+$'
killed_seen()
{
	has 1 "${m0[1]}" "$view13" && has 3 "${m0[3]}" "$view13" && has 2 "${m0[2]}" '^down '
}
if wait_for 10 killed_seen && ! has 1 "${m0[1]}" '^quorum .* q=0' &&
	! has 3 "${m0[3]}" '^quorum .* q=0'; then
	echo "# corosync killed -> peers' confchg: $(($(stamp 1 "${m0[1]}" '^confchg') - t0)) ms," \
		"own adapter down: $(($(stamp 2 "${m0[2]}" '^down') - t0)) ms"
	ok "corosync of node 2 killed: nodes 1 and 3 continue quorate, node 2's adapter is down"
else
	not_ok "corosync of node 2 killed: expected events missing" "$(out 1)" "$(out 2)" "$(out 3)"
fi

# 6. Corosync of node 2 restarted: the same probe process (no restart)
# reconnects by itself, rejoins and reports a fresh view and quorum.
for i in 1 2 3; do m0[$i]=$(mark $i); done
t0=$(now)
pid_before=$(topo_pid "$work" p2)
topo_corosync_start "$work" 2 >/dev/null
back()
{
	has 2 "${m0[2]}" "$view123" && has 2 "${m0[2]}" '^quorum .* q=1' && has 1 "${m0[1]}" "$view123"
}
if wait_for 15 back && [ "$(topo_pid "$work" p2)" = "$pid_before" ]; then
	echo "# corosync restarted -> adapter back in the group: $(($(stamp 2 "${m0[2]}" '^confchg') - t0)) ms"
	ok "corosync of node 2 restarted: the adapter reconnected and rejoined"
else
	not_ok "corosync of node 2 restarted: the adapter did not come back" "$(out 1)" "$(out 2)"
fi

# 7. Two nodes and a quorum device (qnetd in its own namespace): the adapter
# sees the device in the configuration; both nodes quorate.
topo_down "$work"
rm -rf "${work:?}"/*
t0=$(now)
for ((k = 0; k < 300; k++)); do
	topo_up 2 "$work" --qdevice 2>"$work/up.err"
	rc=$?
	[ $rc = 3 ] || break
	sleep 0.2
done
[ $rc = 0 ] || { cat "$work/up.err" >&2; exit 1; }
for i in 1 2; do
	topo_corosync_start "$work" "$i" >/dev/null || exit 1
	topo_qdevice_start "$work" "$i" >/dev/null || exit 1
done
for i in 1 2; do
	ip netns exec "$TOPO_NS-n$i" "$probe" prkit-test >"$(out $i)" 2>"$work/p$i.err" </dev/null &
	topo_record "$work" "p$i" $!
	disown $! 2>/dev/null
done
view12q='^confchg .* n=2 members=1:[0-9]+,2:[0-9]+$'
two_up()
{
	for i in 1 2; do
		has $i 0 "$view12q" && has $i 0 '^quorum .* q=1' || return 1
	done
}
if wait_for 20 two_up && has 1 0 '^ready .* nodes=2 qdevice=1 ' &&
	has 2 0 '^ready .* nodes=2 qdevice=1 '; then
	echo "# two nodes + qdevice: up -> both quorate: $(($(now) - t0)) ms"
	ok "two nodes with a quorum device: qdevice=1 seen, both quorate"
else
	not_ok "two nodes with a quorum device: not quorate with the device" "$(out 1)" "$(out 2)"
fi

# 8. Node 2 cut off (from node 1 and from qnetd): node 2 loses quorum once
# its device vote expires (quorum.device.timeout, 2 s here); qnetd's vote
# goes to node 1 (ffsplit, the lower node id on a tie). Measured: node 2 may
# still call itself quorate for about a second after its one-node confchg,
# and node 1 may lose quorum for a moment before qnetd decides; the test
# checks where both end, and prints those windows.
sleep 2 # let qnetd settle its first vote
for i in 1 2; do m0[$i]=$(mark $i); done
t0=$(now)
topo_partition 2
view1='^confchg .* n=1 members=1:[0-9]+$'
view2='^confchg .* n=1 members=2:[0-9]+$'
last_q() { since "$1" "$2" | grep '^quorum' | tail -1 | grep -Eq "q=$3"; }
# Node 1: its one-node view, and quorate by corosync and by the adapter's
# last word (a dip must have been followed by q=1).
settled()
{
	has 1 "${m0[1]}" "$view1" && has 2 "${m0[2]}" '^quorum .* q=0' && topo_quorate 1 &&
		{ ! has 1 "${m0[1]}" '^quorum' || last_q 1 "${m0[1]}" 1; }
}
if wait_for 20 settled && ! topo_quorate 2; then
	t_v2=$(stamp 2 "${m0[2]}" "$view2")
	t_q2=$(stamp 2 "${m0[2]}" '^quorum .* q=0')
	echo "# two nodes + qdevice, node 2 cut off -> node 1 confchg:" \
		"$(($(stamp 1 "${m0[1]}" '^confchg') - t0)) ms, node 2 quorate=0:" \
		"$((t_q2 - t0)) ms (alone and still quorate for $((t_q2 - ${t_v2:-t_q2})) ms)"
	if has 1 "${m0[1]}" '^quorum .* q=0'; then
		echo "# node 1 was inquorate from $(($(stamp 1 "${m0[1]}" '^quorum .* q=0') - t0))" \
			"to $(($(stamp 1 "${m0[1]}" '^quorum .* q=1') - t0)) ms"
	fi
	ok "two nodes with a quorum device: the cut-off node loses quorum, the other has it"
else
	not_ok "two nodes with a quorum device: the split was not decided" "$(out 1)" "$(out 2)"
fi

echo "# total: $(($(now) - t_up)) ms"
