"""Several engine processes on one PostgreSQL database (issue 16 item 4): node leases (which
engine drives which Asterisk node), the event bus between engines (LISTEN/NOTIFY) with its
Notifier relay and request/reply, and the engines table the dashboard reads. With SQLite
there is one engine: LocalLeases owns every node and LocalBus delivers in the process."""
