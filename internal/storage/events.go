package storage

import (
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/sample"
)

// The audit payloads of the storage area. A location is kept as the names a person reads
// (site, freezer, rack, box, position), so the trail stays readable after a freezer is
// renamed or a box moves.

// AuditPayload marks Location as an audit payload (a position given up or taken).
func (Location) AuditPayload() {}

// placeEvent is a sample's status and location before or after a placement, a move or a
// removal from its position.
type placeEvent struct {
	Status   sample.Status `json:"status"`
	Location *Location     `json:"location"`
}

// AuditPayload marks placeEvent as an audit payload.
func (placeEvent) AuditPayload() {}

// locationEvent is a sample's location alone (a whole box or rack moved around it, or a
// removal's starting point).
type locationEvent struct {
	Location *Location `json:"location"`
}

// AuditPayload marks locationEvent as an audit payload.
func (locationEvent) AuditPayload() {}

// turnEvent is a check-out or check-in: status, freeze–thaw count and the reserved place.
type turnEvent struct {
	Status          sample.Status `json:"status"`
	FreezeThawCount int           `json:"freeze_thaw_count"`
	Location        *Location     `json:"location"`
}

// AuditPayload marks turnEvent as an audit payload.
func (turnEvent) AuditPayload() {}

// freezerEvent is a new freezer.
type freezerEvent struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Temperature decimal.Decimal `json:"temperature"`
	Active      bool            `json:"active"`
	CreatedAt   time.Time       `json:"created_at"`
}

// AuditPayload marks freezerEvent as an audit payload.
func (freezerEvent) AuditPayload() {}

// rackEvent is a new rack.
type rackEvent struct {
	ID        int64  `json:"id"`
	FreezerID int64  `json:"freezer_id"`
	Name      string `json:"name"`
}

// AuditPayload marks rackEvent as an audit payload.
func (rackEvent) AuditPayload() {}

// boxEvent is a new box and where it stands.
type boxEvent struct {
	Freezer  string `json:"freezer"`
	Rack     string `json:"rack"`
	RackSlot string `json:"rack_slot"`
	Rows     int    `json:"rows"`
	Cols     int    `json:"cols"`
}

// AuditPayload marks boxEvent as an audit payload.
func (boxEvent) AuditPayload() {}

// boxMoveEvent is a whole box's freezer before and after a move, with how many samples
// moved with it (after only).
type boxMoveEvent struct {
	Freezer string `json:"freezer"`
	Samples *int   `json:"samples,omitempty"`
}

// AuditPayload marks boxMoveEvent as an audit payload.
func (boxMoveEvent) AuditPayload() {}

// boxTypeEvent is a new box type.
type boxTypeEvent struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Rows int    `json:"rows"`
	Cols int    `json:"cols"`
}

// AuditPayload marks boxTypeEvent as an audit payload.
func (boxTypeEvent) AuditPayload() {}
