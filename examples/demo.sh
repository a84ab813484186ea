#!/usr/bin/env bash
# make demo: the stale-volume story (S003) on a temporary directory that
# stands in for a named volume. Each step is narrated; volinit's own lines
# are shown as they are.
set -u
volinit=${1:?usage: demo.sh PATH_TO_VOLINIT}
work=$(mktemp -d /tmp/volinit-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
vol=$work/data
mkdir -p "$vol" "$work/v1" "$work/v2" "$work/v2-hooks/migrations"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; rc=$?; printf '(exit code %d)\n' "$rc"; return 0; }

# The app: version 1 writes sessions as "user", version 2 expects "user:role".
cat > "$work/app.sh" <<'APP'
#!/bin/sh
echo "app v$APP_VERSION: starting on /data (schema $(cat "$DATA/schema_version.txt"))"
[ "$APP_VERSION" = 1 ] && echo "alice" > "$DATA/sessions"
echo "app v$APP_VERSION: sessions: $(cat "$DATA/sessions")"
APP
chmod +x "$work/app.sh"

for v in 1 2; do
cat > "$work/v$v/volinit.ini" <<INI
[data]
path     = $vol
expected = $v
INI
done
cat > "$work/v2-hooks/volinit.ini" <<INI
[data]
path       = $vol
expected   = 2
on_older   = migrate
migrations = $work/v2-hooks/migrations
INI
cat > "$work/v2-hooks/migrations/0002-add-roles.sh" <<'HOOK'
#!/bin/sh
# step 1 -> 2: every session gets a role
sed -i 's/$/:user/' sessions
echo "hook: migrated sessions from $VOLINIT_FROM to $VOLINIT_TO"
HOOK
chmod +x "$work/v2-hooks/migrations/0002-add-roles.sh"

say "Image v1 starts on an empty named volume: volinit initializes it at schema 1, then runs the app"
APP_VERSION=1 DATA=$vol run "$volinit" -c "$work/v1/volinit.ini" -- "$work/app.sh"

say "docker compose up --build: image v2 expects schema 2, the volume still holds 1. volinit refuses:"
APP_VERSION=2 DATA=$vol run "$volinit" -c "$work/v2/volinit.ini" -- "$work/app.sh"

say "The operator looks at the volume offline (volinit status):"
run "$volinit" status -c "$work/v2/volinit.ini"

say "volinit check, as a readiness gate or in CI, gives the same exit code a start would:"
run "$volinit" check -c "$work/v2/volinit.ini"

say "Image v2 that ships a migration hook: the plan first (--dry-run), then a start migrates and runs the app"
run "$volinit" migrate --dry-run -c "$work/v2-hooks/volinit.ini"
APP_VERSION=2 DATA=$vol run "$volinit" -c "$work/v2-hooks/volinit.ini" -- "$work/app.sh"

say "Rolled back to image v1 by mistake: newer data than the image expects is refused too (81)"
APP_VERSION=1 DATA=$vol run "$volinit" -c "$work/v1/volinit.ini" -- "$work/app.sh"

say "The journal on the volume records what happened:"
cut -c1-160 "$vol/.volinit/journal.jsonl"
say "Done: the data was never touched by the wrong image."
