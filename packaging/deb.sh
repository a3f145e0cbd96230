#!/bin/sh
# deb.sh - build the Debian package of rlc with dpkg-deb, behind `make deb`.
#
#   sh packaging/deb.sh RLC OUTDIR     (RLC: the built binary, e.g. build/rlc)
#
# Writes OUTDIR/rlc_VERSION_ARCH.deb and prints its path.  VERSION is the
# VERSION file, the one place rlc's version lives (the Makefile compiles it
# into the binary as RLC_VERSION).  The package holds what an installed rlc
# needs and nothing more:
#
#   /usr/bin/rlc                                   the binary, stripped
#   /usr/share/man/man1/rlc.1.gz                   doc/rlc.1
#   /usr/share/bash-completion/completions/rlc     packaging/completion/rlc.bash
#   /usr/share/doc/rlc/copyright, changelog.gz     what Debian policy asks of
#                                                  every package (12.5, 12.7)
#
# No stdlib files: the std/*.rlp modules, the Redis enforcement library and
# the nginx snippet are compiled into the binary (tools/embed.c) and rlc
# opens none of them at run time.  The editor files are not installed: they
# belong to an editor's own package layout (packaging/editors/).
#
# Depends comes from dpkg-shlibdeps (the libraries the binary links, with
# the minimum versions their symbols need) when it is installed; without it,
# from the binary's NEEDED entries mapped to the installed packages that
# ship them (`dpkg -S`), without versions.  RLC_DEB_NO_SHLIBDEPS=1 takes
# the second way even when the first is there (the test compares them).
#
# The build is reproducible: file times and the changelog date are
# SOURCE_DATE_EPOCH (default: the last commit's time), gzip stores no name
# or time, and dpkg-deb --root-owner-group makes every file root's.
set -eu

[ $# -eq 2 ] || { echo "usage: sh packaging/deb.sh RLC OUTDIR" >&2; exit 2; }
RLC_BIN=$1 OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
[ -x "$RLC_BIN" ] || { echo "deb.sh: $RLC_BIN: no such executable (run make first)" >&2; exit 2; }
for tool in dpkg-deb dpkg gzip strip; do
    command -v $tool >/dev/null || { echo "deb.sh: $tool is not installed" >&2; exit 2; }
done

VERSION=$(cat "$ROOT/VERSION")
ARCH=$(dpkg --print-architecture)
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date -r "$ROOT/VERSION" +%s)
fi
export SOURCE_DATE_EPOCH

mkdir -p "$OUT"
W=$(mktemp -d "${TMPDIR:-/tmp}/rlc-deb.XXXXXX")
trap 'rm -rf "$W"' EXIT
# dpkg-shlibdeps wants the binary where the package's files are staged:
# debian/rlc/ below a directory holding a debian/control.
P="$W/debian/rlc"
umask 022
mkdir -p "$P/DEBIAN" "$P/usr/bin" "$P/usr/share/man/man1" \
    "$P/usr/share/bash-completion/completions" "$P/usr/share/doc/rlc"

install -m 755 "$RLC_BIN" "$P/usr/bin/rlc"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$P/usr/bin/rlc"
gzip -9n < "$ROOT/doc/rlc.1" > "$P/usr/share/man/man1/rlc.1.gz"
install -m 644 "$HERE/completion/rlc.bash" "$P/usr/share/bash-completion/completions/rlc"
install -m 644 "$HERE/debian/copyright" "$P/usr/share/doc/rlc/copyright"
# A native package: the changelog is changelog.gz, in Debian's format.
{
    printf 'rlc (%s) unstable; urgency=medium\n\n' "$VERSION"
    printf '  * Release %s; see README.md and SPEC.md for what it does.\n\n' "$VERSION"
    printf ' -- rlc maintainers <maintainers@users.noreply.r-seed-f6ad35b0.example>  %s\n' \
        "$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S +0000')"
} | gzip -9n > "$P/usr/share/doc/rlc/changelog.gz"
chmod 644 "$P/usr/share/man/man1/rlc.1.gz" "$P/usr/share/doc/rlc/changelog.gz"

if [ "${RLC_DEB_NO_SHLIBDEPS:-}" != 1 ] && command -v dpkg-shlibdeps >/dev/null; then
    printf 'Source: rlc\n\nPackage: rlc\nArchitecture: any\n' > "$W/debian/control"
    DEPENDS=$(cd "$W" && dpkg-shlibdeps -O -e debian/rlc/usr/bin/rlc 2>"$W/shlibdeps.err" |
        sed -n 's/^shlibs:Depends=//p') || true
    [ -n "$DEPENDS" ] || { cat "$W/shlibdeps.err" >&2; echo "deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
else
    # NEEDED sonames -> the packages that ship them; the dynamic loader's own
    # package (libc6) ships libc.so.6 too.
    DEPENDS=$(objdump -p "$P/usr/bin/rlc" | awk '$1 == "NEEDED" { print $2 }' | while read -r so; do
        path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
        [ -n "$path" ] || { echo "deb.sh: no installed library provides $so" >&2; exit 1; }
        pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null) ||
            { echo "deb.sh: no package owns $path ($so)" >&2; exit 1; }
        echo "${pkg%%:*}"
    done | sort -u | paste -sd, | sed 's/,/, /g')
    [ -n "$DEPENDS" ] || { echo "deb.sh: could not compute Depends" >&2; exit 1; }
