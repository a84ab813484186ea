#!/usr/bin/env python3
"""Prints a manifest of a volume's data, one sorted line per entry, so that
two states compare with cmp: path, type, mode, owner, size, mtime (not for
directories: their mtime moves with any entry, volinit's own included),
sha256 or link target, hard-link group, sparseness and extended attributes.
volinit's state (.volinit/), lost+found/ and the version file are left out:
the version is compared on its own.

Usage: manifest.py VOLUME [VERSION_FILE]"""
import hashlib
import os
import stat
import sys


def content(path, st):
    if stat.S_ISLNK(st.st_mode):
        return "->" + os.readlink(path)
    if not stat.S_ISREG(st.st_mode):
        return "-"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def xattrs(path):
    try:
        names = sorted(os.listxattr(path, follow_symlinks=False))
    except OSError:
        return "-"
    pairs = []
    for name in names:
        value = os.getxattr(path, name, follow_symlinks=False)
        pairs.append(f"{name}={value.hex()}")
    return ",".join(pairs) or "-"


def main():
    root = sys.argv[1]
    skip_top = {".volinit", "lost+found", sys.argv[2] if len(sys.argv) > 2 else "schema_version.txt"}
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in skip_top]
            filenames = [f for f in filenames if f not in skip_top]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            entries.append((os.path.relpath(path, root), os.lstat(path)))

    # A hard-link group is named by its first path, so that it does not
    # depend on inode numbers (a restore gives new ones).
    group = {}
    for rel, st in sorted(entries):
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            group.setdefault((st.st_dev, st.st_ino), rel)

    for rel, st in sorted(entries):
        path = os.path.join(root, rel)
        is_dir = stat.S_ISDIR(st.st_mode)
        kind = stat.filemode(st.st_mode)
        mtime = "-" if is_dir else str(st.st_mtime_ns)
        size = "-" if is_dir else str(st.st_size)
        links = group.get((st.st_dev, st.st_ino), "-") + f"/{st.st_nlink}" if not is_dir else "-"
        sparse = "sparse" if stat.S_ISREG(st.st_mode) and st.st_blocks * 512 < st.st_size else "-"
        print(f"{rel}\t{kind}\t{st.st_uid}:{st.st_gid}\t{size}\t{mtime}\t"
              f"{content(path, st)}\tlinks={links}\t{sparse}\t{xattrs(path)}")


if __name__ == "__main__":
    main()
