-- +goose Up
-- Shipments between the sites of this instance or to an external recipient: packed by
-- scanning (a box keeps its map), dispatched all at once, received by scanning with every
-- discrepancy kept open until a manager resolves it. Custody moves only at receipt.
CREATE SEQUENCE shipment_code_seq;

CREATE TABLE shipments (
    id                    bigserial PRIMARY KEY,
    code                  text NOT NULL,
    status                text NOT NULL DEFAULT 'draft',
    origin_site_id        bigint NOT NULL REFERENCES sites (id),
    destination_site_id   bigint REFERENCES sites (id),
    destination_external  text NOT NULL DEFAULT '',
    condition             text NOT NULL,
    courier               text NOT NULL DEFAULT '',
    tracking              text NOT NULL DEFAULT '',
    data_logger           text NOT NULL DEFAULT '',
    responsible           text NOT NULL DEFAULT '',
    dry_ice_kg            numeric(6,2),
    created_by            bigint REFERENCES users (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    dispatched_at         timestamptz,
    received_at           timestamptz,
    arrival_condition     text NOT NULL DEFAULT '',
    arrival_temperature   numeric(5,1),
    excursion             text NOT NULL DEFAULT '',
    CONSTRAINT shipments_status CHECK (status IN ('draft', 'dispatched', 'partially_received', 'received', 'closed', 'cancelled')),
    CONSTRAINT shipments_condition CHECK (condition IN ('ambient', '2-8c', 'dry_ice', 'ln2')),
    CONSTRAINT shipments_one_destination CHECK ((destination_site_id IS NULL) <> (destination_external = '')),
    CONSTRAINT shipments_not_to_itself CHECK (destination_site_id IS DISTINCT FROM origin_site_id),
    CONSTRAINT shipments_dry_ice CHECK (condition <> 'dry_ice' OR dry_ice_kg > 0)
);
CREATE UNIQUE INDEX shipments_code_key ON shipments (code);
CREATE INDEX shipments_status_idx ON shipments (status, id);

CREATE TABLE shipment_items (
    shipment_id  bigint NOT NULL REFERENCES shipments (id),
    sample_id    bigint NOT NULL REFERENCES samples (id),
    box_id       bigint REFERENCES boxes (id),
    row          smallint,
    col          smallint,
    state        text NOT NULL DEFAULT 'packed',
    reason       text NOT NULL DEFAULT '',
    PRIMARY KEY (shipment_id, sample_id),
    CONSTRAINT shipment_items_state CHECK (state IN ('packed', 'received', 'damaged', 'found', 'lost', 'destroyed', 'returned'))
);
CREATE INDEX shipment_items_sample_idx ON shipment_items (sample_id);

-- +goose Down
DROP TABLE shipment_items;
DROP TABLE shipments;
DROP SEQUENCE shipment_code_seq;
