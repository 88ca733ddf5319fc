# The front proxy: Debian's Caddy with docker/Caddyfile (HTTPS, WSS to the dialer PBX's /ws).
# Settings come from PHONEBANK_SITE, PHONEBANK_TLS, PHONEBANK_WEB, PHONEBANK_PBX_WS (see the
# Caddyfile); certificates and Caddy's own CA live in /var/lib/caddy (a volume).
FROM debian:sid-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      caddy ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY docker/Caddyfile /etc/caddy/Caddyfile
ENV PHONEBANK_CADDY_DATA=/var/lib/caddy
VOLUME ["/var/lib/caddy"]
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
