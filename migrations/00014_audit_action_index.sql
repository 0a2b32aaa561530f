-- +goose Up
-- The audit browser filters by action from a list of the actions the trail holds: the
-- index serves both the filter and the list (read by skipping from one action to the next).
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);

-- +goose Down
DROP INDEX audit_events_action_idx;
