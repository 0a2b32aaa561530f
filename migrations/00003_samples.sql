-- +goose Up
-- Samples: every tube or container, its lineage, volume, status and hold, custody site and
-- pre-analytical processing (from which its SPREC code is computed).

CREATE SEQUENCE sample_accession_seq START 1;

CREATE TABLE samples (
    id                bigserial PRIMARY KEY,
    accession         text NOT NULL,
    tube_barcode      text,
    participant_id    bigint NOT NULL REFERENCES participants (id),
    study_id          bigint NOT NULL REFERENCES studies (id),
    visit_id          bigint NOT NULL REFERENCES visits (id),
    specimen_type     text NOT NULL REFERENCES specimen_types (code),
    container         text NOT NULL REFERENCES container_types (code),
    volume            numeric(14, 4) NOT NULL,
    initial_volume    numeric(14, 4) NOT NULL,
    unit              text NOT NULL,
    collected_at      timestamptz NOT NULL,
    collected_by      bigint REFERENCES users (id),
    received_at       timestamptz,
    received_by       bigint REFERENCES users (id),
    status            text NOT NULL DEFAULT 'collected',
    hold              boolean NOT NULL DEFAULT false,
    hold_kind         text NOT NULL DEFAULT '',
    hold_reason       text NOT NULL DEFAULT '',
    site_id           bigint NOT NULL REFERENCES sites (id),
    parent_id         bigint REFERENCES samples (id),
    freeze_thaw_count integer NOT NULL DEFAULT 0,
    processing        jsonb NOT NULL DEFAULT '{}',
    sprec             text NOT NULL DEFAULT '',
    sprec_version     text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT samples_volume_nonnegative CHECK (volume >= 0),
    CONSTRAINT samples_volume_within_initial CHECK (volume <= initial_volume),
    CONSTRAINT samples_initial_volume_positive CHECK (initial_volume > 0),
    CONSTRAINT samples_unit_valid CHECK (unit IN ('mL', 'mg', 'µg')),
    CONSTRAINT samples_status_valid CHECK (status IN
        ('collected', 'received', 'stored', 'checked_out', 'in_transit', 'consumed', 'destroyed', 'lost')),
    CONSTRAINT samples_hold_kind_valid CHECK (hold_kind IN ('', 'consent', 'quality')),
    CONSTRAINT samples_hold_consistent CHECK (hold = (hold_kind <> '')),
    CONSTRAINT samples_freeze_thaw_nonnegative CHECK (freeze_thaw_count >= 0),
    CONSTRAINT samples_tube_barcode_format CHECK (tube_barcode IS NULL OR tube_barcode ~ '^[A-Za-z0-9._-]{4,40}$'),
    CONSTRAINT samples_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX samples_accession_key ON samples (accession);
-- A tube barcode names one live sample; a destroyed or used-up tube's barcode may return
-- on a new tube.
CREATE UNIQUE INDEX samples_live_tube_barcode_key ON samples (tube_barcode)
    WHERE tube_barcode IS NOT NULL AND status NOT IN ('consumed', 'destroyed', 'lost');
CREATE INDEX samples_tube_barcode_idx ON samples (tube_barcode) WHERE tube_barcode IS NOT NULL;
CREATE INDEX samples_site_idx ON samples (site_id, id);
CREATE INDEX samples_participant_idx ON samples (participant_id, study_id);
CREATE INDEX samples_parent_idx ON samples (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX samples_visit_idx ON samples (visit_id);
CREATE INDEX samples_hold_idx ON samples (hold_kind, site_id) WHERE hold;

-- A manager's decision on a sample held because consent was withdrawn.
CREATE TABLE consent_decisions (
    id          bigserial PRIMARY KEY,
    sample_id   bigint NOT NULL REFERENCES samples (id),
    decision    text NOT NULL,
    reason      text NOT NULL,
    decided_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consent_decisions_decision_valid CHECK (decision IN ('destroy', 'keep')),
    CONSTRAINT consent_decisions_reason_nonempty CHECK (char_length(btrim(reason)) > 0)
);
CREATE INDEX consent_decisions_sample_idx ON consent_decisions (sample_id);

-- +goose Down
DROP TABLE consent_decisions;
DROP TABLE samples;
DROP SEQUENCE sample_accession_seq;
