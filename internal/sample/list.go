package sample

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/custody"
	"biobank/internal/input"
)

// Filter selects samples for the list. Zero fields do not filter.
type Filter struct {
	Study        string
	Visit        string
	SpecimenType string
	Status       string
	// Hold is "yes", "no" or empty.
	Hold string
	// HoldKind keeps only samples held for this reason (consent or quality).
	HoldKind string
	// Live leaves out samples whose life has ended (consumed, destroyed, lost).
	Live        bool
	From, To    string // collection dates YYYY-MM-DD, To inclusive
	Participant string
	// Site narrows a manager's or administrator's list to one site.
	Site   string
	Cursor int64
	Limit  int
}

// Row is one sample in a list.
type Row struct {
	ID           int64           `json:"-"`
	Accession    string          `json:"id"`
	TubeBarcode  *string         `json:"tube_barcode"`
	Participant  string          `json:"participant"`
	Study        string          `json:"study"`
	Visit        string          `json:"visit"`
	SpecimenType string          `json:"specimen_type"`
	Status       Status          `json:"status"`
	Hold         bool            `json:"hold"`
	HoldKind     string          `json:"hold_kind,omitempty"`
	HoldReason   string          `json:"hold_reason,omitempty"`
	Volume       decimal.Decimal `json:"volume"`
	Unit         string          `json:"unit"`
	CollectedAt  time.Time       `json:"collected_at"`
	Site         string          `json:"site"`
	Parent       *string         `json:"parent"`
	VisitID      int64           `json:"-"`
}

// listJoins are the tables a sample list reads, the names the filter's conditions use.
const listJoins = `
		FROM samples s
		JOIN participants p ON p.id = s.participant_id
		JOIN studies st ON st.id = s.study_id
		JOIN visits v ON v.id = s.visit_id
		JOIN visit_definitions vd ON vd.id = v.visit_definition_id
		JOIN sites si ON si.id = s.site_id
		LEFT JOIN samples pa ON pa.id = s.parent_id`

// where is the filter as SQL conditions on the list's joins (s samples, p participants,
// st studies, vd visit definitions, si sites), with the actor's site for site-bound staff.
func (f Filter) where(actor auth.Actor) ([]string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if !actor.AllSites() {
		add("s.site_id = ?", actor.SiteID)
	} else if v := strings.ToUpper(strings.TrimSpace(f.Site)); v != "" {
		add("si.code = ?", v)
	}
	if v := strings.ToUpper(strings.TrimSpace(f.Study)); v != "" {
		add("st.code = ?", v)
	}
	if v := strings.ToUpper(strings.TrimSpace(f.Visit)); v != "" {
		add("vd.code = ?", v)
	}
	if v := strings.TrimSpace(f.SpecimenType); v != "" {
		add("s.specimen_type = ?", v)
	}
	if v := strings.TrimSpace(f.Status); v != "" {
		known := false
		for _, st := range Statuses {
			known = known || string(st) == v
		}
		if !known {
			return nil, nil, apperr.Invalid("status", fmt.Sprintf("Unknown status %q.", v))
		}
		add("s.status = ?", v)
	}
	switch f.Hold {
	case "":
	case "yes":
		where = append(where, "s.hold")
	case "no":
		where = append(where, "NOT s.hold")
	default:
		return nil, nil, apperr.Invalid("hold", "Hold is yes or no.")
	}
	if f.HoldKind != "" {
		add("s.hold_kind = ?", f.HoldKind)
	}
	if f.Live {
		where = append(where, "s.status NOT IN ('consumed', 'destroyed', 'lost')")
	}
	if strings.TrimSpace(f.From) != "" {
		d, err := input.Date("from", "first collection date", f.From)
		if err != nil {
			return nil, nil, err
		}
		add("s.collected_at >= ?", d)
	}
	if strings.TrimSpace(f.To) != "" {
		d, err := input.Date("to", "last collection date", f.To)
		if err != nil {
			return nil, nil, err
		}
		add("s.collected_at < ?", d.AddDate(0, 0, 1))
	}
	if v := strings.ToUpper(strings.TrimSpace(f.Participant)); v != "" {
		add("p.pseudonym = ?", v)
	}
	return where, args, nil
}

// List returns one page of samples, newest first, in one query with keyset pagination
// (never OFFSET); nurses and technicians see their own site's samples only.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) ([]Row, int64, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	where, args, err := f.where(actor)
	if err != nil {
		return nil, 0, err
	}
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if f.Cursor > 0 {
		add("s.id < ?", f.Cursor)
	}
	q := `SELECT s.id, s.accession, s.tube_barcode, p.pseudonym AS participant, st.code AS study, vd.code AS visit, s.visit_id,
		s.specimen_type, s.status, s.hold, s.hold_kind, s.hold_reason, s.volume, s.unit, s.collected_at, si.code AS site,
		pa.accession AS parent` + listJoins
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY s.id DESC LIMIT ?"
	args = append(args, limit+1)
	var rows []Row
	if err := s.DB.Gorm.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("sample: list: %w", err)
	}
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	return rows, next, nil
}

