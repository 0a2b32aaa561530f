package participant

// The audit payloads of the participant area. Dates are kept as YYYY-MM-DD.

// enrolEvent is a new participant's first enrolment.
type enrolEvent struct {
	Study             string  `json:"study"`
	Site              string  `json:"site"`
	ExternalPseudonym bool    `json:"external_pseudonym"`
	Sex               *string `json:"sex"`
	BirthYear         *int    `json:"birth_year"`
	EnrolledOn        string  `json:"enrolled_on"`
	Diagnosis         string  `json:"diagnosis,omitempty"`
}

// AuditPayload marks enrolEvent as an audit payload.
func (enrolEvent) AuditPayload() {}

// enrolExistingEvent is a known participant's enrolment in another study.
type enrolExistingEvent struct {
	Study      string `json:"study"`
	EnrolledOn string `json:"enrolled_on"`
	Diagnosis  string `json:"diagnosis,omitempty"`
}

// AuditPayload marks enrolExistingEvent as an audit payload.
func (enrolExistingEvent) AuditPayload() {}

// visitEvent is an opened visit with its window.
type visitEvent struct {
	VisitID    int64  `json:"visit_id"`
	Study      string `json:"study"`
	Visit      string `json:"visit"`
	Date       string `json:"date"`
	WindowFrom string `json:"window_from"`
	WindowTo   string `json:"window_to"`
}

// AuditPayload marks visitEvent as an audit payload.
func (visitEvent) AuditPayload() {}
