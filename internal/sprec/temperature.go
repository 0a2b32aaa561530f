package sprec

import "fmt"

// Temperature is the range a sample was kept at before or after centrifugation, or a
// centrifuge was set to. The zero value is unknown.
type Temperature int

// Temperature ranges the codes distinguish. Room temperature is 18–28 °C.
const (
	TempUnknown Temperature = iota
	// TempRoom is room temperature, 18–28 °C.
	TempRoom
	// TempCold is 2–10 °C (refrigerator, wet ice).
	TempCold
	// TempBody is 35–38 °C (body temperature, an incubator).
	TempBody
	// TempOther is any other known temperature; it gives Z.
	TempOther
)

var temperatureText = [...]string{"", "rt", "2-10", "35-38", "other"}

// String returns the text form: "" (unknown), "rt", "2-10", "35-38" or "other".
func (t Temperature) String() string {
	if t < 0 || int(t) >= len(temperatureText) {
		return fmt.Sprintf("Temperature(%d)", int(t))
	}
	return temperatureText[t]
}

// ParseTemperature reads the text form String returns.
func ParseTemperature(s string) (Temperature, error) {
	for i, txt := range temperatureText {
		if s == txt {
			return Temperature(i), nil
		}
	}
	return TempUnknown, inputError("temperature", fmt.Sprintf("%q is not a temperature range: use rt, 2-10, 35-38 or other.", s))
}

// MarshalText stores a Temperature as its text form.
func (t Temperature) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a Temperature from its text form.
func (t *Temperature) UnmarshalText(b []byte) error {
	v, err := ParseTemperature(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// TemperatureFromCelsius classifies a measured or set temperature: [2, 10) °C is TempCold,
// [18, 28) °C TempRoom, [35, 38) °C TempBody, anything else TempOther. The bounds follow the
// standard's rule, lower inclusive and upper exclusive.
func TemperatureFromCelsius(c float64) Temperature {
	switch {
	case c >= 2 && c < 10:
		return TempCold
	case c >= 18 && c < 28:
		return TempRoom
	case c >= 35 && c < 38:
		return TempBody
	default:
		return TempOther
	}
}

// UrineKind says which urine a sample is.
type UrineKind int

// Kinds of urine sample. The zero value is unknown.
const (
	UrineUnknown UrineKind = iota
	// UrineSpot is a random (spot) urine sample: URN.
	UrineSpot
	// UrineFirstMorning is the first urine of the morning: URM.
	UrineFirstMorning
	// Urine24h is urine collected over 24 hours: U24.
	Urine24h
)

var urineText = [...]string{"", "spot", "first_morning", "24h"}

// String returns the text form: "" (unknown), "spot", "first_morning" or "24h".
func (k UrineKind) String() string {
	if k < 0 || int(k) >= len(urineText) {
		return fmt.Sprintf("UrineKind(%d)", int(k))
	}
	return urineText[k]
}

// ParseUrineKind reads the text form String returns.
func ParseUrineKind(s string) (UrineKind, error) {
	for i, txt := range urineText {
		if s == txt {
			return UrineKind(i), nil
		}
	}
	return UrineUnknown, inputError("urine_kind", fmt.Sprintf("%q is not a kind of urine: use spot, first_morning or 24h.", s))
}

// MarshalText stores a UrineKind as its text form.
func (k UrineKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a UrineKind from its text form.
func (k *UrineKind) UnmarshalText(b []byte) error {
	v, err := ParseUrineKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
