#!/usr/bin/env bash
# Builds, on a machine that cannot pull images, local stand-ins for the two
# public base images deploy/ uses, tagged with exactly their public names so
# the same Dockerfiles and compose file resolve:
#   debian:bookworm-slim  <- debootstrap --variant=minbase bookworm (Debian mirror)
#   nats:2.10-alpine      <- deploy/test/nats/Dockerfile: this host's nats-server
#                            (Debian's package) and a static busybox for wget
# Each is skipped when the tag already exists (delete it to rebuild).
# Users with internet access never run this: `docker-compose` pulls the real ones.
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_TAG=debian:bookworm-slim
NATS_TAG=nats:2.10-alpine
CACHE=${TAONET_IMAGE_CACHE:-/var/tmp/taonet-deploy-cache}
mkdir -p "$CACHE"

# The Debian mirror this machine's apt uses (deb822 or one-line sources).
mirror() {
  local m
  m=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  if [ -z "$m" ]; then
    m=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | awk '{print $2}' | head -1 || true)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "base-images: need $* (run as root or install it)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

if docker image inspect "$DEBIAN_TAG" >/dev/null 2>&1; then
  echo "base-images: $DEBIAN_TAG present (cached)"
else
  command -v debootstrap >/dev/null || apt_install debootstrap
  root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "base-images: debootstrap minbase bookworm from $(mirror) ..."
  debootstrap --variant=minbase bookworm "$root" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  # Slim it the way the -slim image is: no apt lists, caches, docs or man pages.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
         "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*
  tar -C "$root" -c . | docker import -c 'CMD ["bash"]' - "$DEBIAN_TAG" >/dev/null
  rm -rf "$root"
  trap - EXIT
  echo "base-images: imported $DEBIAN_TAG"
fi

if docker image inspect "$NATS_TAG" >/dev/null 2>&1; then
  echo "base-images: $NATS_TAG present (cached)"
else
  command -v nats-server >/dev/null || apt_install nats-server
  ctx=$(mktemp -d "$CACHE/nats-ctx.XXXXXX")
  trap 'rm -rf "$ctx"' EXIT
  cp nats/Dockerfile "$ctx/"
  cp "$(command -v nats-server)" "$ctx/nats-server"
  # busybox-static gives the image the `wget` the alpine image's health check uses.
  if [ ! -x "$CACHE/busybox" ]; then
    (cd "$ctx" && apt-get download busybox-static >/dev/null 2>&1) \
      || { apt-get update -qq && (cd "$ctx" && apt-get download busybox-static >/dev/null); }
    dpkg-deb -x "$ctx"/busybox-static_*.deb "$ctx/bb"
    cp "$ctx/bb/bin/busybox" "$CACHE/busybox"
  fi
  cp "$CACHE/busybox" "$ctx/busybox"
  docker build -q -t "$NATS_TAG" "$ctx" >/dev/null
  rm -rf "$ctx"
  trap - EXIT
  echo "base-images: built $NATS_TAG from $(nats-server --version)"
fi
