"""Several dialer nodes driven by one engine (issue 16): each node's telephony stack
(runtime.py) and the router that sends each request about a session to its node
(router.py). The pure placement rules are engine/sessions/placement.py."""
