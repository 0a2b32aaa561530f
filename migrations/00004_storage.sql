-- +goose Up
-- Freezer storage: freezers at a site, racks or shelves in them, boxes with a grid of
-- positions, and the position of each stored sample. A position holds at most one sample
-- and a sample has at most one position: both are unique indexes, not only code.

CREATE TABLE freezers (
    id           bigserial PRIMARY KEY,
    site_id      bigint NOT NULL REFERENCES sites (id),
    name         text NOT NULL,
    type         text NOT NULL,
    temperature  numeric(5, 1) NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT freezers_type_valid CHECK (type IN ('-80', '-20', 'ln2', '4', 'rt')),
    CONSTRAINT freezers_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT freezers_temperature_range CHECK (temperature BETWEEN -200 AND 40)
);
CREATE UNIQUE INDEX freezers_site_name_key ON freezers (site_id, name);

CREATE TABLE racks (
    id          bigserial PRIMARY KEY,
    freezer_id  bigint NOT NULL REFERENCES freezers (id),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT racks_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);
CREATE UNIQUE INDEX racks_freezer_name_key ON racks (freezer_id, name);

CREATE TABLE boxes (
    id          bigserial PRIMARY KEY,
    barcode     text NOT NULL,
    rows        smallint NOT NULL,
    cols        smallint NOT NULL,
    freezer_id  bigint NOT NULL REFERENCES freezers (id),
    rack_id     bigint REFERENCES racks (id),
    rack_slot   text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT boxes_barcode_format CHECK (barcode ~ '^[A-Za-z0-9._-]{3,40}$'),
    CONSTRAINT boxes_rows_range CHECK (rows BETWEEN 1 AND 26),
    CONSTRAINT boxes_cols_range CHECK (cols BETWEEN 1 AND 30)
);
CREATE UNIQUE INDEX boxes_barcode_key ON boxes (barcode);
CREATE INDEX boxes_freezer_idx ON boxes (freezer_id);
CREATE INDEX boxes_rack_idx ON boxes (rack_id) WHERE rack_id IS NOT NULL;

CREATE TABLE sample_positions (
    sample_id  bigint PRIMARY KEY REFERENCES samples (id),
    box_id     bigint NOT NULL REFERENCES boxes (id),
    row        smallint NOT NULL,
    col        smallint NOT NULL,
    placed_at  timestamptz NOT NULL DEFAULT now(),
    placed_by  bigint REFERENCES users (id),
    CONSTRAINT sample_positions_row_range CHECK (row BETWEEN 1 AND 26),
    CONSTRAINT sample_positions_col_range CHECK (col BETWEEN 1 AND 30)
);
CREATE UNIQUE INDEX sample_positions_box_cell_key ON sample_positions (box_id, row, col);

-- A position must lie inside its box's grid.
-- +goose StatementBegin
CREATE FUNCTION sample_positions_within_box() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r smallint;
    c smallint;
BEGIN
    SELECT rows, cols INTO r, c FROM boxes WHERE id = NEW.box_id;
    IF NEW.row > r OR NEW.col > c THEN
        RAISE EXCEPTION 'position %/% is outside box % (% x %)', NEW.row, NEW.col, NEW.box_id, r, c
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER sample_positions_within_box BEFORE INSERT OR UPDATE ON sample_positions
    FOR EACH ROW EXECUTE FUNCTION sample_positions_within_box();

-- +goose Down
DROP TABLE sample_positions;
DROP FUNCTION sample_positions_within_box();
DROP TABLE boxes;
DROP TABLE racks;
DROP TABLE freezers;
