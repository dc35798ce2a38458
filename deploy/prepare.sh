#!/usr/bin/env bash
# Prepares what `docker-compose build` and `up` need besides the compose file:
#  1. deploy/image/bin/: the release binaries (taonet, taonet-otlp-receiver),
#     debug info stripped, from $CARGO_TARGET_DIR (default ./target)/release.
#     Build them first: cargo build --release -p taonet -p otlp-receiver
#  2. $TAONET_SECRETS (default deploy/secrets/): one random NATS password per
#     user (nats_<user>_password) and one for the routes between the NATS
#     nodes (nats_route_password), created once and never overwritten.
#  3. In the same directory, TLS for the routes (openssl): a private CA
#     (nats_route_ca.pem; its key nats_route_ca.key stays here, never mounted)
#     and one node certificate for nats1..3 (nats_route_cert.pem,
#     nats_route_key.pem; SANs from $TAONET_NATS_NODES, default
#     "nats1 nats2 nats3"), valid 10 years, created once. Delete the four
#     files to issue new ones.
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
for u in ledger consensus amm governance cli route; do
  f="$secrets/nats_${u}_password"
  if [ ! -s "$f" ]; then
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$f"
  fi
  # Readable inside the containers (they run as uid 10001; compose mounts
  # the file itself), protected on the host by the 0700 directory.
  chmod 644 "$f"
done
# Route TLS: the nodes verify each other both ways (NATS always verifies
# route peers), against this private CA.
ca=$secrets/nats_route_ca.pem cakey=$secrets/nats_route_ca.key
crt=$secrets/nats_route_cert.pem key=$secrets/nats_route_key.pem
if [ ! -s "$crt" ] || [ ! -s "$key" ] || [ ! -s "$ca" ]; then
  command -v openssl >/dev/null || { echo "prepare: openssl is needed for the NATS route certificates" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if [ ! -s "$ca" ] || [ ! -s "$cakey" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=taonet NATS route CA" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>"$tmp/err" \
      || { cat "$tmp/err" >&2; exit 1; }
    mv "$tmp/ca.key" "$cakey"; mv "$tmp/ca.pem" "$ca"
  fi
  san=""
  for n in ${TAONET_NATS_NODES:-nats1 nats2 nats3}; do san="$san${san:+,}DNS:$n"; done
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' "$san" >"$tmp/ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=taonet-nats-route" -keyout "$tmp/node.key" -out "$tmp/node.csr" 2>"$tmp/err" \
    && openssl x509 -req -in "$tmp/node.csr" -CA "$ca" -CAkey "$cakey" -days 3650 \
      -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -extfile "$tmp/ext" -out "$tmp/node.pem" 2>"$tmp/err" \
    || { cat "$tmp/err" >&2; exit 1; }
  mv "$tmp/node.key" "$key"; mv "$tmp/node.pem" "$crt"
  rm -rf "$tmp"
  trap - EXIT
fi
chmod 600 "$cakey" 2>/dev/null || true
# Mounted into the NATS containers like the passwords (readable there,
# protected on the host by the 0700 directory).
chmod 644 "$ca" "$crt" "$key"
echo "prepare: binaries in $here/image/bin, NATS passwords and route TLS in $secrets"
