#!/bin/sh
# deb.sh - the Debian package (`make deb`, packaging/deb.sh): built from the
# binary under test into the suite's temp dir (never into $BUILD, which the
# suites share read-only), its files and metadata checked, lintian when it
# is installed, then installed with dpkg into a scratch root with a dpkg
# database of its own, run from there, and removed again.
#
# dpkg --root needs no privilege of its own: as root it installs as usual;
# as another user --force-not-root lets it write the scratch root, and the
# files it unpacks (root:root in the package) end up owned by that user.
# --force-depends: the scratch root's database lists no libc6 or libcurl4;
# the binary runs with the host's libraries, and the Depends line is
# checked against the host's installed packages instead.
. "$ROOT/tests/lib.sh"
plan 20

VERSION=$(cat "$ROOT/VERSION")
ARCH=$(dpkg --print-architecture 2>/dev/null)
command -v dpkg-deb >/dev/null || bail_out "deb/tools" "dpkg-deb is not installed"

setup "sh packaging/deb.sh $RLC $T/out"
if ! DEB=$(sh "$ROOT/packaging/deb.sh" "$RLC" "$T/out" 2> "$T/deb.err"); then
    bail_out "deb/build" "packaging/deb.sh failed: $(head -c 400 "$T/deb.err")"
fi
if [ "$DEB" = "$T/out/rlc_${VERSION}_${ARCH}.deb" ] && [ -s "$DEB" ] && [ ! -s "$T/deb.err" ]; then
    ok "deb/build: $(basename "$DEB"), nothing on stderr"
else
    notok "deb/build" "printed '$DEB', expected $T/out/rlc_${VERSION}_${ARCH}.deb; stderr: $(head -c 300 "$T/deb.err")"
fi

# Usage errors: exit 2 and a message naming the problem, nothing written.
sh "$ROOT/packaging/deb.sh" > "$T/u1" 2>&1; r1=$?
sh "$ROOT/packaging/deb.sh" "$T/no-such-rlc" "$T/out4" > "$T/u2" 2>&1; r2=$?
if [ $r1 = 2 ] && [ "$(cat "$T/u1")" = "usage: sh packaging/deb.sh RLC OUTDIR" ] &&
   [ $r2 = 2 ] && [ "$(cat "$T/u2")" = "deb.sh: $T/no-such-rlc: no such executable (run make first)" ] &&
   [ ! -e "$T/out4" ]; then
    ok "deb/usage-errors: no arguments, a missing binary: exit 2 with the message"
else notok "deb/usage-errors" "exit $r1: $(cat "$T/u1"); exit $r2: $(cat "$T/u2")"; fi

# --- contents ---------------------------------------------------------------
dpkg-deb -c "$DEB" > "$T/contents"
awk '$1 !~ /^d/ { print $1, $2, $6 }' "$T/contents" | sort > "$T/files"
sort > "$T/want" <<EOF
-rw-r--r-- root/root ./usr/share/bash-completion/completions/rlc
-rw-r--r-- root/root ./usr/share/doc/rlc/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/rlc/copyright
-rw-r--r-- root/root ./usr/share/man/man1/rlc.1.gz
-rwxr-xr-x root/root ./usr/bin/rlc
EOF
# A binary linked with static archives (the default, Makefile LINK) carries
# lintian's overrides for that (below, deb/static-built-using).
if [ -n "$(dpkg-deb -f "$DEB" Static-Built-Using)" ]; then
    echo "-rw-r--r-- root/root ./usr/share/lintian/overrides/rlc" >> "$T/want"
    sort -o "$T/want" "$T/want"
fi
if cmp -s "$T/files" "$T/want"; then ok "deb/contents: exactly the binary, man page, completion, copyright, changelog (root-owned)"
else notok "deb/contents" "$(diff "$T/want" "$T/files" | grep '^[<>]' | tr '\n' ' ')"; fi

