-- +goose Up
-- audit_append sorts and hash-joins a batch's events (array_agg … ORDER BY ordinality, the
-- join of the events with their hashes). With the default work_mem of 4 MB a batch of
-- 100,000 events spills both to disk and costs more per event than a batch of 10,000; a
-- function-level work_mem keeps a large batch in memory, so appending stays linear. It
-- applies only while the function runs.
ALTER FUNCTION audit_append(jsonb) SET work_mem = '64MB';

-- +goose Down
ALTER FUNCTION audit_append(jsonb) RESET work_mem;
