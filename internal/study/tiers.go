package study

import (
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"

	"biobank/internal/apperr"
)

// Tier is one permission a consent can grant.
type Tier string

// The consent tiers the network's documents offer.
const (
	TierStorage   Tier = "storage"
	TierGenetic   Tier = "genetic"
	TierSharing   Tier = "sharing"
	TierRecontact Tier = "recontact"
	// TierOutsideEEA permits transfer to a destination outside the EU/EEA (Switzerland in
	// this network); a study may require it on top of sharing.
	TierOutsideEEA Tier = "outside_eea"
)

// AllTiers lists the tiers in display order.
var AllTiers = []Tier{TierStorage, TierGenetic, TierSharing, TierRecontact, TierOutsideEEA}

// Label is the tier's description for people.
func (t Tier) Label() string {
	switch t {
	case TierStorage:
		return "Storage and research use"
	case TierGenetic:
		return "Genetic analysis"
	case TierSharing:
		return "Sharing with partner sites"
	case TierRecontact:
		return "Re-contact"
	case TierOutsideEEA:
		return "Transfer outside the EU/EEA"
	}
	return string(t)
}

// Tiers is a set of tiers, stored as a PostgreSQL text[] in the order of AllTiers.
type Tiers []Tier

// ParseTiers validates and orders a list of tier names; duplicates collapse.
func ParseTiers(field string, names []string) (Tiers, error) {
	seen := map[Tier]bool{}
	for _, n := range names {
		t := Tier(strings.ToLower(strings.TrimSpace(n)))
		if t == "" {
			continue
		}
		known := false
		for _, k := range AllTiers {
			known = known || k == t
		}
		if !known {
			return nil, apperr.Invalid(field, fmt.Sprintf("Unknown consent tier %q: the tiers are storage, genetic, sharing, recontact and outside_eea.", n))
		}
		seen[t] = true
	}
	var out Tiers
	for _, k := range AllTiers {
		if seen[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// Has reports whether t is in the set.
func (ts Tiers) Has(t Tier) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// Minus returns the tiers of ts not in other.
func (ts Tiers) Minus(other Tiers) Tiers {
	out := Tiers{}
	for _, t := range ts {
		if !other.Has(t) {
			out = append(out, t)
		}
	}
	return out
}

// SubsetOf reports whether every tier of ts is in other.
func (ts Tiers) SubsetOf(other Tiers) bool {
	for _, t := range ts {
		if !other.Has(t) {
			return false
		}
	}
	return true
}

// Strings returns the tier names.
func (ts Tiers) Strings() []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// Value stores the set as a PostgreSQL array literal. Tier names are plain identifiers,
// so no quoting is needed.
func (ts Tiers) Value() (driver.Value, error) {
	return "{" + strings.Join(ts.Strings(), ",") + "}", nil
}

// Scan reads a PostgreSQL text[] of tier names.
func (ts *Tiers) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
		*ts = nil
		return nil
	default:
		return fmt.Errorf("study: cannot scan %T into Tiers", src)
	}
	s = strings.Trim(s, "{}")
	out := Tiers{}
	if s != "" {
		for _, p := range strings.Split(s, ",") {
			out = append(out, Tier(strings.Trim(p, `"`)))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return tierIndex(out[i]) < tierIndex(out[j]) })
	*ts = out
	return nil
}

func tierIndex(t Tier) int {
	for i, k := range AllTiers {
		if k == t {
			return i
		}
	}
	return len(AllTiers)
}