fi

# libcurl, libssl and libcrypto are opened at run time (runtime/curl_lazy.h,
# base/openssl_lazy.h): libcurl when an etcd or HTTP target needs it,
# OpenSSL for TLS and plan signatures.  Neither way above sees them: each
# one's package is added by hand, found as the second way finds a NEEDED
# library.  The sonames are the ones the binary holds (what it dlopens).
lazy_sos=$(grep -aoE 'lib(curl|ssl|crypto)\.so\.[0-9]+' "$P/usr/bin/rlc" | sort -u)
[ "$(echo "$lazy_sos" | wc -l)" -eq 3 ] ||
    { echo "deb.sh: expected the sonames of libcurl, libssl and libcrypto in rlc, found: $lazy_sos" >&2; exit 1; }
for lazy_so in $lazy_sos; do
    lazy_path=$(ldconfig -p | awk -v so="$lazy_so" '$1 == so { print $NF; exit }')
    [ -n "$lazy_path" ] || { echo "deb.sh: no installed library provides $lazy_so" >&2; exit 1; }
    lazy_pkg=$(dpkg -S "$lazy_path" 2>/dev/null || dpkg -S "$(readlink -f "$lazy_path")" 2>/dev/null) ||
        { echo "deb.sh: no package owns $lazy_path ($lazy_so)" >&2; exit 1; }
    lazy_pkg=${lazy_pkg%%:*}
    case ", $DEPENDS," in
    *", $lazy_pkg "*|*", $lazy_pkg,"*) ;;
    *) DEPENDS="$DEPENDS, $lazy_pkg" ;;
    esac
done

# jansson, hiredis and libyaml are linked from their static archives by
# default (Makefile, LINK): each one the binary defines a symbol of (the
# unstripped RLC_BIN) is named with its source package's version in
# Static-Built-Using, so a security update of it can be traced to rlc, and
# lintian's embedded-library tag (which recognises libyaml's messages) is
# overridden with that reason.  Their notices are in the copyright file.
STATIC_USING=""
for lib in jansson:json_loads hiredis:redisReaderCreate yaml:yaml_parser_initialize; do
    nm --defined-only "$RLC_BIN" 2>/dev/null | awk -v s="${lib#*:}" '$3 == s { f = 1 } END { exit !f }' || continue
    a=$(readlink -f "$(${CC:-cc} -print-file-name="lib${lib%%:*}.a")")
    pkg=$(dpkg -S "$a" 2>/dev/null) || { echo "deb.sh: no package owns $a" >&2; exit 1; }
    src=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' "${pkg%%:*}")
    STATIC_USING="${STATIC_USING:+$STATIC_USING, }$src"
done
if [ -n "$STATIC_USING" ]; then
    # Static-Built-Using is Debian policy 4.6.2's field for static linking;
    # the lintian of Debian 12 does not know it yet.
    mkdir -p "$P/usr/share/lintian/overrides"
    {
        echo "# Debian policy 7.8 (4.6.2): the field that names statically linked sources."
        echo "rlc: unknown-field Static-Built-Using"
        case $STATIC_USING in
        *libyaml*) echo "# libyaml is linked statically from Debian's libyaml-dev (Static-Built-Using)."
                   echo "rlc: embedded-library libyaml [usr/bin/rlc]" ;;
        esac
    } > "$P/usr/share/lintian/overrides/rlc"
fi

# Installed-Size: KiB, each file rounded up, as dpkg-gencontrol counts it.
SIZE=$(find "$P/usr" -type f -exec stat -c %s {} + | awk '{ s += int(($1 + 1023) / 1024) } END { print s + 0 }')
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$SIZE|" -e "s|@DEPENDS@|$DEPENDS|" \
    -e "s|@STATIC_USING@|$STATIC_USING|" -e '/^Static-Built-Using: $/d' \
    "$HERE/debian/control.in" > "$P/DEBIAN/control"
(cd "$P" && find usr -type f | LC_ALL=C sort | xargs md5sum) > "$P/DEBIAN/md5sums"
chmod 644 "$P/DEBIAN/control" "$P/DEBIAN/md5sums"
find "$P" -type d -exec chmod 755 {} +
find "$P" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

DEB="$OUT/rlc_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$P" "$DEB.tmp" >/dev/null
mv "$DEB.tmp" "$DEB"
echo "$DEB"
