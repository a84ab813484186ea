# mapsize.awk: where the bytes of a static binary go, from GNU ld's -Map file.
#
#   awk -f bench/mapsize.awk build/volinit-static.map
#
# Sums the input sections of the "Linker script and memory map" part per
# input file, for allocated output sections only (.comment, .debug* and the
# like are left out).  Prints TSV lines:
#   file  <input file or archive(member)>  <bytes in the file image>  <bytes in .bss/.tbss>
#   group <volinit|glibc|libcap|inih|libgcc|crt|padding|other> <file bytes> <bss bytes>
# "padding" is *fill* between input sections.  Works with mawk (no strtonum).

function hex(s,    i, c, v) {
	v = 0
	s = tolower(s)
	sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1))
		if (c == 0)
			return v
		v = v * 16 + c - 1
	}
	return v
}

function group(f) {
	if (f ~ /(^|\/)(build\/)?(sobj|obj|src)\/[^\/]*\.o$/) return "volinit"
	if (f ~ /libc\.a\(/) return "glibc"
	if (f ~ /libcap\.a\(/) return "libcap"
	if (f ~ /libinih\.a\(/) return "inih"
	if (f ~ /libgcc/) return "libgcc"
	if (f ~ /crt[^\/]*\.o$/) return "crt"
	return "other"
}

function nonalloc(s) {
	return s ~ /^\.(comment|debug|stab|gnu\.build\.attributes|note\.gnu\.build-id-never)/ || s == "" || s ~ /^\/DISCARD\//
}

function add(f, sz) {
	if (nonalloc(out) || sz == 0)
		return
	if (out ~ /^\.t?bss/ || out ~ /^\.lbss/) {
		bss[f] += sz
		gbss[group(f)] += sz
	} else {
		img[f] += sz
		gimg[group(f)] += sz
	}
	seen[f] = 1
}

/^Linker script and memory map/ { inmap = 1; next }
!inmap { next }
/^OUTPUT\(/ { exit }

# An output section header starts in column 0.
/^[^ \t]/ { out = $1; pending = 0; next }

# *fill* between input sections.
/^ \*fill\*/ {
	if (!nonalloc(out) && $3 ~ /^0x/) {
		if (out ~ /^\.t?bss/) gbss["padding"] += hex($3)
		else gimg["padding"] += hex($3)
	}
	next
}

# " .section  0xADDR  0xSIZE  file" on one line.
/^ [^ *]/ {
	if (NF >= 4 && $2 ~ /^0x/ && $3 ~ /^0x/) {
		f = $4
		for (i = 5; i <= NF; i++) f = f " " $i
		add(f, hex($3))
		pending = 0
	} else if (NF == 1) {
		pending = 1
	} else {
		pending = 0
	}
	next
}

# The continuation of a long section name: "            0xADDR  0xSIZE  file".
/^[ \t]+0x/ {
	if (pending && NF >= 3 && $2 ~ /^0x/) {
		f = $3
		for (i = 4; i <= NF; i++) f = f " " $i
		add(f, hex($2))
	}
	pending = 0
	next
}

{ pending = 0 }

END {
	for (f in seen)
		printf "file\t%s\t%d\t%d\n", f, img[f], bss[f]
	for (g in gimg)
		printf "group\t%s\t%d\t%d\n", g, gimg[g], gbss[g]
	for (g in gbss)
		if (!(g in gimg))
			printf "group\t%s\t0\t%d\n", g, gbss[g]
}