// Custody returns the chain of custody of a sample: its own audit events and those of all
// its ancestors, oldest first.
func (s *Service) Custody(ctx context.Context, actor auth.Actor, code string) (Sample, []custody.Line, error) {
	smp, err := s.Get(ctx, actor, code)
	if err != nil {
		return Sample{}, nil, err
	}
	lines, err := s.lineageCustody(ctx, smp.ID)
	if err != nil {
		return Sample{}, nil, fmt.Errorf("sample: custody of %s: %w", smp.Accession, err)
	}
	return smp, lines, nil
}

// lineageCustody is the custody of a sample and its ancestors (read without a site check:
// the caller has established access).
func (s *Service) lineageCustody(ctx context.Context, id int64) ([]custody.Line, error) {
	// The sample and up to five generations of ancestors by their primary keys (a recursive
	// query over samples would be planned as a scan of the whole table); deeper lineages,
	// which the bench never sees, continue from the fifth ancestor.
	var accessions []string
	for next := id; next != 0; {
		var row struct {
			A0, A1, A2, A3, A4, A5 *string
			More                   *int64
		}
		err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT s0.accession AS a0, s1.accession AS a1, s2.accession AS a2, s3.accession AS a3,
				s4.accession AS a4, s5.accession AS a5, s5.parent_id AS more
			FROM samples s0 LEFT JOIN samples s1 ON s1.id = s0.parent_id LEFT JOIN samples s2 ON s2.id = s1.parent_id
			LEFT JOIN samples s3 ON s3.id = s2.parent_id LEFT JOIN samples s4 ON s4.id = s3.parent_id
			LEFT JOIN samples s5 ON s5.id = s4.parent_id WHERE s0.id = ?`, next).Scan(&row).Error
		if err != nil {
			return nil, err
		}
		next = 0
		for _, a := range []*string{row.A0, row.A1, row.A2, row.A3, row.A4, row.A5} {
			if a != nil && !slices.Contains(accessions, *a) {
				accessions = append(accessions, *a)
			}
		}
		if row.More != nil && len(accessions) < 1000 {
			next = *row.More
		}
	}
	return custody.Chain(ctx, s.DB.Gorm, accessions)
}

// CarriedCustody is the custody a manifest carries for each of the samples with ids: its
// own steps and its ancestors', as sentences, by sample id — in two queries however many
// samples there are.
func (s *Service) CarriedCustody(ctx context.Context, ids []int64) (map[int64][]custody.Carried, error) {
	var chains []struct {
		Root      int64
		Accession string
		Depth     int
	}
	err := s.DB.Gorm.WithContext(ctx).Raw(`WITH RECURSIVE chain AS (
			SELECT id AS root, id, accession, parent_id, 0 AS depth FROM samples WHERE id IN ?
			UNION ALL
			SELECT c.root, p.id, p.accession, p.parent_id, c.depth + 1 FROM samples p JOIN chain c ON p.id = c.parent_id)
		SELECT root, accession, depth FROM chain ORDER BY root, depth`, ids).Scan(&chains).Error
	if err != nil {
		return nil, fmt.Errorf("sample: carried custody: %w", err)
	}
	byRoot := map[int64][]string{}
	for _, c := range chains {
		byRoot[c.Root] = append(byRoot[c.Root], c.Accession)
	}
	lines, err := custody.Chains(ctx, s.DB.Gorm, byRoot)
	if err != nil {
		return nil, fmt.Errorf("sample: carried custody: %w", err)
	}
	out := map[int64][]custody.Carried{}
	for root, l := range lines {
		out[root] = custody.ToCarried(l)
	}
	return out, nil
}

// RecentReceipts lists the samples the actor received in the last 12 hours, newest first:
// the running list beside the receive scan field.
func (s *Service) RecentReceipts(ctx context.Context, actor auth.Actor, limit int) ([]Row, error) {
	var rows []Row
	err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT s.id, s.accession, s.tube_barcode, p.pseudonym AS participant, st.code AS study,
		vd.code AS visit, s.specimen_type, s.status, s.hold, s.volume, s.unit, s.collected_at, si.code AS site
		FROM samples s
		JOIN participants p ON p.id = s.participant_id
		JOIN studies st ON st.id = s.study_id
		JOIN visits v ON v.id = s.visit_id
		JOIN visit_definitions vd ON vd.id = v.visit_definition_id
		JOIN sites si ON si.id = s.site_id
		WHERE s.received_by = ? AND s.parent_id IS NULL AND s.received_at > ?
		ORDER BY s.received_at DESC LIMIT ?`, actor.UserID, s.Now().Add(-12*time.Hour), limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sample: recent receipts: %w", err)
	}
	return rows, nil
}

// ConsentHeld lists the samples on consent hold awaiting a manager's decision (up to 500
// a page, newest first). A sample destroyed by the decision, or lost or used up meanwhile,
// keeps its hold flag but awaits nothing.
func (s *Service) ConsentHeld(ctx context.Context, actor auth.Actor, cursor int64) ([]Row, int64, error) {
	if err := actor.Require(managerRoles...); err != nil {
		return nil, 0, err
	}
	return s.List(ctx, actor, Filter{HoldKind: HoldConsent, Live: true, Cursor: cursor, Limit: 500})
}
