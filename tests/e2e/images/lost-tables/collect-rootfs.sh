#!/bin/sh
# Copies Debian's Python 3 with Alembic and SQLAlchemy (packages
# python3-alembic, python3-sqlalchemy) from this machine into DEST as a
# root filesystem, for examples/lost-tables in a FROM-scratch image: no
# registry is reachable on the test machines, so the image is built from
# the installed packages instead of FROM debian:12-slim.
# Usage: collect-rootfs.sh DEST
set -eu
dest=${1:?usage: collect-rootfs.sh DEST}
py=$(readlink -f /usr/bin/python3)
ver=$(basename "$py") # python3.11
[ -d /usr/lib/python3/dist-packages/alembic ] ||
	{ echo "collect-rootfs: python3-alembic is not installed" >&2; exit 1; }
mkdir -p "$dest/usr/bin" "$dest/usr/lib/python3/dist-packages"
cp -a "$py" "$dest/usr/bin/"
ln -sf "$ver" "$dest/usr/bin/python3"
# The standard library, without its own tests and caches.
tar -C /usr/lib -cf - --exclude=test --exclude=tests --exclude=__pycache__ \
	--exclude=idlelib --exclude=tkinter --exclude=ensurepip "$ver" | tar -C "$dest/usr/lib" -xf -
# What `alembic upgrade` imports (python -X importtime of it lists them).
for m in alembic sqlalchemy mako markupsafe greenlet dateutil six.py; do
	[ -e "/usr/lib/python3/dist-packages/$m" ] &&
		cp -a "/usr/lib/python3/dist-packages/$m" "$dest/usr/lib/python3/dist-packages/"
done
# Every shared library the interpreter and its modules load, and the loader.
find "$dest/usr/bin" "$dest/usr/lib" -name '*.so' -o -name "$ver" -type f | while read -r f; do
	ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}'
done | sort -u | while read -r lib; do
	mkdir -p "$dest$(dirname "$lib")"
	cp -L "$lib" "$dest$lib"
done
