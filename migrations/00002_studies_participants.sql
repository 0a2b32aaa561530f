-- +goose Up
-- Studies with their visit schedules and consent documents; pseudonymous participants,
-- their enrolments, consents, withdrawals and visits. No table has a column for a name,
-- a birth date, an address or a hospital number.

-- Vocabularies shared by studies and (later) samples.
CREATE TABLE specimen_types (
    code   text PRIMARY KEY,
    label  text NOT NULL,
    solid  boolean NOT NULL DEFAULT false,
    unit   text NOT NULL DEFAULT 'mL',
    sort   integer NOT NULL DEFAULT 0
);
INSERT INTO specimen_types (code, label, solid, unit, sort) VALUES
    ('whole_blood', 'Whole blood', false, 'mL', 10),
    ('serum', 'Serum', false, 'mL', 20),
    ('plasma', 'Plasma', false, 'mL', 30),
    ('buffy_coat', 'Buffy coat', false, 'mL', 40),
    ('pbmc', 'PBMC (mononuclear cells)', false, 'mL', 50),
    ('stool', 'Stool', false, 'mg', 60),
    ('csf', 'Cerebrospinal fluid', false, 'mL', 70),
    ('urine', 'Urine', false, 'mL', 80),
    ('saliva', 'Saliva', false, 'mL', 90),
    ('tissue', 'Tissue', true, 'mg', 100),
    ('dna', 'DNA', false, 'µg', 110),
    ('rna', 'RNA', false, 'µg', 120);

CREATE TABLE container_types (
    code   text PRIMARY KEY,
    label  text NOT NULL,
    sort   integer NOT NULL DEFAULT 0
);
INSERT INTO container_types (code, label, sort) VALUES
    ('PED', 'K2/K3 EDTA tube', 10),
    ('SST', 'Serum separator tube with clot activator', 20),
    ('CAT', 'Serum tube without clot activator', 30),
    ('SCI', 'Sodium citrate tube', 40),
    ('HEP', 'Lithium heparin tube', 50),
    ('CPT', 'Cell preparation tube (CPT)', 60),
    ('PAX', 'PAXgene blood RNA tube', 70),
    ('PXD', 'PAXgene blood DNA tube', 80),
    ('PPS', 'Sterile polypropylene tube', 90),
    ('STL', 'Stool collection tube', 100),
    ('CRY', 'Cryovial', 110),
    ('ZZZ', 'Other container', 999);

CREATE TABLE studies (
    id                 bigserial PRIMARY KEY,
    code               text NOT NULL,
    name               text NOT NULL,
    -- An externally issued pseudonym (from a trusted third party) must match this regular
    -- expression; empty means only the built-in 8-symbol format is accepted.
    pseudonym_pattern  text NOT NULL DEFAULT '',
    -- Whether the built-in check symbols must also hold for external pseudonyms.
    pseudonym_check    boolean NOT NULL DEFAULT true,
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT studies_code_format CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,15}$'),
    CONSTRAINT studies_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT studies_pattern_length CHECK (char_length(pseudonym_pattern) <= 200)
);
CREATE UNIQUE INDEX studies_code_key ON studies (code);

CREATE TABLE visit_definitions (
    id             bigserial PRIMARY KEY,
    study_id       bigint NOT NULL REFERENCES studies (id),
    code           text NOT NULL,
    name           text NOT NULL,
    day_offset     integer NOT NULL,
    window_before  integer NOT NULL DEFAULT 0,
    window_after   integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT visit_definitions_code_format CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,19}$'),
    CONSTRAINT visit_definitions_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT visit_definitions_offset_range CHECK (day_offset BETWEEN 0 AND 36500),
    CONSTRAINT visit_definitions_window_range CHECK (window_before BETWEEN 0 AND 3650 AND window_after BETWEEN 0 AND 3650)
);
CREATE UNIQUE INDEX visit_definitions_study_code_key ON visit_definitions (study_id, code);

CREATE TABLE specimen_requirements (
    id                   bigserial PRIMARY KEY,
    visit_definition_id  bigint NOT NULL REFERENCES visit_definitions (id),
    position             integer NOT NULL,
    specimen_type        text NOT NULL REFERENCES specimen_types (code),
    container            text NOT NULL REFERENCES container_types (code),
    volume               numeric(12, 4) NOT NULL,
    unit                 text NOT NULL,
    aliquots             integer NOT NULL DEFAULT 0,
    aliquot_volume       numeric(12, 4),
    aliquot_type         text REFERENCES specimen_types (code),
    storage_temperature  text NOT NULL DEFAULT '-80',
    CONSTRAINT specimen_requirements_volume_positive CHECK (volume > 0),
    CONSTRAINT specimen_requirements_unit_valid CHECK (unit IN ('mL', 'µL', 'mg', 'µg')),
    CONSTRAINT specimen_requirements_aliquots_range CHECK (aliquots BETWEEN 0 AND 200),
    CONSTRAINT specimen_requirements_aliquot_volume CHECK (
        (aliquots = 0 AND aliquot_volume IS NULL) OR (aliquots > 0 AND aliquot_volume > 0)),
    CONSTRAINT specimen_requirements_temperature_valid CHECK (storage_temperature IN ('rt', '4', '-20', '-80', 'ln2'))
);
CREATE UNIQUE INDEX specimen_requirements_visit_position_key ON specimen_requirements (visit_definition_id, position);

