package fhir

// CapabilityStatement says what this FHIR server offers (GET /fhir/metadata).
type CapabilityStatement struct {
	ResourceType string           `json:"resourceType"`
	Status       string           `json:"status"`
	Date         string           `json:"date"`
	Kind         string           `json:"kind"`
	Software     *Software        `json:"software,omitempty"`
	FHIRVersion  string           `json:"fhirVersion"`
	Format       []string         `json:"format"`
	Rest         []CapabilityRest `json:"rest"`
}

// Software names the server.
type Software struct {
	Name string `json:"name"`
}

// CapabilityRest is the server's RESTful interface.
type CapabilityRest struct {
	Mode     string               `json:"mode"`
	Resource []CapabilityResource `json:"resource"`
}

// CapabilityResource is one resource type the server serves.
type CapabilityResource struct {
	Type        string            `json:"type"`
	Profile     string            `json:"profile,omitempty"`
	Interaction []Interaction     `json:"interaction"`
	SearchParam []SearchParameter `json:"searchParam,omitempty"`
}

// Interaction is read or search-type.
type Interaction struct {
	Code string `json:"code"`
}

// SearchParameter is a search parameter the server takes.
type SearchParameter struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

// Capability is this server's CapabilityStatement; date is when this version was built.
func Capability(date string) CapabilityStatement {
	read, search := Interaction{Code: "read"}, Interaction{Code: "search-type"}
	return CapabilityStatement{ResourceType: "CapabilityStatement", Status: "active", Date: date, Kind: "instance",
		Software: &Software{Name: "biobank"}, FHIRVersion: "4.0.1", Format: []string{"application/fhir+json"},
		Rest: []CapabilityRest{{Mode: "server", Resource: []CapabilityResource{
			{Type: "Specimen", Profile: ProfileSpecimen, Interaction: []Interaction{read, search}, SearchParam: []SearchParameter{
				{Name: "subject", Type: "reference", Documentation: "Patient/{pseudonym}"},
				{Name: "type", Type: "token", Documentation: "SNOMED CT, BBMRI material type or the biobank's specimen type"},
				{Name: "_lastUpdated", Type: "date", Documentation: "gt, ge, lt or le and an instant; may repeat"},
				{Name: "_count", Type: "number", Documentation: "1 to 1000, default 50"},
				{Name: "_cursor", Type: "string", Documentation: "the next page's keyset, from the next link"},
			}},
			{Type: "Patient", Profile: ProfilePatientBBMRI, Interaction: []Interaction{read}},
			{Type: "Condition", Profile: ProfileConditionBBMRI, Interaction: []Interaction{search}, SearchParam: []SearchParameter{
				{Name: "subject", Type: "reference", Documentation: "Patient/{pseudonym}"},
			}},
		}}}}
}
