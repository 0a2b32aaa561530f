package audit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"biobank/internal/audit"
	"biobank/internal/db"
	"biobank/internal/db/dbtest"
)

// Benchmarks of the audit trail's write path. Each reports events/s; the raw baselines
// insert comparable rows (same columns, same indexes, no chaining) into a scratch table in
// the same run, so that the ratio holds on any machine:
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/audit/

func scratchTable(b *testing.B, d *db.DB) {
	b.Helper()
	if _, err := d.Pool.Exec(context.Background(), `CREATE TABLE raw_events (LIKE audit_events INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
}

const rawInsert = `INSERT INTO raw_events (seq, at, actor_id, actor, site, action, entity_type, entity_id, reason, before, after, prev_hash, hash)
	SELECT s, now(), s, 'user' || s, 'LUX', 'test.append', 'thing', s::text, 'because', jsonb_build_object('volume', '1.50', 'n', s),
		jsonb_build_object('volume', '1.00'), repeat('0', 64), repeat('1', 64) FROM generate_series($1::bigint, $2::bigint) s`

// BenchmarkAppendBatch appends N events in one transaction (the 100,000 case against the
// 10,000 one shows linearity), beside the raw insert of as many rows.
func BenchmarkAppendBatch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("audit_append/%d", n), func(b *testing.B) {
			d := dbtest.New(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := d.Tx(context.Background(), func(tx *db.Tx) error {
					for j := 0; j < n; j++ {
						tx.Record(entry(j))
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(fmt.Sprintf("raw_insert/%d", n), func(b *testing.B) {
			d := dbtest.New(b)
			scratchTable(b, d)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.Pool.Exec(context.Background(), rawInsert, i*n+1, (i+1)*n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendSingleEventTransactions runs transactions of one event each, from 8
// concurrent writers, beside the raw single-writer insert rate of one row per transaction.
func BenchmarkAppendSingleEventTransactions(b *testing.B) {
	const total = 4000
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("audit_append/%d_writers", writers), func(b *testing.B) {
			d := dbtest.New(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var next atomic.Int64
				var wg sync.WaitGroup
				for w := 0; w < writers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for j := next.Add(1); j <= total; j = next.Add(1) {
							err := d.Tx(context.Background(), func(tx *db.Tx) error {
								tx.Record(entry(int(j)))
								return nil
							})
							if err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			}
			b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	b.Run("raw_insert/1_writer", func(b *testing.B) {
		d := dbtest.New(b)
		scratchTable(b, d)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j := 1; j <= total; j++ {
				k := i*total + j
				if _, err := d.Pool.Exec(context.Background(), rawInsert, k, k); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkVerify verifies a chain of 200,000 events (appended in batches of 10,000) and
// reports events/s and the bytes allocated per event, which must not grow with the trail.
func BenchmarkVerify(b *testing.B) {
	const events, batch = 200_000, 10_000
	d := dbtest.New(b)
	for done := 0; done < events; done += batch {
		err := d.Tx(context.Background(), func(tx *db.Tx) error {
			for j := 0; j < batch; j++ {
				e := entry(done + j)
				e.Before, e.After = benchPayload{Volume: "1.50", N: done + j}, benchPayload{Volume: "1.00", N: done + j, Unit: "µL"}
				tx.Record(e)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := audit.Verify(context.Background(), d.Pool)
		if err != nil || !res.OK || res.Events != events {
			b.Fatalf("verify: %+v %v", res, err)
		}
	}
	b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
}

// benchPayload is a payload of the size the services record.
type benchPayload struct {
	Volume string `json:"volume"`
	N      int    `json:"n"`
	Unit   string `json:"unit,omitempty"`
}

func (benchPayload) AuditPayload() {}
