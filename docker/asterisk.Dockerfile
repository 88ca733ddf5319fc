# Asterisk 22 from Debian sid, the same packages the test bed's rootfs holds.
# The app renders the configuration into /srv/phonebank/run (a shared volume) and starts
# Asterisk itself, so this image only provides the binary, modules and sounds.
FROM debian:sid-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      asterisk asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm \
 && rm -rf /var/lib/apt/lists/*
