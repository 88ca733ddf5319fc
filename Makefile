# phonebank: `make run` starts everything, `make test` checks everything.
# Every step installs what it needs and skips what is already done.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# npm fetches JsSIP (the browser softphone); Debian's nodejs/npm only when npm is missing.
# The deployment tests (issue 13) add the container tools, the front proxy, the TURN relay,
# the other browsers (Firefox ESR, WebKitGTK) and iptables for the remote-volunteer network.
# PostgreSQL and Kamailio (issue 16): tests start their own servers (testbed/postgres.py,
# testbed/kamailio.py).
APT_PACKAGES := debootstrap espeak-ng sox chromium chromium-driver \
	podman buildah runc uidmap slirp4netns fuse-overlayfs caddy coturn \
	firefox-esr webkit2gtk-driver xvfb iptables postgresql kamailio \
	$(if $(shell command -v npm),,nodejs npm)
JSSIP_VERSION := 3.12.0
JSSIP := web/static/vendor/jssip.min.js
# axe-core: the accessibility checker the e2e suite runs on every page (tests only; never served).
AXE_VERSION := 4.10.3
AXE := build/vendor/axe.min.js
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=40

.PHONY: run test lint unit integration e2e bench bench-amd-offline bench-pacing bench-frontier bench-live bench-signup bench-lag setup deps venv pbx jssip axe clean

# The whole system with the carrier simulator as the phone network (testbed/cli.py); in
# production, `phonebank run` starts the dialer PBX alone and calls through [trunk].
run: setup
	$(BIN)/python -m testbed run

test: setup lint
	$(BIN)/pytest $(PYTEST_ARGS)

unit: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: setup
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check engine web phonebank testbed tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/amd_accuracy.py

# The streaming answering-machine detector (issue 17) offline on both voice sets, every VAD and
# the thresholds' trade-off (about 2 min; docs/testbed.md "The streaming detector").
bench-amd-offline: deps venv
	$(BIN)/python bench/amd_offline.py --repeat 3
	$(BIN)/python bench/amd_offline.py --vad webrtc --tradeoff

# Pacing: the simulator tables (about 11 min on 2 cores: the policies told the true world, the
# predictive campaign learning cold and warm, small teams, drifting worlds; issue 15).
bench-pacing: venv
	$(BIN)/python -m bench.pacing

# The predictive policy's contacts-versus-abandons trade-off with θ held fixed (about 5 min).
bench-frontier: venv
	$(BIN)/python -m bench.pacing.frontier

bench-live: setup
	$(BIN)/python bench/live_pacing.py --minutes 10 --volunteers 10 --voters 1000 --mode predictive

bench-signup: setup
	$(BIN)/python bench/signup_flood.py --flood 300

bench-lag: venv
	$(BIN)/python bench/event_loop_lag.py --voters 100000 --seconds 40

setup: deps venv pbx jssip axe

# Debian packages: installed only when one is missing.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# The Asterisk rootfs (cached under /var/cache/phonebank) and the test bed's synthetic voices.
pbx: venv
	$(BIN)/python -m testbed build

# JsSIP for the browser softphone, from npm at a pinned version: 3.12.0 is the last release
# that ships a prebuilt dist/jssip.min.js. Built here, never committed (.gitignore).
jssip: $(JSSIP)

$(JSSIP):
	mkdir -p build/npm $(dir $@)
	cd build/npm && npm pack --silent jssip@$(JSSIP_VERSION) >/dev/null
	tar -xzf build/npm/jssip-$(JSSIP_VERSION).tgz -C build/npm package/dist/jssip.min.js
	cp build/npm/package/dist/jssip.min.js $@

# axe-core for tests/e2e/test_accessibility.py, from npm at a pinned version, like JsSIP.
axe: $(AXE)

$(AXE):
	mkdir -p build/npm $(dir $@)
	cd build/npm && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	tar -xzf build/npm/axe-core-$(AXE_VERSION).tgz -C build/npm package/axe.min.js
	cp build/npm/package/axe.min.js $@

clean:
	rm -rf $(VENV) build $(dir $(JSSIP)) .mypy_cache .pytest_cache .ruff_cache *.egg-info
