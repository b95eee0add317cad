#!/bin/sh
# Every library under src/ is static: a program that links one gets all of
# its global symbols in its own namespace, with nothing to hide them. So a
# global symbol must carry the prk_ prefix (or the function be static); an
# unprefixed one (path_drop, hlog...) could clash with the application's.
# Usage: check_prefix.sh NM DIR  Checks every lib*.a found under DIR (the
# build's src/, so a library added later is checked too). Prints a TAP line
# per library, and the symbols that break the rule.
nm=$1
dir=$2
libs=$(find "$dir" -name 'lib*.a' | sort)
if [ -z "$libs" ]; then
	echo "1..1"
	echo "not ok 1 - no library found under $dir"
	exit 1
fi
echo "1..$(printf '%s\n' "$libs" | wc -l)"
n=0
status=0
for lib in $libs; do
	n=$((n + 1))
	# Defined global symbols: "ADDRESS TYPE NAME" lines (the members'
	# headers and undefined symbols have fewer fields).
	syms=$("$nm" -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
	if [ -z "$syms" ]; then
		echo "not ok $n - $(basename "$lib"): nm listed no symbols (is it the right file?)"
		status=1
		continue
	fi
	# AddressSanitizer adds an ODR indicator per global variable,
	# named after it: it is the compiler's, and prefixed if the
	# variable is.
	bad=$(printf '%s\n' "$syms" | grep -Ev '^(__odr_asan[._])?prk_')
	if [ -n "$bad" ]; then
		echo "not ok $n - $(basename "$lib") exports $(printf '%s\n' "$bad" | wc -l) symbols without prk_:"
		printf '%s\n' "$bad" | sed 's/^/#   /'
		status=1
	else
		echo "ok $n - $(basename "$lib"): every global symbol has the prk_ prefix"
	fi
done
exit $status
