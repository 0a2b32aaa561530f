-- +goose Up
-- Label printing: printers (ZPL over TCP; PDF printers get sheets), label templates an
-- administrator defines without programming, and the print jobs, each recorded with who
-- printed what, where, with which template and how it went (labels are controlled records).
CREATE TABLE printers (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    site_id     bigint NOT NULL REFERENCES sites (id),
    kind        text NOT NULL,
    address     text NOT NULL DEFAULT '',
    dpi         integer NOT NULL DEFAULT 300,
    timeout_ms  integer NOT NULL DEFAULT 5000,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT printers_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT printers_kind CHECK (kind IN ('zpl', 'pdf')),
    CONSTRAINT printers_zpl_address CHECK (kind <> 'zpl' OR address <> ''),
    CONSTRAINT printers_dpi CHECK (dpi IN (203, 300, 600)),
    CONSTRAINT printers_timeout CHECK (timeout_ms BETWEEN 500 AND 60000)
);
CREATE UNIQUE INDEX printers_name_key ON printers (lower(name));

ALTER TABLE sites ADD COLUMN default_printer_id bigint REFERENCES printers (id);
ALTER TABLE users ADD COLUMN default_printer_id bigint REFERENCES printers (id);

CREATE TABLE label_templates (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    width_mm    numeric(5,1) NOT NULL,
    height_mm   numeric(5,1) NOT NULL,
    dpi         integer NOT NULL,
    codes       text NOT NULL,
    lines       jsonb NOT NULL DEFAULT '[]',
    font_pt     numeric(4,1) NOT NULL,
    stock       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT label_templates_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT label_templates_dpi CHECK (dpi IN (203, 300, 600))
);
CREATE UNIQUE INDEX label_templates_name_key ON label_templates (lower(name));

CREATE TABLE print_jobs (
    id           bigserial PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    actor_id     bigint REFERENCES users (id),
    actor        text NOT NULL,
    site_id      bigint REFERENCES sites (id),
    printer_id   bigint NOT NULL REFERENCES printers (id),
    template_id  bigint REFERENCES label_templates (id),
    codes        jsonb NOT NULL,
    labels       integer NOT NULL,
    status       text NOT NULL DEFAULT 'queued',
    error        text NOT NULL DEFAULT '',
    finished_at  timestamptz,
    CONSTRAINT print_jobs_status CHECK (status IN ('queued', 'sent', 'failed')),
    CONSTRAINT print_jobs_labels CHECK (labels BETWEEN 1 AND 1000)
);
CREATE INDEX print_jobs_created_idx ON print_jobs (id DESC);

-- +goose Down
DROP TABLE print_jobs;
DROP TABLE label_templates;
ALTER TABLE users DROP COLUMN default_printer_id;
ALTER TABLE sites DROP COLUMN default_printer_id;
DROP TABLE printers;
