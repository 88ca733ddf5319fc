# The phonebank engine and web app. Uses an installed Asterisk (pbx.asterisk = "host"),
# so it is built on the Asterisk image.
FROM phonebank-asterisk:22
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv espeak-ng sox \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/phonebank
COPY . .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir .
ENV PHONEBANK_PBX_ASTERISK=host \
    PHONEBANK_PBX_STATE_DIR=/var/lib/phonebank \
    PHONEBANK_PBX_CACHE_DIR=/var/cache/phonebank
VOLUME ["/var/lib/phonebank", "/var/cache/phonebank"]
CMD ["/opt/venv/bin/phonebank", "run"]
