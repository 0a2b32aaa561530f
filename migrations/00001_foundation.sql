-- +goose Up
-- Foundation: sites, users, API tokens, sessions and the tamper-evident audit trail.

CREATE TABLE sites (
    id          bigserial PRIMARY KEY,
    code        text NOT NULL,
    name        text NOT NULL,
    country     char(2) NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sites_code_format CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,15}$'),
    CONSTRAINT sites_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT sites_country_format CHECK (country ~ '^[A-Z]{2}$')
);
CREATE UNIQUE INDEX sites_code_key ON sites (code);

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    username            text NOT NULL,
    role                text NOT NULL,
    site_id             bigint NOT NULL REFERENCES sites (id),
    password_hash       text NOT NULL,
    active              boolean NOT NULL DEFAULT true,
    failed_sign_ins     integer NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    last_sign_in_at     timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_valid CHECK (role IN ('admin', 'manager', 'technician', 'nurse')),
    CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
    CONSTRAINT users_failed_sign_ins_nonnegative CHECK (failed_sign_ins >= 0)
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE INDEX users_site_id_idx ON users (site_id);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    name         text NOT NULL DEFAULT '',
    token_hash   bytea NOT NULL,
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_name_length CHECK (char_length(name) <= 100),
    CONSTRAINT api_tokens_hash_length CHECK (octet_length(token_hash) = 32)
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- Web sessions (alexedwards/scs pgxstore layout). The token column holds the SHA-256 of the
-- cookie value, never the cookie itself, so a database reader cannot take over a session.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- The audit trail. Rows are only ever inserted; a BEFORE INSERT trigger assigns the
-- sequence number, the time and the hash chain under a lock on the single chain-head row,
-- so concurrent writers from any number of connections produce one unbroken chain.
CREATE TABLE audit_events (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor_id     bigint,
    actor        text NOT NULL,
    site         text NOT NULL DEFAULT '',
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    before       jsonb,
    after        jsonb,
    prev_hash    text NOT NULL,
    hash         text NOT NULL,
    CONSTRAINT audit_events_action_format CHECK (action ~ '^[a-z_]+\.[a-z_.]+$')
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, seq);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
CREATE INDEX audit_events_at_idx ON audit_events (at);

CREATE TABLE audit_chain_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

-- audit_field encodes one field as "<octet length>:<text>;" so that no two different
-- events can produce the same byte string.
-- +goose StatementBegin
CREATE FUNCTION audit_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT octet_length(coalesce(v, '')) || ':' || coalesce(v, '') || ';'
$$;
-- +goose StatementEnd

-- audit_event_hash is the SHA-256 (hex) of the canonical encoding of an event. The Go
-- verifier (internal/audit) recomputes the same encoding independently.
-- +goose StatementBegin
CREATE FUNCTION audit_event_hash(e audit_events) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(
        'biobank-audit-v1;'
        || audit_field(e.seq::text)
        || audit_field((extract(epoch FROM e.at) * 1000000)::bigint::text)
        || audit_field(e.actor_id::text)
        || audit_field(e.actor)
        || audit_field(e.site)
        || audit_field(e.action)
        || audit_field(e.entity_type)
        || audit_field(e.entity_id)
        || audit_field(e.reason)
        || audit_field(coalesce(e.before::text, 'null'))
        || audit_field(coalesce(e.after::text, 'null'))
        || audit_field(e.prev_hash),
        'UTF8')), 'hex')
$$;
-- +goose StatementEnd

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

-- +goose StatementBegin
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();
CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- +goose Down
DROP TABLE audit_events CASCADE;
DROP TABLE audit_chain_head;
DROP FUNCTION audit_events_refuse_change();
DROP FUNCTION audit_events_chain();
DROP FUNCTION audit_field(text);
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE sites;
