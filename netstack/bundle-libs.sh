#!/usr/bin/env bash
# Copies every shared library BINARY needs, except glibc's own, into DIR, where the binary's
# RPATH ($ORIGIN/lib) finds them first: libslirp.so.0 and its GLib closure then ship with pyro,
# so a host needs neither libslirp-dev nor a matching libslirp0/libglib2.0-0 at run time.
# glibc stays the host's (it must match the host's dynamic loader). With dpkg present, each
# library's Debian copyright file goes beside it (GLib is LGPL: its notice ships with it).
# usage: bundle-libs.sh BINARY DIR
set -euo pipefail
binary=$1 dir=$2
rm -rf "$dir"
mkdir -p "$dir"
# Resolved with the bundle folder absent and no LD_LIBRARY_PATH: the system's copies.
libs=$(env -u LD_LIBRARY_PATH ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
for path in $libs; do
  name=$(basename "$path")
  case "$name" in
    libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | libresolv.so.* | libutil.so.* | ld-linux*) continue ;;
  esac
  cp -L "$path" "$dir/$name"
  chmod 0644 "$dir/$name"
  if command -v dpkg-query >/dev/null; then
    package=$(dpkg-query -S "$(readlink -f "$path")" 2>/dev/null | head -n1 | cut -d: -f1) ||
      package=$(dpkg-query -S "$path" | head -n1 | cut -d: -f1)
    mkdir -p "$dir/licenses"
    # Some minimal images drop /usr/share/doc: a checkout build goes on, scripts/prepack.sh refuses to pack.
    cp "/usr/share/doc/$package/copyright" "$dir/licenses/$package.copyright" ||
      echo "bundle-libs: no copyright file for $package ($name)" >&2
  fi
done
[[ -f $dir/libslirp.so.0 ]] || { echo "bundle-libs: $binary does not link libslirp.so.0" >&2; exit 1; }
