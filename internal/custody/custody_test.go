package custody

import (
	"encoding/json"
	"testing"
	"time"

	"biobank/internal/audit"
)

func TestDescribe_ShippingStepsReadAsSentences(t *testing.T) {
	for _, tc := range []struct {
		action, before, after, want string
	}{
		{"sample.place", `{}`, `{"status":"stored","location":{"box":"LUX-BX0017","position":"A1"}}`, "placed in LUX-BX0017 A1"},
		{"sample.dispatch", `{}`, `{"shipment":"SHAC000012XY","courier":"World Courier","to":"KIEL","left":{"box":"LUX-BX0017","position":"A1"}}`,
			"shipped in SHAC000012XY by World Courier to KIEL, out of LUX-BX0017 A1"},
		{"sample.arrive", `{}`, `{"shipment":"SHAC000012XY","site":"KIEL","item_state":"damaged"}`, "received at KIEL from shipment SHAC000012XY, damaged"},
		{"sample.shipment_resolve", `{}`, `{"shipment":"SHAC000012XY","item_state":"found","destination":"KIEL"}`,
			"discrepancy in shipment SHAC000012XY resolved: found at KIEL"},
		{"sample.move", `{"location":{"box":"B1","position":"A1"}}`, `{"location":{"box":"B2","position":"C3"}}`, "moved from B1 A1 to B2 C3"},
		{"sample.something_new", `null`, `null`, "something new"},
	} {
		got := Describe(audit.Event{Action: tc.action, Before: json.RawMessage(tc.before), After: json.RawMessage(tc.after)})
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.action, got, tc.want)
		}
	}
}

func TestExpand_CarriedStepsComeBeforeTheImportAndAreMarked(t *testing.T) {
	e := audit.Event{Seq: 9, At: time.Now(), Action: "sample.import", EntityID: "LU0000001A7",
		After: json.RawMessage(`{"shipment":"SHLU01","from_instance":"Luxembourg","origin":"LUX","custody":[
			{"at":"2026-11-01T10:00:00Z","sample":"LU0000000XX","action":"sample.collect","text":"collected","actor":"nurse","site":"LUX"},
			{"at":"2026-11-02T10:00:00Z","sample":"LU0000001A7","action":"sample.dispatch","text":"shipped in SHLU01","actor":"tech","site":"LUX"}]}`)}
	lines := expand(e, false)
	if len(lines) != 3 || !lines[0].Carried || !lines[0].Ancestor || lines[1].Ancestor || lines[2].Carried ||
		lines[0].Instance != "Luxembourg" || lines[2].Text != "announced by Luxembourg's manifest of shipment SHLU01 (sent from LUX)" {
		t.Errorf("lines %+v", lines)
	}
}
