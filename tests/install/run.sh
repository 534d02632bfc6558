#!/usr/bin/env bash
# meson install into a temporary directory, then used from outside as an
# installed libgroup would be: outside.c built with pkg-config alone, against
# the shared library and against the static one, and run; the installed
# groupctl run; every manual page rendered by man without a warning; every
# exported function and every error code documented.
#   run.sh BUILD_DIR MESON OUTSIDE_C PREFIX LIBDIR BINDIR MANDIR
# (the directories absolute, as the build was configured).
set -euo pipefail
build=$1 meson=$2 outside=$3 prefix=$4 libdir=$5 bindir=$6 mandir=$7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
fail() { echo "install: $*" >&2; exit 1; }

root=$tmp/root
"$meson" install -C "$build" --no-rebuild --quiet --destdir "$root"
lib=$root$libdir man=$root$mandir
export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
[ "$(pkg-config --path libgroup)" = "$lib/pkgconfig/libgroup.pc" ] || fail "libgroup.pc not found under $root"

# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/outside" "$outside" $(pkg-config --cflags --libs libgroup)
LD_LIBRARY_PATH=$lib "$tmp/outside"
LD_LIBRARY_PATH=$lib "$root$bindir/groupctl" config >/dev/null || fail "installed groupctl config failed"

symbols=$(nm -D --defined-only "$lib/libgroup.so" | awk '$3 ~ /^grp_/ { sub(/@.*/, "", $3); print $3 }')
[ -n "$symbols" ] || fail "no grp_ symbols in the installed libgroup.so"
for s in $symbols; do
  [ -e "$man/man3/$s.3" ] || fail "no manual page $s(3)"
  grep -Eqx "\.Nm $s( ,)?" "$man/man3/$s.3" || fail "$s(3) does not name $s"
done
for code in $(grep -Eo 'GRP_E[A-Z]+' "$root$prefix/include/group/error.h" | sort -u); do
  grep -qx "\.It Dv $code" "$man/man3/grp_strerror.3" || fail "grp_strerror(3) lacks $code"
done

pages=0
while IFS= read -r -d '' page; do
  warnings=$(MANWIDTH=80 man --warnings -P cat -l "$page" 2>&1 >/dev/null) ||
    fail "man cannot render $page"
  [ -z "$warnings" ] || fail "$page: $warnings"
  pages=$((pages + 1))
done < <(find "$man" -type f -print0)
links=$(find "$man" -type l | wc -l)
[ -z "$(find "$man" -xtype l)" ] || fail "dangling manual links: $(find "$man" -xtype l)"

# libgroup.a with what the .pc file says it needs. Debian's libfabric.pc
# names libraries of its own static build (psm, psm2) that are not
# installed, so the libraries libgroup requires are linked shared, as
# pkg-config gives them without --static.
rm "$lib"/libgroup.so*
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/outside-static" "$outside" \
  $(pkg-config --cflags libgroup) \
  $(pkg-config --static --maximum-traverse-depth=2 --libs libgroup) \
  $(pkg-config --libs $(pkg-config --print-requires-private libgroup))
"$tmp/outside-static"
echo "install: $pages pages and $links links render cleanly, $(echo "$symbols" | wc -l) functions documented"
