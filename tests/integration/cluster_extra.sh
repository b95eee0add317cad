#!/usr/bin/env bash
# tests/cluster/topo.sh with the options cluster_harness.c does not pass
# (see cluster_extra.h): cluster_harness.c runs this instead of topo.sh when
# PRKIT_TOPO_SH names it, and it passes everything on to the real topo.sh
# ($CX_TOPO_REAL), adding
#   CX_LINKS=2   `up ... --links 2` (two knet links per node);
#   CX_QDEVICE=1 `up ... --qdevice` (qnetd in its own namespace), and a
#                corosync-qdevice on every node right after its Corosync.
# Sourced (cluster_harness.c's cl_stop does `. topo.sh && topo_kill ...`),
# it sources the real one.

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	# shellcheck disable=SC1090
	. "${CX_TOPO_REAL:?}"
	return
fi

real=${CX_TOPO_REAL:?CX_TOPO_REAL must name tests/cluster/topo.sh}
case $1 in
up)
	shift
	extra=()
	[ -n "$CX_LINKS" ] && extra+=(--links "$CX_LINKS")
	[ -n "$CX_QDEVICE" ] && extra+=(--qdevice)
	exec bash "$real" up "$@" "${extra[@]}"
	;;
corosync-start)
	bash "$real" "$@" || exit
	if [ -n "$CX_QDEVICE" ]; then
		# Its PID is recorded (down stops it); qdevice connects to the
		# Corosync that just answered.
		bash "$real" qdevice-start "$2" "$3" >/dev/null || exit
	fi
	;;
*)
	exec bash "$real" "$@"
	;;
esac
