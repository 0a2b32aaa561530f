package fhir

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"biobank/internal/participant"
	"biobank/internal/sample"
)

// ID is the FHIR logical id of a pseudonym or accession ID: FHIR ids take letters, digits,
// "-" and "." only, so an underscore (allowed in external pseudonyms) is written "-u-".
func ID(code string) string { return strings.ReplaceAll(code, "_", "-u-") }

// codeOf reverses ID.
func codeOf(id string) string { return strings.ReplaceAll(id, "-u-", "_") }

// ConditionID is the logical id of a participant's diagnosis in a study.
func ConditionID(pseudonym, study string) string { return ID(pseudonym) + "-" + strings.ToLower(study) }

func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func celsius(v string) *Quantity {
	if v == "" {
		return nil
	}
	return &Quantity{Value: json.Number(v), Unit: "°C", System: UCUM, Code: "Cel"}
}

func temperatureRange(low, high string) *Extension {
	return &Extension{URL: ExtTemperature, ValueRange: &Range{Low: celsius(low), High: celsius(high)}}
}

// SpecimenOf renders a sample (loaded with its participant, study, visit, site and parent)
// and its participant's diagnosis in the sample's study.
func (s *Service) SpecimenOf(smp sample.Sample, diagnosis string) Specimen {
	sp := Specimen{ResourceType: "Specimen", ID: ID(smp.Accession),
		Meta:                &Meta{LastUpdated: instant(smp.UpdatedAt), Profile: []string{ProfileSpecimen}},
		Identifier:          []Identifier{{System: s.AccessionSystem, Value: smp.Accession}},
		AccessionIdentifier: &Identifier{System: s.AccessionSystem, Value: smp.Accession},
		Status:              status(smp.Status),
		Subject:             &Reference{Reference: "Patient/" + ID(smp.Participant.Pseudonym)},
		Collection: &SpecimenCollection{CollectedDateTime: instant(smp.CollectedAt),
			Quantity: &Quantity{Value: json.Number(smp.InitialVolume.String()), Unit: smp.Unit, System: UCUM, Code: ucum(smp.Unit)}},
	}
	if smp.TubeBarcode != nil {
		sp.Identifier = append(sp.Identifier, Identifier{System: s.TubeSystem, Value: *smp.TubeBarcode})
	}
	if m, ok := materialTypes[smp.SpecimenType]; ok {
		sp.Type = &CodeableConcept{Coding: []Coding{{System: SNOMED, Code: m.snomed, Display: m.snomedDisplay},
			{System: SystemMaterialType, Code: m.bbmri}}, Text: smp.SpecimenType}
	} else {
		sp.Type = &CodeableConcept{Text: smp.SpecimenType}
	}
	if smp.ReceivedAt != nil {
		sp.ReceivedTime = instant(*smp.ReceivedAt)
	}
	level := Coding{System: SystemSampleLevel, Code: "PRIMÄRPROBE", Display: "Primärprobe"}
	if smp.Parent != nil {
		sp.Parent = []Reference{{Reference: "Specimen/" + ID(smp.Parent.Accession)}}
		level = Coding{System: SystemSampleLevel, Code: "ALIQUOT", Display: "Aliquot"}
	}
	sp.Extension = append(sp.Extension, Extension{URL: ExtSampleLevel, ValueCoding: &level},
		Extension{URL: ExtCustodian, ValueReference: &Reference{Reference: "Organization/" + ID(smp.Site.Code), Display: smp.Site.Name}})
	if diagnosis != "" {
		sp.Extension = append(sp.Extension, Extension{URL: ExtSampleDiagnosis,
			ValueCodeableConcept: &CodeableConcept{Coding: []Coding{{System: ICD10, Code: diagnosis}}}})
	}
	sp.Container = []SpecimenContainer{{Description: smp.Container,
		Type:             &CodeableConcept{Coding: []Coding{{System: SNOMED, Code: "83059008", Display: "Tube, device"}}, Text: smp.Container},
		SpecimenQuantity: &Quantity{Value: json.Number(smp.Volume.String()), Unit: smp.Unit, System: UCUM, Code: ucum(smp.Unit)}}}
	if smp.TubeBarcode != nil {
		sp.Container[0].Identifier = []Identifier{{System: s.TubeSystem, Value: *smp.TubeBarcode}}
	}
	if p, err := sample.ProcessingOf(smp); err == nil {
		sp.Processing, sp.Extension = processingSteps(p, smp, sp.Extension)
	}
	return sp
}

