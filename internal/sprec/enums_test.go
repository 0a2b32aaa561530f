package sprec_test

import (
	"encoding/json"
	"testing"

	"biobank/internal/sprec"
)

func TestEnums_TextRoundTrip(t *testing.T) {
	for v := sprec.TempUnknown; v <= sprec.TempOther; v++ {
		if got, err := sprec.ParseTemperature(v.String()); err != nil || got != v {
			t.Errorf("ParseTemperature(%q) = %v, %v; want %v", v.String(), got, err, v)
		}
	}
	for v := sprec.UrineUnknown; v <= sprec.Urine24h; v++ {
		if got, err := sprec.ParseUrineKind(v.String()); err != nil || got != v {
			t.Errorf("ParseUrineKind(%q) = %v, %v; want %v", v.String(), got, err, v)
		}
	}
	for v := sprec.ContainerUnknown; v <= sprec.ContainerOther; v++ {
		if got, err := sprec.ParseStorageContainer(v.String()); err != nil || got != v {
			t.Errorf("ParseStorageContainer(%q) = %v, %v; want %v", v.String(), got, err, v)
		}
	}
	for v := sprec.StoreUnknown; v <= sprec.StoreOther; v++ {
		if got, err := sprec.ParseStorageTemperature(v.String()); err != nil || got != v {
			t.Errorf("ParseStorageTemperature(%q) = %v, %v; want %v", v.String(), got, err, v)
		}
	}
}

func TestEnums_ParseRefusesUnknownText(t *testing.T) {
	if _, err := sprec.ParseTemperature("warm"); err == nil {
		t.Error("ParseTemperature accepted \"warm\"")
	}
	if _, err := sprec.ParseUrineKind("midstream"); err == nil {
		t.Error("ParseUrineKind accepted \"midstream\"")
	}
	if _, err := sprec.ParseStorageContainer("bag"); err == nil {
		t.Error("ParseStorageContainer accepted \"bag\"")
	}
	if _, err := sprec.ParseStorageTemperature("-70"); err == nil {
		t.Error("ParseStorageTemperature accepted \"-70\"")
	}
	var f sprec.Fluid
	if err := json.Unmarshal([]byte(`{"PreCentrifugationTemp":"hot"}`), &f); err == nil {
		t.Error("json.Unmarshal accepted a Fluid with temperature \"hot\"")
	}
}

// TestFluid_JSONRoundTripKeepsTheCode shows the facts can be stored as JSON and give the
// same code when read back.
func TestFluid_JSONRoundTripKeepsTheCode(t *testing.T) {
	f := workedSerum()
	f.Type, f.UrineKind = "urine", sprec.UrineFirstMorning
	f.SecondCentrifugation = nil
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back sprec.Fluid
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v", b, err)
	}
	if got, want := mustFluid(t, back), mustFluid(t, f); got != want {
		t.Errorf("after a JSON round trip FluidCode = %s, want %s (JSON %s)", got, want, b)
	}
}

func TestTemperatureFromCelsius_Boundaries(t *testing.T) {
	for _, c := range []struct {
		celsius float64
		want    sprec.Temperature
	}{
		{-80, sprec.TempOther}, {1.99, sprec.TempOther}, {2, sprec.TempCold}, {4, sprec.TempCold},
		{9.99, sprec.TempCold}, {10, sprec.TempOther}, {17.99, sprec.TempOther}, {18, sprec.TempRoom},
		{22, sprec.TempRoom}, {27.99, sprec.TempRoom}, {28, sprec.TempOther}, {34.99, sprec.TempOther},
		{35, sprec.TempBody}, {37.99, sprec.TempBody}, {38, sprec.TempOther},
	} {
		if got := sprec.TemperatureFromCelsius(c.celsius); got != c.want {
			t.Errorf("TemperatureFromCelsius(%v) = %q, want %q", c.celsius, got, c.want)
		}
	}
}
