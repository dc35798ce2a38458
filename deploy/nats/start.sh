#!/bin/sh
# Entry point of each NATS node (POSIX sh: runs in the public nats:*-alpine
# image and in the test stand-in). Reads every user's password from its
# secret file into the environment of nats-server only (nats.conf refers to
# them as $NATS_PASS_<user>, quoted), then becomes nats-server (PID 1, so it gets
# docker's SIGTERM and shuts down cleanly).
set -eu
for u in ledger consensus amm governance cli; do
  f="${NATS_SECRETS_DIR:-/run/secrets}/nats_${u}_password"
  if [ ! -s "$f" ]; then
    echo "nats: missing password file $f (run deploy/prepare.sh)" >&2
    exit 1
  fi
  pw=$(cat "$f")
  case $pw in
    *\"* | *\\* | *"
"*) echo "nats: $f: a password may not contain quotes, backslashes or newlines" >&2; exit 1 ;;
  esac
  # Quoted, so nats.conf reads it as a string whatever it looks like.
  export "NATS_PASS_${u}=\"${pw}\""
done
: "${NATS_SERVER_NAME:?set NATS_SERVER_NAME (nats1, nats2, nats3)}"
exec nats-server --config /etc/taonet/nats/nats.conf
