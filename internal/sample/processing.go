package sample

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/sprec"
)

// Processing is the pre-analytical record of a sample, stored with it (JSON) and the
// source of its SPREC code. Absent facts stay absent: the code then shows X, never a
// guess.
type Processing struct {
	// PrimaryContainer is the collection tube's container code, kept for aliquots and
	// derivatives: their SPREC code names the primary tube, not the cryovial.
	PrimaryContainer       string                   `json:"primary_container,omitempty"`
	StartedAt              *time.Time               `json:"started_at,omitempty"`
	PreCentrifugationTemp  sprec.Temperature        `json:"pre_centrifugation_temp,omitempty"`
	Centrifugation         *Spin                    `json:"centrifugation,omitempty"`
	SecondCentrifugation   *Spin                    `json:"second_centrifugation,omitempty"`
	CentrifugationEndedAt  *time.Time               `json:"centrifugation_ended_at,omitempty"`
	FrozenAt               *time.Time               `json:"frozen_at,omitempty"`
	PostCentrifugationTemp sprec.Temperature        `json:"post_centrifugation_temp,omitempty"`
	StorageContainer       sprec.StorageContainer   `json:"storage_container,omitempty"`
	StorageTemperature     sprec.StorageTemperature `json:"storage_temperature,omitempty"`
	PlasmaDoubleSpun       bool                     `json:"plasma_double_spun,omitempty"`
	BuffyViable            *bool                    `json:"buffy_viable,omitempty"`
	UrineKind              sprec.UrineKind          `json:"urine_kind,omitempty"`

	// Tissue.
	Collection       string `json:"collection,omitempty"`
	WarmIschaemiaMin *int   `json:"warm_ischaemia_min,omitempty"`
	ColdIschaemiaMin *int   `json:"cold_ischaemia_min,omitempty"`
	// WarmIschaemiaNA says there was no warm ischaemia (e.g. a biopsy).
	WarmIschaemiaNA bool   `json:"warm_ischaemia_na,omitempty"`
	FixationType    string `json:"fixation_type,omitempty"`
	FixationMin     *int   `json:"fixation_min,omitempty"`

	// Reason is why recorded facts are replaced (a correction): required then, kept in the
	// audit event, never in the record itself.
	Reason string `json:"reason,omitempty"`
}

// HasFacts reports whether the record holds any pre-analytical fact (the primary
// container alone is not one: it is copied from the collection).
func (p Processing) HasFacts() bool {
	p.PrimaryContainer, p.Reason = "", ""
	b, err := json.Marshal(p)
	return err != nil || string(b) != "{}"
}

// Spin is one centrifugation as recorded.
type Spin struct {
	None    bool              `json:"none,omitempty"`
	Temp    sprec.Temperature `json:"temp,omitempty"`
	G       *int              `json:"g,omitempty"`
	Minutes *int              `json:"minutes,omitempty"`
	Brake   *bool             `json:"brake,omitempty"`
}

func (sp *Spin) sprec() *sprec.Spin {
	if sp == nil {
		return nil
	}
	return &sprec.Spin{None: sp.None, Temp: sp.Temp, G: sp.G, Minutes: sp.Minutes, Brake: sp.Brake}
}

func minutes(m *int, na bool) sprec.Duration {
	if na {
		return sprec.NotApplicable
	}
	if m == nil {
		return sprec.Duration{}
	}
	return sprec.Known(time.Duration(*m) * time.Minute)
}

// ProcessingOf reads a sample's stored processing record (the web forms pre-fill from it).
func ProcessingOf(smp Sample) (Processing, error) { return processingOf(smp) }

// processingOf reads a sample's stored processing record.
func processingOf(smp Sample) (Processing, error) {
	var p Processing
	if len(smp.Processing) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(smp.Processing, &p); err != nil {
		return p, fmt.Errorf("sample: processing record of %s: %w", smp.Accession, err)
	}
	return p, nil
}

// solidTypes are the specimen types coded with the solid SPREC elements.
var solidTypes = map[string]bool{"tissue": true}

