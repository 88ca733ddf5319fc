"""Discrete-event simulation of a phone-banking campaign driving the real pacing policies.

.venv/bin/python -m bench.pacing [--quick]
"""
