#!/bin/sh
# Installs the Debian packages a profile needs when run as root with apt-get,
# otherwise names the exact command to run.
# Usage: deps.sh build|test|e2e|docker|release|fuzz|bench|sharedfs|crash
# (build: what compiling volinit needs; test: what the unit and integration
# suites need besides; docker: Docker Engine and Compose for the docker e2e
# files; release: the arm64 cross compiler, arm64 libraries (multiarch) and
# qemu-user-static for make release and release-check; sharedfs: GlusterFS,
# MooseFS and bindfs for tests/e2e/shared-fs.bats, their services kept from
# starting at install by the policy-rc.d below; crash: mkfs.xfs, mkfs.ext4,
# xfs_io's shutdown, setfattr, pgrep for the power-loss harness)
set -eu
case "${1:-build}" in
  build) pkgs="gcc libc6-dev make pkg-config libinih-dev libcap-dev" ;;
  test)  pkgs="libcmocka-dev bats util-linux strace jq python3 python3-pytest mandoc acl attr libcap2-bin python3-alembic python3-sqlalchemy" ;;
  e2e)   pkgs="podman runc busybox-static uidmap python3-yaml catatonit python3-kubernetes postgresql-15" ;;
  docker) pkgs="docker.io docker-compose tini busybox-static python3" ;;
  release) pkgs="gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user-static libcap-dev:arm64 libinih-dev:arm64 libcmocka-dev:arm64 git file" ;;
  fuzz)  pkgs="clang libclang-rt-14-dev" ;;
  sharedfs) pkgs="glusterfs-server glusterfs-client moosefs-master moosefs-chunkserver moosefs-client moosefs-metalogger bindfs fuse3 attr" ;;
  crash) pkgs="xfsprogs e2fsprogs attr procps util-linux python3 bats" ;;
  bench) pkgs="hyperfine tini dumb-init catatonit time binutils xfsprogs valgrind strace util-linux" ;;
  *) echo "deps.sh: unknown profile '$1'" >&2; exit 64 ;;
esac
# The arm64 libraries come from Debian's arm64 archive (multiarch).
arch_needed=""
case " $pkgs " in *:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 || arch_needed=arm64 ;; esac
# A package is there when installed for the architecture it is asked for:
# NAME:ARCH for that one, NAME for the machine's own (or "all"). A bare
# dpkg-query NAME also matches another architecture's package (multiarch:
# make release installs libcmocka-dev:arm64), which links nothing natively.
native=$(dpkg --print-architecture)
installed() {
  case "$1" in
    *:*) want=${1#*:} ;;
    *) want="$native|all" ;;
  esac
  dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null | grep -Eq "ok installed ($want)\$"
}
missing=""
for p in $pkgs; do
  installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  [ -z "$arch_needed" ] || dpkg --add-architecture "$arch_needed"
  # Installing docker.io (or glusterfs-server, moosefs-master) must not start
  # the machine's own daemon: the tests start private ones of their own. A policy-rc.d that says no (101)
  # while apt runs, unless the machine has one already.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends $missing >&2
else
  echo "deps: missing packages:$missing" >&2
  [ -z "$arch_needed" ] || echo "deps: run first: sudo dpkg --add-architecture $arch_needed" >&2
  echo "deps: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