// spreCode computes the SPREC code of a sample from its type, container, collection time
// and processing record.
func spreCode(smp Sample, p Processing) (string, error) {
	if solidTypes[smp.SpecimenType] {
		return sprec.SolidCode(sprec.Solid{Type: smp.SpecimenType, Collection: p.Collection,
			WarmIschaemia: minutes(p.WarmIschaemiaMin, p.WarmIschaemiaNA), ColdIschaemia: minutes(p.ColdIschaemiaMin, false),
			FixationType: p.FixationType, FixationTime: minutes(p.FixationMin, p.FixationType == "SNP"),
			LongTermStorage: sprec.Storage{Container: p.StorageContainer, Temperature: p.StorageTemperature}})
	}
	if smp.SpecimenType == "dna" || smp.SpecimenType == "rna" {
		// SPREC codes the primary sample; a nucleic-acid extract carries no fluid code.
		return "", nil
	}
	collected := smp.CollectedAt
	return sprec.FluidCode(sprec.Fluid{Type: smp.SpecimenType, PlasmaDoubleSpun: p.PlasmaDoubleSpun, BuffyViable: p.BuffyViable,
		UrineKind: p.UrineKind, PrimaryContainer: primaryContainer(smp, p), CollectedAt: &collected,
		ProcessingStartedAt: p.StartedAt, PreCentrifugationTemp: p.PreCentrifugationTemp,
		Centrifugation: p.Centrifugation.sprec(), SecondCentrifugation: p.SecondCentrifugation.sprec(),
		CentrifugationEndedAt: p.CentrifugationEndedAt, FrozenAt: p.FrozenAt, PostCentrifugationTemp: p.PostCentrifugationTemp,
		LongTermStorage: sprec.Storage{Container: p.StorageContainer, Temperature: p.StorageTemperature}})
}

// primaryContainer is the container the material was collected in.
func primaryContainer(smp Sample, p Processing) string {
	if p.PrimaryContainer != "" {
		return p.PrimaryContainer
	}
	return smp.Container
}

// childProcessing is the processing record an aliquot inherits: its parent's, naming the
// parent's primary tube.
func childProcessing(parent Sample) (json.RawMessage, error) {
	p, err := processingOf(parent)
	if err != nil {
		return nil, err
	}
	p.PrimaryContainer = primaryContainer(parent, p)
	return json.Marshal(p)
}

// computeSPREC sets smp's SPREC code and version from its processing record.
func (s *Service) computeSPREC(smp *Sample) error {
	p, err := processingOf(*smp)
	if err != nil {
		return err
	}
	code, err := spreCode(*smp, p)
	if err != nil {
		var ie *sprec.InputError
		if errors.As(err, &ie) {
			return apperr.Invalid(ie.Field, ie.Message)
		}
		return err
	}
	smp.SPREC, smp.SPRECVersion = code, ""
	if code != "" {
		smp.SPRECVersion = sprec.Version
	}
	return nil
}

// RecordProcessing stores a sample's pre-analytical processing and recomputes its SPREC
// code. Aliquots made afterwards inherit the record; times out of order — frozen
// before collected, say — are refused.
func (s *Service) RecordProcessing(ctx context.Context, actor auth.Actor, code string, p Processing) (Sample, error) {
	var out Sample
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.RecordProcessingTx(tx, actor, code, p)
		return err
	})
	if err != nil {
		return Sample{}, fmt.Errorf("sample: processing of %s: %w", code, err)
	}
	return out, nil
}

