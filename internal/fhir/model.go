// Package fhir renders the biobank's records as HL7 FHIR R4 resources for the hospital's
// data-integration centre and federated search nodes: Specimen (following the German
// Medical Informatics Initiative's biobank profile where it applies, with the BBMRI
// material-type and storage-temperature codings beside it), the pseudonymous Patient and
// the ICD-10 Condition. The resources are small typed structs of this package — only the
// elements the biobank fills — checked in tests against the R4 JSON schema, not string
// templates. Everything is read-only.
package fhir

import "encoding/json"

// Meta carries the profile a resource follows and when it last changed.
type Meta struct {
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

// Identifier is a business identifier in a system.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

// Coding is a code in a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept as codings (and text).
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Reference points at another resource ("Patient/ABC12345").
type Reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

// Quantity is a measured amount; Value is a JSON number written exactly as stored.
type Quantity struct {
	Value  json.Number `json:"value,omitempty"`
	Unit   string      `json:"unit,omitempty"`
	System string      `json:"system,omitempty"`
	Code   string      `json:"code,omitempty"`
}

// Range is a low and a high quantity.
type Range struct {
	Low  *Quantity `json:"low,omitempty"`
	High *Quantity `json:"high,omitempty"`
}

// Period is a start and an end time.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Extension is an extension with one of the value types the biobank uses.
type Extension struct {
	URL                  string           `json:"url"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueRange           *Range           `json:"valueRange,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
}

// Specimen is FHIR R4's Specimen.
type Specimen struct {
	ResourceType        string               `json:"resourceType"`
	ID                  string               `json:"id"`
	Meta                *Meta                `json:"meta,omitempty"`
	Extension           []Extension          `json:"extension,omitempty"`
	Identifier          []Identifier         `json:"identifier,omitempty"`
	AccessionIdentifier *Identifier          `json:"accessionIdentifier,omitempty"`
	Status              string               `json:"status,omitempty"`
	Type                *CodeableConcept     `json:"type,omitempty"`
	Subject             *Reference           `json:"subject,omitempty"`
	ReceivedTime        string               `json:"receivedTime,omitempty"`
	Parent              []Reference          `json:"parent,omitempty"`
	Collection          *SpecimenCollection  `json:"collection,omitempty"`
	Processing          []SpecimenProcessing `json:"processing,omitempty"`
	Container           []SpecimenContainer  `json:"container,omitempty"`
	Condition           []CodeableConcept    `json:"condition,omitempty"`
}

// SpecimenCollection is how and when a specimen was collected.
type SpecimenCollection struct {
	CollectedDateTime string    `json:"collectedDateTime,omitempty"`
	Quantity          *Quantity `json:"quantity,omitempty"`
}

// SpecimenProcessing is one processing or storage step.
type SpecimenProcessing struct {
	Extension    []Extension      `json:"extension,omitempty"`
	Description  string           `json:"description,omitempty"`
	Procedure    *CodeableConcept `json:"procedure,omitempty"`
	TimeDateTime string           `json:"timeDateTime,omitempty"`
	TimePeriod   *Period          `json:"timePeriod,omitempty"`
}

// SpecimenContainer is the container a specimen is in.
type SpecimenContainer struct {
	Identifier       []Identifier     `json:"identifier,omitempty"`
	Description      string           `json:"description,omitempty"`
	Type             *CodeableConcept `json:"type,omitempty"`
	SpecimenQuantity *Quantity        `json:"specimenQuantity,omitempty"`
}

// Patient is FHIR R4's Patient, pseudonymous: an identifier, and sex and year of birth
// where recorded. Never a name, a birth date or an address.
type Patient struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Meta         *Meta        `json:"meta,omitempty"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Gender       string       `json:"gender,omitempty"`
	BirthDate    string       `json:"birthDate,omitempty"`
}

// Condition is FHIR R4's Condition: a participant's ICD-10 diagnosis in a study.
type Condition struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Meta         *Meta            `json:"meta,omitempty"`
	Code         *CodeableConcept `json:"code,omitempty"`
	Subject      Reference        `json:"subject"`
	RecordedDate string           `json:"recordedDate,omitempty"`
}

// Bundle is a searchset or a transaction.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Total        *int          `json:"total,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// BundleLink is a link of a searchset (self, next).
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// BundleEntry is one resource of a bundle, with its request in a transaction.
type BundleEntry struct {
	FullURL  string         `json:"fullUrl,omitempty"`
	Resource any            `json:"resource,omitempty"`
	Search   *BundleSearch  `json:"search,omitempty"`
	Request  *BundleRequest `json:"request,omitempty"`
}

// BundleSearch says why an entry is in a searchset.
type BundleSearch struct {
	Mode string `json:"mode"`
}

// BundleRequest is a transaction entry's request (PUT Specimen/ID: update as create).
type BundleRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

// OperationOutcome is how a FHIR server says what went wrong.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Issue is one problem of an OperationOutcome.
type Issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics,omitempty"`
}

// Outcome is an OperationOutcome with one error: code is FHIR's issue type (invalid,
// not-found, forbidden, not-supported, exception…).
func Outcome(code, diagnostics string) OperationOutcome {
	return OperationOutcome{ResourceType: "OperationOutcome", Issue: []Issue{{Severity: "error", Code: code, Diagnostics: diagnostics}}}
}
