#!/bin/sh
# Start coturn for phonebank from environment variables (docker/.env.example explains them).
# Credentials are TURN REST ones minted by phonebank with the shared secret; no static users.
# coturn 4.18 (Debian sid) has its CLI and DTLS off by default and refuses --no-dtls.
set -eu
if [ -z "${PHONEBANK_TURN_SECRET:-}" ]; then
    echo "phonebank-turnserver: PHONEBANK_TURN_SECRET is empty: set it (the same value phonebank uses) and start again" >&2
    exit 1
fi
set -- -n --use-auth-secret --static-auth-secret="$PHONEBANK_TURN_SECRET" \
    --realm="${PHONEBANK_TURN_REALM:-phonebank}" \
    --listening-port="${PHONEBANK_TURN_PORT:-3478}" \
    --min-port="${PHONEBANK_TURN_MIN_PORT:-61000}" --max-port="${PHONEBANK_TURN_MAX_PORT:-61999}" \
    --no-tls --fingerprint --no-multicast-peers \
    --pidfile=/run/turnserver.pid --log-file=stdout --simple-log
if [ -n "${PHONEBANK_TURN_LISTEN_IP:-}" ]; then
    set -- "$@" --listening-ip="$PHONEBANK_TURN_LISTEN_IP" --relay-ip="$PHONEBANK_TURN_LISTEN_IP"
fi
if [ -n "${PHONEBANK_TURN_EXTERNAL_IP:-}" ]; then
    set -- "$@" --external-ip="$PHONEBANK_TURN_EXTERNAL_IP"
fi
# Address ranges the relay must never reach (other hosts on the server's private network), as
# coturn writes them: "10.0.0.0-10.255.255.255,172.16.0.0-172.31.255.255".
for range in $(echo "${PHONEBANK_TURN_DENIED_PEERS:-}" | tr ',' ' '); do
    set -- "$@" --denied-peer-ip="$range"
done
if [ "${PHONEBANK_TURN_ALLOW_LOOPBACK:-}" = "yes" ]; then
    set -- "$@" --allow-loopback-peers
fi
exec turnserver "$@"
