"""SQLite migration 8: the shared abandon budget's hourly counters and the triggers that keep
them (engine/store/live_answer_counts.py says the rule). Times are UTC ISO text, so the first
13 characters (YYYY-MM-DDTHH) name the hour."""

_COUNTED = (
    "{row}.outcome IN ('contact', 'abandoned') AND {row}.amd_verdict != ''"
    " AND coalesce({row}.ended_at, {row}.amd_at) IS NOT NULL"
)
_HOUR = "substr(coalesce({row}.ended_at, {row}.amd_at), 1, 13)"
_ADD = f"""
    INSERT INTO live_answer_counts (campaign_id, hour, live_answers, abandons)
    VALUES (NEW.campaign_id, {_HOUR.format(row="NEW")}, 1, NEW.outcome = 'abandoned')
    ON CONFLICT (campaign_id, hour) DO UPDATE
    SET live_answers = live_answers + 1, abandons = abandons + excluded.abandons;"""
_TAKE = f"""
    UPDATE live_answer_counts
    SET live_answers = live_answers - 1, abandons = abandons - (OLD.outcome = 'abandoned')
    WHERE campaign_id = OLD.campaign_id AND hour = {_HOUR.format(row="OLD")};"""
_COLUMNS = "outcome, amd_verdict, ended_at, amd_at, campaign_id"

V8_LIVE_ANSWER_COUNTS = f"""
-- Issue 16: the abandon budget as counters per campaign and UTC hour, kept by triggers in the
-- transaction that records each outcome; abandon_counts sums them.
CREATE TABLE live_answer_counts (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    hour TEXT NOT NULL,             -- UTC, YYYY-MM-DDTHH
    live_answers INTEGER NOT NULL,
    abandons INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, hour)
) WITHOUT ROWID;

INSERT INTO live_answer_counts (campaign_id, hour, live_answers, abandons)
SELECT campaign_id, {_HOUR.format(row="attempts")}, count(*), sum(outcome = 'abandoned')
FROM attempts WHERE {_COUNTED.format(row="attempts")}
GROUP BY 1, 2;

CREATE TRIGGER live_answers_insert AFTER INSERT ON attempts
WHEN {_COUNTED.format(row="NEW")}
BEGIN {_ADD}
END;

CREATE TRIGGER live_answers_update_old AFTER UPDATE OF {_COLUMNS} ON attempts
WHEN {_COUNTED.format(row="OLD")}
BEGIN {_TAKE}
END;

CREATE TRIGGER live_answers_update_new AFTER UPDATE OF {_COLUMNS} ON attempts
WHEN {_COUNTED.format(row="NEW")}
BEGIN {_ADD}
END;

CREATE TRIGGER live_answers_delete AFTER DELETE ON attempts
WHEN {_COUNTED.format(row="OLD")}
BEGIN {_TAKE}
END;
"""
