// Package audit is the append-only, hash-chained audit trail. Services call Append inside
// their own transaction, so a change and its event commit together or not at all. The
// database assigns each event its sequence number, time and hash (a trigger, under a lock
// on the chain head); Verify recomputes every hash independently in Go.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Entry is what a service records: who did what to which entity, why, and the data before
// and after. Before and After are marshalled to JSON; nil stores SQL NULL.
type Entry struct {
	ActorID    *int64
	Actor      string
	Site       string
	Action     string
	EntityType string
	EntityID   string
	Reason     string
	Before     any
	After      any
}

// Event is one stored audit event.
type Event struct {
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	ActorID    *int64          `json:"actor_id"`
	Actor      string          `json:"actor"`
	Site       string          `json:"site"`
	Action     string          `json:"action"`
	EntityType string          `json:"entity_type"`
	EntityID   string          `json:"entity_id"`
	Reason     string          `json:"reason"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// Append writes e in the caller's transaction tx and returns its sequence number. It must
// be called with the transaction that makes the change being recorded. The chain-head row
// stays locked until tx ends, so Append comes last in a transaction: after every other
// row lock and write. A transaction that appended and then waits for a row lock can
// deadlock with one that holds that row and waits for the chain head.
func Append(tx *gorm.DB, e Entry) (int64, error) {
	if e.Action == "" || e.EntityType == "" || e.EntityID == "" {
		return 0, fmt.Errorf("audit: append: action, entity type and entity id are required (got %q %q %q)", e.Action, e.EntityType, e.EntityID)
	}
	if e.Actor == "" {
		e.Actor = "system"
	}
	before, err := encode(e.Before)
	if err != nil {
		return 0, fmt.Errorf("audit: append %s: before: %w", e.Action, err)
	}
	after, err := encode(e.After)
	if err != nil {
		return 0, fmt.Errorf("audit: append %s: after: %w", e.Action, err)
	}
	var seq int64
	// seq, at, prev_hash and hash are placeholders: the audit_events_chain trigger sets them.
	err = tx.Raw(`INSERT INTO audit_events
		(seq, at, actor_id, actor, site, action, entity_type, entity_id, reason, before, after, prev_hash, hash)
		VALUES (0, now(), ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, '', '')
		RETURNING seq`,
		e.ActorID, e.Actor, e.Site, e.Action, e.EntityType, e.EntityID, e.Reason, before, after).Scan(&seq).Error
	if err != nil {
		return 0, fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return seq, nil
}

// encode returns the JSON text of v, or nil (SQL NULL) for a nil value.
func encode(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		if len(raw) == 0 {
			return nil, nil
		}
		s := string(raw)
		return &s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	if s == "null" {
		return nil, nil
	}
	return &s, nil
}

// Filter selects events for review. Zero fields do not filter. Events come newest first;
// Cursor is the sequence number below which to continue.
type Filter struct {
	EntityType string
	EntityID   string
	Actor      string
	Action     string
	Since      time.Time
	Until      time.Time
	Cursor     int64
	Limit      int
}

// Page is one page of events, newest first, with the cursor of the next page (0 when this
// is the last).
type Page struct {
	Events     []Event
	NextCursor int64
}

// MaxPageSize bounds a page of events.
const MaxPageSize = 500

// List returns one page of events matching f, using keyset pagination on seq so that a
// page deep in ten million events costs the same as the first.
func List(ctx context.Context, gdb *gorm.DB, f Filter) (Page, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.EntityType != "" {
		add("entity_type = ?", f.EntityType)
	}
	if f.EntityID != "" {
		add("entity_id = ?", f.EntityID)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until)
	}
	if f.Cursor > 0 {
		add("seq < ?", f.Cursor)
	}
	q := `SELECT seq, at, actor_id, actor, site, action, entity_type, entity_id, reason,
		before::text AS before, after::text AS after, prev_hash, hash FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit+1)

	rows, err := gdb.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return Page{}, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		ev, err := scanEvent(rows.Scan)
		if err != nil {
			return Page{}, fmt.Errorf("audit: list: %w", err)
		}
		page.Events = append(page.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("audit: list: %w", err)
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.NextCursor = page.Events[limit-1].Seq
	}
	return page, nil
}

// ForEntity returns every event of one entity, oldest first.
func ForEntity(ctx context.Context, gdb *gorm.DB, entityType, entityID string) ([]Event, error) {
	return ForEntities(ctx, gdb, entityType, []string{entityID})
}

// ForEntities returns every event of several entities of one type, oldest first (the
// chain of custody of a sample and its ancestors).
func ForEntities(ctx context.Context, gdb *gorm.DB, entityType string, entityIDs []string) ([]Event, error) {
	rows, err := gdb.WithContext(ctx).Raw(`SELECT seq, at, actor_id, actor, site, action, entity_type, entity_id, reason,
		before::text, after::text, prev_hash, hash FROM audit_events
		WHERE entity_type = ? AND entity_id IN ? ORDER BY seq`, entityType, entityIDs).Rows()
	if err != nil {
		return nil, fmt.Errorf("audit: events of %s %v: %w", entityType, entityIDs, err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		ev, err := scanEvent(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("audit: events of %s %v: %w", entityType, entityIDs, err)
		}
		events = append(events, ev)
	}
	return events, rows.Err()
}

func scanEvent(scan func(dest ...any) error) (Event, error) {
	var ev Event
	var before, after *string
	if err := scan(&ev.Seq, &ev.At, &ev.ActorID, &ev.Actor, &ev.Site, &ev.Action, &ev.EntityType,
		&ev.EntityID, &ev.Reason, &before, &after, &ev.PrevHash, &ev.Hash); err != nil {
		return Event{}, err
	}
	ev.At = ev.At.UTC()
	if before != nil {
		ev.Before = json.RawMessage(*before)
	}
	if after != nil {
		ev.After = json.RawMessage(*after)
	}
	return ev, nil
}
