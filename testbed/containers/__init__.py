"""The containers of docker/ under test: podman settings, images built with cached layers
(podman.py), a compose stack per test with free ports (stack.py), and a TURN allocation
probe (turn_probe.py)."""
