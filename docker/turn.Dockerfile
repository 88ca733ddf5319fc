# The TURN relay: Debian's coturn, configured by flags only (docker/turnserver.sh reads them
# from the environment; PHONEBANK_TURN_SECRET is required and is the same secret phonebank
# mints credentials with).
FROM debian:sid-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends coturn \
 && rm -rf /var/lib/apt/lists/*
COPY docker/turnserver.sh /usr/local/bin/phonebank-turnserver
CMD ["/usr/local/bin/phonebank-turnserver"]