# Directories root-owned and 0755 too.
bad=$(awk '$1 ~ /^d/ && ($1 != "drwxr-xr-x" || $2 != "root/root") { print $6 }' "$T/contents")
if [ -z "$bad" ]; then ok "deb/directories 0755 root:root"; else notok "deb/directories" "$bad"; fi

# --- metadata ---------------------------------------------------------------
field() { dpkg-deb -f "$DEB" "$1"; }
got="$(field Package) $(field Version) $(field Architecture)"
binver=$("$RLC" --version)
if [ "$got" = "rlc $VERSION $ARCH" ] && [ "$binver" = "rlc $VERSION" ]; then
    ok "deb/metadata: rlc $VERSION $ARCH, the version of VERSION and of rlc --version"
else notok "deb/metadata" "control says '$got', rlc --version says '$binver', VERSION is $VERSION"; fi

dpkg-deb -x "$DEB" "$T/x"
size=$(find "$T/x" -type f -exec stat -c %s {} + | awk '{ s += int(($1 + 1023) / 1024) } END { print s }')
if [ "$(field Installed-Size)" = "$size" ]; then ok "deb/installed-size: $size KiB"
else notok "deb/installed-size" "control says $(field Installed-Size), the files take $size KiB"; fi

# Depends: every library the binary loads comes from a package it names
# (libcurl, libssl and libcrypto too, which it opens only when an etcd or
# HTTP target, TLS or a plan signature needs them),
# and every package it names is installed here at a version that satisfies it.
field Depends | tr ',' '\n' | sed 's/^ *//' > "$T/depends"
missing=""
for so in $(objdump -p "$T/x/usr/bin/rlc" | awk '$1 == "NEEDED" { print $2 }') libcurl.so.4 libssl.so.3 libcrypto.so.3; do
    path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
    pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null)
    pkg=${pkg%%:*}
    grep -q "^$pkg\( \|\$\)" "$T/depends" || missing="$missing $so($pkg)"
