package fhir

import (
	"context"
	"fmt"
	"strings"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/participant"
	"biobank/internal/sample"
)

// Service reads the biobank's records as FHIR resources.
type Service struct {
	DB      *db.DB
	Samples *sample.Service
	// AccessionSystem, TubeSystem and PseudonymSystem are the identifier systems of this
	// instance's accession IDs, tube barcodes and pseudonyms.
	AccessionSystem, TubeSystem, PseudonymSystem string
}

// NewService returns the FHIR view of d; prefix is the instance's accession prefix, which
// names its identifier systems.
func NewService(d *db.DB, samples *sample.Service, prefix string) *Service {
	base := "urn:biobank:" + strings.ToLower(prefix) + ":"
	return &Service{DB: d, Samples: samples, AccessionSystem: base + "accession", TubeSystem: base + "tube-barcode", PseudonymSystem: base + "pseudonym"}
}

// Specimen reads one sample as a Specimen; another site's sample is forbidden to staff of
// one site.
func (s *Service) Specimen(ctx context.Context, actor auth.Actor, id string) (Specimen, error) {
	smp, err := s.Samples.Get(ctx, actor, codeOf(id))
	if _, invalid := apperr.AsValidation(err); invalid {
		return Specimen{}, apperr.NotFound("Specimen", id) // a FHIR id names a resource or nothing
	}
	if err != nil {
		return Specimen{}, err
	}
	if smp.Accession != codeOf(id) { // a tube barcode or a misread: the id is the accession
		return Specimen{}, apperr.NotFound("Specimen", id)
	}
	list, err := s.render(ctx, []int64{smp.ID})
	if err != nil {
		return Specimen{}, err
	}
	return list[0], nil
}

// SpecimenQuery selects specimens; paging is by keyset (After, the last id of the previous
// page), never by offset.
type SpecimenQuery struct {
	Subject      string // a pseudonym
	SpecimenType string // the biobank's type
	Study        string
	UpdatedAfter time.Time
	UpdatedFrom  time.Time
	UpdatedTo    time.Time // exclusive
	After        int64
	Count        int
}

// SearchSpecimens returns a page of specimens in id order and the keyset of the next page
// (0 at the end). Staff of one site see their site's samples only.
func (s *Service) SearchSpecimens(ctx context.Context, actor auth.Actor, q SpecimenQuery) ([]Specimen, int64, error) {
	where := []string{"true"}
	var args []any
	if !actor.AllSites() {
		where, args = append(where, "s.site_id = ?"), append(args, actor.SiteID)
	}
	if q.Subject != "" {
		where, args = append(where, "s.participant_id = (SELECT id FROM participants WHERE pseudonym = ?)"), append(args, codeOf(q.Subject))
	}
	if q.SpecimenType != "" {
		where, args = append(where, "s.specimen_type = ?"), append(args, q.SpecimenType)
	}
	if q.Study != "" {
		where, args = append(where, "s.study_id = (SELECT id FROM studies WHERE code = ?)"), append(args, q.Study)
	}
	if !q.UpdatedAfter.IsZero() {
		where, args = append(where, "s.updated_at > ?"), append(args, q.UpdatedAfter)
	}
	if !q.UpdatedFrom.IsZero() {
		where, args = append(where, "s.updated_at >= ?"), append(args, q.UpdatedFrom)
	}
	if !q.UpdatedTo.IsZero() {
		where, args = append(where, "s.updated_at < ?"), append(args, q.UpdatedTo)
	}
	if q.After > 0 {
		where, args = append(where, "s.id > ?"), append(args, q.After)
	}
	count := q.Count
	if count <= 0 || count > 1000 {
		count = 50
	}
	var ids []int64
	err := s.DB.Gorm.WithContext(ctx).Raw("SELECT s.id FROM samples s WHERE "+strings.Join(where, " AND ")+" ORDER BY s.id LIMIT ?",
		append(args, count+1)...).Scan(&ids).Error
	if err != nil {
		return nil, 0, fmt.Errorf("fhir: search specimens: %w", err)
	}
	var next int64
	if len(ids) > count {
		ids, next = ids[:count], ids[count-1]
	}
	list, err := s.render(ctx, ids)
	return list, next, err
}

// render loads samples by id with what a Specimen shows, and their diagnoses, in a fixed
// number of queries.
func (s *Service) render(ctx context.Context, ids []int64) ([]Specimen, error) {
	if len(ids) == 0 {
		return []Specimen{}, nil
	}
	samples, err := s.Samples.Details(ctx, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ParticipantID, StudyID int64
		Diagnosis              string
	}
	participants := map[int64]bool{}
	var pids []int64
	for _, smp := range samples {
		if !participants[smp.ParticipantID] {
			participants[smp.ParticipantID] = true
			pids = append(pids, smp.ParticipantID)
		}
	}
	if err := s.DB.Gorm.WithContext(ctx).Raw("SELECT participant_id, study_id, diagnosis FROM enrolments WHERE participant_id IN ?", pids).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("fhir: diagnoses: %w", err)
	}
	diagnosis := map[[2]int64]string{}
	for _, r := range rows {
		diagnosis[[2]int64{r.ParticipantID, r.StudyID}] = r.Diagnosis
	}
	out := make([]Specimen, 0, len(samples))
	for _, smp := range samples {
		out = append(out, s.SpecimenOf(smp, diagnosis[[2]int64{smp.ParticipantID, smp.StudyID}]))
	}
	return out, nil
}

// Patient reads a participant as a Patient.
func (s *Service) Patient(ctx context.Context, actor auth.Actor, id string) (Patient, error) {
	p, err := s.participant(ctx, actor, id)
	if err != nil {
		return Patient{}, err
	}
	return s.PatientOf(p), nil
}

func (s *Service) participant(ctx context.Context, actor auth.Actor, id string) (participant.Participant, error) {
	var p participant.Participant
	err := s.DB.Gorm.WithContext(ctx).Where("pseudonym = ?", codeOf(id)).Take(&p).Error
	if db.ErrNoRows(err) {
		return p, apperr.NotFound("Patient", id)
	}
	if err != nil {
		return p, fmt.Errorf("fhir: patient %s: %w", id, err)
	}
	return p, actor.RequireSite(p.SiteID)
}

// Conditions are a participant's diagnoses, one per study with one recorded.
func (s *Service) Conditions(ctx context.Context, actor auth.Actor, subject string) ([]Condition, error) {
	p, err := s.participant(ctx, actor, subject)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Study      string
		Diagnosis  string
		EnrolledOn time.Time
	}
	err = s.DB.Gorm.WithContext(ctx).Raw(`SELECT st.code AS study, e.diagnosis, e.enrolled_on FROM enrolments e JOIN studies st ON st.id = e.study_id
		WHERE e.participant_id = ? AND e.diagnosis <> '' ORDER BY st.code`, p.ID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("fhir: conditions of %s: %w", subject, err)
	}
	out := make([]Condition, 0, len(rows))
	for _, r := range rows {
		out = append(out, ConditionOf(p.Pseudonym, r.Study, r.Diagnosis, r.EnrolledOn))
	}
	return out, nil
}
