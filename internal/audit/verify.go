package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// GenesisHash is the previous-hash of the first event.
var GenesisHash = strings.Repeat("0", 64)

// VerifyResult reports whether the chain is intact. When it is not, FirstBad is the
// sequence number of the first event that is altered, missing or out of place, and
// Problem says what is wrong with it.
type VerifyResult struct {
	OK       bool   `json:"ok"`
	Events   int64  `json:"events"`
	FirstBad int64  `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Verify streams the whole trail in sequence order and recomputes every hash from the
// event's content and its predecessor's hash, independently of the database function that
// wrote it. It detects an altered event (its hash no longer matches), a removed event (a
// gap in the sequence or a broken link) and a removed tail (the chain head names a later
// event than the last one found).
func Verify(ctx context.Context, pool *pgxpool.Pool) (VerifyResult, error) {
	rows, err := pool.Query(ctx, `SELECT seq, at, actor_id, actor, site, action, entity_type, entity_id, reason,
		before::text, after::text, prev_hash, hash FROM audit_events ORDER BY seq`)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()

	res := VerifyResult{OK: true}
	prevHash := GenesisHash
	var expected int64 = 1
	for rows.Next() {
		ev, err := scanEvent(rows.Scan)
		if err != nil {
			return VerifyResult{}, fmt.Errorf("audit: verify: %w", err)
		}
		res.Events++
		switch {
		case ev.Seq != expected:
			return fail(res, expected, fmt.Sprintf("event %d is missing (the next event found is %d)", expected, ev.Seq)), nil
		case ev.PrevHash != prevHash:
			return fail(res, ev.Seq, fmt.Sprintf("event %d does not link to the hash of event %d: an event before it was altered or removed", ev.Seq, ev.Seq-1)), nil
		case Hash(ev) != ev.Hash:
			return fail(res, ev.Seq, fmt.Sprintf("event %d was altered: its content no longer matches its hash", ev.Seq)), nil
		}
		prevHash = ev.Hash
		expected++
	}
	if err := rows.Err(); err != nil {
		return VerifyResult{}, fmt.Errorf("audit: verify: %w", err)
	}
	var headSeq int64
	var headHash string
	if err := pool.QueryRow(ctx, "SELECT seq, hash FROM audit_chain_head WHERE id = 1").Scan(&headSeq, &headHash); err != nil {
		return VerifyResult{}, fmt.Errorf("audit: verify: chain head: %w", err)
	}
	if headSeq != expected-1 || headHash != prevHash {
		return fail(res, expected, fmt.Sprintf("the chain head records %d events but %d were found: events at the end were removed", headSeq, expected-1)), nil
	}
	return res, nil
}

func fail(res VerifyResult, seq int64, problem string) VerifyResult {
	res.OK = false
	res.FirstBad = seq
	res.Problem = problem
	return res
}

// Hash computes an event's SHA-256 over its canonical encoding: a version tag, then each
// field as "<byte length>:<text>;" in a fixed order, ending with the previous event's hash.
// The database function audit_event_hash (migrations) computes the same bytes.
func Hash(ev Event) string {
	var b strings.Builder
	b.WriteString("biobank-audit-v1;")
	field := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
		b.WriteByte(';')
	}
	actorID := ""
	if ev.ActorID != nil {
		actorID = strconv.FormatInt(*ev.ActorID, 10)
	}
	field(strconv.FormatInt(ev.Seq, 10))
	field(strconv.FormatInt(ev.At.UnixMicro(), 10))
	field(actorID)
	field(ev.Actor)
	field(ev.Site)
	field(ev.Action)
	field(ev.EntityType)
	field(ev.EntityID)
	field(ev.Reason)
	field(jsonText(ev.Before))
	field(jsonText(ev.After))
	field(ev.PrevHash)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func jsonText(raw []byte) string {
	if raw == nil {
		return "null"
	}
	return string(raw)
}
