"""PostgreSQL migration 6: the shared abandon budget's hourly counters and the trigger that
keeps them (engine/store/live_answer_counts.py says the rule). Hours are cut in UTC whatever
the session's time zone (date_trunc with 'UTC'); the upsert makes two engines recording
outcomes at once add up, each in its own transaction."""

V6_LIVE_ANSWER_COUNTS = """
CREATE TABLE live_answer_counts (
    campaign_id bigint NOT NULL REFERENCES campaigns(id),
    hour timestamptz NOT NULL,      -- the start of a UTC clock hour
    live_answers integer NOT NULL,
    abandons integer NOT NULL,
    PRIMARY KEY (campaign_id, hour)
);

INSERT INTO live_answer_counts (campaign_id, hour, live_answers, abandons)
SELECT campaign_id, date_trunc('hour', coalesce(ended_at, amd_at), 'UTC'), count(*),
       count(*) FILTER (WHERE outcome = 'abandoned')
FROM attempts
WHERE outcome IN ('contact', 'abandoned') AND amd_verdict <> ''
  AND coalesce(ended_at, amd_at) IS NOT NULL
GROUP BY 1, 2;

CREATE FUNCTION count_live_answers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.outcome IN ('contact', 'abandoned')
       AND OLD.amd_verdict <> '' AND coalesce(OLD.ended_at, OLD.amd_at) IS NOT NULL THEN
        UPDATE live_answer_counts
        SET live_answers = live_answers - 1,
            abandons = abandons - (OLD.outcome = 'abandoned')::integer
        WHERE campaign_id = OLD.campaign_id
          AND hour = date_trunc('hour', coalesce(OLD.ended_at, OLD.amd_at), 'UTC');
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.outcome IN ('contact', 'abandoned')
       AND NEW.amd_verdict <> '' AND coalesce(NEW.ended_at, NEW.amd_at) IS NOT NULL THEN
        INSERT INTO live_answer_counts (campaign_id, hour, live_answers, abandons)
        VALUES (NEW.campaign_id, date_trunc('hour', coalesce(NEW.ended_at, NEW.amd_at), 'UTC'),
                1, (NEW.outcome = 'abandoned')::integer)
        ON CONFLICT (campaign_id, hour) DO UPDATE
        SET live_answers = live_answer_counts.live_answers + 1,
            abandons = live_answer_counts.abandons + excluded.abandons;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER live_answers AFTER INSERT OR DELETE
    OR UPDATE OF outcome, amd_verdict, ended_at, amd_at, campaign_id ON attempts
    FOR EACH ROW EXECUTE FUNCTION count_live_answers();
"""
