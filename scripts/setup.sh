#!/usr/bin/env bash
# Installs what pyro needs on a Debian/Ubuntu x86_64 host (apt packages when root, npm
# dependencies, the guest agent, the default environment), then runs a command in a microVM.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  qemu-system-x86 qemu-utils          # the VMM and qcow2 overlays
  libslirp-dev libseccomp-dev         # building pyro-netstack (guest egress, its seccomp filter)
  iproute2                            # network namespaces for the network tests
  mmdebstrap e2fsprogs lz4 kmod dpkg  # building environments from Debian's archive
  musl-tools make gcc                 # building the static guest agent
  ca-certificates
  docker-registry skopeo umoci buildah busybox-static openssl  # real registries and images in the tests
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "[setup] phase=apt packages=\"${missing[*]}\"" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "[setup] missing packages: ${missing[*]}" >&2
    echo "[setup] install them as root: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

echo "[setup] phase=npm" >&2
if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi

echo "[setup] phase=build" >&2
npm run --silent build

echo "[setup] phase=environment name=debian:12" >&2
node dist/cli.js env pull debian:12 >/dev/null

echo "[setup] phase=run" >&2
node dist/cli.js run debian:12 -- git --version
