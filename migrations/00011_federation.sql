-- +goose Up
-- Federation: partner instances (peers) registered from their descriptors, their sites
-- known here (so that a shipment can go to, or come from, a partner's site), and the
-- nonces of imported manifests, so that a manifest is imported once.
CREATE TABLE peers (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL,
    public_key        text NOT NULL,
    accession_prefix  text NOT NULL,
    base_url          text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT peers_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);
CREATE UNIQUE INDEX peers_name_key ON peers (lower(name));
CREATE UNIQUE INDEX peers_prefix_key ON peers (accession_prefix);

ALTER TABLE sites ADD COLUMN peer_id bigint REFERENCES peers (id);
ALTER TABLE shipments ADD COLUMN peer_id bigint REFERENCES peers (id);
ALTER TABLE shipments ADD COLUMN import_nonce text;
CREATE UNIQUE INDEX shipments_import_nonce_key ON shipments (import_nonce) WHERE import_nonce IS NOT NULL;

-- +goose Down
DROP INDEX shipments_import_nonce_key;
ALTER TABLE shipments DROP COLUMN import_nonce;
ALTER TABLE shipments DROP COLUMN peer_id;
ALTER TABLE sites DROP COLUMN peer_id;
DROP TABLE peers;
