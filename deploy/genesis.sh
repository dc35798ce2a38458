#!/usr/bin/env bash
# Writes the cluster's genesis (default deploy/genesis.json, or $TAONET_GENESIS)
# from NAME_OR_SS58=TAO pairs; wallet names are resolved through the CLI
# container's wallet volume (create them first with
# `docker-compose run --rm --no-deps cli wallet create --name NAME --no-password`).
# The ledger applies it once, on its first start with an empty log.
#   deploy/genesis.sh alice=1000 bob=10
# Block time: TAONET_BLOCK_TIME_MS (default 12000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${TAONET_GENESIS:-$here/genesis.json}
block_ms=${TAONET_BLOCK_TIME_MS:-12000}
balances=""
for pair in "$@"; do
  who=${pair%%=*}
  tao=${pair#*=}
  [ "$who" != "$pair" ] || { echo "genesis: expected NAME_OR_SS58=TAO, got $pair" >&2; exit 1; }
  if [[ ${#who} -ge 46 && $who =~ ^5[1-9A-HJ-NP-Za-km-z]+$ ]]; then
    addr=$who
  else
    addr=$(docker-compose run --rm --no-deps -T cli wallet show --name "$who" \
      | sed -n 's/.*"coldkey": *"\([1-9A-HJ-NP-Za-km-z]*\)".*/\1/p' | head -1)
    [ -n "$addr" ] || { echo "genesis: no wallet $who in the cli container's wallet volume" >&2; exit 1; }
  fi
  # TAO (up to 9 decimals) to RAO, in integers.
  int=${tao%%.*}; frac=""
  [ "$int" = "$tao" ] || frac=${tao#*.}
  frac=$(printf '%-9s' "$frac" | tr ' ' 0)
  rao=$(( 10#${int:-0} * 1000000000 + 10#${frac:0:9} ))
  balances="$balances${balances:+, }[\"$addr\", $rao]"
done
printf '{\n  "balances": [%s],\n  "clock": {"auto": {"block_time_ms": %s}}\n}\n' "$balances" "$block_ms" > "$out"
chmod 644 "$out"
echo "genesis: wrote $out" >&2
