-- +goose Up
-- The samples list pages newest first by id (keyset) under any filter a person can
-- choose: with an index per filter column ending in id, a rare value (CSF among a million
-- samples) is read straight from its index instead of scanning the id order for matches.
CREATE INDEX samples_type_idx ON samples (specimen_type, id);
CREATE INDEX samples_status_idx ON samples (status, id);
CREATE INDEX samples_study_idx ON samples (study_id, id);
CREATE INDEX samples_collected_idx ON samples (collected_at);

-- +goose Down
DROP INDEX samples_collected_idx;
DROP INDEX samples_study_idx;
DROP INDEX samples_status_idx;
DROP INDEX samples_type_idx;
