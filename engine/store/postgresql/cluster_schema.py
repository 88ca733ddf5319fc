"""The PostgreSQL schema, version 5: the tables that let several engines share one database
(issue 16 item 4, engine/cluster/). SQLite has no counterpart: with SQLite there is one engine,
which owns every node and needs no bus."""

V5_CLUSTER = """
-- The engines working on this database, for the dashboard and for each other's node leases
-- (engine/cluster/leases.py): the row is written on connect and every heartbeat; backend_pid
-- is the server process of the engine's lock connection, so a row whose backend is gone is an
-- engine that is gone (its advisory locks went with it).
CREATE TABLE engines (
    engine_id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    backend_pid integer NOT NULL,
    preferred json NOT NULL,        -- node names this engine takes first
    nodes json NOT NULL,            -- node names it owns
    started_at timestamptz NOT NULL,
    heartbeat timestamptz NOT NULL
);

-- Bus messages too large for a NOTIFY payload (engine/cluster/bus.py): the notification
-- carries the row id; rows are deleted after a minute.
CREATE TABLE bus_messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body text NOT NULL,             -- the JSON envelope the NOTIFY would have carried
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
