#!/usr/bin/env bash
# Prepares what `docker-compose build` and `up` need besides the compose file:
#  1. deploy/image/bin/: the release binaries (taonet, taonet-otlp-receiver),
#     debug info stripped, from $CARGO_TARGET_DIR (default ./target)/release.
#     Build them first: cargo build --release -p taonet -p otlp-receiver
#  2. $TAONET_SECRETS (default deploy/secrets/): one random NATS password per
#     user (nats_<user>_password), created once and never overwritten.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
mkdir -p "$here/image/bin"
for b in taonet taonet-otlp-receiver; do
  src="$target/release/$b"
  [ -x "$src" ] || { echo "prepare: $src missing: cargo build --release -p taonet -p otlp-receiver" >&2; exit 1; }
  if [ ! -e "$here/image/bin/$b" ] || [ "$src" -nt "$here/image/bin/$b" ]; then
    cp "$src" "$here/image/bin/$b.tmp"
    strip --strip-debug "$here/image/bin/$b.tmp" 2>/dev/null || true
    mv "$here/image/bin/$b.tmp" "$here/image/bin/$b"
  fi
done
secrets=${TAONET_SECRETS:-$here/secrets}
mkdir -p "$secrets"
chmod 700 "$secrets"
for u in ledger consensus amm governance cli; do
  f="$secrets/nats_${u}_password"
  if [ ! -s "$f" ]; then
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f"
  fi
  # Readable inside the containers (they run as uid 10001; compose mounts
  # the file itself), protected on the host by the 0700 directory.
  chmod 644 "$f"
done
echo "prepare: binaries in $here/image/bin, NATS passwords in $secrets"
