#!/usr/bin/env bash
# Builds and runs the two Dockerfiles that start FROM Debian images, with no
# registry: debootstrap makes a Debian 12 root filesystem from Debian's
# package mirror, podman imports it as docker.io/library/debian:12 (and
# :12-slim), then
#   - Dockerfile.example is built and its image run on a new named volume;
#   - examples/postgres-major-version/Containerfile is built (postgresql-15
#     from the mirror), started on a new volume (initdb under volinit,
#     on_missing = app), queried, stopped.
# Not part of `make check` (about 4 minutes, mostly downloads); run it by
# hand as root after changing either file:
#   bash tests/e2e/build-real-dockerfiles.sh
# It uses its own podman store (build/e2e-debian) and removes its containers
# and volumes at the end; the Debian root filesystem is kept in
# build/e2e-debian/rootfs for the next run.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STATE=$REPO/build/e2e-debian
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "apt-get install debootstrap" >&2; exit 1; }
# shellcheck source=tests/e2e/podman-env.sh
. "$HERE/podman-env.sh"
volinit_podman_env "$STATE"

if ! podman image exists docker.io/library/debian:12; then
	[ -x "$STATE/rootfs/bin/sh" ] || debootstrap --variant=minbase bookworm "$STATE/rootfs" http://deb.debian.org/debian
	tar -C "$STATE/rootfs" -c . | podman import -q - docker.io/library/debian:12
	podman tag docker.io/library/debian:12 docker.io/library/debian:12-slim
fi
cleanup() {
	podman rm -f -t 0 rdf-pg rdf-example >/dev/null 2>&1 || true
	podman volume rm -f rdf-data rdf-data2 rdf-pg >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
cd "$REPO"

echo "== Dockerfile.example"
podman build --pull=never --network host -q -f Dockerfile.example --build-arg IMAGE_REF=myapp:2 -t localhost/rdf/example:2 . >/dev/null
podman volume create rdf-data >/dev/null
out=$(podman run --rm -v rdf-data:/data localhost/rdf/example:2 sh -c 'echo "app: pid $$ under $(cat /proc/1/comm), VOLINIT_IMAGE=$VOLINIT_IMAGE"' 2>&1)
echo "$out"
grep -qx 'app: pid [0-9]* under volinit, VOLINIT_IMAGE=myapp:2' <<<"$out"
# As its header says to run it: the image's own CMD on a new volume.
podman volume create rdf-data2 >/dev/null
podman run -d --name rdf-example -v rdf-data2:/data localhost/rdf/example:2 >/dev/null
deadline=$(($(date +%s) + 30))
until podman logs rdf-example 2>&1 | grep -qx 'myapp: serving on schema 2'; do
	[ "$(date +%s)" -lt "$deadline" ] || { podman logs rdf-example; exit 1; }
	sleep 0.2
done
podman stop -t 10 rdf-example >/dev/null
[ "$(podman inspect -f '{{.State.ExitCode}}' rdf-example)" = 0 ]

echo "== examples/postgres-major-version/Containerfile"
P=localhost/rdf/pg:15-volinit
podman build --pull=never --network host -q -f examples/postgres-major-version/Containerfile -t "$P" . >/dev/null
podman volume create rdf-pg >/dev/null
podman run -d --name rdf-pg -v rdf-pg:/var/lib/postgresql/data "$P" >/dev/null
deadline=$(($(date +%s) + 60))
until podman logs rdf-pg 2>&1 | grep -q 'ready to accept connections'; do
	[ "$(date +%s)" -lt "$deadline" ] || { podman logs rdf-pg; exit 1; }
	sleep 0.2
done
podman exec rdf-pg psql -U postgres -Atc 'select version()'
podman stop -t 30 rdf-pg >/dev/null
[ "$(podman inspect -f '{{.State.ExitCode}}' rdf-pg)" = 0 ]
podman logs rdf-pg 2>&1 | grep 'received smart shutdown request'
echo "== both built and ran"
