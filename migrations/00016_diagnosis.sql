-- +goose Up
-- A participant's diagnosis per study as an ICD-10 code (no free text), exported as a FHIR
-- Condition and as the specimens' diagnosis; a study gives its cohort's default.
ALTER TABLE studies ADD COLUMN default_diagnosis text NOT NULL DEFAULT '';
ALTER TABLE studies ADD CONSTRAINT studies_default_diagnosis_icd10
    CHECK (default_diagnosis = '' OR default_diagnosis ~ '^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$');
ALTER TABLE enrolments ADD COLUMN diagnosis text NOT NULL DEFAULT '';
ALTER TABLE enrolments ADD CONSTRAINT enrolments_diagnosis_icd10
    CHECK (diagnosis = '' OR diagnosis ~ '^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$');

-- +goose Down
ALTER TABLE enrolments DROP COLUMN diagnosis;
ALTER TABLE studies DROP COLUMN default_diagnosis;
