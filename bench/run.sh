#!/usr/bin/env bash
# shellcheck disable=SC2034  # many variables reach report.sh only through params.env (${!v})
# bench/run.sh (make bench): volinit against tini, tini-static, dumb-init and
# catatonit, each as PID 1 of a fresh PID namespace
# (`unshare --pid --fork --mount-proc INIT -- CMD`), on this machine, in one
# run.  Writes BENCHMARKS.md (or $BENCH_OUT).  Needs root (unshare --pid).
#
# Knobs (environment):
#   BENCH_ROUNDS=1000       start-up: interleaved rounds (each runs every command once); the median
#                           of 300 moved the volinit/tini-static ratio by +-0.05 from run to run here
#   BENCH_WARMUP=10         start-up: rounds run first and thrown away
#   BENCH_SIGNALS=5000      signal forwarding: signals per init (>= 1000 for the report; 2000 left
#                           the p99 moving by 10% from run to run here)
#   BENCH_IDLE_SECONDS=30   idle wake-ups: length of the interval
#   BENCH_RSS_ROUNDS=15     peak RSS: rounds of their own (the median is reported)
#   BENCH_REAP_N=10000      reaping: orphaned grandchildren per run
#   BENCH_REAP_ROUNDS=21    reaping: interleaved rounds (every init varies 28-50 ms from round to round
#                           here; with 11 the medians moved by up to 20%)
#   BENCH_FILES=100000      files in the big volume
#   BENCH_HYPERFINE_RUNS=100  hyperfine cross-check of start-up (not interleaved); 0: skip
#   BENCH_PROFILE=1         strace/callgrind/page-fault profile of the start path; 0: skip
#   BENCH_RT=1              run the start-up, hyperfine and supervising phases under SCHED_FIFO
#                           (chrt -f 10) so that other load on the machine barely disturbs them;
#                           they run one process at a time, and the kernel keeps 5% of every
#                           second for others.  Reaping: only the timed part (PID 1 reaping, some
#                           ms) is SCHED_FIFO; the 10,000 processes are made at normal priority.  0: off
#   BENCH_TMP=/tmp/volinit-bench  volumes, FIFOs (the 100,000-file volume is kept for the next run)
#   BENCH_DURABILITY=1      bench/durability.sh: syncfs against fsync of what changed, and a migration
#                           before and after the syncs of SPEC.md "Power loss"; 0: skip
#   BENCH_OUT=BENCHMARKS.md
#   VOLINIT, VOLINIT_STATIC  binaries (default build/volinit, build/volinit-static;
#                            a missing one is left out of the run)
# Quick look while developing:
#   BENCH_ROUNDS=20 BENCH_SIGNALS=200 BENCH_IDLE_SECONDS=3 BENCH_REAP_ROUNDS=1 \
#     BENCH_HYPERFINE_RUNS=0 BENCH_OUT=/tmp/b.md bash bench/run.sh
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${BENCH_ROUNDS:-1000}
WARMUP=${BENCH_WARMUP:-10}
SIGNALS=${BENCH_SIGNALS:-5000}
IDLE=${BENCH_IDLE_SECONDS:-30}
RSS_ROUNDS=${BENCH_RSS_ROUNDS:-15}
REAP_N=${BENCH_REAP_N:-10000}
REAP_ROUNDS=${BENCH_REAP_ROUNDS:-21}
FILES=${BENCH_FILES:-100000}
HF_RUNS=${BENCH_HYPERFINE_RUNS:-100}
PROFILE=${BENCH_PROFILE:-1}
RT=${BENCH_RT:-1}
TMP=${BENCH_TMP:-/tmp/volinit-bench}
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
VOLINIT=${VOLINIT:-$ROOT/build/volinit}
VOLINIT_STATIC=${VOLINIT_STATIC:-$ROOT/build/volinit-static}
B=$ROOT/build/bench
R=$B/results
UNSHARE=(/usr/bin/unshare --pid --fork --mount-proc)
U="${UNSHARE[*]}"

