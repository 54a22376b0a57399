#!/usr/bin/env bash
# test_install.sh BUILDDIR SOURCEDIR: `meson install --destdir` into a temporary root; the unit's
# paths (binary, configuration, documentation) exist there, the unit, sysusers.d and tmpfiles.d
# files say what the service needs; then the installed tree, moved elsewhere, runs
# `portsight demo` with the source and build trees out of reach (a private mount namespace mounts
# empty folders over them; without one, strace checks that nothing under them is opened).
# Exits 77 (SKIP) when neither unshare nor strace can keep the source tree out of reach.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR="$tmp/root" meson install -C "$build" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "meson install --destdir failed"; }

unit=$(find "$tmp/root" -path '*/systemd/system/portsight.service' | head -1)
[ -n "$unit" ] || fail "no portsight.service installed"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
bin=${exec_start%% *}
conf=$(sed -n 's/.* -c \([^ ]*\).*/\1/p' <<<"$exec_start")
doc=$(sed -n 's|^Documentation=file://||p' "$unit")
[ -x "$tmp/root$bin" ] || fail "the unit runs $bin, not installed there"
[ -f "$tmp/root$conf" ] || fail "the unit reads $conf, not installed there"
[ -f "$tmp/root$doc" ] || fail "the unit documents $doc, not installed there"
for line in 'User=portsight' 'UMask=0077' 'StateDirectory=portsight' 'StateDirectoryMode=0750'; do
    grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
grep -q '@' "$unit" && fail "the unit has an unsubstituted @VARIABLE@"
[ "$(stat -c %a "$tmp/root$conf")" = 640 ] || fail "$conf is not installed with mode 0640"

sysusers=$(find "$tmp/root" -path '*/sysusers.d/portsight.conf' | head -1)
tmpfiles=$(find "$tmp/root" -path '*/tmpfiles.d/portsight.conf' | head -1)
[ -n "$sysusers" ] || fail "no sysusers.d/portsight.conf"
[ -n "$tmpfiles" ] || fail "no tmpfiles.d/portsight.conf"
grep -Eq '^u portsight ' "$sysusers" || fail "sysusers.d does not make the portsight user"
grep -Eq "^z $conf 0640 root portsight" "$tmpfiles" ||
    fail "tmpfiles.d does not give $conf to the portsight group"
grep -Eq '^d /var/lib/portsight 0750 portsight portsight' "$tmpfiles" ||
    fail "tmpfiles.d does not make /var/lib/portsight"

# The installed tree, moved: it must find its data beside itself, not where it was installed
# from, nor in the configured prefix.
mv "$tmp/root" "$tmp/moved"
exe="$tmp/moved$bin"
out="$tmp/demo"

# Sanitizer builds read their suppressions from the source tree: give them a copy.
if [[ ${LSAN_OPTIONS:-} =~ suppressions=([^:]*) ]]; then
    cp "${BASH_REMATCH[1]}" "$tmp/lsan.supp"
    LSAN_OPTIONS=${LSAN_OPTIONS/${BASH_REMATCH[1]}/$tmp/lsan.supp}
    export LSAN_OPTIONS
fi

cd "$tmp"
if unshare -rm true 2>/dev/null; then
    how="source and build trees hidden by empty mounts"
    unshare -rm bash -c 'mount -t tmpfs none "$2" && mount -t tmpfs none "$1" &&
        ! ls "$1/meson.build" 2>/dev/null && shift 2 && exec "$@"' \
        sh "$src" "$build" env -u PORTSIGHT_DATADIR "$exe" demo --out "$out" \
        >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; fail "portsight demo failed ($how)"; }
elif command -v strace >/dev/null; then
    how="strace: nothing opened under the source or build tree"
    env -u PORTSIGHT_DATADIR strace -f -qq -e trace=%file -o "$tmp/strace.log" \
        "$exe" demo --out "$out" >"$tmp/demo.log" 2>&1 ||
        { cat "$tmp/demo.log"; fail "portsight demo failed"; }
    if grep -F -e "\"$src/" -e "\"$build/" "$tmp/strace.log" | grep -v ENOENT | head -5 |
            grep .; then
        fail "the installed binary opened files in the source or build tree"
    fi
else
    echo "SKIP: neither unshare -rm nor strace can keep the source tree out of reach"
    exit 77
fi

grep -q "^portsight demo: scenario $tmp/moved/" "$tmp/demo.log" ||
    { head -3 "$tmp/demo.log"; fail "the demo did not read the moved tree's own data"; }
for f in portsight.db decisions.jsonl wall.mp4 wall.png; do
    [ -s "$out/$f" ] || { cat "$tmp/demo.log"; fail "the demo wrote no $f"; }
done
grep -q '"port/release/' "$out/decisions.jsonl" || fail "the demo released nothing"
echo "ok: installed to a temporary root, unit paths present, demo ran from the moved tree ($how)"
