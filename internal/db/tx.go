package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"biobank/internal/audit"
)

// Tx is an open transaction. Statements run on the embedded gorm handle; audit events are
// recorded with Record, which only buffers them. When the callback given to DB.Tx returns
// nil, the helper appends every recorded event through the database function audit_append
// — one call, one lock of the chain head, as the last statement before COMMIT (for a small
// batch, in the same round trip as an asynchronous COMMIT, whose durability is confirmed
// after the lock is released: see flush) — and then commits. So no code can write an event before taking another row lock (the deadlock of
// the old "append last" rule), and a change and its events commit together or not at all.
//
// Lock order. Every transaction that takes row locks takes them in this order, so that two
// transactions never wait for each other in a circle:
//
//  1. reference rows read under a share lock (a consent document's version);
//  2. participants: FOR UPDATE to change them or their consents (withdrawal, enrolment,
//     collection), FOR SHARE before aliquoting one of their tubes, whose children reference
//     the participant (their foreign key's share lock would otherwise be taken after the
//     tube's lock and deadlock with a withdrawal);
//  3. shipments (FOR UPDATE to change one or its items: packing, dispatch, receipt);
//  4. boxes (placements into a box, box moves), in id order when several;
//  5. samples, in id order when several (a parent before its children, since a child's id
//     is always greater);
//  6. the audit chain head — only ever by audit_append, at commit, after everything else.
//
// The chain head is taken last by construction: it is locked by the flush, which runs
// after the callback has taken every lock it will take.
type Tx struct {
	*gorm.DB
	entries   []audit.Entry
	unaudited string
	// changed is set by the gorm callbacks (watchWrites) when a statement of this
	// transaction inserts, updates or deletes rows.
	changed bool
	// committed is set once the flush has committed the work itself (small batches).
	committed bool
	// noWait is set by NoDurabilityWait.
	noWait bool
}

// NoDurabilityWait lets the transaction commit without waiting for the disk (PostgreSQL's
// asynchronous commit): a crash within a fraction of a second after it returns may lose
// it, consistently with everything after it. Only for work that can be done again from
// scratch, such as loading the demonstration data; why says so in words.
func (tx *Tx) NoDurabilityWait(why string) error {
	if strings.TrimSpace(why) == "" {
		panic("db: Tx.NoDurabilityWait needs the reason in words")
	}
	tx.noWait = true
	return tx.Exec("SET LOCAL synchronous_commit TO off").Error
}

// Record buffers an audit event; it is written when the transaction commits.
func (tx *Tx) Record(e audit.Entry) {
	tx.entries = append(tx.entries, e)
}

// Recorded is the number of events buffered so far.
func (tx *Tx) Recorded() int { return len(tx.entries) }

// Unaudited declares that this transaction may write rows without recording an event, and
// why (for example a sign-in's bookkeeping of failed attempts, or a read that only locks).
// Without it, a transaction that wrote rows but recorded nothing is refused at commit with
// ErrUnaudited.
func (tx *Tx) Unaudited(why string) {
	if strings.TrimSpace(why) == "" {
		panic("db: Tx.Unaudited needs the reason in words")
	}
	tx.unaudited = why
}

// ErrUnaudited means a transaction wrote rows but recorded no audit event and did not say
// why: a programming error, refused so that nothing changes unaudited.
var ErrUnaudited = errors.New("db: the transaction changed rows but recorded no audit event")

// Tx runs fn in one transaction. When fn returns nil and the context is still live, the
// recorded audit events are appended in one call and the transaction commits; an error, a
// panic (re-raised), a failed append or a cancelled context rolls everything back — domain
// rows and events alike.
//
// A transaction that fails with a serialization failure or a deadlock is run again, up to
// three times in all, so fn must be safe to run more than once (it is: it only works on
// the database through tx). This is a safety net: a deadlock found in a test is fixed at
// its cause, by the lock order above.
func (d *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = d.tx(ctx, fn)
		if attempt == maxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		slog.Warn("transaction retried", "attempt", attempt, "error", err)
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
}

// maxAttempts is how often a transaction is tried when it keeps failing with a
// serialization failure or a deadlock.
const maxAttempts = 3

// retryable reports whether err is a serialization failure (40001) or a deadlock (40P01),
// after which the same transaction may succeed when run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// tx is one attempt of Tx.
func (d *DB) tx(ctx context.Context, fn func(tx *Tx) error) error {
	tx := &Tx{}
	err := d.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		// Every statement made from g carries this context, so the write watcher can find
		// the transaction it belongs to.
		tx.DB = g.WithContext(context.WithValue(ctx, txKey{}, tx))
		if err := fn(tx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("db: transaction abandoned before commit: %w", err)
		}
		return tx.flush()
	})
	if err != nil && tx.committed {
		// The flush committed the work; what failed is the commit that confirms it is on
		// disk. When the caller's context ended in between, the change stands (the WAL
		// writer flushes it within a fraction of a second) and the caller is gone; any
		// other failure leaves its durability unknown, which the caller must be told.
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("db: the change was committed but the database did not confirm it is on disk: %w", err)
	}
	return err
}