// processingSteps are the centrifugation and the storage of a sample, each with its
// temperature range; the storage temperature also goes on the specimen as BBMRI's coding.
func processingSteps(p sample.Processing, smp sample.Sample, ext []Extension) ([]SpecimenProcessing, []Extension) {
	var steps []SpecimenProcessing
	if sp := p.Centrifugation; sp != nil && !sp.None {
		step := SpecimenProcessing{Description: "centrifugation",
			Procedure: &CodeableConcept{Coding: []Coding{{System: SNOMED, Code: "73373003", Display: "Centrifugation"}}}}
		if low, high, ok := processingBand(sp.Temp); ok {
			step.Extension = []Extension{*temperatureRange(low, high)}
		}
		if p.StartedAt != nil {
			step.TimePeriod = &Period{Start: instant(*p.StartedAt)}
			if p.CentrifugationEndedAt != nil {
				step.TimePeriod.End = instant(*p.CentrifugationEndedAt)
			}
		}
		steps = append(steps, step)
	}
	if band, ok := storageBandOf(p.StorageTemperature); ok {
		step := SpecimenProcessing{Description: "storage, " + band.text,
			Procedure: &CodeableConcept{Coding: []Coding{{System: SNOMED, Code: "1186936003", Display: "Storage of specimen"}}}}
		if band.low != "" {
			step.Extension = []Extension{*temperatureRange(band.low, band.high)}
		}
		start := p.FrozenAt
		if start == nil {
			start = smp.ReceivedAt
		}
		if start != nil {
			step.TimePeriod = &Period{Start: instant(*start)}
		}
		steps = append(steps, step)
		ext = append(ext, Extension{URL: ExtStorageTemperature,
			ValueCodeableConcept: &CodeableConcept{Coding: []Coding{{System: SystemStorageTemp, Code: band.bbmri}}}})
	}
	return steps, ext
}

// ucum is a unit's UCUM code.
func ucum(unit string) string {
	switch unit {
	case "µg":
		return "ug"
	}
	return unit
}

// PatientOf renders a participant: the pseudonym, and sex and year of birth where
// recorded — never more.
func (s *Service) PatientOf(p participant.Participant) Patient {
	pt := Patient{ResourceType: "Patient", ID: ID(p.Pseudonym), Meta: &Meta{LastUpdated: instant(p.UpdatedAt), Profile: []string{ProfilePatientBBMRI}},
		Identifier: []Identifier{{System: s.PseudonymSystem, Value: p.Pseudonym}}}
	if p.Sex != nil {
		pt.Gender = map[string]string{"female": "female", "male": "male", "unknown": "unknown", "undifferentiated": "other", "not_applicable": "unknown"}[*p.Sex]
	}
	if p.BirthYear != nil {
		pt.BirthDate = strconv.Itoa(*p.BirthYear)
	}
	return pt
}

// ConditionOf renders a participant's diagnosis in a study.
func ConditionOf(pseudonym, study, diagnosis string, enrolled time.Time) Condition {
	return Condition{ResourceType: "Condition", ID: ConditionID(pseudonym, study), Meta: &Meta{Profile: []string{ProfileConditionBBMRI}},
		Code: &CodeableConcept{Coding: []Coding{{System: ICD10, Code: diagnosis}}}, Subject: Reference{Reference: "Patient/" + ID(pseudonym)},
		RecordedDate: enrolled.Format("2006-01-02")}
}
