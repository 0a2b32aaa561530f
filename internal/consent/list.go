package consent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/study"
)

// Filter selects current consents (the latest per participant and study).
type Filter struct {
	Status string
	Study  string
	// Tiers keeps only consents whose tiers in force include every one of these.
	Tiers  []string
	Cursor int64
	Limit  int
}

// Row is one current consent in a list.
type Row struct {
	ConsentID      int64       `json:"consent_id"`
	Pseudonym      string      `json:"pseudonym"`
	Site           string      `json:"site"`
	Study          string      `json:"study"`
	Version        string      `json:"version"`
	SignedOn       time.Time   `json:"signed_on"`
	Tiers          study.Tiers `json:"tiers"`
	EffectiveTiers study.Tiers `json:"effective_tiers"`
}

// Status of the row's consent.
func (r Row) Status() string {
	return Consent{Tiers: r.Tiers, EffectiveTiers: r.EffectiveTiers}.Status()
}

// List returns one page of current consents matching f, newest first, in one query with
// keyset pagination; nurses and technicians see only their site's participants.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) ([]Row, int64, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	where := []string{`NOT EXISTS (SELECT 1 FROM consents n WHERE n.participant_id = c.participant_id
		AND n.study_id = c.study_id AND (n.signed_on, n.id) > (c.signed_on, c.id))`}
	var args []any
	switch f.Status {
	case "":
	case StatusActive:
		where = append(where, "cardinality(c.effective_tiers) = cardinality(c.tiers)")
	case StatusPartial:
		where = append(where, "cardinality(c.effective_tiers) BETWEEN 1 AND cardinality(c.tiers) - 1")
	case StatusWithdrawn:
		where = append(where, "cardinality(c.effective_tiers) = 0")
	default:
		return nil, 0, apperr.Invalid("status", "The status is active, partially_withdrawn or withdrawn.")
	}
	if code := strings.ToUpper(strings.TrimSpace(f.Study)); code != "" {
		where = append(where, "st.code = ?")
		args = append(args, code)
	}
	tiers, err := study.ParseTiers("tiers", f.Tiers)
	if err != nil {
		return nil, 0, err
	}
	if len(tiers) > 0 {
		where = append(where, "c.effective_tiers @> ?::text[]")
		v, _ := tiers.Value()
		args = append(args, v)
	}
	if !actor.AllSites() {
		where = append(where, "p.site_id = ?")
		args = append(args, actor.SiteID)
	}
	if f.Cursor > 0 {
		where = append(where, "c.id < ?")
		args = append(args, f.Cursor)
	}
	args = append(args, limit+1)
	q := `SELECT c.id, p.pseudonym, si.code, st.code, d.version, c.signed_on, c.tiers, c.effective_tiers
		FROM consents c
		JOIN participants p ON p.id = c.participant_id
		JOIN sites si ON si.id = p.site_id
		JOIN studies st ON st.id = c.study_id
		JOIN consent_documents d ON d.id = c.document_id
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY c.id DESC LIMIT ?`
	rows, err := s.DB.Gorm.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, 0, fmt.Errorf("consent: list: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ConsentID, &r.Pseudonym, &r.Site, &r.Study, &r.Version, &r.SignedOn, &r.Tiers, &r.EffectiveTiers); err != nil {
			return nil, 0, fmt.Errorf("consent: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("consent: list: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ConsentID
	}
	return out, next, nil
}