done
unsat=""
while read -r dep; do
    name=${dep%% *}
    have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null | head -1)
    [ -n "$have" ] || { unsat="$unsat $name(not installed)"; continue; }
    case $dep in
    *"(>= "*) want=${dep#*>= }; want=${want%)}
              dpkg --compare-versions "$have" ge "$want" || unsat="$unsat $name($have < $want)" ;;
    esac
done < "$T/depends"
if [ -z "$missing$unsat" ] && [ -s "$T/depends" ]; then ok "deb/depends: $(paste -sd' ' "$T/depends" | tr -s ' ' | cut -c1-120)"
else notok "deb/depends" "libraries from packages not in Depends:$missing; unsatisfied here:$unsat"; fi

# Static-Built-Using: jansson, hiredis and libyaml, each either loaded
# (NEEDED) or linked into the binary, and then named with the installed
# version of its source package; the copyright file carries its notice.
sbu=$(field Static-Built-Using | tr ',' '\n' | sed 's/^ *//')
bad=""
for lib in jansson:libjansson-dev:jansson hiredis:libhiredis-dev:hiredis yaml:libyaml-dev:libyaml; do
    so=${lib%%:*} dev=${lib#*:} dev=${dev%%:*} src=${lib##*:}
    if objdump -p "$T/x/usr/bin/rlc" | awk -v so="lib$so" '$1 == "NEEDED" && index($2, so) == 1 { f = 1 } END { exit !f }'; then
        echo "$sbu" | grep -q "^$src " && bad="$bad $src(loaded, yet named)"
        continue
    fi
    want="$src (= $(dpkg-query -W -f='${source:Version}' "$dev"))"
    echo "$sbu" | grep -qxF "$want" || bad="$bad $src(want '$want')"
    grep -q "^Files: $src/\*" "$T/x/usr/share/doc/rlc/copyright" || bad="$bad $src(no copyright stanza)"
done
if [ -z "$bad" ]; then ok "deb/static-built-using: $(echo "$sbu" | paste -sd' ' | cut -c1-100)"
else notok "deb/static-built-using" "Static-Built-Using '$(echo "$sbu" | paste -sd,)':$bad"; fi

if command -v dpkg-shlibdeps >/dev/null; then
    if DEB2=$(RLC_DEB_NO_SHLIBDEPS=1 sh "$ROOT/packaging/deb.sh" "$RLC" "$T/out2" 2>"$T/deb2.err"); then
        a=$(sed 's/ .*//' "$T/depends" | sort | paste -sd,)
        b=$(dpkg-deb -f "$DEB2" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort | paste -sd,)
        if [ "$a" = "$b" ]; then ok "deb/depends-without-shlibdeps: the same packages ($b)"
        else notok "deb/depends-without-shlibdeps" "dpkg-shlibdeps: $a; NEEDED + dpkg -S: $b"; fi
    else notok "deb/depends-without-shlibdeps" "build failed: $(head -c 300 "$T/deb2.err")"; fi
else
    skip "deb/depends-without-shlibdeps" "dpkg-shlibdeps (dpkg-dev) is not installed: nothing to compare with"
fi

# Reproducible: a second build gives the same bytes.
DEB3=$(sh "$ROOT/packaging/deb.sh" "$RLC" "$T/out3" 2>/dev/null)
if cmp -s "$DEB" "$DEB3"; then ok "deb/reproducible: two builds are byte-identical"
else notok "deb/reproducible" "$DEB and $DEB3 differ"; fi

# The changelog is in Debian's format and carries the same version.
if command -v dpkg-parsechangelog >/dev/null; then
    gzip -dc "$T/x/usr/share/doc/rlc/changelog.gz" > "$T/changelog"
    cv=$(dpkg-parsechangelog -l "$T/changelog" -S Version 2>&1)
    if [ "$cv" = "$VERSION" ]; then ok "deb/changelog: Debian format, version $cv"
    else notok "deb/changelog" "dpkg-parsechangelog says '$cv'"; fi
else
    skip "deb/changelog" "dpkg-parsechangelog (dpkg-dev) is not installed"
fi

if command -v lintian >/dev/null; then
    lintian --no-tag-display-limit "$DEB" > "$T/lintian" 2>&1
    errs=$(grep '^[EW]: ' "$T/lintian")
    if [ -z "$errs" ]; then ok "deb/lintian: no error or warning"
    else notok "deb/lintian" "$(echo "$errs" | head -5 | tr '\n' ' ')"; fi
else
    skip "deb/lintian" "lintian is not installed"
fi

# make install with DESTDIR: the same three files; -o keeps make from
# rebuilding the binary under test (the suites share $BUILD read-only).
if make -s -C "$ROOT" BUILD="$BUILD" -o "$BUILD/rlc" install DESTDIR="$T/inst" PREFIX=/usr/local \
        > "$T/inst.out" 2>&1 &&
   cmp -s "$RLC" "$T/inst/usr/local/bin/rlc" && [ -x "$T/inst/usr/local/bin/rlc" ] &&
   cmp -s "$ROOT/doc/rlc.1" "$T/inst/usr/local/share/man/man1/rlc.1" &&
   cmp -s "$ROOT/packaging/completion/rlc.bash" "$T/inst/usr/local/share/bash-completion/completions/rlc" &&
   [ "$(find "$T/inst" -type f | wc -l)" -eq 3 ]; then
    ok "deb/make-install: the binary, the man page and the completion under DESTDIR/PREFIX"
else notok "deb/make-install" "$(find "$T/inst" -type f | tr '\n' ' ') $(tail -3 "$T/inst.out")"; fi

# --- installed into a scratch root -------------------------------------------
R="$T/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: > "$R/var/lib/dpkg/status"
if dpkg --root="$R" --force-not-root --force-depends --log=/dev/null -i "$DEB" > "$T/dpkg.out" 2>&1 &&
   [ "$(dpkg --root="$R" -s rlc 2>/dev/null | sed -n 's/^Status: //p')" = "install ok installed" ]; then
    ok "deb/install: dpkg --root says install ok installed"
else
    bail_out "deb/install" "$(tail -5 "$T/dpkg.out" | tr '\n' ' ')"
fi

IRLC="$R/usr/bin/rlc"
v=$("$IRLC" --version 2>&1)
if [ "$v" = "rlc $VERSION" ]; then ok "deb/installed-version: $v"
else notok "deb/installed-version" "'$v'"; fi

# Run from a directory with none of the tree: every example checks clean, and
# saas.rlp (which imports std/tiers) compiles, with the stdlib and the
# enforcement library from inside the binary.
mkdir "$T/work"
cp "$ROOT"/examples/*.rlp "$T/work/"
if (cd "$T/work" && for f in ./*.rlp; do "$IRLC" check -q "$f" || { echo "check $f: exit $?"; exit 1; }; done &&
    "$IRLC" compile -q saas.rlp -o plan.json &&
    "$IRLC" plan show plan.json) > "$T/run.out" 2>&1 &&
   grep -q '^  std/tiers.rlp ' "$T/run.out"; then
    ok "deb/installed-runs: check of every example, compile of saas.rlp with std/tiers, plan show"
else notok "deb/installed-runs" "$(tail -5 "$T/run.out" | tr '\n' ' ')"; fi

if command -v man >/dev/null; then
    MANWIDTH=80 man --warnings -l "$R/usr/share/man/man1/rlc.1.gz" > "$T/man.txt" 2> "$T/man.err"
    if grep -q '^NAME' "$T/man.txt" && grep -q '^VERBS' "$T/man.txt" && [ ! -s "$T/man.err" ]; then
        ok "deb/man: man -l renders the installed page without warnings ($(wc -l < "$T/man.txt") lines)"
    else notok "deb/man" "no NAME/VERBS, or warnings: $(head -c 300 "$T/man.err")"; fi
else
    skip "deb/man" "man (man-db) is not installed"
fi

c=$(bash -c '. "$1" && complete -p rlc' sh "$R/usr/share/bash-completion/completions/rlc" 2>&1)
if [ "$c" = "complete -F _rlc rlc" ]; then ok "deb/completion: the installed file registers _rlc for rlc"
else notok "deb/completion" "complete -p says '$c'"; fi

# bash-completion's loader finds the file where the package and make install
# put it (XDG_DATA_DIRS stands for / and for the default /usr/local).
BC=/usr/share/bash-completion/bash_completion
if [ -r "$BC" ]; then
    load() { XDG_DATA_DIRS=$1 bash -c '. "$1"; __load_completion rlc && complete -p rlc' sh "$BC" 2>&1 | tail -1; }
    a=$(load "$R/usr/share") b=$(load "$T/inst/usr/local/share") c=$(load "$T/nowhere")
    if [ "$a" = "complete -F _rlc rlc" ] && [ "$b" = "$a" ] && [ "$c" != "$a" ]; then
        ok "deb/bash-completion-loads: on demand from the package's and make install's directories"
    else notok "deb/bash-completion-loads" "package: '$a'; make install: '$b'; neither: '$c'"; fi
else
    skip "deb/bash-completion-loads" "the bash-completion package is not installed"
fi

if dpkg --root="$R" --force-not-root --log=/dev/null -r rlc > "$T/rm.out" 2>&1 &&
   [ -z "$(find "$R/usr" -type f 2>/dev/null)" ]; then
    ok "deb/remove: dpkg -r leaves no file behind"
else notok "deb/remove" "$(find "$R/usr" -type f 2>/dev/null | tr '\n' ' ') $(tail -3 "$T/rm.out")"; fi
