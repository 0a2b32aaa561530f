-- +goose Up
-- Transfers outside the EU/EEA (Switzerland, for this network): a consent tier of their
-- own, a study's setting that shipments to such destinations need it, and the country of an
-- external recipient (a site's country is on the site).
ALTER TABLE consent_documents DROP CONSTRAINT consent_documents_tiers_valid;
ALTER TABLE consent_documents ADD CONSTRAINT consent_documents_tiers_valid CHECK (
    cardinality(tiers) > 0 AND tiers <@ ARRAY['storage', 'genetic', 'sharing', 'recontact', 'outside_eea']::text[]);
ALTER TABLE consents DROP CONSTRAINT consents_tiers_valid;
ALTER TABLE consents ADD CONSTRAINT consents_tiers_valid CHECK (
    cardinality(tiers) > 0 AND tiers <@ ARRAY['storage', 'genetic', 'sharing', 'recontact', 'outside_eea']::text[]);
ALTER TABLE studies ADD COLUMN outside_eea_consent boolean NOT NULL DEFAULT false;
ALTER TABLE shipments ADD COLUMN destination_country char(2);
ALTER TABLE shipments ADD CONSTRAINT shipments_country_format CHECK (destination_country ~ '^[A-Z]{2}$');

-- +goose Down
ALTER TABLE shipments DROP COLUMN destination_country;
ALTER TABLE studies DROP COLUMN outside_eea_consent;
ALTER TABLE consents DROP CONSTRAINT consents_tiers_valid;
ALTER TABLE consents ADD CONSTRAINT consents_tiers_valid CHECK (
    cardinality(tiers) > 0 AND tiers <@ ARRAY['storage', 'genetic', 'sharing', 'recontact']::text[]);
ALTER TABLE consent_documents DROP CONSTRAINT consent_documents_tiers_valid;
ALTER TABLE consent_documents ADD CONSTRAINT consent_documents_tiers_valid CHECK (
    cardinality(tiers) > 0 AND tiers <@ ARRAY['storage', 'genetic', 'sharing', 'recontact']::text[]);