// RecordProcessingTx is RecordProcessing inside the caller's transaction.
func (s *Service) RecordProcessingTx(tx *db.Tx, actor auth.Actor, code string, p Processing) (Sample, error) {
	if err := actor.Require(labRoles...); err != nil {
		return Sample{}, err
	}
	reason := strings.TrimSpace(p.Reason)
	p.Reason = ""
	if !p.HasFacts() {
		return Sample{}, apperr.Invalid("processing", "Record at least one processing fact; an empty record would erase what is recorded.")
	}
	if reason != "" {
		var err error
		if reason, err = input.Reason(reason); err != nil {
			return Sample{}, err
		}
	}
	now := s.Now()
	for field, t := range map[string]*time.Time{"started_at": p.StartedAt, "centrifugation_ended_at": p.CentrifugationEndedAt, "frozen_at": p.FrozenAt} {
		if t != nil && t.After(now.Add(5*time.Minute)) {
			return Sample{}, apperr.Invalid(field, "This time is in the future.")
		}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return Sample{}, err
	}
	var smp Sample
	err = func() error {
		if smp, err = s.lock(tx, actor, code); err != nil {
			return err
		}
		if _, err := Next(smp, ActProcess); err != nil {
			return err
		}
		if p.StartedAt != nil && p.StartedAt.Before(smp.CollectedAt) {
			return apperr.Invalid("started_at", fmt.Sprintf("Processing cannot start before collection (%s).", smp.CollectedAt.UTC().Format("2006-01-02 15:04 UTC")))
		}
		if p.FrozenAt != nil && p.FrozenAt.Before(smp.CollectedAt) {
			return apperr.Invalid("frozen_at", "The sample cannot be frozen before it was collected.")
		}
		before := processingEvent{SPREC: smp.SPREC, Processing: smp.Processing}
		prev, err := processingOf(smp)
		if err != nil {
			return err
		}
		if prev.HasFacts() && reason == "" {
			return apperr.InvalidCode("reason", "reason_required", fmt.Sprintf(
				"Processing of %s is already recorded: replacing it is a correction, so give the reason.", smp.Accession))
		}
		if prev.PrimaryContainer != "" && p.PrimaryContainer == "" {
			p.PrimaryContainer = prev.PrimaryContainer
			if raw, err = json.Marshal(p); err != nil {
				return err
			}
		}
		smp.Processing = raw
		if err := s.computeSPREC(&smp); err != nil {
			return err
		}
		if err := tx.Model(&Sample{}).Where("id = ?", smp.ID).Updates(map[string]any{"processing": string(raw),
			"sprec": smp.SPREC, "sprec_version": smp.SPRECVersion, "updated_at": now}).Error; err != nil {
			return err
		}
		e := actor.Entry("sample.process", "sample", smp.Accession)
		e.Reason = reason
		e.Before, e.After = before, processingEvent{SPREC: smp.SPREC, Processing: json.RawMessage(raw)}
		tx.Record(e)
		return s.passOnProcessing(tx, actor, smp, prev, p, now)
	}()
	if err != nil {
		return Sample{}, err
	}
	return smp, nil
}

// passOnProcessing gives a corrected processing record to the live descendants that still
// carry the one they inherited (aliquots made before the record was completed), so their
// SPREC codes follow, each change recorded. A descendant whose own processing was recorded
// since keeps it.
func (s *Service) passOnProcessing(tx *db.Tx, actor auth.Actor, parent Sample, prev, next Processing, now time.Time) error {
	var kids []Sample
	err := tx.Raw(`WITH RECURSIVE tree AS (
			SELECT id FROM samples WHERE parent_id = ?
			UNION ALL
			SELECT c.id FROM samples c JOIN tree t ON c.parent_id = t.id)
		SELECT * FROM samples WHERE id IN (SELECT id FROM tree) AND status NOT IN ('consumed', 'destroyed', 'lost')
		ORDER BY id FOR UPDATE`, parent.ID).Scan(&kids).Error
	if err != nil || len(kids) == 0 {
		return err
	}
	next.PrimaryContainer = primaryContainer(parent, next)
	raw, err := json.Marshal(next)
	if err != nil {
		return err
	}
	for _, k := range kids {
		own, err := processingOf(k)
		if err != nil {
			return err
		}
		if !sameRecord(own, prev) {
			continue
		}
		before := processingEvent{SPREC: k.SPREC, Processing: k.Processing}
		k.Processing = raw
		if err := s.computeSPREC(&k); err != nil {
			return err
		}
		if err := tx.Model(&Sample{}).Where("id = ?", k.ID).Updates(map[string]any{"processing": string(raw),
			"sprec": k.SPREC, "sprec_version": k.SPRECVersion, "updated_at": now}).Error; err != nil {
			return err
		}
		e := actor.Entry("sample.process", "sample", k.Accession)
		e.Reason = "processing of " + parent.Accession + " recorded after this aliquot was made"
		e.Before, e.After = before, processingEvent{SPREC: k.SPREC, Processing: json.RawMessage(raw)}
		tx.Record(e)
	}
	return nil
}

// sameRecord reports whether two processing records hold the same facts, whatever primary
// container each names.
func sameRecord(a, b Processing) bool {
	a.PrimaryContainer, b.PrimaryContainer = "", ""
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
