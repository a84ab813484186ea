#!/bin/sh
# Installs the Debian packages a profile needs when run as root with apt-get,
# otherwise names the exact command to run. Usage: deps.sh build|test|e2e|fuzz|bench
# (build: what compiling volinit needs; test: what the unit and integration
# suites need besides)
set -eu
case "${1:-build}" in
  build) pkgs="gcc libc6-dev make pkg-config libinih-dev libcap-dev" ;;
  test)  pkgs="libcmocka-dev bats util-linux strace jq python3 acl attr libcap2-bin" ;;
  e2e)   pkgs="podman runc busybox-static uidmap python3-yaml catatonit python3-kubernetes postgresql-15" ;;
  fuzz)  pkgs="clang libclang-rt-14-dev" ;;
  bench) pkgs="hyperfine tini dumb-init catatonit time binutils xfsprogs valgrind strace util-linux" ;;
  *) echo "deps.sh: unknown profile '$1'" >&2; exit 64 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends $missing >&2
else
  echo "deps: missing packages:$missing" >&2
  echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
