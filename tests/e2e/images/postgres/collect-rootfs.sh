#!/bin/sh
# Copies Debian's PostgreSQL 15 server (package postgresql-15) from this
# machine into DEST as a root filesystem: the programs the tests run, the
# shared libraries they load (ldd), the dynamic loader, share/ and the
# timezone data. No registry is reachable on the test machines, so the test
# image is built from the installed package instead of pulling postgres:15.
# Usage: collect-rootfs.sh DEST
set -eu
dest=${1:?usage: collect-rootfs.sh DEST}
pg=/usr/lib/postgresql/15
[ -x "$pg/bin/postgres" ] || { echo "collect-rootfs: $pg/bin/postgres is missing (apt-get install postgresql-15)" >&2; exit 1; }
mkdir -p "$dest/usr/lib/postgresql/15/bin" "$dest/usr/share/postgresql"
bins="postgres initdb pg_ctl pg_controldata psql pg_basebackup"
for b in $bins; do cp -a "$pg/bin/$b" "$dest/usr/lib/postgresql/15/bin/"; done
# lib/: the modules initdb and the server load (plpgsql, dict_snowball, ...),
# without the JIT (llvmjit and its bitcode need LLVM, hundreds of MB).
cp -a "$pg/lib" "$dest/usr/lib/postgresql/15/"
rm -rf "$dest/usr/lib/postgresql/15/lib/bitcode" "$dest/usr/lib/postgresql/15/lib"/llvmjit*
cp -a /usr/share/postgresql/15 "$dest/usr/share/postgresql/"
mkdir -p "$dest/usr/share" && cp -a /usr/share/zoneinfo "$dest/usr/share/"
# Every shared library and the loader, copied to the path they are found at.
for f in $(for b in $bins; do echo "$pg/bin/$b"; done) "$dest"/usr/lib/postgresql/15/lib/*.so; do
	ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}'
done | sort -u | while read -r lib; do
	mkdir -p "$dest$(dirname "$lib")"
	cp -L "$lib" "$dest$lib"
done