CREATE TABLE consent_documents (
    id          bigserial PRIMARY KEY,
    study_id    bigint NOT NULL REFERENCES studies (id),
    version     text NOT NULL,
    tiers       text[] NOT NULL,
    retired_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consent_documents_version_format CHECK (version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$'),
    CONSTRAINT consent_documents_tiers_valid CHECK (
        cardinality(tiers) > 0 AND tiers <@ ARRAY['storage', 'genetic', 'sharing', 'recontact']::text[])
);
CREATE UNIQUE INDEX consent_documents_study_version_key ON consent_documents (study_id, version);

CREATE TABLE participants (
    id          bigserial PRIMARY KEY,
    pseudonym   text NOT NULL,
    site_id     bigint NOT NULL REFERENCES sites (id),
    external    boolean NOT NULL DEFAULT false,
    sex         text,
    birth_year  smallint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT participants_pseudonym_format CHECK (pseudonym ~ '^[A-Z0-9][A-Z0-9._-]{3,39}$'),
    CONSTRAINT participants_sex_valid CHECK (sex IS NULL OR sex IN ('male', 'female', 'unknown', 'undifferentiated', 'not_applicable')),
    CONSTRAINT participants_birth_year_range CHECK (birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100)
);
CREATE UNIQUE INDEX participants_pseudonym_key ON participants (pseudonym);
CREATE INDEX participants_site_id_idx ON participants (site_id, id);

CREATE TABLE enrolments (
    id              bigserial PRIMARY KEY,
    participant_id  bigint NOT NULL REFERENCES participants (id),
    study_id        bigint NOT NULL REFERENCES studies (id),
    site_id         bigint NOT NULL REFERENCES sites (id),
    enrolled_on     date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX enrolments_participant_study_key ON enrolments (participant_id, study_id);
CREATE INDEX enrolments_study_idx ON enrolments (study_id, participant_id);

CREATE TABLE consents (
    id              bigserial PRIMARY KEY,
    participant_id  bigint NOT NULL REFERENCES participants (id),
    study_id        bigint NOT NULL REFERENCES studies (id),
    document_id     bigint NOT NULL REFERENCES consent_documents (id),
    signed_on       date NOT NULL,
    tiers           text[] NOT NULL,
    -- The tiers still in force: tiers minus every withdrawal. Kept in step by the consent
    -- service in the same transaction as each withdrawal, so lists can filter on it.
    effective_tiers text[] NOT NULL,
    recorded_by     bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consents_tiers_valid CHECK (
        cardinality(tiers) > 0 AND tiers <@ ARRAY['storage', 'genetic', 'sharing', 'recontact']::text[]),
    CONSTRAINT consents_effective_subset CHECK (effective_tiers <@ tiers)
);
CREATE INDEX consents_participant_study_idx ON consents (participant_id, study_id, signed_on DESC, id DESC);
CREATE INDEX consents_effective_tiers_idx ON consents USING gin (effective_tiers);

CREATE TABLE consent_withdrawals (
    id            bigserial PRIMARY KEY,
    consent_id    bigint NOT NULL REFERENCES consents (id),
    tiers         text[] NOT NULL,
    reason        text NOT NULL,
    withdrawn_on  date NOT NULL,
    recorded_by   bigint REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consent_withdrawals_tiers_nonempty CHECK (cardinality(tiers) > 0),
    CONSTRAINT consent_withdrawals_reason_nonempty CHECK (char_length(btrim(reason)) > 0)
);
CREATE INDEX consent_withdrawals_consent_idx ON consent_withdrawals (consent_id);

CREATE TABLE visits (
    id                   bigserial PRIMARY KEY,
    participant_id       bigint NOT NULL REFERENCES participants (id),
    visit_definition_id  bigint NOT NULL REFERENCES visit_definitions (id),
    study_id             bigint NOT NULL REFERENCES studies (id),
    site_id              bigint NOT NULL REFERENCES sites (id),
    visit_date           date NOT NULL,
    out_of_window_reason text NOT NULL DEFAULT '',
    opened_by            bigint REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX visits_participant_definition_key ON visits (participant_id, visit_definition_id);

-- +goose Down
DROP TABLE visits;
DROP TABLE consent_withdrawals;
DROP TABLE consents;
DROP TABLE enrolments;
DROP TABLE participants;
DROP TABLE consent_documents;
DROP TABLE specimen_requirements;
DROP TABLE visit_definitions;
DROP TABLE studies;
DROP TABLE container_types;
DROP TABLE specimen_types;
