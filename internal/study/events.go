package study

import (
	"time"

	"github.com/shopspring/decimal"
)

// The audit payloads of the study area: what the trail keeps of a study, a visit definition
// and a consent document. They are separate from the models and the API's JSON so that a
// change to either cannot silently change what past and future events contain.

type studyRecord struct {
	Code              string `json:"code"`
	Name              string `json:"name"`
	PseudonymPattern  string `json:"pseudonym_pattern"`
	PseudonymScheme   string `json:"pseudonym_scheme"`
	OutsideEEAConsent bool   `json:"outside_eea_consent,omitempty"`
	DefaultDiagnosis  string `json:"default_diagnosis,omitempty"`
	Active            bool   `json:"active"`
}

// AuditPayload marks studyRecord as an audit payload.
func (studyRecord) AuditPayload() {}

func (s Study) record() studyRecord {
	return studyRecord{Code: s.Code, Name: s.Name, PseudonymPattern: s.PseudonymPattern, PseudonymScheme: string(s.PseudonymScheme), OutsideEEAConsent: s.OutsideEEAConsent, DefaultDiagnosis: s.DefaultDiagnosis, Active: s.Active}
}

type requirementRecord struct {
	SpecimenType       string           `json:"specimen_type"`
	Container          string           `json:"container"`
	Volume             decimal.Decimal  `json:"volume"`
	Unit               string           `json:"unit"`
	Aliquots           int              `json:"aliquots"`
	AliquotVolume      *decimal.Decimal `json:"aliquot_volume"`
	AliquotType        *string          `json:"aliquot_type"`
	StorageTemperature string           `json:"storage_temperature"`
}

type visitRecord struct {
	Code         string              `json:"code"`
	Name         string              `json:"name"`
	DayOffset    int                 `json:"day_offset"`
	WindowBefore int                 `json:"window_before"`
	WindowAfter  int                 `json:"window_after"`
	Requirements []requirementRecord `json:"requirements"`
}

// AuditPayload marks visitRecord as an audit payload.
func (visitRecord) AuditPayload() {}

func (v VisitDefinition) record() visitRecord {
	r := visitRecord{Code: v.Code, Name: v.Name, DayOffset: v.DayOffset, WindowBefore: v.WindowBefore, WindowAfter: v.WindowAfter,
		Requirements: make([]requirementRecord, len(v.Requirements))}
	for i, q := range v.Requirements {
		r.Requirements[i] = requirementRecord{SpecimenType: q.SpecimenType, Container: q.Container, Volume: q.Volume, Unit: q.Unit,
			Aliquots: q.Aliquots, AliquotVolume: q.AliquotVolume, AliquotType: q.AliquotType, StorageTemperature: q.StorageTemperature}
	}
	return r
}

type documentRecord struct {
	ID        int64      `json:"id"`
	Version   string     `json:"version"`
	Tiers     []string   `json:"tiers"`
	RetiredAt *time.Time `json:"retired_at"`
}

// AuditPayload marks documentRecord as an audit payload.
func (documentRecord) AuditPayload() {}

func (d ConsentDocument) record() documentRecord {
	return documentRecord{ID: d.ID, Version: d.Version, Tiers: d.Tiers.Strings(), RetiredAt: d.RetiredAt}
}
