# The phonebank engine and web app with the dialer PBX it starts itself (pbx.asterisk = "host").
# Two stages, each an image of its own:
#   asterisk  Asterisk 22 from Debian's packages, the prompts and hold music
#             (podman/docker build --target asterisk -f docker/app.Dockerfile -t phonebank-asterisk .)
#   app       the asterisk stage plus Python and phonebank (the default target)
# Build from the repository root. Layers are ordered so that a code change rebuilds only the
# last two (the dependencies are installed before the source is copied).
FROM debian:sid-slim AS asterisk
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      asterisk asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm \
 && rm -rf /var/lib/apt/lists/*

FROM asterisk AS app
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates espeak-ng sox procps \
 && rm -rf /var/lib/apt/lists/*
# pip's CA bundle, for a build machine behind a TLS-inspecting proxy (--build-arg PIP_CERT=...);
# unset otherwise.
ARG PIP_CERT
WORKDIR /opt/phonebank
# The dependencies only (from setup.cfg), so this layer survives code changes.
COPY setup.cfg pyproject.toml ./
RUN python3 -m venv /opt/venv \
 && python3 -c "import configparser; c = configparser.ConfigParser(); c.read('setup.cfg'); \
print(c['options']['install_requires'])" > /tmp/requirements.txt \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY README.md ./
COPY asterisk_conf asterisk_conf
COPY engine engine
COPY web web
RUN test -f web/static/vendor/jssip.min.js || { echo "web/static/vendor/jssip.min.js is \
missing: run 'make jssip' in the repository before building the image" >&2; exit 1; }
COPY phonebank phonebank
# Editable: the engine finds asterisk_conf/ and web/ their templates next to the source.
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps -e . \
 && printf '#!/bin/sh\nexec /opt/venv/bin/phonebank --config /etc/phonebank/phonebank.toml "$@"\n' \
      > /usr/local/bin/phonebank \
 && chmod 755 /usr/local/bin/phonebank
# `phonebank ...` (also through `exec`) always reads this file; PHONEBANK_* variables override it.
COPY docker/phonebank.toml /etc/phonebank/phonebank.toml
VOLUME ["/var/lib/phonebank"]
CMD ["phonebank", "run"]
