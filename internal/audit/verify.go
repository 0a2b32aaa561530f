package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
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
// event than the last one found). It reads each row's raw bytes into one reusable buffer,
// so memory stays flat however long the trail is.
func Verify(ctx context.Context, pool *pgxpool.Pool) (VerifyResult, error) {
	// seq, at and actor_id in binary (8-byte integers), the rest as text.
	formats := pgx.QueryResultFormats{pgx.BinaryFormatCode, pgx.BinaryFormatCode, pgx.BinaryFormatCode,
		pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode,
		pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode}
	rows, err := pool.Query(ctx, `SELECT seq, at, actor_id, actor, site, action, entity_type, entity_id, reason,
		before::text, after::text, prev_hash, hash FROM audit_events ORDER BY seq`, formats)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()

	res := VerifyResult{OK: true}
	prevHash := []byte(GenesisHash)
	var expected int64 = 1
	var c chainer
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 13 || len(v[0]) != 8 || len(v[1]) != 8 {
			return VerifyResult{}, fmt.Errorf("audit: verify: unexpected row shape")
		}
		res.Events++
		seq := int64(binary.BigEndian.Uint64(v[0]))
		switch {
		case seq != expected:
			return fail(res, expected, fmt.Sprintf("event %d is missing (the next event found is %d)", expected, seq)), nil
		case !bytes.Equal(v[11], prevHash):
			return fail(res, seq, fmt.Sprintf("event %d does not link to the hash of event %d: an event before it was altered or removed", seq, seq-1)), nil
		}
		// PostgreSQL's binary timestamp counts microseconds from 2000-01-01 UTC.
		micros := int64(binary.BigEndian.Uint64(v[1])) + postgresEpochMicros
		if !bytes.Equal(c.hash(seq, micros, v[2], v[3:11], v[11]), v[12]) {
			return fail(res, seq, fmt.Sprintf("event %d was altered: its content no longer matches its hash", seq)), nil
		}
		prevHash = append(prevHash[:0], v[12]...)
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
	if headSeq != expected-1 || headHash != string(prevHash) {
		return fail(res, expected, fmt.Sprintf("the chain head records %d events but %d were found: events at the end were removed", headSeq, expected-1)), nil
	}
	return res, nil
}

// postgresEpochMicros is 2000-01-01 UTC in microseconds since the Unix epoch.
const postgresEpochMicros = 946_684_800_000_000

// chainer computes event hashes from raw column bytes into buffers it reuses.
type chainer struct {
	buf []byte
	hex [64]byte
}

// hash is Hash over raw values: actorID is the 8-byte binary integer or nil, fields are
// actor, site, action, entity type, entity ID, reason, before and after as text (nil for
// SQL NULL, which only before and after can be).
func (c *chainer) hash(seq, micros int64, actorID []byte, fields [][]byte, prev []byte) []byte {
	b := append(c.buf[:0], "biobank-audit-v1;"...)
	num := func(n int64) {
		var tmp [20]byte
		d := strconv.AppendInt(tmp[:0], n, 10)
		b = strconv.AppendInt(b, int64(len(d)), 10)
		b = append(b, ':')
		b = append(b, d...)
		b = append(b, ';')
	}
	field := func(f []byte) {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
		b = append(b, ';')
	}
	num(seq)
	num(micros)
	if actorID == nil {
		field(nil)
	} else {
		num(int64(binary.BigEndian.Uint64(actorID)))
	}
	for i, f := range fields {
		if f == nil && i >= 6 { // before, after
			f = []byte("null")
		}
		field(f)
	}
	field(prev)
	c.buf = b
	sum := sha256.Sum256(b)
	hex.Encode(c.hex[:], sum[:])
	return c.hex[:]
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