// flush appends the recorded events, or, when there are none, refuses a transaction that
// changed rows without saying why.
func (tx *Tx) flush() error {
	if len(tx.entries) == 0 {
		if tx.changed && tx.unaudited == "" {
			return ErrUnaudited
		}
		return nil
	}
	batch, err := audit.EncodeBatch(tx.entries)
	if err != nil {
		return err
	}
	ctx := tx.Statement.Context
	if len(tx.entries) > pipelineAtMost {
		// A large batch is bound as a parameter; the commit's round trip is small
		// beside the append.
		if _, err := tx.Statement.ConnPool.ExecContext(ctx, "SELECT audit_append($1::jsonb)", string(batch)); err != nil {
			return fmt.Errorf("db: append %d audit events: %w", len(tx.entries), err)
		}
		tx.entries = nil
		return nil
	}
	// A small batch and the COMMIT go to the server in one round trip, and the COMMIT
	// does not wait for the disk: from the moment audit_append takes the chain's lock
	// until that COMMIT every other appender waits, so that window holds neither a round
	// trip to this process nor a WAL flush. Durability is then confirmed outside the
	// lock: the BEGIN opens a transaction that writes one tiny WAL record of its own (a
	// transactional logical message; taking a transaction id alone writes none, and
	// PostgreSQL commits a transaction without WAL asynchronously), and database/sql's
	// COMMIT of it, when this callback returns, is a synchronous commit, which returns
	// only once the WAL is flushed up to its own commit record — so up to and including
	// this transaction's. The writers' flushes are thus grouped by
	// PostgreSQL instead of being taken one after another under the chain's lock. Between
	// the two commits the change is visible but not yet on disk; a crash then loses it
	// together with everything that came after it (the WAL is replayed as a prefix, so
	// the chain never has a hole), and the caller, not yet told of success, gets an error.
	// A statement without parameters runs as one simple-protocol query, statement after
	// statement, stopping at the first error: a failed append never reaches COMMIT, and
	// the transaction is then rolled back as usual.
	confirm := "; SELECT pg_logical_emit_message(true, 'biobank', 'durable')"
	if tx.noWait {
		confirm = ""
	}
	if _, err := tx.Statement.ConnPool.ExecContext(ctx, "SET LOCAL synchronous_commit TO off; SELECT audit_append("+
		escapeLiteral(batch)+"::jsonb); COMMIT; BEGIN"+confirm); err != nil {
		return fmt.Errorf("db: append %d audit events: %w", len(tx.entries), err)
	}
	tx.entries, tx.committed = nil, true
	return nil
}

// pipelineAtMost is the largest batch sent with its COMMIT in one round trip, as a
// literal; a larger one is bound as a parameter, which costs less to send and parse.
const pipelineAtMost = 500

// escapeLiteral writes b as a PostgreSQL escape-string literal (E'…'), whose reading does
// not depend on standard_conforming_strings: backslashes and quotes are doubled. b is JSON
// from encoding/json, which holds no NUL byte.
func escapeLiteral(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/16 + 3)
	sb.WriteString("E'")
	for _, c := range b {
		switch c {
		case '\\':
			sb.WriteString(`\\`)
		case '\'':
			sb.WriteString("''")
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('\'')
	return sb.String()
}

// txKey is the context key under which a statement finds its Tx.
type txKey struct{}

// dataChanging matches SQL that can change rows: INSERT, UPDATE, DELETE, MERGE, COPY and
// TRUNCATE, also inside a WITH query. A SELECT … FOR UPDATE locks rows but changes none.
var dataChanging = regexp.MustCompile(`(?is)^\s*(?:insert|update|delete|merge|copy|truncate)\b|^\s*with\b.*\b(?:insert\s+into|update\s+\S+\s+set|delete\s+from)\b`)

// watchWrites registers gorm callbacks that mark the statement's Tx as changed when it
// inserted, updated or deleted rows: gorm's Create, Update and Delete, and Exec or Raw
// statements whose SQL changes data. It is how DB.Tx knows that a transaction that
// recorded no event changed something (the "nothing changes unaudited" check).
func watchWrites(g *gorm.DB) error {
	mark := func(always bool) func(*gorm.DB) {
		return func(st *gorm.DB) {
			if st.Error != nil || st.RowsAffected == 0 || st.Statement == nil || st.Statement.Context == nil {
				return
			}
			tx, ok := st.Statement.Context.Value(txKey{}).(*Tx)
			if !ok {
				return
			}
			if always || dataChanging.MatchString(st.Statement.SQL.String()) {
				tx.changed = true
			}
		}
	}
	cb := g.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("biobank:watch_create", mark(true)),
		cb.Update().After("gorm:update").Register("biobank:watch_update", mark(true)),
		cb.Delete().After("gorm:delete").Register("biobank:watch_delete", mark(true)),
		cb.Raw().After("gorm:raw").Register("biobank:watch_raw", mark(false)),
		cb.Row().After("gorm:row").Register("biobank:watch_row", mark(false)),
		cb.Query().After("gorm:query").Register("biobank:watch_query", mark(false)),
	} {
		if err != nil {
			return fmt.Errorf("db: register write watcher: %w", err)
		}
	}
	return nil
}
