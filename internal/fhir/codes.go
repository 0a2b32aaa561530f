package fhir

import (
	"biobank/internal/sample"
	"biobank/internal/sprec"
)

// Code systems and profiles the resources use.
const (
	SNOMED = "http://snomed.info/sct"
	ICD10  = "http://hl7.org/fhir/sid/icd-10"
	UCUM   = "http://unitsofmeasure.org"

	// The German MII biobank module (STANDARDS.md §2).
	ProfileSpecimen   = "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/Specimen"
	ExtTemperature    = "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/Temperaturbedingungen"
	ExtSampleLevel    = "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/StructureDefinition/mii-ex-biobank-ebene"
	SystemSampleLevel = "https://www.medizininformatik-initiative.de/fhir/ext/modul-biobank/CodeSystem/mii-cs-biobank-probenebene"

	// BBMRI.de / Samply loaders.
	ProfilePatientBBMRI   = "https://fhir.bbmri.de/StructureDefinition/Patient"
	ProfileConditionBBMRI = "https://fhir.bbmri.de/StructureDefinition/Condition"
	SystemMaterialType    = "https://fhir.bbmri.de/CodeSystem/SampleMaterialType"
	ExtStorageTemperature = "https://fhir.bbmri.de/StructureDefinition/StorageTemperature"
	SystemStorageTemp     = "https://fhir.bbmri.de/CodeSystem/StorageTemperature"
	ExtCustodian          = "https://fhir.bbmri.de/StructureDefinition/Custodian"
	ExtSampleDiagnosis    = "https://fhir.bbmri.de/StructureDefinition/SampleDiagnosis"
)

// materialType is a specimen type's SNOMED CT coding and its BBMRI material type.
type materialType struct {
	snomed, snomedDisplay, bbmri string
}

// materialTypes maps the biobank's specimen types. The SNOMED codes of STANDARDS.md §2, and
// for the rest those the MII biobank module's examples and SPREC maps use.
var materialTypes = map[string]materialType{
	"whole_blood": {"420135007", "Whole blood", "whole-blood"},
	"serum":       {"119364003", "Serum specimen", "blood-serum"},
	"plasma":      {"119361006", "Plasma specimen", "blood-plasma"},
	"buffy_coat":  {"258587000", "Buffy coat", "buffy-coat"},
	"pbmc":        {"404798000", "Peripheral blood mononuclear cell", "peripheral-blood-cells-vital"},
	"stool":       {"119339001", "Stool specimen", "stool-faeces"},
	"csf":         {"258450006", "Cerebrospinal fluid sample", "csf-liquor"},
	"urine":       {"278020009", "Spot urine sample", "urine"},
	"saliva":      {"119342007", "Saliva specimen", "saliva"},
	"tissue":      {"119376003", "Tissue specimen", "tissue-other"},
	"dna":         {"258566005", "Deoxyribonucleic acid specimen", "dna"},
	"rna":         {"441673008", "Ribonucleic acid specimen", "rna"},
}

// SpecimenType finds the biobank's specimen type for a search's type token: the type
// itself, its SNOMED code or its BBMRI material type, with or without the system.
func SpecimenType(token string) (string, bool) {
	system, code := "", token
	for i := 0; i < len(token); i++ {
		if token[i] == '|' {
			system, code = token[:i], token[i+1:]
			break
		}
	}
	for t, m := range materialTypes {
		switch {
		case system == "" && (code == t || code == m.snomed || code == m.bbmri),
			system == SNOMED && code == m.snomed,
			system == SystemMaterialType && code == m.bbmri:
			return t, true
		}
	}
	return "", false
}

// status maps a sample's status to Specimen.status: ended samples are unavailable.
func status(s sample.Status) string {
	switch s {
	case sample.Consumed, sample.Destroyed, sample.Lost:
		return "unavailable"
	}
	return "available"
}

// storageBand is a storage temperature as a range in °C and its BBMRI code.
type storageBand struct {
	low, high string
	bbmri     string
	text      string
}

func storageBandOf(t sprec.StorageTemperature) (storageBand, bool) {
	switch t {
	case sprec.StoreMinus80:
		return storageBand{"-85", "-60", "temperature-60to-85", "−85…−60 °C"}, true
	case sprec.StoreMinus20:
		return storageBand{"-35", "-18", "temperature-18to-35", "−35…−18 °C"}, true
	case sprec.StoreBelowMinus135, sprec.StoreProgrammableFreezing:
		return storageBand{"-196", "-135", "temperatureGN", "below −135 °C"}, true
	case sprec.StoreLiquidNitrogen, sprec.StoreLiquidNitrogenAfterMinus80:
		return storageBand{"-196", "-150", "temperatureLN", "liquid nitrogen"}, true
	case sprec.StoreRoomOrCold:
		return storageBand{"2", "28", "temperatureOther", "room temperature or 2–10 °C"}, true
	case sprec.StoreOther:
		return storageBand{"", "", "temperatureOther", "other"}, true
	}
	return storageBand{}, false
}

// processingBand is a pre-analytical temperature range in °C.
func processingBand(t sprec.Temperature) (low, high string, ok bool) {
	switch t {
	case sprec.TempRoom:
		return "18", "28", true
	case sprec.TempCold:
		return "2", "10", true
	case sprec.TempBody:
		return "35", "38", true
	}
	return "", "", false
}
