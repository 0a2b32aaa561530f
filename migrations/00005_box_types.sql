-- +goose Up
-- Box types an administrator keeps, so that boxes are created from known grids.
CREATE TABLE box_types (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    rows        smallint NOT NULL,
    cols        smallint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT box_types_name_length CHECK (char_length(name) BETWEEN 1 AND 60),
    CONSTRAINT box_types_rows_range CHECK (rows BETWEEN 1 AND 26),
    CONSTRAINT box_types_cols_range CHECK (cols BETWEEN 1 AND 30)
);
CREATE UNIQUE INDEX box_types_name_key ON box_types (name);
INSERT INTO box_types (name, rows, cols) VALUES
    ('9 × 9 cryobox (81)', 9, 9),
    ('10 × 10 cryobox (100)', 10, 10),
    ('8 × 12 rack (96)', 8, 12),
    ('12 × 12 box (144)', 12, 12),
    ('5 × 5 large-tube box (25)', 5, 5);

-- +goose Down
DROP TABLE box_types;
