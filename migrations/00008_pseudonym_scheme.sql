-- +goose Up
-- A study's pseudonym check becomes a scheme (STANDARDS.md §5): 'mainzelliste' (the PIDs of
-- a Mainzelliste trusted third party, the default for new studies), 'biobank-v1' (the
-- application's earlier check code, so existing pseudonyms stay valid) or 'none' (a
-- pattern, no check). Existing studies keep what they did: a checked study is biobank-v1;
-- an unchecked one with a pattern is none; an unchecked one without a pattern only ever
-- took generated pseudonyms, which are biobank-v1.
ALTER TABLE studies ADD COLUMN pseudonym_scheme text;
UPDATE studies SET pseudonym_scheme = CASE
    WHEN pseudonym_check THEN 'biobank-v1'
    WHEN pseudonym_pattern <> '' THEN 'none'
    ELSE 'biobank-v1' END;
ALTER TABLE studies
    ALTER COLUMN pseudonym_scheme SET NOT NULL,
    ALTER COLUMN pseudonym_scheme SET DEFAULT 'mainzelliste',
    ADD CONSTRAINT studies_pseudonym_scheme CHECK (pseudonym_scheme IN ('mainzelliste', 'biobank-v1', 'none')),
    ADD CONSTRAINT studies_unchecked_needs_pattern CHECK (pseudonym_scheme <> 'none' OR pseudonym_pattern <> ''),
    DROP COLUMN pseudonym_check;

-- +goose Down
ALTER TABLE studies ADD COLUMN pseudonym_check boolean NOT NULL DEFAULT true;
UPDATE studies SET pseudonym_check = (pseudonym_scheme <> 'none');
ALTER TABLE studies
    DROP CONSTRAINT studies_unchecked_needs_pattern,
    DROP CONSTRAINT studies_pseudonym_scheme,
    DROP COLUMN pseudonym_scheme;
