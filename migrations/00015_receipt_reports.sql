-- +goose Up
-- Signed receipt reports a partner instance sends back for a shipment it received: each
-- applied once (its nonce), so the sender's shipment and samples follow the receiver's.
CREATE TABLE shipment_receipt_reports (
    shipment_id  bigint NOT NULL REFERENCES shipments (id),
    nonce        text NOT NULL,
    status       text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shipment_receipt_reports_status CHECK (status IN ('received', 'partially_received', 'closed'))
);
CREATE UNIQUE INDEX shipment_receipt_reports_nonce_key ON shipment_receipt_reports (nonce);

-- +goose Down
DROP TABLE shipment_receipt_reports;
