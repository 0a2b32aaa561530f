package sample

import (
	"encoding/json"
	"time"

	"biobank/internal/audit"
)

// The audit payloads of the sample area, one per kind of change. Volumes are kept as exact
// decimal text. A freed position is whatever the releaser reports (the storage location).

// AuditPayload marks record as an audit payload.
func (record) AuditPayload() {}

// collectEvent is a registered tube.
type collectEvent struct {
	Participant  string    `json:"participant"`
	Study        string    `json:"study"`
	Visit        string    `json:"visit"`
	SpecimenType string    `json:"specimen_type"`
	Container    string    `json:"container"`
	Volume       string    `json:"volume"`
	Unit         string    `json:"unit"`
	TubeBarcode  *string   `json:"tube_barcode"`
	CollectedAt  time.Time `json:"collected_at"`
	SiteID       int64     `json:"site_id"`
	Status       Status    `json:"status"`
}

// AuditPayload marks collectEvent as an audit payload.
func (collectEvent) AuditPayload() {}

// processingEvent is a sample's processing record and the SPREC code computed from it.
type processingEvent struct {
	SPREC      string          `json:"sprec"`
	Processing json.RawMessage `json:"processing"`
}

// AuditPayload marks processingEvent as an audit payload.
func (processingEvent) AuditPayload() {}

// aliquotEvent is the parent's side of a split.
type aliquotEvent struct {
	Sample        record        `json:"sample"`
	Taken         string        `json:"taken"`
	Children      []string      `json:"children"`
	FreedPosition audit.Payload `json:"freed_position"`
	ChildType     string        `json:"child_type"`
	ChildVolume   string        `json:"child_volume"`
	ChildUnit     string        `json:"child_unit"`
}

// AuditPayload marks aliquotEvent as an audit payload.
func (aliquotEvent) AuditPayload() {}

// createAliquotEvent is a new aliquot or derivative.
type createAliquotEvent struct {
	Parent       string `json:"parent"`
	SpecimenType string `json:"specimen_type"`
	Container    string `json:"container"`
	Volume       string `json:"volume"`
	Unit         string `json:"unit"`
	Status       Status `json:"status"`
	SiteID       int64  `json:"site_id"`
	SPREC        string `json:"sprec"`
}

// AuditPayload marks createAliquotEvent as an audit payload.
func (createAliquotEvent) AuditPayload() {}

// endEvent is a sample whose life ended, with the position it gave up.
type endEvent struct {
	Sample        record        `json:"sample"`
	FreedPosition audit.Payload `json:"freed_position"`
}

// AuditPayload marks endEvent as an audit payload.
func (endEvent) AuditPayload() {}

// decisionEvent is a manager's decision on a consent-held sample.
type decisionEvent struct {
	Decision      Decision      `json:"decision"`
	Sample        record        `json:"sample"`
	FreedPosition audit.Payload `json:"freed_position"`
}

// AuditPayload marks decisionEvent as an audit payload.
func (decisionEvent) AuditPayload() {}
