# Sourced by run.sh: one crash trial and its verdict.
# Uses: W (work dir), MNT, VOLINIT, SHIM, FS, CONF, and the scenario's
# TEMPLATE, RUN, HOOK_ENV, ACCEPT, DIRTY_OK (scenarios.sh).

# Waits (bounded) until PID is stopped: the shim wrote its line just
# before raise(SIGSTOP).
crash_wait_stopped() { # PID
	local i state
	for ((i = 0; i < 500; i++)); do
		state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
		[ "$state" = T ] && return 0
		sleep 0.01
	done
	return 1
}

# Starts the run to be cut, in the background, with the shim; its stop or
# exit is announced on fd 7 ("stop N PID" by the shim, "exit RC" by the
# wrapper). Sets RUN_WRAPPER.
crash_launch() { # SHIM-ENV...
	(
		# The killed volinit is this shell's job: its "Killed" line is noise.
		exec 2>/dev/null
		cd /
		env LD_PRELOAD="$SHIM" CRASH_NOTIFY_FD=8 "$@" "${HOOK_ENV[@]}" \
			"$VOLINIT" "${RUN[@]/#@CONF/$CONF}" >"$W/run.log" 2>&1 8>"$W/notify"
		echo "exit $?" >"$W/notify"
	) &
	RUN_WRAPPER=$!
}

# The power cut while volinit is stopped (or running, for random cuts),
# then volinit and everything it started are killed, as power loss would.
crash_cut_and_kill() { # PID
	crash_cut "$MNT"
	local victims
	victims=$(crash_descendants "$1")
	kill -KILL $victims "$1" 2>/dev/null || true
	wait "$RUN_WRAPPER" 2>/dev/null || true
	local line
	read -r -t 10 -u 7 line || true # the wrapper's exit line
}

# One trial. POINT/WHEN: the shim's crash point; for a random cut, POINT is
# PROGRAM's spawn and WHEN is "random:SECONDS" after it, or
# "launch:SECONDS" after the launch. Prints "OUTCOME detail".
crash_trial() { # POINT WHEN
	local point=$1 when=$2 kind n pid rc version
	cp --sparse=always "$W/tpl-$FS-$TEMPLATE.img" "$W/trial.img"
	if ! crash_mount "$FS" "$W/trial.img" "$MNT"; then
		rm -f "$W/trial.img"
		echo "odd the harness could not mount the image"
		return
	fi

	case $when in
	before | after)
		crash_launch CRASH_AT="$point" CRASH_WHEN="$when"
		if ! read -r -t 120 -u 7 kind n pid; then
			kind=hang
		fi ;;
	random:*)
		crash_launch CRASH_AT="$point" CRASH_WHEN=after CRASH_NO_STOP=1
		read -r -t 120 -u 7 kind n pid || kind=hang
		[ "$kind" = stop ] && sleep "${when#random:}" ;;
	launch:*)
		crash_launch
		sleep "${when#launch:}"
		kind=stop pid=$(pgrep -P "$RUN_WRAPPER" | head -1) ;;
	esac

	case $kind in
	stop)
		[[ $when == before || $when == after ]] && { crash_wait_stopped "$pid" || kind=hang; }
		crash_cut_and_kill "${pid:-$RUN_WRAPPER}" ;;
	exit) # ended before the point: still cut, after everything
		crash_cut "$MNT" ;;
	esac
	if [ "$kind" = hang ]; then
		crash_cut "$MNT" 2>/dev/null
		crash_cut_and_kill "$RUN_WRAPPER"
		crash_umount "$MNT"
		echo "odd volinit did not reach point $point"
		return
	fi
	# Power back: mount (log replay), the next start, the verdict.
	if ! crash_umount "$MNT" || ! crash_mount "$FS" "$W/trial.img" "$MNT"; then
		crash_umount "$MNT"
		rm -f "$W/trial.img"
		echo "odd the harness could not mount the image again"
		return
	fi
	rc=0
	(cd / && timeout 120 "$VOLINIT" -c "$CONF" -- true >"$W/next.log" 2>&1; exit $?) 2>/dev/null || rc=$?
	version=none
	[ -e "$MNT/schema_version.txt" ] && version=$(tr -d ' \n' <"$MNT/schema_version.txt")
	python3 "$CRASH_DIR/manifest.py" "$MNT" >"$W/trial.manifest"
	# The step an interrupted migration names (dirty's from and to).
	local dirty=-
	[ -e "$MNT/.volinit/dirty" ] &&
		dirty=dirty:$(grep -o '"from": *[0-9]*' "$MNT/.volinit/dirty" | tr -dc 0-9)
	[ "$dirty" = dirty: ] && dirty=dirty:unreadable
	[ "$dirty" = - ] && dirty=dirty:absent
	crash_umount "$MNT"
	rm -f "$W/trial.img"
	# A run that ended before its point numbered its calls otherwise than
	# the counting run: said, so that such a trial is not taken for a cut.
	local note=
	[ "$kind" = exit ] && note=" (volinit ended before point $point)"
	echo "$(crash_verdict "$version" "$rc" "$dirty")$note"
}