say() { printf 'bench: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root: every init runs as PID 1 of a new PID namespace (unshare --pid)"
for t in /usr/bin/unshare /usr/bin/tini /usr/bin/tini-static /usr/bin/dumb-init /usr/bin/catatonit cc pkg-config strip nm awk; do
	command -v "$t" >/dev/null || fail "missing $t (make bench installs: hyperfine tini dumb-init catatonit time binutils xfsprogs valgrind)"
done
HAVE_V=0; HAVE_VS=0
[ -x "$VOLINIT" ] && HAVE_V=1 || say "no $VOLINIT: left out"
[ -x "$VOLINIT_STATIC" ] && HAVE_VS=1 || say "no $VOLINIT_STATIC: left out"

RTP=()
if [ "$RT" = 1 ]; then
	if chrt -f 10 true 2>/dev/null; then RTP=(chrt -f 10); else RT=0; say "chrt -f failed: running at normal priority"; fi
fi

T_START=$(date +%s)
psi() { awk '/^some/ { sub("avg10=", "", $2); printf "%s ", $2 }' /proc/pressure/cpu /proc/pressure/io 2>/dev/null; }
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
PSI_START=$(psi)

# ---------------------------------------------------------------- helpers
say "compiling helpers into build/bench/"
mkdir -p "$B" "$R"
HCFLAGS=(-std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -static)
for p in startbench supervise sigchild orphans mkfiles miniinit empty fsops fileinit; do
	cc "${HCFLAGS[@]}" -o "$B/$p" "bench/src/$p.c"
done
cc "${HCFLAGS[@]}" -DMINIINIT_VFORK -o "$B/miniinit-vfork" bench/src/miniinit.c
strip "$B/miniinit" "$B/miniinit-vfork" "$B/empty" "$B/fileinit"
# The size floor for volinit's dependencies, built the way volinit-static is.
# shellcheck disable=SC2046
cc -std=c17 -D_GNU_SOURCE -Os -ffunction-sections -fdata-sections -static -Wl,--gc-sections \
	-Wl,-Map="$B/probe.map" -o "$B/probe" bench/src/probe.c $(pkg-config --static --libs inih libcap)
strip "$B/probe"

# ---------------------------------------------------------------- volumes
say "preparing volumes in $TMP"
mkdir -p "$TMP"
rm -f "$TMP"/*.fifo
# The volumes are kept from run to run, like the big one, and only their .volinit/ is made anew:
# a volume directory created a moment before would not be like the big one.
for d in vol1 vol-sup-static vol-sup-dyn; do
	mkdir -p "$TMP/$d"
	rm -rf "$TMP/$d/.volinit"
	[ "$(cat "$TMP/$d/schema_version.txt" 2>/dev/null)" = 1 ] || printf '1\n' >"$TMP/$d/schema_version.txt"
done
# The same one-volume start with the volume on tmpfs: what the volume's file system costs.
SHM=""
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	SHM=/dev/shm/volinit-bench-vol
	rm -rf "$SHM" "$SHM-100k"; mkdir -p "$SHM" "$SHM-100k"
	printf '1\n' >"$SHM/schema_version.txt"
	printf '1\n' >"$SHM-100k/schema_version.txt"
	"$B/mkfiles" "$SHM-100k" "$FILES"
fi
if [ "$(cat "$TMP/vol100k.ok" 2>/dev/null)" != "$FILES" ]; then
	say "creating $FILES files in $TMP/vol100k (kept for the next run)"
	rm -rf "$TMP/vol100k" "$TMP/vol100k.ok"
	mkdir -p "$TMP/vol100k"
	"$B/mkfiles" "$TMP/vol100k" "$FILES"
	printf '1\n' >"$TMP/vol100k/schema_version.txt"
	echo "$FILES" >"$TMP/vol100k.ok"
fi
rm -rf "$TMP/vol100k/.volinit"
printf '[volinit]\n' >"$TMP/none.ini"
# The big volume with its version file declared absent: a start must decide
# whether the volume is empty (it is not: 80, refused, nothing written).
printf '[volinit]\n\n[big]\npath = %s\nversion_file = absent.txt\nexpected = 1\n' "$TMP/vol100k" >"$TMP/big-noversion.ini"

# ---------------------------------------------------------------- the commands
# Start-up: label and command.  "floor" is bench/src/miniinit.c: fork, exec,
# wait, statically linked with glibc, nothing else; "floor-vfork" the same
# with vfork, the way volinit starts its child.
S_LABELS=(bare tini tini-static dumb-init catatonit floor floor-vfork)
S_CMDS=(
	"/bin/true"
	"/usr/bin/tini -- /bin/true"
	"/usr/bin/tini-static -- /bin/true"
	"/usr/bin/dumb-init -- /bin/true"
	"/usr/bin/catatonit -- /bin/true"
	"$B/miniinit -- /bin/true"
	"$B/miniinit-vfork -- /bin/true"
)
# Two commands that start no child, to split what volinit-static's bigger
# file costs before main does anything (exec, page faults, libcap's
# constructor) from its own work: an empty static glibc program, and
# volinit-static --version.
S_LABELS+=(empty)
S_CMDS+=("$B/empty")
if [ $HAVE_VS = 1 ]; then
	S_LABELS+=(volinit-static:version volinit-static:none volinit-static:vol volinit-static:100k)
	S_CMDS+=(
		"$VOLINIT_STATIC --version"
		"$VOLINIT_STATIC -c $TMP/none.ini -- /bin/true"
		"$VOLINIT_STATIC --expect $TMP/vol1=1 -- /bin/true"
		"$VOLINIT_STATIC --expect $TMP/vol100k=1 -- /bin/true"
	)
	if [ -n "$SHM" ]; then
		S_LABELS+=(volinit-static:vol-tmpfs volinit-static:100k-tmpfs)
		S_CMDS+=("$VOLINIT_STATIC --expect $SHM=1 -- /bin/true" "$VOLINIT_STATIC --expect $SHM-100k=1 -- /bin/true")
	fi
fi
if [ $HAVE_V = 1 ]; then
	S_LABELS+=(volinit:none volinit:vol volinit:100k)
	S_CMDS+=(
		"$VOLINIT -c $TMP/none.ini -- /bin/true"
		"$VOLINIT --expect $TMP/vol1=1 -- /bin/true"
		"$VOLINIT --expect $TMP/vol100k=1 -- /bin/true"
	)
fi

# Supervising a sleeping child (RSS, idle wake-ups, signals), reaping.
P_LABELS=(tini tini-static dumb-init catatonit)
P_INITS=("/usr/bin/tini --" "/usr/bin/tini-static --" "/usr/bin/dumb-init --" "/usr/bin/catatonit --")
if [ $HAVE_VS = 1 ]; then
	P_LABELS+=(volinit-static)
	P_INITS+=("$VOLINIT_STATIC --expect $TMP/vol-sup-static=1 --")
fi
if [ $HAVE_V = 1 ]; then
	P_LABELS+=(volinit)
	P_INITS+=("$VOLINIT --expect $TMP/vol-sup-dyn=1 --")
fi

# ---------------------------------------------------------------- 1. start-up
say "start-up: ${#S_LABELS[@]} commands, $ROUNDS interleaved rounds (+$WARMUP warm-up)"
args=()
for i in "${!S_LABELS[@]}"; do
	[ $i = 0 ] || args+=(";;")
	# shellcheck disable=SC2206
	args+=("${S_LABELS[$i]}" "${UNSHARE[@]}" ${S_CMDS[$i]})
done
: >"$R/startup.stderr"
"${RTP[@]}" "$B/startbench" -r "$ROUNDS" -w "$WARMUP" -o "$R/startup-raw.tsv" -e "$R/startup.stderr" "${args[@]}" >"$R/startup.tsv"

# hyperfine cross-check: the same commands, each in a block (hyperfine does not interleave).
HF_DONE=0
if [ "$HF_RUNS" -gt 0 ] && command -v hyperfine >/dev/null; then
	say "hyperfine cross-check: $HF_RUNS runs per command"
	hf=()
	for i in "${!S_LABELS[@]}"; do hf+=(-n "${S_LABELS[$i]}" "$U ${S_CMDS[$i]}"); done
	"${RTP[@]}" hyperfine -N --style none --warmup 10 --runs "$HF_RUNS" --export-csv "$R/hyperfine.csv" "${hf[@]}" >/dev/null 2>"$R/hyperfine.stderr" && HF_DONE=1 ||
		say "hyperfine failed (see $R/hyperfine.stderr)"
fi

# ---------------------------------------------------------------- 2. supervising
say "supervising a sleeping child: peak RSS, ${IDLE}s idle, $SIGNALS signals each"
args=()
for i in "${!P_LABELS[@]}"; do
	# shellcheck disable=SC2206
	args+=("${P_LABELS[$i]}" "${UNSHARE[@]}" ${P_INITS[$i]} "$B/sigchild" @FIFO@ ";;")
done
args+=(floor "${UNSHARE[@]}" "$B/miniinit" -- "$B/sigchild" @FIFO@)
: >"$R/supervise.stderr"
"${RTP[@]}" "$B/supervise" -x floor -n "$SIGNALS" -i "$IDLE" -d "$TMP" -o "$R/signals-raw.tsv" -e "$R/supervise.stderr" \
	"${args[@]}" >"$R/supervise.tsv"
# Peak RSS again, in rounds of their own (no signals, no idle time): one init's
# VmHWM moves by a few pages from one start to the next (tini-static's by up to
# 24 kB here), more than the goal's margin.
say "peak RSS: $RSS_ROUNDS more rounds"
: >"$R/rss-rounds.tsv"
for ((r = 0; r < RSS_ROUNDS; r++)); do
	"${RTP[@]}" "$B/supervise" -x floor -n 0 -i 0 -d "$TMP" -e "$R/rss.stderr" "${args[@]}" | cut -f1,2 >>"$R/rss-rounds.tsv"
done
# label, median, min, max, rounds
awk -F'\t' '{ v[$1, ++n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
	END { for (i = 1; i <= k; i++) { l = order[i]; m = n[l]
		for (a = 1; a <= m; a++) s[a] = v[l, a]
		for (a = 2; a <= m; a++) { x = s[a]; for (b = a - 1; b >= 1 && s[b] > x; b--) s[b + 1] = s[b]; s[b + 1] = x }
		printf "%s\t%s\t%s\t%s\t%d\n", l, (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2, s[1], s[m], m } }' \
	"$R/rss-rounds.tsv" >"$R/rss.tsv"

# ---------------------------------------------------------------- 3. reaping
say "reaping $REAP_N orphaned grandchildren: $REAP_ROUNDS interleaved rounds"
: >"$R/reap.tsv"
args=()
for i in "${!P_LABELS[@]}"; do
	[ $i = 0 ] || args+=(";;")
	# shellcheck disable=SC2206
	args+=("${P_LABELS[$i]}" "${UNSHARE[@]}" ${P_INITS[$i]} "$B/orphans" "$REAP_N" "$R/reap.tsv" "${P_LABELS[$i]}" "$([ "$RT" = 1 ] && echo rt || echo nort)")
done
: >"$R/reap.stderr"
"$B/startbench" -r "$REAP_ROUNDS" -w 0 -e "$R/reap.stderr" "${args[@]}" >"$R/reap-wall.tsv"

# ---------------------------------------------------------------- 4. sizes
say "sizes"
: >"$R/sizes.tsv"
for f in /usr/bin/tini-static /usr/bin/catatonit /usr/bin/tini /usr/bin/dumb-init "$B/empty" "$B/probe" "$B/miniinit"; do
	printf '%s\t%s\n' "$f" "$(stat -c %s "$f")" >>"$R/sizes.tsv"
done
[ $HAVE_VS = 1 ] && printf '%s\t%s\n' "$VOLINIT_STATIC" "$(stat -c %s "$VOLINIT_STATIC")" >>"$R/sizes.tsv"
[ $HAVE_V = 1 ] && printf '%s\t%s\n' "$VOLINIT" "$(stat -c %s "$VOLINIT")" >>"$R/sizes.tsv"
MAP=${VOLINIT_STATIC}.map
HAVE_MAP=0
if [ $HAVE_VS = 1 ] && [ -f "$MAP" ]; then
	HAVE_MAP=1
	awk -f bench/mapsize.awk "$MAP" >"$R/map-volinit.tsv"
	awk -f bench/mapsize.awk "$B/probe.map" >"$R/map-probe.tsv"
	# volinit-static is stripped: link it again, unstripped, for nm (same objects, same flags).
	objs=()
	for s in src/*.c; do o="$ROOT/build/sobj/$(basename "${s%.c}").o"; [ -f "$o" ] && objs+=("$o"); done
	# shellcheck disable=SC2046
	if cc -static -no-pie -Wl,--gc-sections -o "$B/volinit-static.syms" "${objs[@]}" $(pkg-config --static --libs inih libcap) 2>"$R/relink.stderr"; then
		nm --size-sort -S --radix=d "$B/volinit-static.syms" | awk '$3 ~ /^[TtRrDdBbVvWw]$/' | sort -k2,2nr >"$R/nm-all.tsv"
		nm --defined-only "${objs[@]}" 2>/dev/null | awk 'NF==3{print $3}' | sort -u >"$R/own-symbols.txt"
	else
		say "could not relink volinit-static unstripped (see $R/relink.stderr)"
		: >"$R/nm-all.tsv"; : >"$R/own-symbols.txt"
	fi
fi

# ---------------------------------------------------------------- 5. profile of the start path
: >"$R/profile.tsv"
if [ "$PROFILE" = 1 ] && [ $HAVE_VS = 1 ]; then
	say "profile of the start path (strace, page faults, callgrind)"
	# Syscalls made by the init itself (not unshare, not its child), as PID 1, from its execve on.
	if command -v strace >/dev/null; then
		for spec in "tini-static|/usr/bin/tini-static -- /bin/true" "floor|$B/miniinit -- /bin/true" \
			"volinit-static:none|$VOLINIT_STATIC -c $TMP/none.ini -- /bin/true" \
			"volinit-static:vol|$VOLINIT_STATIC --expect $TMP/vol1=1 -- /bin/true" \
			"volinit-static:100k|$VOLINIT_STATIC --expect $TMP/vol100k=1 -- /bin/true"; do
			l=${spec%%|*}; c=${spec#*|}; exe=${c%% *}
			rm -f "$R/st.$l".*
			# shellcheck disable=SC2086
			strace -ff -o "$R/st.$l" "${UNSHARE[@]}" $c >/dev/null 2>&1 || true
			f=$(grep -l "^execve(\"$exe\"" "$R/st.$l".* | sed -n 1p)
			awk -v exe="execve(\"$exe\"" 'index($0, exe) == 1 {on = 1} on && !/^(\+\+\+|---)/' "$f" >"$R/strace-$l.txt"
			rm -f "$R/st.$l".*
			printf 'syscalls\t%s\t%s\n' "$l" "$(wc -l <"$R/strace-$l.txt")" >>"$R/profile.tsv"
		done
		# A start on a current volume: no fsync, no directory scan, whatever the volume holds.
		# shellcheck disable=SC2086
		strace -f -o "$R/strace-f-100k.txt" "${UNSHARE[@]}" $VOLINIT_STATIC --expect "$TMP/vol100k=1" -- /bin/true >/dev/null 2>&1 || true
		printf 'start100k_fsync\t%s\n' "$(grep -cE '\b(fsync|fdatasync|syncfs|sync|sync_file_range)\(' "$R/strace-f-100k.txt" || true)" >>"$R/profile.tsv"
		printf 'start100k_getdents\t%s\n' "$(grep -cE '\bgetdents(64)?\(' "$R/strace-f-100k.txt" || true)" >>"$R/profile.tsv"
		# Deciding "empty": the 100,000-file volume with no version file (check: read-only).
		"$VOLINIT_STATIC" check -c "$TMP/big-noversion.ini" >/dev/null 2>&1 && rc=0 || rc=$?
		strace -f -o "$R/strace-empty-decision.txt" "$VOLINIT_STATIC" check -c "$TMP/big-noversion.ini" >/dev/null 2>&1 || true
		gd=$(grep -cE '\bgetdents(64)?\(' "$R/strace-empty-decision.txt" || true)
		gb=$(grep -E '\bgetdents(64)?\(' "$R/strace-empty-decision.txt" | awk -F'= ' '{s+=$NF} END{print s+0}')
		printf 'emptycheck\t%s\t%s\t%s\n' "$rc" "$gd" "$gb" >>"$R/profile.tsv"
	fi
	# What the file-system operations of a start cost on the volumes' file system right now.
	"${RTP[@]}" "$B/fsops" "$TMP/vol1" 200 >"$R/fsops.tsv" || : >"$R/fsops.tsv"
	# What one small file written on the start path costs, and what writing it right after the fork
	# (while the child execs) saves: the floor with a holders-like file, interleaved.
	mkdir -p "$TMP/fileinit"
	"${RTP[@]}" "$B/startbench" -r "$(( ROUNDS < 200 ? ROUNDS : 200 ))" -w 5 \
		bare "${UNSHARE[@]}" /bin/true ";;" floor "${UNSHARE[@]}" "$B/miniinit" -- /bin/true ";;" \
		file-before-fork "${UNSHARE[@]}" "$B/fileinit" before "$TMP/fileinit" -- /bin/true ";;" \
		file-after-fork "${UNSHARE[@]}" "$B/fileinit" after "$TMP/fileinit" -- /bin/true >"$R/fileinit.tsv" 2>>"$R/startup.stderr" ||
		: >"$R/fileinit.tsv"
	# Minor page faults of init + /bin/true (getrusage of the children), median of 21.
	for spec in "bare|/bin/true" "tini-static|/usr/bin/tini-static -s -- /bin/true" "floor|$B/miniinit -- /bin/true" \
		"volinit-static:vol|$VOLINIT_STATIC --expect $TMP/vol1=1 -- /bin/true"; do
		l=${spec%%|*}; c=${spec#*|}
		if [ -x /usr/bin/time ]; then
			# shellcheck disable=SC2086
			m=$(for _ in $(seq 21); do /usr/bin/time -f '%R' $c 2>&1 >/dev/null | tail -1; done | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
			printf 'faults\t%s\t%s\n' "$l" "$m" >>"$R/profile.tsv"
		fi
	done
	# User-space instructions (deterministic, unlike time): callgrind's Ir.
	if command -v valgrind >/dev/null; then
		for spec in "tini-static|/usr/bin/tini-static -s -- /bin/true" "floor|$B/miniinit -- /bin/true" \
			"volinit-static:none|$VOLINIT_STATIC -c $TMP/none.ini -- /bin/true" \
			"volinit-static:vol|$VOLINIT_STATIC --expect $TMP/vol1=1 -- /bin/true"; do
			l=${spec%%|*}; c=${spec#*|}
			# shellcheck disable=SC2086
			ir=$(valgrind --tool=callgrind --callgrind-out-file="$R/callgrind-$l.out" $c 2>&1 >/dev/null | awk '/refs:/{gsub(",","",$NF); print $NF}')
			printf 'ir\t%s\t%s\n' "$l" "${ir:-?}" >>"$R/profile.tsv"
		done
		# Where those instructions go: the unstripped relink has the symbols.
		if [ -x "$B/volinit-static.syms" ] && command -v callgrind_annotate >/dev/null; then
			valgrind --tool=callgrind --callgrind-out-file="$R/callgrind-syms.out" "$B/volinit-static.syms" \
				--expect "$TMP/vol1=1" -- /bin/true >/dev/null 2>&1 || true
			callgrind_annotate --inclusive=yes "$R/callgrind-syms.out" 2>/dev/null |
				awk '/^-+$/ { d++ } d >= 5 && $1 ~ /^[0-9,]+$/ && $0 ~ /:/ { print }' | grep -v 'below main' | head -16 >"$R/callgrind-top.txt" || true
		fi
	fi
fi

TMPFS=$(df -PT "$TMP" | awk 'NR == 2 { print $2 " (" $1 ")" }')
if [ -n "$SHM" ]; then rm -rf "$SHM" "$SHM-100k"; fi
T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
PSI_END=$(psi)

# ---------------------------------------------------------------- report
say "writing $OUT"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
[ -n "$(git -C "$ROOT" status --porcelain -- src 2>/dev/null | sed -n 1p)" ] && COMMIT="$COMMIT (src/ with uncommitted changes)"
for v in COMMIT T_START T_END LOAD_START LOAD_END PSI_START PSI_END ROUNDS WARMUP SIGNALS IDLE RSS_ROUNDS REAP_N REAP_ROUNDS FILES HF_RUNS HF_DONE \
	HAVE_V HAVE_VS HAVE_MAP TMP ROOT VOLINIT VOLINIT_STATIC PROFILE RT TMPFS; do
	printf '%s=%q\n' "$v" "${!v}"
done >"$R/params.env"
for i in "${!S_LABELS[@]}"; do printf '%s\t%s %s\n' "${S_LABELS[$i]}" "$U" "${S_CMDS[$i]}"; done >"$R/startup-cmds.tsv"
for i in "${!P_LABELS[@]}"; do printf '%s\t%s %s\n' "${P_LABELS[$i]}" "$U" "${P_INITS[$i]}"; done >"$R/init-cmds.tsv"
bash bench/report.sh "$R" >"$OUT.tmp"
# The snapshot benchmark (issue 4): volinit's snapshot against cp -a.
if [ "${BENCH_SNAPSHOT:-1}" = 1 ]; then
	say "snapshot benchmark (bench/snapshot.sh)"
	if bash bench/snapshot.sh >&2 && [ -f build/bench/snapshot.md ]; then
		{ echo; cat build/bench/snapshot.md; } >>"$OUT.tmp"
	fi
fi
# What the syncs of SPEC.md "Power loss" cost (issue 20).
if [ "${BENCH_DURABILITY:-1}" = 1 ]; then
	say "durability benchmark (bench/durability.sh)"
	if bash bench/durability.sh >&2 && [ -f build/bench/durability.md ]; then
		{ echo; cat build/bench/durability.md; } >>"$OUT.tmp"
	fi
fi
mv "$OUT.tmp" "$OUT"
say "done in $((T_END - T_START)) s: $OUT"
