#!/usr/bin/python3
"""readme_check.py README OUTPUT PREFIX...
   readme_check.py --block README HEADING

Every line of README's code blocks that starts (after indentation) with one of
the PREFIXes must appear as a line of OUTPUT (a file holding what the example
printed), compared without leading and trailing blanks. Numbers after "pid "
may differ; nothing else may. Exits 1 listing the missing lines.

With --block: prints the non-blank lines of the first code block after the
heading that starts with HEADING (without its #s), for a test that plays a
README's commands as written. Exits 1 when there is no such heading or block.
"""
import re
import sys


def pattern(line):
    # Process ids differ from run to run: "pid 12" matches any "pid N".
    parts = re.split(r"(pid \d+)", line)
    out = [r"pid \d+" if re.fullmatch(r"pid \d+", p) else re.escape(p) for p in parts]
    return re.compile("^" + "".join(out) + "$")


def block(readme, heading):
    text = open(readme).read()
    m = re.search(r"^#+ " + re.escape(heading) + r".*?^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    if not m:
        print(f"{readme}: no code block after a heading '{heading}'", file=sys.stderr)
        sys.exit(1)
    for l in m.group(1).splitlines():
        if l.strip():
            print(l)


def main():
    if sys.argv[1] == "--block":
        block(sys.argv[2], sys.argv[3])
        return
    readme, output, prefixes = sys.argv[1], sys.argv[2], tuple(sys.argv[3:])
    text = open(readme).read()
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    wanted = [l.strip() for b in blocks for l in b.splitlines() if l.strip().startswith(prefixes)]
    got = [l.strip() for l in open(output).read().splitlines()]
    missing = [w for w in wanted if not any(pattern(w).match(g) for g in got)]
    for m in missing:
        print("README line not in the output:", m, file=sys.stderr)
    if not wanted:
        print("no README lines with prefixes", prefixes, file=sys.stderr)
        sys.exit(1)
    print(f"{len(wanted) - len(missing)} of {len(wanted)} README lines found in the output")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
