#!/usr/bin/env bash
# Installs the Debian 12 packages virtkit needs to build and test, only those
# missing.  Idempotent; run as root or with sudo available.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also what the benchmarks compare against
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libpoco-dev libxml2-dev libxml2-utils libyaml-cpp-dev libspdlog-dev libfmt-dev
  libboost-dev libboost-filesystem-dev
  catch2
  abigail-tools              # the ABI guard (tests/sdk)
  qemu-system-x86 qemu-utils # the QEMU plugin's real-QEMU tests
  dpkg-dev                   # CPack's DEB generator (dpkg-shlibdeps) and dpkg -x in tests
  libssl-dev openssl         # virtkitd's TLS (Poco NetSSL) and test certificates
  openssh-client netcat-openbsd # the remote driver's ssh transport
  busybox-static iproute2    # the LXC plugin's test root filesystem and veth pairs
  golang-go golang-github-vmware-govmomi-dev # vcsim, VMware's simulator, for the ESX tests
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libvirt-clients hyperfine)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
