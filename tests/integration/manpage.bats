#!/usr/bin/env bats
# The man page, volinit(1): mdoc that mandoc finds nothing wrong with, the
# same options and exit codes as README's tables (and as -h), installed by
# make install.

load helpers

MAN=$VI_REPO/man/volinit.1

# options_readme / options_man / codes_readme / codes_man: one per line, sorted.
options_readme() {
	# The first cell of each row of the options table under "## Command line".
	awk '/^## Command line/ { t = 1; next } t && /^## / { exit }
		t && /^\| `-/ { split($0, c, "|"); print c[2] }' "$VI_REPO/README.md" |
		grep -oE -- '(^|[ `,/])--?[A-Za-z][-A-Za-z]*' | grep -oE -- '--?[A-Za-z][-A-Za-z]*' | sort -u
}

options_man() {
	# The .It Fl lines of the OPTIONS section.
	awk '/^\.Sh OPTIONS/ { t = 1; next } t && /^\.Sh / { exit } t && /^\.It Fl/' "$MAN" |
		sed 's/\\-/-/g' | grep -oE 'Fl -?[A-Za-z][-A-Za-z]*' | sed 's/^Fl /-/' | sort -u
}

codes_readme() {
	awk '/^## Exit codes/ { t = 1; next } t && /^## / { exit }
		t && /^\| [0-9P]/ { split($0, c, "|"); gsub(/ /, "", c[2]); print c[2] }' "$VI_REPO/README.md" | sort -u
}

codes_man() {
	awk '/^\.Sh EXIT STATUS/ { t = 1; next } t && /^\.Sh / { exit }
		t && /^\.It / { sub(/^\.It /, ""); gsub(/ /, ""); print }' "$MAN" | sort -u
}

@test "man page: mandoc -T lint finds no warning" {
	command -v mandoc >/dev/null || skip "mandoc is not installed (tools/deps.sh test)"
	run mandoc -T lint -W warning "$MAN"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "man page and README list the same options" {
	local readme man
	readme=$(options_readme)
	man=$(options_man)
	echo "README: $readme"
	echo "man: $man"
	[ "$(wc -l <<<"$readme")" -ge 13 ]
	[ "$readme" = "$man" ]
}

@test "man page and README list the same exit codes" {
	local readme man
	readme=$(codes_readme)
	man=$(codes_man)
	echo "README: $readme"
	echo "man: $man"
	[ "$(wc -l <<<"$readme")" -ge 16 ]
	[ "$readme" = "$man" ]
}

@test "make install puts the man page in PREFIX/share/man/man1" {
	run make -s -C "$VI_REPO" -n install DESTDIR="$T/root" PREFIX=/usr
	[ "$status" -eq 0 ]
	[[ "$output" == *"install -m 0644 man/volinit.1 $T/root/usr/share/man/man1/volinit.1"* ]]
}
