package sample

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"biobank/internal/auth"
	"biobank/internal/input"
)

// ExportPage is how many rows one query of the export reads: each page is its own short
// query (keyset on the sample id), so a million rows neither hold a statement open past
// its timeout nor sit in memory.
const ExportPage = 5000

// ExportHeader is the first line of the samples export.
var ExportHeader = []string{"accession", "tube_barcode", "participant", "study", "visit", "specimen_type", "container", "volume", "unit",
	"status", "hold", "hold_kind", "collected_at_utc", "received_at_utc", "site", "parent", "sprec", "box", "position", "freeze_thaw_count"}

// Export writes every sample the filter selects as CSV, oldest first, page by page; memory
// stays flat however many there are. The filter's cursor and limit do not apply.
func (s *Service) Export(ctx context.Context, actor auth.Actor, f Filter, w io.Writer) error {
	where, args, err := f.where(actor)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportHeader); err != nil {
		return err
	}
	q := `SELECT s.id, s.accession, COALESCE(s.tube_barcode, ''), p.pseudonym, st.code, vd.code, s.specimen_type, s.container,
		trim_scale(s.volume)::text, s.unit, s.status, s.hold, s.hold_kind, s.collected_at, s.received_at, si.code, COALESCE(pa.accession, ''), s.sprec,
		COALESCE(b.barcode, ''), pos.row, pos.col, s.freeze_thaw_count` + listJoins + `
		LEFT JOIN sample_positions pos ON pos.sample_id = s.id
		LEFT JOIN boxes b ON b.id = pos.box_id
		WHERE s.id > ?`
	for _, c := range where {
		q += " AND " + c
	}
	q += " ORDER BY s.id LIMIT ?"
	var after int64
	record := make([]string, len(ExportHeader))
	for {
		n, last, err := s.exportPage(ctx, q, append(append([]any{after}, args...), ExportPage), cw, record)
		if err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if fl, ok := w.(interface{ Flush() }); ok {
			fl.Flush()
		}
		if n < ExportPage {
			return nil
		}
		after = last
	}
}

// exportPage writes one page and returns how many rows it had and the last id.
func (s *Service) exportPage(ctx context.Context, q string, args []any, cw *csv.Writer, record []string) (int, int64, error) {
	rows, err := s.DB.Gorm.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return 0, 0, fmt.Errorf("sample: export: %w", err)
	}
	defer rows.Close()
	var (
		id, ftc                                          int64
		row, col                                         sql.NullInt64
		hold                                             bool
		collected                                        time.Time
		received                                         sql.NullTime
		acc, tube, pseud, study, visit, typ, cont, vol   string
		unit, status, holdKind, site, parent, sprec, box string
	)
	n := 0
	for rows.Next() {
		if err := rows.Scan(&id, &acc, &tube, &pseud, &study, &visit, &typ, &cont, &vol, &unit, &status, &hold, &holdKind,
			&collected, &received, &site, &parent, &sprec, &box, &row, &col, &ftc); err != nil {
			return 0, 0, fmt.Errorf("sample: export: %w", err)
		}
		n++
		pos := ""
		if row.Valid && col.Valid {
			pos = string(rune('A'+row.Int64-1)) + strconv.FormatInt(col.Int64, 10)
		}
		rec := ""
		if received.Valid {
			rec = received.Time.UTC().Format(time.RFC3339)
		}
		record[0], record[1], record[2], record[3], record[4] = acc, input.CSVCell(tube), pseud, study, visit
		record[5], record[6], record[7], record[8], record[9] = typ, cont, vol, unit, status
		record[10], record[11], record[12], record[13] = strconv.FormatBool(hold), holdKind, collected.UTC().Format(time.RFC3339), rec
		record[14], record[15], record[16], record[17], record[18], record[19] = site, parent, sprec, box, pos, strconv.FormatInt(ftc, 10)
		if err := cw.Write(record); err != nil {
			return 0, 0, err
		}
	}
	return n, id, rows.Err()
}
