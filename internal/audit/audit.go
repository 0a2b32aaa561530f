// Package audit is the append-only, hash-chained audit trail. Services record entries on
// their open transaction (db.Tx.Record); the transaction helper appends them all through
// the database function audit_append just before COMMIT, so a change and its events commit
// together or not at all. The database assigns each event its sequence number, time and
// hash under one lock of the chain head per transaction; Verify recomputes every hash
// independently in Go.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Payload is what an event keeps of the data before or after a change. Each action records
// a small struct of its own that implements Payload (a marker method), never a gorm model
// or an untyped map, so that renaming a field of an API response or a model cannot silently
// change what the trail holds.
type Payload interface {
	AuditPayload()
}

// Entry is what a service records: who did what to which entity, why, and the data before
// and after. A nil Before or After stores SQL NULL.
type Entry struct {
	ActorID    *int64
	Actor      string
	Site       string
	Action     string
	EntityType string
	EntityID   string
	Reason     string
	Before     Payload
	After      Payload
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

// wireEntry is one element of the JSON array audit_append takes.
type wireEntry struct {
	ActorID    *int64          `json:"actor_id"`
	Actor      string          `json:"actor"`
	Site       string          `json:"site"`
	Action     string          `json:"action"`
	EntityType string          `json:"entity_type"`
	EntityID   string          `json:"entity_id"`
	Reason     string          `json:"reason"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

// EncodeBatch checks entries and encodes them as the JSON array the database function
// audit_append(jsonb) takes. An entry without action, entity type or entity ID is a
// programming error and refused.
func EncodeBatch(entries []Entry) ([]byte, error) {
	wire := make([]wireEntry, len(entries))
	for i, e := range entries {
		if e.Action == "" || e.EntityType == "" || e.EntityID == "" {
			return nil, fmt.Errorf("audit: record: action, entity type and entity id are required (got %q %q %q)", e.Action, e.EntityType, e.EntityID)
		}
		if e.Actor == "" {
			e.Actor = "system"
		}
		w := wireEntry{ActorID: e.ActorID, Actor: e.Actor, Site: e.Site, Action: e.Action, EntityType: e.EntityType,
			EntityID: e.EntityID, Reason: e.Reason}
		var err error
		if w.Before, err = encode(e.Before); err != nil {
			return nil, fmt.Errorf("audit: record %s: before: %w", e.Action, err)
		}
		if w.After, err = encode(e.After); err != nil {
			return nil, fmt.Errorf("audit: record %s: after: %w", e.Action, err)
		}
		for _, s := range []string{w.Actor, w.Site, w.Action, w.EntityType, w.EntityID, w.Reason} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				return nil, fmt.Errorf("audit: record %s: a field is not valid text", e.Action)
			}
		}
		wire[i] = w
	}
	return json.Marshal(wire)
}

// encode returns the JSON text of p, or JSON null for a nil payload (stored as SQL NULL).
func encode(p Payload) (json.RawMessage, error) {
	if p == nil {
		return json.RawMessage("null"), nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte(`\u0000`)) {
		return nil, fmt.Errorf("a NUL character cannot be stored")
	}
	return b, nil
}

// Filter selects events for review. Zero fields do not filter. Events come newest first;
// Cursor is the sequence number below which to continue.
type Filter struct {
	EntityType string
	EntityID   string
	Actor      string
	Action     string
	Site       string
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

// Actions lists the distinct actions the trail holds, in order: one index probe per
// action (a loose index scan), however many events there are.
func Actions(ctx context.Context, gdb *gorm.DB) ([]string, error) {
	var out []string
	err := gdb.WithContext(ctx).Raw(`WITH RECURSIVE a AS (
			(SELECT action FROM audit_events ORDER BY action LIMIT 1)
			UNION ALL
			SELECT (SELECT action FROM audit_events WHERE action > a.action ORDER BY action LIMIT 1) FROM a WHERE a.action IS NOT NULL)
		SELECT action FROM a WHERE action IS NOT NULL`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("audit: actions: %w", err)
	}
	return out, nil
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
	if f.Site != "" {
		add("site = ?", f.Site)
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
