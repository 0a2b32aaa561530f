package fhir

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/participant"
)

// ExportPage is how many participants one round of the export reads.
const ExportPage = 200

// Export writes the bulk feed as NDJSON: one FHIR transaction Bundle per line and per
// participant — the Patient, its Conditions and its Specimens — each entry a PUT of the
// resource under its stable logical id (update as create), so that a loader can run it
// again, or incrementally with since (participants and specimens changed after it), and
// converge on the same data. study limits it to one study's enrolments and samples.
// Participants are read a page at a time in id order (keyset), so memory stays flat.
func (s *Service) Export(ctx context.Context, actor auth.Actor, study string, since time.Time, w io.Writer) error {
	if err := actor.Require(auth.RoleManager, auth.RoleAdmin); err != nil {
		return err
	}
	var studyID int64
	if study != "" {
		if err := s.DB.Gorm.WithContext(ctx).Raw("SELECT id FROM studies WHERE code = ?", study).Scan(&studyID).Error; err != nil {
			return fmt.Errorf("fhir: export: %w", err)
		}
		if studyID == 0 {
			return apperr.Invalid("study", fmt.Sprintf("There is no study %q.", study))
		}
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var after int64
	for {
		var pids []int64
		err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT p.id FROM participants p
			WHERE p.id > ? AND (? = 0 OR EXISTS (SELECT 1 FROM enrolments e WHERE e.participant_id = p.id AND e.study_id = ?))
			AND (p.updated_at > ? OR EXISTS (SELECT 1 FROM samples s WHERE s.participant_id = p.id AND s.updated_at > ? AND (? = 0 OR s.study_id = ?)))
			ORDER BY p.id LIMIT ?`, after, studyID, studyID, since, since, studyID, studyID, ExportPage).Scan(&pids).Error
		if err != nil {
			return fmt.Errorf("fhir: export: %w", err)
		}
		if len(pids) == 0 {
			return bw.Flush()
		}
		after = pids[len(pids)-1]
		bundles, err := s.exportPage(ctx, pids, studyID, since)
		if err != nil {
			return err
		}
		for _, b := range bundles {
			if err := enc.Encode(b); err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if f, ok := w.(interface{ Flush() }); ok {
			f.Flush()
		}
	}
}

// exportPage builds the bundles of a page of participants in a fixed number of queries.
func (s *Service) exportPage(ctx context.Context, pids []int64, studyID int64, since time.Time) ([]Bundle, error) {
	q := s.DB.Gorm.WithContext(ctx)
	var people []participant.Participant
	if err := q.Where("id IN ?", pids).Order("id").Find(&people).Error; err != nil {
		return nil, fmt.Errorf("fhir: export: %w", err)
	}
	var diagnoses []struct {
		ParticipantID int64
		Study         string
		Diagnosis     string
		EnrolledOn    time.Time
	}
	if err := q.Raw(`SELECT e.participant_id, st.code AS study, e.diagnosis, e.enrolled_on FROM enrolments e JOIN studies st ON st.id = e.study_id
		WHERE e.participant_id IN ? AND e.diagnosis <> '' AND (? = 0 OR e.study_id = ?) ORDER BY e.participant_id, st.code`, pids, studyID, studyID).
		Scan(&diagnoses).Error; err != nil {
		return nil, fmt.Errorf("fhir: export: %w", err)
	}
	var sids []int64
	if err := q.Raw(`SELECT id FROM samples WHERE participant_id IN ? AND updated_at > ? AND (? = 0 OR study_id = ?) ORDER BY id`,
		pids, since, studyID, studyID).Scan(&sids).Error; err != nil {
		return nil, fmt.Errorf("fhir: export: %w", err)
	}
	specimens, err := s.render(ctx, sids)
	if err != nil {
		return nil, err
	}
	subject := map[string][]Specimen{}
	for _, sp := range specimens {
		subject[sp.Subject.Reference] = append(subject[sp.Subject.Reference], sp)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	out := make([]Bundle, 0, len(people))
	for _, p := range people {
		pt := s.PatientOf(p)
		b := Bundle{ResourceType: "Bundle", Type: "transaction", Timestamp: now}
		b.Entry = append(b.Entry, put("Patient", pt.ID, pt))
		for _, d := range diagnoses {
			if d.ParticipantID == p.ID {
				c := ConditionOf(p.Pseudonym, d.Study, d.Diagnosis, d.EnrolledOn)
				b.Entry = append(b.Entry, put("Condition", c.ID, c))
			}
		}
		for _, sp := range subject["Patient/"+pt.ID] {
			b.Entry = append(b.Entry, put("Specimen", sp.ID, sp))
		}
		out = append(out, b)
	}
	return out, nil
}

// put is a transaction entry that stores res under its id (update as create).
func put(kind, id string, res any) BundleEntry {
	return BundleEntry{Resource: res, Request: &BundleRequest{Method: "PUT", URL: kind + "/" + id}}
}
