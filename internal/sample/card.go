package sample

import (
	"context"
	"fmt"
	"strings"

	"biobank/internal/auth"
	"biobank/internal/input"
)

// CardLocation is where a card's sample is stored (the storage area's Location, read here
// in the same query).
type CardLocation struct {
	Site     string `json:"site"`
	Freezer  string `json:"freezer"`
	Rack     string `json:"rack,omitempty"`
	Box      string `json:"box"`
	Position string `json:"position"`
}

// Card is a sample with everything a read shows — its participant, study, visit, site,
// parent, children and storage location — read in one query.
type Card struct {
	Sample
	ParticipantPseudonym string
	StudyCode            string
	VisitCode            string
	SiteCode             string
	ParentAccession      *string
	Children             []string
	Location             *CardLocation
}

type cardRow struct {
	Sample
	ParticipantPseudonym string
	StudyCode            string
	VisitCode            string
	SiteCode             string
	ParentAccession      *string
	ChildList            string
	LocSite, LocFreezer  *string
	LocRack, LocBox      *string
	LocPosition          *string
}

const cardQuery = `SELECT s.*, p.pseudonym AS participant_pseudonym, st.code AS study_code, vd.code AS visit_code, si.code AS site_code,
	pa.accession AS parent_accession,
	COALESCE((SELECT string_agg(c.accession, ',' ORDER BY c.id) FROM samples c WHERE c.parent_id = s.id), '') AS child_list,
	lsi.code AS loc_site, f.name AS loc_freezer, r.name AS loc_rack, b.barcode AS loc_box, chr(64 + pos.row) || pos.col AS loc_position` +
	listJoins + `
	LEFT JOIN sample_positions pos ON pos.sample_id = s.id
	LEFT JOIN boxes b ON b.id = pos.box_id
	LEFT JOIN freezers f ON f.id = b.freezer_id
	LEFT JOIN sites lsi ON lsi.id = f.site_id
	LEFT JOIN racks r ON r.id = b.rack_id`

// Card reads a sample for display in one query when the code is its accession ID or tube
// barcode as scanned; a misread or hand-typed code takes the lookup's slower path first.
// Another site's sample is refused to staff of one site.
func (s *Service) Card(ctx context.Context, actor auth.Actor, raw string) (Card, error) {
	code := input.Scanned(raw)
	var rows []cardRow
	err := s.DB.Gorm.WithContext(ctx).Raw(cardQuery+` WHERE s.accession = ? OR s.tube_barcode = ?
		ORDER BY CASE WHEN s.status IN ('consumed','destroyed','lost') THEN 1 ELSE 0 END, s.id DESC LIMIT 1`,
		strings.ToUpper(code), code).Scan(&rows).Error
	if err != nil {
		return Card{}, fmt.Errorf("sample: card %s: %w", code, err)
	}
	if len(rows) == 0 || rows[0].ID == 0 {
		smp, err := s.find(s.DB.Gorm.WithContext(ctx), raw) // normalisation, check symbols, suggestions
		if err != nil {
			return Card{}, err
		}
		if err := s.DB.Gorm.WithContext(ctx).Raw(cardQuery+" WHERE s.id = ?", smp.ID).Scan(&rows).Error; err != nil || len(rows) == 0 {
			return Card{}, fmt.Errorf("sample: card %s: %w", code, err)
		}
	}
	r := rows[0]
	if err := actor.RequireSite(r.SiteID); err != nil {
		return Card{}, err
	}
	c := Card{Sample: r.Sample, ParticipantPseudonym: r.ParticipantPseudonym, StudyCode: r.StudyCode, VisitCode: r.VisitCode,
		SiteCode: r.SiteCode, ParentAccession: r.ParentAccession, Children: []string{}}
	if r.ChildList != "" {
		c.Children = strings.Split(r.ChildList, ",")
	}
	if r.LocBox != nil {
		c.Location = &CardLocation{Site: deref(r.LocSite), Freezer: deref(r.LocFreezer), Rack: deref(r.LocRack), Box: *r.LocBox, Position: deref(r.LocPosition)}
	}
	return c, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
