// Package custody reads a sample's chain of custody out of the audit trail as sentences a
// person understands — "placed in LUX-BX0017 A1", "shipped in SHAC000012XY by World
// Courier to KIEL", "received at KIEL, damaged" — oldest first, with the events of the
// samples it was made from, and the custody a partner instance carried in a manifest,
// marked as such. The raw events stay one step away: each line keeps its audit event.
package custody

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"biobank/internal/audit"
)

// Line is one step of a sample's custody.
type Line struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Sample string    `json:"sample"`
	// Ancestor: the step happened to a sample this one was made from.
	Ancestor bool   `json:"ancestor"`
	Text     string `json:"text"`
	Actor    string `json:"actor"`
	Site     string `json:"site"`
	Reason   string `json:"reason,omitempty"`
	Action   string `json:"action"`
	// Carried: the step happened at a partner instance and reached this one in the signed
	// manifest of the shipment that brought the sample (Instance names the partner).
	Carried  bool            `json:"carried"`
	Instance string          `json:"instance,omitempty"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// Carried is a custody step as a manifest carries it to a partner instance.
type Carried struct {
	At     string `json:"at"`
	Sample string `json:"sample"`
	Action string `json:"action"`
	Text   string `json:"text"`
	Actor  string `json:"actor"`
	Site   string `json:"site"`
	Reason string `json:"reason,omitempty"`
}

// Chain is the custody of the samples with accession IDs chain (the sample first, then its
// ancestors), oldest first, read from the trail in one query.
func Chain(ctx context.Context, gdb *gorm.DB, chain []string) ([]Line, error) {
	all, err := Chains(ctx, gdb, map[int64][]string{0: chain})
	return all[0], err
}

// Chains is Chain for several samples at once (keyed as the caller likes), in one query.
func Chains(ctx context.Context, gdb *gorm.DB, chains map[int64][]string) (map[int64][]Line, error) {
	var ids []string
	for _, chain := range chains {
		ids = append(ids, chain...)
	}
	out := map[int64][]Line{}
	if len(ids) == 0 {
		return out, nil
	}
	events, err := audit.ForEntities(ctx, gdb, "sample", ids)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	for key, chain := range chains {
		depth := map[string]int{}
		for i, acc := range chain {
			if _, seen := depth[acc]; !seen {
				depth[acc] = i
			}
		}
		for _, e := range events {
			if d, ok := depth[e.EntityID]; ok {
				out[key] = append(out[key], expand(e, d > 0)...)
			}
		}
	}
	return out, nil
}

// expand is the lines of one event: the event itself, preceded for a sample imported from
// a partner by the custody its manifest carried.
func expand(e audit.Event, ancestor bool) []Line {
	line := Line{Seq: e.Seq, At: e.At, Sample: e.EntityID, Ancestor: ancestor, Text: Describe(e), Actor: e.Actor, Site: e.Site,
		Reason: e.Reason, Action: e.Action, Before: e.Before, After: e.After}
	if e.Action != "sample.import" {
		return []Line{line}
	}
	var imp struct {
		Instance string    `json:"from_instance"`
		Custody  []Carried `json:"custody"`
	}
	_ = json.Unmarshal(e.After, &imp) // a payload without custody carries none
	var out []Line
	for _, c := range imp.Custody {
		at, _ := time.Parse(time.RFC3339, c.At)
		out = append(out, Line{Seq: e.Seq, At: at, Sample: c.Sample, Ancestor: c.Sample != e.EntityID || ancestor, Text: c.Text,
			Actor: c.Actor, Site: c.Site, Reason: c.Reason, Action: c.Action, Carried: true, Instance: imp.Instance})
	}
	return append(out, line)
}

// ToCarried is how a manifest carries lines to a partner: every line as written, its own
// carried lines included (a sample may cross several instances).
func ToCarried(lines []Line) []Carried {
	out := make([]Carried, 0, len(lines))
	for _, l := range lines {
		out = append(out, Carried{At: l.At.UTC().Format(time.RFC3339), Sample: l.Sample, Action: l.Action, Text: l.Text,
			Actor: l.Actor, Site: l.Site, Reason: l.Reason})
	}
	return out
}

// payload is the union of the fields the sample events' payloads use.
type payload struct {
	Status       string    `json:"status"`
	Location     *location `json:"location"`
	Left         *location `json:"left"`
	Shipment     string    `json:"shipment"`
	To           string    `json:"to"`
	From         string    `json:"from"`
	Site         string    `json:"site"`
	Courier      string    `json:"courier"`
	Tracking     string    `json:"tracking"`
	ItemState    string    `json:"item_state"`
	Children     []string  `json:"children"`
	Parent       string    `json:"parent"`
	SpecimenType string    `json:"specimen_type"`
	Volume       string    `json:"volume"`
	Unit         string    `json:"unit"`
	SPREC        string    `json:"sprec"`
	Study        string    `json:"study"`
	Visit        string    `json:"visit"`
	Decision     string    `json:"decision"`
	ChildType    string    `json:"child_type"`
	Instance     string    `json:"from_instance"`
	Origin       string    `json:"origin"`
	Destination  string    `json:"destination"`
}

type location struct {
	Box      string `json:"box"`
	Position string `json:"position"`
}

func (l *location) String() string {
	if l == nil || l.Box == "" {
		return "a box"
	}
	return strings.TrimSpace(l.Box + " " + l.Position)
}

// Describe says what an event of a sample's trail did, in words (without who, where and
// when, which a line shows beside it).
func Describe(e audit.Event) string {
	var before, after payload
	_ = json.Unmarshal(e.Before, &before) // an empty or foreign payload leaves the fields empty
	_ = json.Unmarshal(e.After, &after)
	switch e.Action {
	case "sample.collect":
		s := "collected"
		if after.SpecimenType != "" {
			s += fmt.Sprintf(" (%s, %s %s)", after.SpecimenType, after.Volume, after.Unit)
		}
		if after.Visit != "" {
			s += " at visit " + after.Visit + " of " + after.Study
		}
		return s
	case "sample.receive":
		return "received at the laboratory"
	case "sample.undo_receive":
		return "receipt undone"
	case "sample.process":
		if after.SPREC != "" {
			return "processing recorded; SPREC " + after.SPREC
		}
		return "processing recorded"
	case "sample.aliquot":
		return fmt.Sprintf("split into %d %s: %s", len(after.Children), plural(len(after.Children), "aliquot", "aliquots"), strings.Join(after.Children, ", "))
	case "sample.create_aliquot":
		return fmt.Sprintf("made from %s (%s, %s %s)", after.Parent, after.SpecimenType, after.Volume, after.Unit)
	case "sample.place":
		return "placed in " + after.Location.String()
	case "sample.move":
		return "moved from " + before.Location.String() + " to " + after.Location.String()
	case "sample.remove_from_position":
		return "taken out of " + before.Location.String()
	case "sample.check_out":
		return "checked out of " + before.Location.String()
	case "sample.check_in":
		return "checked back in to " + after.Location.String()
	case "sample.quarantine":
		return "put on hold"
	case "sample.release":
		return "released from hold"
	case "sample.consent_hold":
		return "put on hold: the participant's consent was withdrawn"
	case "sample.consent_decision":
		if after.Decision == "destroy" {
			return "destroyed after the consent withdrawal"
		}
		return "kept after the consent withdrawal (" + after.Decision + ")"
	case "sample.consume":
		return "used up"
	case "sample.destroy":
		return "destroyed"
	case "sample.lose":
		return "recorded as lost"
	case "sample.dispatch":
		s := "shipped in " + after.Shipment
		if after.Courier != "" {
			s += " by " + after.Courier
		}
		if after.Tracking != "" {
			s += " (tracking " + after.Tracking + ")"
		}
		s += " to " + after.To
		if after.Left != nil {
			s += ", out of " + after.Left.String()
		}
		return s
	case "sample.arrive":
		s := "received at " + after.Site + " from shipment " + after.Shipment
		if after.ItemState == "damaged" {
			s += ", damaged"
		}
		return s
	case "sample.shipment_resolve":
		return fmt.Sprintf("discrepancy in shipment %s resolved: %s", after.Shipment, map[string]string{
			"found": "found at " + after.Destination, "lost": "lost", "destroyed": "destroyed", "returned": "returned to the sender"}[after.ItemState])
	case "sample.import":
		return fmt.Sprintf("announced by %s's manifest of shipment %s (sent from %s)", after.Instance, after.Shipment, after.Origin)
	}
	return strings.ReplaceAll(strings.TrimPrefix(e.Action, "sample."), "_", " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
