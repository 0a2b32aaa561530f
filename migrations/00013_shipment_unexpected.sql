-- +goose Up
-- What a receiving technician scanned that is not in the shipment: kept (never ignored)
-- until a manager resolves it with a reason, like a missing or damaged tube.
CREATE TABLE shipment_unexpected (
    shipment_id  bigint NOT NULL REFERENCES shipments (id),
    code         text NOT NULL,
    scanned_by   bigint REFERENCES users (id),
    scanned_at   timestamptz NOT NULL DEFAULT now(),
    resolution   text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    PRIMARY KEY (shipment_id, code),
    CONSTRAINT shipment_unexpected_code_length CHECK (char_length(code) BETWEEN 1 AND 64),
    CONSTRAINT shipment_unexpected_resolution CHECK (resolution IN ('', 'found', 'lost', 'destroyed', 'returned')),
    CONSTRAINT shipment_unexpected_reason CHECK (resolution = '' OR reason <> '')
);

-- +goose Down
DROP TABLE shipment_unexpected;
