package sprec

import "fmt"

// Spin is one centrifugation. A nil *Spin means it is unknown whether and how the sample was
// spun (X); a Spin with None means it was not (N). Otherwise every field is needed for the
// code, and a missing one gives X.
type Spin struct {
	// None says there was no centrifugation; the other fields must then be empty.
	None bool
	// Temp is the centrifuge temperature; only TempRoom and TempCold have codes.
	Temp Temperature
	// G is the relative centrifugal force in g.
	G *int
	// Minutes is how long the spin lasted.
	Minutes *int
	// Brake says whether the rotor was braked at the end.
	Brake *bool
}

// validate refuses a spin that contradicts itself or cannot be true.
func (s *Spin) validate(field string) error {
	if s == nil {
		return nil
	}
	if s.Temp < 0 || int(s.Temp) >= len(temperatureText) {
		return inputError(field, "The centrifugation temperature is not one the LIMS knows.")
	}
	if s.None {
		if s.Temp != TempUnknown || s.G != nil || s.Minutes != nil || s.Brake != nil {
			return inputError(field, "The sample is recorded as not centrifuged, yet a temperature, g-force, duration or brake is recorded for the spin.")
		}
		return nil
	}
	if s.G != nil && *s.G <= 0 {
		return inputError(field, fmt.Sprintf("A centrifugation at %d g is not possible: the g-force must be positive.", *s.G))
	}
	if s.Minutes != nil && *s.Minutes <= 0 {
		return inputError(field, fmt.Sprintf("A centrifugation of %d minutes is not possible: the duration must be positive.", *s.Minutes))
	}
	return nil
}

// Bands of g-force for braked spins from 3000 g, at room temperature and at 2–10 °C.
var (
	spinBandsRoom = []band[int]{{3000, 6000, "E"}, {6000, 10000, "G"}, {10000, 0, "I"}}
	spinBandsCold = []band[int]{{3000, 6000, "F"}, {6000, 10000, "H"}, {10000, 0, "J"}}
)

// spinCode is the centrifugation element for a validated, non-nil spin; M (30 min at
// <1000 g without brake) exists only for the first centrifugation.
func spinCode(s *Spin, first bool) string {
	if s.None {
		return na1
	}
	if s.Temp == TempUnknown || s.G == nil || s.Minutes == nil || s.Brake == nil {
		return unknown1
	}
	if s.Temp != TempRoom && s.Temp != TempCold {
		return other1
	}
	room, g, minutes, brake := s.Temp == TempRoom, *s.G, *s.Minutes, *s.Brake
	if first && room && g < 1000 && !brake && minutes == 30 {
		return "M"
	}
	// The codes A–J are for 10–15 min, both ends included: see the package comment.
	if minutes < 10 || minutes > 15 {
		return other1
	}
	if g < 3000 {
		switch {
		case room && !brake:
			return "A"
		case room:
			return "B"
		case !brake:
			return "C"
		default:
			return "D"
		}
	}
	// E–J are with brake; an unbraked fast spin has no code.
	if !brake {
		return other1
	}
	if room {
		return inBand(spinBandsRoom, g)
	}
	return inBand(spinBandsCold, g)
}
