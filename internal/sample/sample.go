// Package sample is the heart of the LIMS: every tube or container, from collection at a
// visit through receipt, processing (with its SPREC code) and aliquoting, to its end. Each
// sample knows its participant, visit, volume, status, hold, lineage and custody site, and
// every change is audited with the data before and after.
package sample

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/auth"
	"biobank/internal/participant"
	"biobank/internal/study"
)

// Status is where a sample is in its life.
type Status string

// The statuses of DESIGN.md.
const (
	Collected  Status = "collected"
	Received   Status = "received"
	Stored     Status = "stored"
	CheckedOut Status = "checked_out"
	InTransit  Status = "in_transit"
	Consumed   Status = "consumed"
	Destroyed  Status = "destroyed"
	Lost       Status = "lost"
)

// Statuses lists every status in life order.
var Statuses = []Status{Collected, Received, Stored, CheckedOut, InTransit, Consumed, Destroyed, Lost}

// Terminal reports whether the sample's life has ended.
func (s Status) Terminal() bool { return s == Consumed || s == Destroyed || s == Lost }

// Label is the status for people.
func (s Status) Label() string { return strings.ReplaceAll(string(s), "_", " ") }

// Action is a transition of the status machine.
type Action string

// The actions that change a sample's status (or, for aliquot, its volume).
const (
	ActReceive     Action = "receive"
	ActUndoReceive Action = "undo receipt"
	ActPlace       Action = "place in storage"
	ActCheckOut    Action = "check out"
	ActCheckIn     Action = "check in"
	ActAliquot     Action = "aliquot or derive"
	ActProcess     Action = "record processing"
	ActDispatch    Action = "dispatch"
	ActArrive      Action = "receive at destination"
	ActConsume     Action = "mark consumed"
	ActDestroy     Action = "destroy"
	ActLose        Action = "mark lost"
)

// allowed is the status machine of DESIGN.md: from each status, the actions allowed and
// the status they lead to. Consume, destroy and lose are allowed from every non-terminal
// status and handled separately.
var allowed = map[Status]map[Action]Status{
	Collected:  {ActReceive: Received},
	Received:   {ActUndoReceive: Collected, ActPlace: Stored, ActAliquot: Received, ActProcess: Received, ActDispatch: InTransit},
	Stored:     {ActCheckOut: CheckedOut, ActAliquot: Stored, ActProcess: Stored, ActDispatch: InTransit, ActPlace: Stored},
	CheckedOut: {ActCheckIn: Stored},
	InTransit:  {ActArrive: Received},
}

// blockedByHold are the actions a held sample may not undergo (DESIGN.md: a held sample
// can be viewed and moved between positions but not aliquoted, checked out or shipped).
var blockedByHold = map[Action]bool{ActAliquot: true, ActCheckOut: true, ActDispatch: true}

// Next returns the status after action, or a ConflictError that says the sample's status
// and what would be allowed.
func Next(s Sample, action Action) (Status, error) {
	if action == ActConsume || action == ActDestroy || action == ActLose {
		if s.Status.Terminal() {
			return "", wrongStatus(s, action)
		}
		return map[Action]Status{ActConsume: Consumed, ActDestroy: Destroyed, ActLose: Lost}[action], nil
	}
	next, ok := allowed[s.Status][action]
	if !ok {
		return "", wrongStatus(s, action)
	}
	if s.Hold && blockedByHold[action] {
		return "", conflict("sample_on_hold", fmt.Sprintf("%s is on hold (%s): %s until the hold is released.",
			s.Accession, s.HoldText(), refusal(action)))
	}
	return next, nil
}

func wrongStatus(s Sample, action Action) error {
	var can []string
	for a := range allowed[s.Status] {
		can = append(can, string(a))
	}
	if !s.Status.Terminal() {
		can = append(can, string(ActConsume), string(ActDestroy), string(ActLose))
	}
	sortStrings(can)
	msg := fmt.Sprintf("%s is %s, so %s.", s.Accession, s.Status.Label(), refusal(action))
	if len(can) > 0 {
		msg += " Allowed now: " + strings.Join(can, ", ") + "."
	} else {
		msg += " Its life has ended; nothing more can be done with it."
	}
	return conflict("wrong_status", msg)
}