# Names the end state: one of ACCEPT's names, dirty83, junk (volinit's
# temporary file left in the app's data), odd (right data, wrong exit) or
# lost (the data is not what the version file says).
crash_verdict() { # VERSION RC DIRTY
	local version=$1 rc=$2 dirty=$3 spec name v m code
	if [ "$rc" = 83 ] && [ "$DIRTY_OK" = 1 ]; then
		crash_dirty_verdict "$version" "${dirty#dirty:}"
		return
	fi
	for spec in $ACCEPT; do
		IFS=: read -r name v m code <<<"$spec"
		[ "$version" = "$v" ] || continue
		if cmp -s "$W/trial.manifest" "$W/ref-$FS-$m.manifest"; then
			if [ "$rc" = "$code" ]; then
				echo "$name version=$version rc=$rc"
			else
				echo "odd version=$version rc=$rc (want $code) $dirty: $(tail -1 "$W/next.log")"
			fi
			return
		fi
	done
	if grep -q 'volinit-tmp' "$W/trial.manifest"; then
		echo "junk version=$version rc=$rc: $(grep -o '^[^	]*volinit-tmp[^	]*' "$W/trial.manifest" | head -1)"
		return
	fi
	echo "lost version=$version rc=$rc $dirty: $(crash_closest)"
}

# 83 says: step FROM -> FROM+1 was interrupted. So what that step leaves
# alone (the lines both references share) must be there: else an earlier
# step's data was lost under a later step's dirty marker.
crash_dirty_verdict() { # VERSION FROM
	local v=$2 at next missing
	if ! [[ $v =~ ^[0-9]+$ ]]; then
		echo "odd version=$1 rc=83: dirty is $v"
		return
	fi
	at=$W/ref-$FS-v$v.manifest next=$W/ref-$FS-v$((v + 1)).manifest
	if [ -f "$at" ] && [ -f "$next" ]; then
		missing=$(comm -23 <(comm -12 <(sort "$at") <(sort "$next")) <(sort "$W/trial.manifest") | wc -l)
		if ((missing > 0)); then
			echo "lost version=$1 rc=83 dirty from $v: $missing entries of version $v's data that step $v -> $((v + 1)) keeps are gone"
			return
		fi
	fi
	echo "dirty83 version=$1 from=$v"
}

# Which reference the data is nearest to, and how far: for the trial log.
crash_closest() {
	local f best= bestn=999999 n
	for f in "$W"/ref-"$FS"-*.manifest; do
		n=$(diff "$W/trial.manifest" "$f" | grep -c '^[<>]')
		((n < bestn)) && { bestn=$n; best=${f##*/ref-$FS-}; }
	done
	echo "data nearest ${best%.manifest} ($bestn lines differ)"
}
