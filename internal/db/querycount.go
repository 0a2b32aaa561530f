package db

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// countKey carries a query counter in a context.
type countKey struct{}

// CountQueries returns ctx with a counter of the queries sent to PostgreSQL under it
// (through gorm, database/sql or the pgx pool alike: the count is taken in the driver),
// and the counter.
func CountQueries(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, countKey{}, n), n
}

// queryCounter is the pool's tracer: it counts a query for the counter in its context.
type queryCounter struct{}

func (queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if n, ok := ctx.Value(countKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return ctx
}

func (queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
