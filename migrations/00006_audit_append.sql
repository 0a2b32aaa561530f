-- +goose Up
-- One way into the audit trail: audit_append(jsonb) chains and hashes a whole transaction's
-- events under one lock of the chain head and inserts them in one statement. The per-row
-- trigger that did this one event at a time (locking and updating the head for every
-- event) is gone, and a plain INSERT into audit_events is refused. The hash encoding is
-- unchanged, byte for byte: events written before this migration verify after it.

DROP TRIGGER audit_events_chain ON audit_events;
DROP FUNCTION audit_events_chain();

-- audit_append takes a JSON array of events, each an object with actor_id (number or
-- null), actor, site, action, entity_type, entity_id, reason, before and after (any JSON;
-- null stores SQL NULL). It assigns consecutive sequence numbers after the chain head, one
-- time for the whole batch, links and hashes each event as audit_event_hash does, inserts
-- them and moves the head, all under one row lock of the head held until commit. It
-- returns the sequence number of the last event appended (the head's when the array is
-- empty).
-- +goose StatementBegin
CREATE FUNCTION audit_append(events jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash text;
    ts        timestamptz;
    ts_field  text;
    mids      text[];
    mid       text;
    prevs     text[] := '{}';
    hashes    text[] := '{}';
    n         int;
    i         int := 0;
    f         text;
BEGIN
    IF jsonb_typeof(events) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'audit_append takes a JSON array of events' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n := jsonb_array_length(events);
    IF n = 0 THEN
        RETURN (SELECT h.seq FROM audit_chain_head h WHERE h.id = 1);
    END IF;
    -- Everything of an event's encoding but its sequence number, time and link, set-based
    -- and before the chain head is locked (the lock is held until commit, so what needs no
    -- lock is done first): the field texts are those audit_event_hash reads back from the
    -- stored columns.
    SELECT array_agg(concat(
            octet_length(coalesce(x.actor_id::text, '')), ':', x.actor_id, ';',
            octet_length(x.actor), ':', x.actor, ';',
            octet_length(coalesce(x.site, '')), ':', x.site, ';',
            octet_length(x.action), ':', x.action, ';',
            octet_length(x.entity_type), ':', x.entity_type, ';',
            octet_length(x.entity_id), ':', x.entity_id, ';',
            octet_length(coalesce(x.reason, '')), ':', x.reason, ';',
            octet_length(j.b), ':', j.b, ';',
            octet_length(j.a), ':', j.a, ';')
            ORDER BY x.ord)
        INTO mids
        FROM ROWS FROM (jsonb_to_recordset(events) AS (actor_id bigint, actor text, site text, action text, entity_type text,
            entity_id text, reason text, before jsonb, after jsonb)) WITH ORDINALITY
            AS x(actor_id, actor, site, action, entity_type, entity_id, reason, before, after, ord),
        LATERAL (SELECT coalesce(nullif(x.before, 'null'::jsonb)::text, 'null') AS b,
            coalesce(nullif(x.after, 'null'::jsonb)::text, 'null') AS a) AS j;
    -- Appenders queue on one transaction-level advisory lock (a single wait, handed on
    -- at commit) rather than on the head row's lock (a tuple lock, a wait for the holder's
    -- transaction and a re-check of the updated row). Under it the head is read without a
    -- row lock: the previous holder has committed, so a READ COMMITTED statement sees its
    -- head; in a REPEATABLE READ transaction a stale head makes the UPDATE below fail with
    -- a serialization error instead of forking the chain.
    PERFORM pg_advisory_xact_lock(6161756469740001); -- the audit chain's key: no other advisory lock uses it
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_head h WHERE h.id = 1;
    -- One time for the batch, read under the lock so that times follow sequence numbers.
    ts := date_trunc('microseconds', clock_timestamp());
    ts_field := (extract(epoch FROM ts) * 1000000)::bigint::text;
    ts_field := octet_length(ts_field) || ':' || ts_field || ';';
    -- The chain itself, one event after another. FOREACH walks the array once; plpgsql
    -- appends to its array variables in place, so a batch costs linear time.
    FOREACH mid IN ARRAY mids LOOP
        i := i + 1;
        f := (head_seq + i)::text;
        prevs := prevs || head_hash;
        head_hash := encode(sha256(convert_to(concat('biobank-audit-v1;', octet_length(f), ':', f, ';', ts_field, mid,
            octet_length(head_hash), ':', head_hash, ';'), 'UTF8')), 'hex');
        hashes := hashes || head_hash;
    END LOOP;
    PERFORM set_config('biobank.audit_append', 'on', true);
    INSERT INTO audit_events (seq, at, actor_id, actor, site, action, entity_type, entity_id, reason, before, after, prev_hash, hash)
    SELECT head_seq + x.ord, ts, x.actor_id, x.actor, coalesce(x.site, ''), x.action, x.entity_type, x.entity_id, coalesce(x.reason, ''),
        nullif(x.before, 'null'::jsonb), nullif(x.after, 'null'::jsonb), h.prev, h.hash
    FROM ROWS FROM (jsonb_to_recordset(events) AS (actor_id bigint, actor text, site text, action text, entity_type text,
            entity_id text, reason text, before jsonb, after jsonb)) WITH ORDINALITY
            AS x(actor_id, actor, site, action, entity_type, entity_id, reason, before, after, ord)
    JOIN unnest(prevs, hashes) WITH ORDINALITY AS h(prev, hash, ord) ON h.ord = x.ord;
    PERFORM set_config('biobank.audit_append', 'off', true);
    UPDATE audit_chain_head SET seq = head_seq + n, hash = head_hash WHERE id = 1;
    RETURN head_seq + n;
END
$$;
-- +goose StatementEnd

-- audit_events_only_by_append refuses an INSERT that does not come from audit_append, so
-- that nothing can put an event into the trail without chaining it.
-- +goose StatementBegin
CREATE FUNCTION audit_events_only_by_append() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('biobank.audit_append', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'audit events are appended only through audit_append(jsonb)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_only_by_append BEFORE INSERT ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_only_by_append();

-- +goose Down
DROP TRIGGER audit_events_only_by_append ON audit_events;
DROP FUNCTION audit_events_only_by_append();
DROP FUNCTION audit_append(jsonb);

-- +goose StatementBegin
CREATE FUNCTION audit_events_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint;
    head_hash text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    NEW.seq := head_seq + 1;
    NEW.at := date_trunc('microseconds', clock_timestamp());
    NEW.prev_hash := head_hash;
    NEW.hash := audit_event_hash(NEW);
    UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();
