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
    ts        timestamptz := date_trunc('microseconds', clock_timestamp());
    ts_field  text;
    evs       jsonb[];
    prevs     text[] := '{}';
    hashes    text[] := '{}';
    ev        jsonb;
    cur_seq   bigint;
    prev_h    text;
    actor_id  text;
    before_t  text;
    after_t   text;
BEGIN
    IF jsonb_typeof(events) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'audit_append takes a JSON array of events' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chain_head h WHERE h.id = 1 FOR UPDATE;
    IF jsonb_array_length(events) = 0 THEN
        RETURN head_seq;
    END IF;
    -- The same microsecond text as audit_event_hash computes from the stored column.
    ts_field := (extract(epoch FROM ts) * 1000000)::bigint::text;
    ts_field := octet_length(ts_field) || ':' || ts_field || ';';
    SELECT array_agg(value ORDER BY ord) INTO evs FROM jsonb_array_elements(events) WITH ORDINALITY AS e(value, ord);
    cur_seq := head_seq;
    FOREACH ev IN ARRAY evs LOOP
        cur_seq := cur_seq + 1;
        actor_id := coalesce((ev->>'actor_id')::bigint::text, '');
        before_t := coalesce(nullif(ev->'before', 'null'::jsonb)::text, 'null');
        after_t := coalesce(nullif(ev->'after', 'null'::jsonb)::text, 'null');
        prev_h := head_hash;
        prevs := prevs || prev_h;
        head_hash := encode(sha256(convert_to(
            'biobank-audit-v1;'
            || octet_length(cur_seq::text) || ':' || cur_seq::text || ';'
            || ts_field
            || octet_length(actor_id) || ':' || actor_id || ';'
            || audit_field(ev->>'actor')
            || audit_field(coalesce(ev->>'site', ''))
            || audit_field(ev->>'action')
            || audit_field(ev->>'entity_type')
            || audit_field(ev->>'entity_id')
            || audit_field(coalesce(ev->>'reason', ''))
            || octet_length(before_t) || ':' || before_t || ';'
            || octet_length(after_t) || ':' || after_t || ';'
            || octet_length(prev_h) || ':' || prev_h || ';',
            'UTF8')), 'hex');
        hashes := hashes || head_hash;
    END LOOP;
    PERFORM set_config('biobank.audit_append', 'on', true);
    INSERT INTO audit_events (seq, at, actor_id, actor, site, action, entity_type, entity_id, reason, before, after, prev_hash, hash)
    SELECT head_seq + x.ord, ts, (x.ev->>'actor_id')::bigint, x.ev->>'actor', coalesce(x.ev->>'site', ''), x.ev->>'action',
        x.ev->>'entity_type', x.ev->>'entity_id', coalesce(x.ev->>'reason', ''),
        nullif(x.ev->'before', 'null'::jsonb), nullif(x.ev->'after', 'null'::jsonb), x.prev, x.hash
    FROM unnest(evs, prevs, hashes) WITH ORDINALITY AS x(ev, prev, hash, ord);
    PERFORM set_config('biobank.audit_append', 'off', true);
    UPDATE audit_chain_head SET seq = cur_seq, hash = head_hash WHERE id = 1;
    RETURN cur_seq;
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
