#!/bin/sh
# Entry point of each NATS node (POSIX sh: runs in the public nats:*-alpine
# image and in the test stand-in). Reads every user's password and the
# route password from their secret files into the environment of nats-server
# only (nats.conf refers to them as $NATS_PASS_<user>, $NATS_ROUTE_PASS and
# $NATS_ROUTES, quoted), checks the route TLS files, then becomes nats-server
# (PID 1, so it gets docker's SIGTERM and shuts down cleanly).
#   NATS_SERVER_NAME     this node (nats1, nats2, nats3)
#   NATS_CLUSTER_NODES   every node's host name (default "nats1 nats2 nats3")
#   NATS_SECRETS_DIR     where the secret files are (default /run/secrets)
set -eu
dir=${NATS_SECRETS_DIR:-/run/secrets}
read_secret() {  # FILE: its content, refused if empty or unsafe in nats.conf
  if [ ! -s "$1" ]; then
    echo "nats: missing secret file $1 (run deploy/prepare.sh)" >&2
    exit 1
  fi
  pw=$(cat "$1")
  case $pw in
    *\"* | *\\* | *"
"*) echo "nats: $1: a password may not contain quotes, backslashes or newlines" >&2; exit 1 ;;
  esac
}
for u in ledger consensus amm governance cli; do
  read_secret "$dir/nats_${u}_password"
  # Quoted, so nats.conf reads it as a string whatever it looks like.
  export "NATS_PASS_${u}=\"${pw}\""
done
# Routes: every node authenticates to every other one as user `route`
# (URL-embedded credentials: nats-server 2.9 sends no others), over TLS.
read_secret "$dir/nats_route_password"
case $pw in
  *[!A-Za-z0-9._~-]*) echo "nats: $dir/nats_route_password: only URL-safe characters (A-Z a-z 0-9 . _ ~ -)" >&2; exit 1 ;;
esac
export NATS_ROUTE_PASS="\"${pw}\""
routes=""
for n in ${NATS_CLUSTER_NODES:-nats1 nats2 nats3}; do
  routes="$routes${routes:+, }\"nats-route://route:${pw}@${n}:6222\""
done
export NATS_ROUTES="[${routes}]"
for f in nats_route_ca nats_route_cert nats_route_key; do
  [ -s "$dir/$f" ] || { echo "nats: missing secret file $dir/$f (run deploy/prepare.sh)" >&2; exit 1; }
done
export NATS_ROUTE_CA="\"$dir/nats_route_ca\"" NATS_ROUTE_CERT="\"$dir/nats_route_cert\"" NATS_ROUTE_KEY="\"$dir/nats_route_key\""
unset pw routes
: "${NATS_SERVER_NAME:?set NATS_SERVER_NAME (nats1, nats2, nats3)}"
exec nats-server --config /etc/taonet/nats/nats.conf