// refusal says in words what cannot be done to a sample: "it cannot be placed in storage".
func refusal(a Action) string {
	if r, ok := refusals[a]; ok {
		return r
	}
	return "it cannot " + string(a)
}

var refusals = map[Action]string{
	ActReceive:     "it cannot be received",
	ActUndoReceive: "its receipt cannot be undone",
	ActPlace:       "it cannot be placed in storage",
	ActCheckOut:    "it cannot be checked out",
	ActCheckIn:     "it cannot be checked in",
	ActAliquot:     "it cannot be aliquoted",
	ActProcess:     "processing cannot be recorded for it",
	ActDispatch:    "it cannot be shipped",
	ActArrive:      "it cannot be received at its destination",
	ActConsume:     "it cannot be marked consumed",
	ActDestroy:     "it cannot be destroyed",
	ActLose:        "it cannot be marked lost",
}

// Sample is one tube or container.
type Sample struct {
	ID              int64                   `json:"-"`
	Accession       string                  `json:"id"`
	TubeBarcode     *string                 `json:"tube_barcode"`
	ParticipantID   int64                   `json:"-"`
	Participant     participant.Participant `json:"-" gorm:"foreignKey:ParticipantID"`
	StudyID         int64                   `json:"-"`
	Study           study.Study             `json:"-" gorm:"foreignKey:StudyID"`
	VisitID         int64                   `json:"-"`
	Visit           participant.Visit       `json:"-" gorm:"foreignKey:VisitID"`
	SpecimenType    string                  `json:"specimen_type"`
	Container       string                  `json:"container"`
	Volume          decimal.Decimal         `json:"volume"`
	InitialVolume   decimal.Decimal         `json:"initial_volume"`
	Unit            string                  `json:"unit"`
	CollectedAt     time.Time               `json:"collected_at"`
	CollectedBy     *int64                  `json:"-"`
	ReceivedAt      *time.Time              `json:"received_at"`
	ReceivedBy      *int64                  `json:"-"`
	Status          Status                  `json:"status"`
	Hold            bool                    `json:"hold"`
	HoldKind        string                  `json:"hold_kind"`
	HoldReason      string                  `json:"hold_reason"`
	SiteID          int64                   `json:"-"`
	Site            auth.Site               `json:"-" gorm:"foreignKey:SiteID"`
	ParentID        *int64                  `json:"-"`
	Parent          *Sample                 `json:"-" gorm:"foreignKey:ParentID"`
	Children        []Sample                `json:"-" gorm:"foreignKey:ParentID"`
	FreezeThawCount int                     `json:"freeze_thaw_count"`
	Processing      json.RawMessage         `json:"-" gorm:"type:jsonb"`
	SPREC           string                  `json:"sprec" gorm:"column:sprec"`
	SPRECVersion    string                  `json:"sprec_version" gorm:"column:sprec_version"`
	CreatedAt       time.Time               `json:"created_at"`
	UpdatedAt       time.Time               `json:"-"`
}

// HoldText says why a sample is held.
func (s Sample) HoldText() string {
	switch s.HoldKind {
	case HoldConsent:
		return "consent withdrawn: " + s.HoldReason
	case HoldQuality:
		return "quality quarantine: " + s.HoldReason
	}
	return s.HoldReason
}

// Hold kinds.
const (
	HoldConsent = "consent"
	HoldQuality = "quality"
)

// record is what the audit trail keeps of a sample's state.
type record struct {
	Accession       string  `json:"accession"`
	TubeBarcode     *string `json:"tube_barcode,omitempty"`
	Status          Status  `json:"status"`
	Hold            bool    `json:"hold"`
	HoldKind        string  `json:"hold_kind,omitempty"`
	HoldReason      string  `json:"hold_reason,omitempty"`
	Volume          string  `json:"volume"`
	Unit            string  `json:"unit"`
	Site            int64   `json:"site_id"`
	FreezeThawCount int     `json:"freeze_thaw_count"`
	SPREC           string  `json:"sprec,omitempty"`
}

func (s Sample) record() record {
	return record{Accession: s.Accession, TubeBarcode: s.TubeBarcode, Status: s.Status, Hold: s.Hold, HoldKind: s.HoldKind,
		HoldReason: s.HoldReason, Volume: s.Volume.String(), Unit: s.Unit, Site: s.SiteID, FreezeThawCount: s.FreezeThawCount,
		SPREC: s.SPREC}
}
