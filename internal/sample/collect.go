package sample

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/participant"
	"biobank/internal/study"
)

// Tube is one tube drawn at a visit.
type Tube struct {
	SpecimenType string          `json:"specimen_type"`
	Container    string          `json:"container"`
	Volume       decimal.Decimal `json:"volume"`
	Unit         string          `json:"unit"`
	TubeBarcode  string          `json:"tube_barcode"`
}

// Collection is what a nurse registers: the tubes drawn from a participant at a visit.
type Collection struct {
	Participant string `json:"participant"`
	Study       string `json:"study"`
	// Visit is the visit definition's code (BASELINE, M3, …). A visit not yet opened is
	// opened by its first collection, dated by CollectedAt.
	Visit       string `json:"visit"`
	CollectedAt string `json:"collected_at"`
	Tubes       []Tube `json:"tubes"`
	// Reason lets the first collection of a visit open it on a date outside the visit's
	// window (without one that is refused with out_of_window); it is not used when the
	// visit is already open.
	Reason string `json:"reason"`
}

// MaxTubes bounds the tubes of one collection.
const MaxTubes = 50

var tubeBarcodePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{4,40}$`)

// parseCollectedAt reads a collection time: RFC 3339, or the datetime-local form
// (YYYY-MM-DDTHH:MM, taken as UTC); empty means now.
func (s *Service) parseCollectedAt(raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return s.Now().Truncate(time.Second), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, raw); err == nil {
			if t.After(s.Now().Add(5 * time.Minute)) {
				return t, apperr.Invalid("collected_at", "The collection time cannot be in the future.")
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, apperr.Invalid("collected_at", "Give the collection time as 2026-01-31T09:30 or in RFC 3339.")
}

// Collect registers every tube of a collection, each with its own accession ID, in one
// transaction. It is refused with 409 consent_required unless the participant's current
// consent in the study grants storage.
func (s *Service) Collect(ctx context.Context, actor auth.Actor, in Collection) ([]Sample, error) {
	var out []Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.CollectTx(tx, actor, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sample: collect for %s: %w", in.Participant, err)
	}
	return out, nil
}

// CollectTx is Collect inside the caller's transaction (a bulk import, the demo seed).
func (s *Service) CollectTx(tx *db.Tx, actor auth.Actor, in Collection) ([]Sample, error) {
	if err := actor.Require(collectRoles...); err != nil {
		return nil, err
	}
	collectedAt, err := s.parseCollectedAt(in.CollectedAt)
	if err != nil {
		return nil, err
	}
	reason, err := input.Text("reason", "reason", in.Reason, input.MaxReasonLength, false)
	if err != nil {
		return nil, err
	}
	if len(in.Tubes) == 0 {
		return nil, apperr.Invalid("tubes", "Tick at least one tube that was drawn.")
	}
	if len(in.Tubes) > MaxTubes {
		return nil, apperr.Invalid("tubes", fmt.Sprintf("One collection holds at most %d tubes.", MaxTubes))
	}
	st, err := s.Participants.Studies.ByCodeOn(tx.DB, in.Study)
	if _, missing := apperr.AsNotFound(err); missing || strings.TrimSpace(in.Study) == "" {
		return nil, apperr.Invalid("study", fmt.Sprintf("There is no study %q.", in.Study))
	}
	if err != nil {
		return nil, err
	}
	def, ok := st.Visit(in.Visit)
	if !ok {
		return nil, apperr.Invalid("visit", fmt.Sprintf("The study %s has no visit %q.", st.Code, in.Visit))
	}
	var out []Sample
	err = func() error {
		p, err := s.Participants.Lock(tx, actor, in.Participant)
		if err != nil {
			return err
		}
		var visit participant.Visit
		err = tx.Where("participant_id = ? AND visit_definition_id = ?", p.ID, def.ID).Take(&visit).Error
		if db.ErrNoRows(err) {
			// The visit is happening: its first collection opens it.
			y, m, d := collectedAt.Date()
			visit, err = s.Participants.OpenLockedVisitTx(tx, actor, p, st, def, time.Date(y, m, d, 0, 0, 0, 0, time.UTC), reason, "collected_at")
		}
		if err != nil {
			return err
		}
		if collectedAt.Before(visit.VisitDate.AddDate(0, 0, -1)) {
			return apperr.Invalid("collected_at", fmt.Sprintf("The collection time is before the visit date (%s).", visit.VisitDate.Format("2006-01-02")))
		}
		may, err := consent.MayUse(tx.DB, p.ID, st.ID, study.TierStorage)
		if err != nil {
			return err
		}
		if !may {
			return apperr.Conflict("consent_required", "participant",
				fmt.Sprintf("%s has no consent in force for storage in %s: record the consent before registering samples.", p.Pseudonym, st.Code))
		}
		ids, err := s.nextAccessions(tx.DB, len(in.Tubes))
		if err != nil {
			return err
		}
		collector := actor.ID()
		for i, t := range in.Tubes {
			smp, err := s.tube(tx.DB, i, t)
			if err != nil {
				return err
			}
			smp.Accession, smp.ParticipantID, smp.StudyID, smp.VisitID = ids[i], p.ID, st.ID, visit.ID
			smp.CollectedAt, smp.CollectedBy, smp.SiteID, smp.Status = collectedAt, collector, p.SiteID, Collected
			smp.Processing = []byte("{}")
			if err := s.computeSPREC(&smp); err != nil {
				return err
			}
			if err := tx.Omit(clause.Associations).Create(&smp).Error; err != nil {
				if db.IsUniqueViolation(err) {
					return apperr.Conflict("duplicate_tube_barcode", fmt.Sprintf("tubes[%d].tube_barcode", i),
						fmt.Sprintf("The tube barcode %s is already on a live sample.", *smp.TubeBarcode))
				}
				return err
			}
			out = append(out, smp)
		}
		for _, smp := range out {
			e := actor.Entry("sample.collect", "sample", smp.Accession)
			e.After = collectEvent{Participant: p.Pseudonym, Study: st.Code, Visit: def.Code, SpecimenType: smp.SpecimenType,
				Container: smp.Container, Volume: smp.Volume.String(), Unit: smp.Unit, TubeBarcode: smp.TubeBarcode,
				CollectedAt: smp.CollectedAt, SiteID: smp.SiteID, Status: smp.Status}
			tx.Record(e)
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// tube validates one tube of a collection.
func (s *Service) tube(tx *gorm.DB, i int, t Tube) (Sample, error) {
	f := func(n string) string { return fmt.Sprintf("tubes[%d].%s", i, n) }
	smp := Sample{SpecimenType: strings.TrimSpace(t.SpecimenType), Container: strings.ToUpper(strings.TrimSpace(t.Container))}
	if err := study.Vocabulary(tx, "specimen_types", f("specimen_type"), "specimen type", smp.SpecimenType); err != nil {
		return smp, err
	}
	if smp.Container == "" {
		smp.Container = "ZZZ"
	}
	if err := study.Vocabulary(tx, "container_types", f("container"), "container", smp.Container); err != nil {
		return smp, err
	}
	v, unit, err := study.NormaliseVolume(f("volume"), t.Volume, strings.TrimSpace(t.Unit))
	if err != nil {
		return smp, err
	}
	smp.Volume, smp.InitialVolume, smp.Unit = v, v, unit
	if b := strings.TrimSpace(t.TubeBarcode); b != "" {
		if !tubeBarcodePattern.MatchString(b) {
			return smp, apperr.Invalid(f("tube_barcode"), "A tube barcode has 4 to 40 letters, digits, dots, dashes or underscores.")
		}
		smp.TubeBarcode = &b
	}
	return smp, nil
}
