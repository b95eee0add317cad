#!/bin/sh
# The pure libraries (src/scsi, src/pr) may call only prkit's own code and
# libc's memory, string, character and sorting functions: no threads, no I/O,
# no clock.
# Usage: check_pure.sh NM LIBRARY...  Prints a TAP line per library, and the
# symbols that break the rule. Sanitizer and _FORTIFY_SOURCE helpers are
# allowed (the compiler adds them, not the code).
nm=$1
shift
allowed='^(prk_|mem|str|__ctype_|tolower$|toupper$|_GLOBAL_OFFSET_TABLE_$|__asan|__ubsan|__sanitizer|__stack_chk_fail$|__.*_chk$|malloc$|calloc$|realloc$|free$|qsort$|bsearch$|v?snprintf$|abort$|__assert_fail$)'
echo "1..$#"
n=0
status=0
for lib in "$@"; do
	n=$((n + 1))
	syms=$("$nm" -u "$lib" | awk 'NF == 2 { print $2 }' | sort -u)
	if [ -z "$syms" ]; then
		echo "not ok $n - $(basename "$lib"): nm listed no symbols (is it the right file?)"
		status=1
		continue
	fi
	bad=$(printf '%s\n' "$syms" | grep -Ev "$allowed")
	if [ -n "$bad" ]; then
		echo "not ok $n - $(basename "$lib") calls outside the pure set:"
		printf '%s\n' "$bad" | sed 's/^/#   /'
		status=1
	else
		echo "ok $n - $(basename "$lib") is pure"
	fi
done
exit $status
