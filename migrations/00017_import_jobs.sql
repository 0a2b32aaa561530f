-- +goose Up
-- Bulk imports of legacy collections: one job per file, all or nothing. A job's rows are
-- written in one transaction, so a crash leaves nothing of them; the job row itself is
-- committed apart (running), and a job still running when the server starts again was
-- interrupted: it is marked failed then.
CREATE TABLE import_jobs (
    id           bigserial PRIMARY KEY,
    status       text NOT NULL DEFAULT 'running',
    file_name    text NOT NULL DEFAULT '',
    rows         integer NOT NULL DEFAULT 0,
    done         integer NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CONSTRAINT import_jobs_status CHECK (status IN ('running', 'done', 'failed', 'cancelled'))
);

-- +goose Down
DROP TABLE import_jobs;
