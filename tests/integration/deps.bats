#!/usr/bin/env bats
# tools/deps.sh counts a package as installed only for the architecture it
# asks for: NAME for the machine's own (or "all"), NAME:ARCH for that one.
# A foreign libcmocka-dev:arm64 (make release) is not the native one the
# unit tests link with. Played with a dpkg-query and dpkg of our own on
# PATH, as a user who is not root (deps.sh then names what is missing).

load helpers

setup() {
	common_setup
	mkdir "$T/bin"
	# installed: NAME ARCH lines. dpkg-query -W -f='${Status} ${Architecture}\n'
	# NAME[:ARCH] prints one line per installed architecture matching it.
	cat >"$T/bin/dpkg-query" <<'SH'
#!/bin/sh
eval "q=\${$#}"
name=${q%%:*}
arch=; case "$q" in *:*) arch=${q#*:} ;; esac
found=1
while read -r n a; do
	[ "$n" = "$name" ] || continue
	[ -z "$arch" ] || [ "$arch" = "$a" ] || continue
	echo "install ok installed $a"
	found=0
done <"$DEPS_INSTALLED"
exit $found
SH
	printf '#!/bin/sh\ncase "$1" in --print-architecture) echo amd64 ;; --print-foreign-architectures) echo arm64 ;; esac\n' >"$T/bin/dpkg"
	printf '#!/bin/sh\n[ "$1" = -u ] && echo 1000 || exec /usr/bin/id "$@"\n' >"$T/bin/id"
	chmod 0755 "$T/bin/"*
}

# deps PROFILE INSTALLED-LINES: deps.sh PROFILE with those packages installed.
deps() {
	printf '%s\n' "$2" >"$T/installed"
	run env PATH="$T/bin:$PATH" DEPS_INSTALLED="$T/installed" sh "$VI_REPO/tools/deps.sh" "$1"
	echo "$output"
}

# The test profile's packages, as deps.sh lists them, each installed for amd64.
all_test_pkgs() {
	local p
	for p in $(sed -n 's/^ *test) *pkgs="\(.*\)" ;;$/\1/p' "$VI_REPO/tools/deps.sh"); do
		echo "$p amd64"
	done
}

@test "deps.sh: only libcmocka-dev:arm64 installed: the native libcmocka-dev is missing" {
	deps test "$(all_test_pkgs | grep -v '^libcmocka-dev ')
libcmocka-dev arm64"
	[ "$status" -eq 1 ]
	[[ "$output" == *"deps: missing packages: libcmocka-dev"* ]]
}

@test "deps.sh: both architectures installed: nothing missing" {
	deps test "$(all_test_pkgs)
libcmocka-dev arm64"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "deps.sh: an Architecture: all package counts; NAME:arm64 wants the arm64 one" {
	deps test "$(all_test_pkgs | sed 's/^bats amd64$/bats all/')"
	[ "$status" -eq 0 ]
	deps release "gcc-aarch64-linux-gnu amd64
libc6-dev-arm64-cross all
binutils-aarch64-linux-gnu amd64
qemu-user-static amd64
libcap-dev amd64
libinih-dev arm64
libcmocka-dev arm64
git amd64
file amd64"
	[ "$status" -eq 1 ]
	[[ "$output" == *"deps: missing packages: libcap-dev:arm64"* ]]
}
