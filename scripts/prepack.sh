#!/usr/bin/env bash
# npm's prepack step (npm pack, npm publish): builds everything the package ships from clean and
# checks it runs with nothing from the build host: the static guest agent, and pyro-netstack
# with its bundled libraries (netstack/build/lib, found through its RPATH) and no newer glibc
# than the floor doctor's hints promise. Output goes to stderr so `npm pack --json` stays JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 1>&2

echo "[prepack] phase=clean-build"
rm -rf dist guest/build netstack/build
npm run --silent build

agent=guest/build/pyro-agent
netstack=netstack/build/pyro-netstack
fail() { echo "[prepack] $*" >&2; exit 1; }

echo "[prepack] phase=check"
readelf -d "$agent" 2>/dev/null | grep -q NEEDED && fail "$agent is not static"

# Every library but glibc's must resolve from the bundle, with no help from the environment.
libs=$(env -u LD_LIBRARY_PATH ldd "$netstack")
bundle=$(realpath netstack/build/lib)
while read -r name path; do
  case "$name" in
    libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | libresolv.so.* | libutil.so.*) ;;
    *) [[ $(dirname "$(realpath "$path")") == "$bundle" ]] || fail "$name resolves to $path, not the bundle" ;;
  esac
done < <(echo "$libs" | awk '$2 == "=>" { print $1, $3 }')
echo "$libs" | grep -q "libslirp.so.0 => $bundle/" || fail "libslirp.so.0 is not bundled"

# Each bundled library ships with its licence (GLib is LGPL).
libraries=$(find netstack/build/lib -maxdepth 1 -name '*.so.*' | wc -l)
licences=$(find netstack/build/lib/licenses -name '*.copyright' 2>/dev/null | wc -l)
((licences == libraries)) || fail "$libraries bundled libraries but $licences licence files in netstack/build/lib/licenses"

floor=$(sed -n 's/.*NETSTACK_GLIBC_FLOOR = "\([0-9.]*\)".*/\1/p' src/platform/install-kind.ts)
needed=$(for file in "$netstack" netstack/build/lib/*.so.*; do objdump -T "$file"; done |
  grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
[[ $(printf '%s\n%s\n' "$needed" "$floor" | sort -V | tail -n1) == "$floor" ]] ||
  fail "pyro-netstack needs glibc $needed, newer than the promised floor $floor"

env -u LD_LIBRARY_PATH "$netstack" --hardening-report | grep -qx "seccomp filter" ||
  fail "pyro-netstack --hardening-report shows no seccomp filter"
echo "[prepack] ok: agent static; netstack bundles $(ls netstack/build/lib | grep -c '\.so'), needs glibc >= $needed"
