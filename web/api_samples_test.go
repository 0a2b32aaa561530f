package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/sample"
	"biobank/internal/study"
	"biobank/web"
)

// samplePath is the API address of one sample, the code path-escaped as a client would.
func samplePath(code string, rest ...string) string {
	return "/api/v1/samples/" + url.PathEscape(code) + strings.Join(rest, "")
}

// wantNumber fails the test unless m[key] is the JSON number want.
func wantNumber(tb testing.TB, m map[string]any, key string, want float64) {
	tb.Helper()
	if got, ok := m[key].(float64); !ok || got != want {
		tb.Errorf("%s = %#v, want the number %v", key, m[key], want)
	}
}

// wantNull fails the test unless m has key, and it is null.
func wantNull(tb testing.TB, m map[string]any, key string) {
	tb.Helper()
	if v, ok := m[key]; !ok || v != nil {
		tb.Errorf("%s = %#v (present %v), want null", key, v, ok)
	}
}

// objects returns a JSON array of objects.
func objects(v any) []map[string]any {
	arr, _ := v.([]any)
	out := []map[string]any{}
	for _, x := range arr {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

func TestAPISamples_CollectRegistersTubes(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	studies, _, _ := a.services()
	if _, err := studies.AddVisit(context.Background(), a.actorOf(t, "admin"), "IBD",
		study.VisitInput{Code: "M3", Name: "Month 3", DayOffset: 90, WindowBefore: 14, WindowAfter: 14}); err != nil {
		t.Fatal(err)
	}
	nurse := a.usedToken(t, "nurse")
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	at := collectedAt()

	body := func(over map[string]any) map[string]any {
		m := map[string]any{"participant": pseudonym, "study": "IBD", "visit": "BASELINE", "specimen_type": "serum",
			"container": "SST", "volume": 7.5, "collected_at": at.Format(time.RFC3339)}
		for k, v := range over {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}

	// One tube, as the contract's body describes it.
	got := a.api(t, "POST", "/api/v1/samples", nurse, body(map[string]any{"tube_barcode": "FX00012345"})).
		wantStatus(t, http.StatusCreated).object(t)
	id, _ := got["id"].(string)
	if !strings.HasPrefix(id, sample.DefaultPrefix) || len(id) != 12 || !checkcode.Valid(id) {
		t.Errorf("id %q is not an accession ID with its check symbols", id)
	}
	for key, want := range map[string]any{"tube_barcode": "FX00012345", "participant": pseudonym, "study": "IBD",
		"visit": "BASELINE", "specimen_type": "serum", "status": "collected", "hold": false, "unit": "mL", "site": "LUX"} {
		if got[key] != want {
			t.Errorf("%s = %#v, want %#v", key, got[key], want)
		}
	}
	wantNumber(t, got, "volume", 7.5)
	wantNumber(t, got, "freeze_thaw_count", 0)
	wantNull(t, got, "parent")
	wantNull(t, got, "location")
	if kids, ok := got["children"].([]any); !ok || len(kids) != 0 {
		t.Errorf("children = %#v, want []", got["children"])
	}
	if sprec, ok := got["sprec"].(string); !ok || !strings.HasPrefix(sprec, "SER-SST-") {
		t.Errorf("sprec = %#v, want a SPREC code of serum in an SST", got["sprec"])
	}
	if s, _ := got["collected_at"].(string); s == "" {
		t.Errorf("collected_at = %#v", got["collected_at"])
	} else if ts, err := time.Parse(time.RFC3339, s); err != nil || !ts.Equal(at) {
		t.Errorf("collected_at = %s, want %s", s, at.Format(time.RFC3339))
	}
	if ev := a.wantEvent(t, "sample", id, "sample.collect", "nurse"); ev.Site != "LUX" {
		t.Errorf("collection audited at site %q", ev.Site)
	}

	// Microlitres are stored as millilitres; without a collection time it is now.
	got = a.api(t, "POST", "/api/v1/samples", nurse, body(map[string]any{"volume": 500, "unit": "µL", "collected_at": nil})).
		wantStatus(t, http.StatusCreated).object(t)
	wantNumber(t, got, "volume", 0.5)
	if got["unit"] != "mL" {
		t.Errorf("unit %v, want mL", got["unit"])
	}

	// The list form registers the visit's tubes at once, each with its own accession ID.
	var list struct {
		Samples []map[string]any `json:"samples"`
	}
	a.api(t, "POST", "/api/v1/samples", nurse, map[string]any{"participant": pseudonym, "study": "ibd", "visit": "baseline",
		"collected_at": at.Format(time.RFC3339), "tubes": []sample.Tube{bloodTube, serumTube}}).
		wantStatus(t, http.StatusCreated).decode(t, &list)
	if len(list.Samples) != 2 || list.Samples[0]["specimen_type"] != "whole_blood" || list.Samples[1]["specimen_type"] != "serum" ||
		list.Samples[0]["id"] == list.Samples[1]["id"] || list.Samples[0]["status"] != "collected" {
		t.Fatalf("tubes registered: %+v", list.Samples)
	}
	wantNumber(t, list.Samples[0], "volume", 9)

	// Refusals change nothing.
	noConsent, _ := a.mustReadyParticipant(t, "nurse", "-")
	notOpen := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustConsent(t, "nurse", notOpen, "IBD", "1.0", "storage")
	withdrawn, consentID := a.mustReadyParticipant(t, "nurse", "storage", "sharing")
	a.mustWithdraw(t, "nurse", withdrawn, consentID, "storage")
	kielToken := a.usedToken(t, "nurse-kiel")
	future := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name        string
		token       string
		body        map[string]any
		status      int
		code, field string
	}{
		{"no consent", nurse, body(map[string]any{"participant": noConsent}), 409, "consent_required", "participant"},
		{"storage withdrawn", nurse, body(map[string]any{"participant": withdrawn}), 409, "consent_required", "participant"},
		{"zero volume", nurse, body(map[string]any{"volume": 0}), 422, "invalid", "volume"},
		{"negative volume", nurse, body(map[string]any{"volume": -2}), 422, "invalid", "volume"},
		{"more than a litre", nurse, body(map[string]any{"volume": 1000.5}), 422, "invalid", "volume"},
		{"more than a litre in µL", nurse, body(map[string]any{"volume": 1000001, "unit": "µL"}), 422, "invalid", "volume"},
		{"unknown unit", nurse, body(map[string]any{"unit": "pint"}), 422, "invalid", "volume"},
		{"collected in the future", nurse, body(map[string]any{"collected_at": future}), 422, "invalid", "collected_at"},
		{"collection time unreadable", nurse, body(map[string]any{"collected_at": "yesterday"}), 422, "invalid", "collected_at"},
		{"unknown specimen type", nurse, body(map[string]any{"specimen_type": "blood"}), 422, "invalid", "specimen_type"},
		{"unknown container", nurse, body(map[string]any{"container": "JAR"}), 422, "invalid", "container"},
		{"bad tube barcode", nurse, body(map[string]any{"tube_barcode": "FX 1!"}), 422, "invalid", "tube_barcode"},
		{"tube barcode already on a live sample", nurse, body(map[string]any{"tube_barcode": "FX00012345"}), 409, "duplicate_tube_barcode", "tube_barcode"},
		{"first collection of month 3, outside its window", nurse, body(map[string]any{"participant": notOpen, "visit": "M3"}), 409, "out_of_window", "collected_at"},
		{"visit the study does not have", nurse, body(map[string]any{"visit": "M99"}), 422, "invalid", "visit"},
		{"unknown study", nurse, body(map[string]any{"study": "NOPE"}), 422, "invalid", "study"},
		{"a bad tube in the list", nurse, map[string]any{"participant": pseudonym, "study": "IBD", "visit": "BASELINE",
			"tubes": []map[string]any{{"specimen_type": "serum", "container": "SST", "volume": 5}, {"specimen_type": "serum", "container": "SST", "volume": 0}}},
			422, "invalid", "tubes[1].volume"},
		{"nurse of another site", kielToken, body(nil), 403, "forbidden", ""},
		{"unknown participant", nurse, body(map[string]any{"participant": mustPseudonym(t, "ZZZZZZ")}), 404, "not_found", ""},
		{"volume as a word", nurse, body(map[string]any{"volume": "lots"}), 400, "malformed", ""},
		{"no token", "", body(nil), 401, "unauthenticated", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			a.api(t, "POST", "/api/v1/samples", tc.token, tc.body).wantError(t, tc.status, tc.code, tc.field)
			a.assertUnchanged(t, before)
		})
	}

	// The first collection of a visit not yet opened opens it (the contract names the
	// visit; no separate call is needed); outside the window, with a reason.
	got = a.api(t, "POST", "/api/v1/samples", nurse, body(map[string]any{"participant": notOpen})).wantStatus(t, http.StatusCreated).object(t)
	a.wantEvent(t, "participant", notOpen, "visit.open", "nurse")
	if got["visit"] != "BASELINE" {
		t.Errorf("collected at visit %v, want BASELINE", got["visit"])
	}
	a.api(t, "POST", "/api/v1/samples", nurse, body(map[string]any{"participant": notOpen, "visit": "M3", "reason": "seen early"})).
		wantStatus(t, http.StatusCreated)
	var reason string
	if err := a.db.Gorm.Raw(`SELECT v.out_of_window_reason FROM visits v JOIN visit_definitions d ON d.id = v.visit_definition_id
		JOIN participants p ON p.id = v.participant_id WHERE p.pseudonym = ? AND d.code = 'M3'`, notOpen).Scan(&reason).Error; err != nil || reason != "seen early" {
		t.Errorf("M3 opened with reason %q, %v; want %q", reason, err, "seen early")
	}
}

func TestAPISamples_GetByAccessionOrTubeBarcode(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	nurse := a.usedToken(t, "nurse")
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	labelled := bloodTube
	labelled.TubeBarcode = "FX00099999"
	ids := a.mustCollect(t, "nurse", pseudonym, labelled, serumTube)
	acc := ids[0]

	grouped := strings.ToLower(acc[:4] + " " + acc[4:8] + " " + acc[8:]) // as read aloud from a label
	for _, code := range []string{acc, "FX00099999", "  " + strings.ToLower(acc) + " ", "\t" + acc + "\n", grouped, acc[:6] + "-" + acc[6:]} {
		got := a.api(t, "GET", samplePath(code), nurse, nil).wantStatus(t, http.StatusOK).object(t)
		if got["id"] != acc || got["tube_barcode"] != "FX00099999" || got["participant"] != pseudonym {
			t.Errorf("GET %q = %v, want %s", code, got, acc)
		}
	}

	// A misread accession ID is refused with the likely correction.
	wrong := misreadAccession(t, acc)
	e := a.api(t, "GET", samplePath(wrong), nurse, nil).wantError(t, http.StatusUnprocessableEntity, "wrong_check", "sample")
	if !strings.Contains(e.Message, acc) {
		t.Errorf("message %q does not suggest %s", e.Message, acc)
	}
	e = a.api(t, "GET", samplePath(strings.ToLower(wrong)), nurse, nil).wantError(t, http.StatusUnprocessableEntity, "wrong_check", "sample")
	if !strings.Contains(e.Message, acc) {
		t.Errorf("message %q does not suggest %s", e.Message, acc)
	}

	unknown, err := sample.Accession(sample.DefaultPrefix, 99999)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{unknown, "FX404", "no such tube"} {
		a.api(t, "GET", samplePath(code), nurse, nil).wantError(t, http.StatusNotFound, "not_found", "")
	}
	a.api(t, "GET", samplePath(acc), a.usedToken(t, "nurse-kiel"), nil).wantError(t, http.StatusForbidden, "forbidden", "")
	a.api(t, "GET", samplePath(acc), a.usedToken(t, "manager"), nil).wantStatus(t, http.StatusOK)
	a.api(t, "GET", samplePath(acc), "", nil).wantError(t, http.StatusUnauthorized, "unauthenticated", "")
}

func TestAPISamples_Receive(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube, serumTube)

	// Refusals first: nothing is written.
	for _, tc := range []struct {
		name, token, code string
		body              any
		status            int
		errCode, field    string
	}{
		{"technician of another site", a.usedToken(t, "technician-kiel"), ids[0], map[string]any{}, 403, "forbidden", ""},
		{"nurse", a.usedToken(t, "nurse"), ids[0], map[string]any{}, 403, "forbidden", ""},
		{"unknown tube", tech, "FX404", map[string]any{}, 404, "not_found", ""},
		{"misread accession ID", tech, misreadAccession(t, ids[0]), map[string]any{}, 422, "wrong_check", "sample"},
		{"a body with a field", tech, ids[0], map[string]any{"when": "now"}, 400, "malformed", "when"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			a.api(t, "POST", samplePath(tc.code, "/receive"), tc.token, tc.body).wantError(t, tc.status, tc.errCode, tc.field)
			a.assertUnchanged(t, before)
		})
	}

	got := a.api(t, "POST", samplePath(strings.ToLower(ids[0]), "/receive"), tech, map[string]any{}).wantStatus(t, http.StatusOK).object(t)
	if got["id"] != ids[0] || got["status"] != "received" || got["received_at"] == nil {
		t.Errorf("received %v", got)
	}
	if w := objects(got["warnings"]); len(w) != 0 {
		t.Errorf("warnings %v on a first receipt", w)
	}
	a.wantEvent(t, "sample", ids[0], "sample.receive", "technician")
	// An empty body is accepted too.
	a.api(t, "POST", samplePath(ids[1], "/receive"), tech, nil).wantStatus(t, http.StatusOK)

	// A repeat scan changes nothing and says so.
	before := a.state(t)
	got = a.api(t, "POST", samplePath(ids[0], "/receive"), tech, map[string]any{}).wantStatus(t, http.StatusOK).object(t)
	w := objects(got["warnings"])
	if got["status"] != "received" || len(w) != 1 || w[0]["code"] != "already_received" || !strings.Contains(w[0]["message"].(string), ids[0]) {
		t.Errorf("repeat receipt: %v", got)
	}
	a.assertUnchanged(t, before)
}

func TestAPISamples_Aliquot(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube, serumTube, serumTube)
	blood, serum, held := ids[0], ids[1], ids[2]
	for _, id := range []string{blood, held} {
		a.mustReceive(t, "technician", id)
	}
	if _, err := a.sampleService().Quarantine(t.Context(), a.actorOf(t, "manager"), held, "haemolysed"); err != nil {
		t.Fatal(err)
	}

	var out struct {
		Aliquots []map[string]any `json:"aliquots"`
	}
	a.api(t, "POST", samplePath(blood, "/aliquots"), tech, map[string]any{"count": 6, "volume": 0.5, "specimen_type": "plasma"}).
		wantStatus(t, http.StatusCreated).decode(t, &out)
	if len(out.Aliquots) != 6 {
		t.Fatalf("%d aliquots, want 6", len(out.Aliquots))
	}
	var kids []string
	for i, k := range out.Aliquots {
		id, _ := k["id"].(string)
		if !checkcode.Valid(id) || slices.Contains(kids, id) || k["parent"] != blood || k["specimen_type"] != "plasma" ||
			k["status"] != "received" || k["participant"] != pseudonym || k["site"] != "LUX" {
			t.Errorf("aliquot %d: %v", i, k)
		}
		wantNumber(t, k, "volume", 0.5)
		kids = append(kids, id)
	}
	parent := a.api(t, "GET", samplePath(blood), tech, nil).wantStatus(t, http.StatusOK).object(t)
	if !slices.Equal(strs(parent["children"]), kids) {
		t.Errorf("parent's children %v, want %v", parent["children"], kids)
	}
	wantNumber(t, parent, "volume", 6)
	child := a.api(t, "GET", samplePath(kids[0]), tech, nil).wantStatus(t, http.StatusOK).object(t)
	if child["parent"] != blood {
		t.Errorf("child's parent %v", child["parent"])
	}

	for _, tc := range []struct {
		name, code  string
		body        map[string]any
		status      int
		errCode     string
		field       string
		messageHint string
	}{
		{"no aliquots", blood, map[string]any{"count": 0, "volume": 0.5}, 422, "invalid", "count", ""},
		{"more than 200", blood, map[string]any{"count": 201, "volume": 0.01}, 422, "invalid", "count", ""},
		{"zero volume", blood, map[string]any{"count": 2, "volume": 0}, 422, "invalid", "volume", ""},
		{"more than is left", blood, map[string]any{"count": 7, "volume": 1}, 409, "insufficient_volume", "volume", "6"},
		{"unknown type", blood, map[string]any{"count": 1, "volume": 0.5, "specimen_type": "ectoplasm"}, 422, "invalid", "specimen_type", ""},
		{"held parent", held, map[string]any{"count": 1, "volume": 0.5}, 409, "sample_on_hold", "", "haemolysed"},
		{"not yet received", serum, map[string]any{"count": 1, "volume": 0.5}, 409, "wrong_status", "", "collected"},
		{"unknown parent", "FX404", map[string]any{"count": 1, "volume": 0.5}, 404, "not_found", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			e := a.api(t, "POST", samplePath(tc.code, "/aliquots"), tech, tc.body).wantError(t, tc.status, tc.errCode, tc.field)
			if !strings.Contains(e.Message, tc.messageHint) {
				t.Errorf("message %q does not mention %q", e.Message, tc.messageHint)
			}
			a.assertUnchanged(t, before)
		})
	}

	// Taking all that is left empties the parent: it is consumed.
	a.api(t, "POST", samplePath(blood, "/aliquots"), tech, map[string]any{"count": 4, "volume": 1500, "unit": "µL", "specimen_type": "plasma"}).
		wantStatus(t, http.StatusCreated)
	parent = a.api(t, "GET", samplePath(blood), tech, nil).wantStatus(t, http.StatusOK).object(t)
	wantNumber(t, parent, "volume", 0)
	if parent["status"] != "consumed" || len(strs(parent["children"])) != 10 {
		t.Errorf("emptied parent: %v", parent)
	}
}

// workedSerumProcessing is the first worked example of STANDARDS.md §1 for a tube collected
// at t0: clotted 1 h at room temperature, 10 min at 2000 g at room temperature with brake,
// frozen 30 min later at room temperature, in a 0.5 mL polypropylene tube at −80 °C.
func workedSerumProcessing(t0 time.Time) map[string]any {
	return map[string]any{
		"started_at":               t0.Add(time.Hour).Format(time.RFC3339),
		"pre_centrifugation_temp":  "rt",
		"centrifugation":           map[string]any{"temp": "rt", "g": 2000, "minutes": 10, "brake": true},
		"second_centrifugation":    map[string]any{"none": true},
		"centrifugation_ended_at":  t0.Add(70 * time.Minute).Format(time.RFC3339),
		"post_centrifugation_temp": "rt",
		"frozen_at":                t0.Add(100 * time.Minute).Format(time.RFC3339),
		"storage_container":        "pp_0.5-2ml",
		"storage_temperature":      "-80",
	}
}

func TestAPISamples_ProcessingComputesSPREC(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, serumTube, serumTube)
	serum, unreceived := ids[0], ids[1]
	a.mustReceive(t, "technician", serum)
	t0 := a.mustSample(t, serum).CollectedAt

	with := func(over map[string]any) map[string]any {
		m := workedSerumProcessing(t0)
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name, code  string
		body        map[string]any
		status      int
		errCode     string
		field       string
		token       string
		description string
	}{
		{"frozen before collection", serum, with(map[string]any{"started_at": nil, "centrifugation_ended_at": nil,
			"frozen_at": t0.Add(-time.Hour).Format(time.RFC3339)}), 422, "invalid", "frozen_at", tech, ""},
		{"frozen before centrifugation ended", serum, with(map[string]any{"frozen_at": t0.Add(65 * time.Minute).Format(time.RFC3339)}),
			422, "invalid", "frozen_at", tech, ""},
		{"processing before collection", serum, with(map[string]any{"started_at": t0.Add(-time.Minute).Format(time.RFC3339)}),
			422, "invalid", "started_at", tech, ""},
		{"centrifugation ended before it started", serum, with(map[string]any{"centrifugation_ended_at": t0.Add(30 * time.Minute).Format(time.RFC3339)}),
			422, "invalid", "centrifugation_ended_at", tech, ""},
		{"frozen in the future", serum, with(map[string]any{"frozen_at": time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}),
			422, "invalid", "frozen_at", tech, ""},
		{"tube not received", unreceived, workedSerumProcessing(t0), 409, "wrong_status", "", tech, ""},
		{"unknown temperature", serum, with(map[string]any{"pre_centrifugation_temp": "warm"}), 400, "malformed", "", tech, "temperature"},
		{"nurse", serum, workedSerumProcessing(t0), 403, "forbidden", "", a.usedToken(t, "nurse"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			e := a.api(t, "POST", samplePath(tc.code, "/processing"), tc.token, tc.body).wantError(t, tc.status, tc.errCode, tc.field)
			if !strings.Contains(e.Message, tc.description) {
				t.Errorf("message %q does not mention %q", e.Message, tc.description)
			}
			a.assertUnchanged(t, before)
		})
	}

	got := a.api(t, "POST", samplePath(serum, "/processing"), tech, workedSerumProcessing(t0)).wantStatus(t, http.StatusOK).object(t)
	if got["sprec"] != "SER-SST-A-B-N-B-A" || got["sprec_version"] == "" {
		t.Errorf("sprec %v (version %v), want SER-SST-A-B-N-B-A", got["sprec"], got["sprec_version"])
	}
	a.wantEvent(t, "sample", serum, "sample.process", "technician")

	// Facts left out are X, never a guess.
	got = a.api(t, "POST", samplePath(serum, "/processing"), tech, map[string]any{"pre_centrifugation_temp": "rt",
		"reason": "the recorded times were another tube's"}).
		wantStatus(t, http.StatusOK).object(t)
	if got["sprec"] != "SER-SST-X-X-X-X-X" {
		t.Errorf("sprec %v with only a temperature known, want SER-SST-X-X-X-X-X", got["sprec"])
	}
}

func TestAPISamples_DestroyHoldAndRelease(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	manager := a.usedToken(t, "manager")
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube, serumTube)
	blood, serum := ids[0], ids[1]
	a.mustReceive(t, "technician", blood)

	refuse := func(t *testing.T, token, path string, body any, status int, code, field string) apiErr {
		t.Helper()
		before := a.state(t)
		e := a.api(t, "POST", path, token, body).wantError(t, status, code, field)
		a.assertUnchanged(t, before)
		return e
	}

	// Holds are the manager's.
	refuse(t, tech, samplePath(blood, "/hold"), map[string]any{"reason": "haemolysed"}, 403, "forbidden", "")
	refuse(t, a.usedToken(t, "nurse"), samplePath(blood, "/hold"), map[string]any{"reason": "haemolysed"}, 403, "forbidden", "")
	refuse(t, manager, samplePath(blood, "/hold"), map[string]any{"reason": " "}, 422, "reason_required", "reason")
	refuse(t, manager, samplePath(blood, "/release"), map[string]any{"reason": "fine"}, 409, "not_on_hold", "")
	got := a.api(t, "POST", samplePath(blood, "/hold"), manager, map[string]any{"reason": "haemolysed"}).wantStatus(t, http.StatusOK).object(t)
	if got["hold"] != true || !strings.Contains(got["hold_reason"].(string), "haemolysed") || got["status"] != "received" {
		t.Errorf("held: %v", got)
	}
	if ev := a.wantEvent(t, "sample", blood, "sample.quarantine", "manager"); ev.Reason != "haemolysed" {
		t.Errorf("hold audited with reason %q", ev.Reason)
	}
	refuse(t, manager, samplePath(blood, "/hold"), map[string]any{"reason": "again"}, 409, "already_on_hold", "")
	e := refuse(t, tech, samplePath(blood, "/aliquots"), map[string]any{"count": 1, "volume": 1}, 409, "sample_on_hold", "")
	if !strings.Contains(e.Message, "haemolysed") {
		t.Errorf("hold refusal %q does not say why", e.Message)
	}
	refuse(t, tech, samplePath(blood, "/release"), map[string]any{"reason": "fine"}, 403, "forbidden", "")
	got = a.api(t, "POST", samplePath(blood, "/release"), manager, map[string]any{"reason": "re-tested, fine"}).wantStatus(t, http.StatusOK).object(t)
	if got["hold"] != false {
		t.Errorf("released: %v", got)
	}
	a.wantEvent(t, "sample", blood, "sample.release", "manager")

	// Destroying takes a reason, and happens once.
	refuse(t, tech, samplePath(serum, "/destroy"), map[string]any{"reason": ""}, 422, "reason_required", "reason")
	refuse(t, tech, samplePath(serum, "/destroy"), map[string]any{}, 422, "reason_required", "reason")
	refuse(t, a.usedToken(t, "nurse"), samplePath(serum, "/destroy"), map[string]any{"reason": "dropped"}, 403, "forbidden", "")
	refuse(t, a.usedToken(t, "technician-kiel"), samplePath(serum, "/destroy"), map[string]any{"reason": "dropped"}, 403, "forbidden", "")
	got = a.api(t, "POST", samplePath(serum, "/destroy"), tech, map[string]any{"reason": "tube cracked in the centrifuge"}).
		wantStatus(t, http.StatusOK).object(t)
	if got["id"] != serum || got["status"] != "destroyed" {
		t.Errorf("destroyed: %v", got)
	}
	if ev := a.wantEvent(t, "sample", serum, "sample.destroy", "technician"); ev.Reason != "tube cracked in the centrifuge" {
		t.Errorf("destruction audited with reason %q", ev.Reason)
	}
	e = refuse(t, tech, samplePath(serum, "/destroy"), map[string]any{"reason": "again"}, 409, "wrong_status", "")
	if !strings.Contains(e.Message, "destroyed") {
		t.Errorf("refusal %q does not say the status", e.Message)
	}
	refuse(t, manager, samplePath(serum, "/hold"), map[string]any{"reason": "late"}, 409, "wrong_status", "")
	refuse(t, tech, samplePath(serum, "/receive"), map[string]any{}, 409, "wrong_status", "")

	// Consumed and lost end a life the same way.
	got = a.api(t, "POST", samplePath(blood, "/lost"), tech, map[string]any{"reason": "not found in the rack"}).wantStatus(t, http.StatusOK).object(t)
	if got["status"] != "lost" {
		t.Errorf("lost: %v", got)
	}
	refuse(t, tech, samplePath(blood, "/consume"), map[string]any{"reason": "used"}, 409, "wrong_status", "")
}

func TestAPISamples_CustodyIncludesAncestors(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	blood := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", blood)
	kids := a.mustAliquot(t, "technician", blood, 2, "0.5", "plasma")
	token := a.usedToken(t, "nurse")

	type event struct {
		At     time.Time      `json:"at"`
		Actor  string         `json:"actor"`
		Site   string         `json:"site"`
		Action string         `json:"action"`
		Reason string         `json:"reason"`
		Data   map[string]any `json:"data"`
		Sample string         `json:"sample"`
	}
	var got struct {
		Events []event `json:"events"`
	}
	r := a.api(t, "GET", samplePath(kids[1], "/custody"), token, nil).wantStatus(t, http.StatusOK)
	r.decode(t, &got)
	var actions []string
	for i, e := range got.Events {
		actions = append(actions, e.Action+" "+e.Sample+" by "+e.Actor)
		if e.Site != "LUX" || e.At.IsZero() || e.Data == nil {
			t.Errorf("event %d: %+v", i, e)
		}
		if i > 0 && e.At.Before(got.Events[i-1].At) {
			t.Errorf("event %d at %s is older than the one before it", i, e.At)
		}
	}
	want := []string{"sample.collect " + blood + " by nurse", "sample.receive " + blood + " by technician",
		"sample.aliquot " + blood + " by technician", "sample.create_aliquot " + kids[1] + " by technician"}
	if !slices.Equal(actions, want) {
		t.Errorf("custody of %s:\n%s\nwant\n%s", kids[1], strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
	// Every key of the contract is there.
	var raw struct {
		Events []map[string]any `json:"events"`
	}
	r.decode(t, &raw)
	for _, k := range []string{"at", "actor", "site", "action", "reason", "data"} {
		if _, ok := raw.Events[0][k]; !ok {
			t.Errorf("custody event has no %q: %v", k, raw.Events[0])
		}
	}
	// The parent's custody does not include its children's creation.
	var parent struct {
		Events []event `json:"events"`
	}
	a.api(t, "GET", samplePath(blood, "/custody"), token, nil).wantStatus(t, http.StatusOK).decode(t, &parent)
	if len(parent.Events) != 3 {
		t.Errorf("parent's custody has %d events, want 3", len(parent.Events))
	}
	a.api(t, "GET", samplePath(blood, "/custody"), a.usedToken(t, "nurse-kiel"), nil).wantError(t, http.StatusForbidden, "forbidden", "")
	a.api(t, "GET", samplePath("FX404", "/custody"), token, nil).wantError(t, http.StatusNotFound, "not_found", "")
}

func TestAPISamples_ListFiltersAndPages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	p1, _ := a.mustReadyParticipant(t, "nurse")
	p2, _ := a.mustReadyParticipant(t, "nurse")
	ids1 := a.mustCollect(t, "nurse", p1, bloodTube, serumTube)
	ids2 := a.mustCollect(t, "nurse", p2, bloodTube, serumTube)
	a.mustReceive(t, "technician", ids1[0])
	kids := a.mustAliquot(t, "technician", ids1[0], 2, "0.5", "plasma")
	if _, err := a.sampleService().Quarantine(t.Context(), a.actorOf(t, "manager"), ids2[1], "haemolysed"); err != nil {
		t.Fatal(err)
	}
	kiel, _ := a.mustReadyParticipant(t, "nurse-kiel")
	kielIDs := a.mustCollect(t, "nurse-kiel", kiel, serumTube)
	token := a.usedToken(t, "technician")

	type list struct {
		Samples    []map[string]any `json:"samples"`
		NextCursor any              `json:"next_cursor"`
	}
	ids := func(l list) []string {
		var out []string
		for _, s := range l.Samples {
			out = append(out, s["id"].(string))
		}
		return out
	}
	get := func(token, query string) list {
		t.Helper()
		var l list
		a.api(t, "GET", "/api/v1/samples?"+query, token, nil).wantStatus(t, http.StatusOK).decode(t, &l)
		return l
	}

	// Newest first; a technician sees the own site's samples only.
	all := get(token, "")
	if want := []string{kids[1], kids[0], ids2[1], ids2[0], ids1[1], ids1[0]}; !slices.Equal(ids(all), want) {
		t.Errorf("list %v, want %v", ids(all), want)
	}
	if all.NextCursor != nil {
		t.Errorf("next_cursor %v on the only page", all.NextCursor)
	}
	first := all.Samples[0]
	if first["parent"] != ids1[0] || first["participant"] != p1 || first["study"] != "IBD" || first["visit"] != "BASELINE" ||
		first["site"] != "LUX" || first["status"] != "received" {
		t.Errorf("row %v", first)
	}
	wantNumber(t, first, "volume", 0.5)

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"specimen_type=serum", []string{ids2[1], ids1[1]}},
		{"specimen_type=plasma", []string{kids[1], kids[0]}},
		{"status=received", []string{kids[1], kids[0], ids1[0]}},
		{"status=collected&specimen_type=whole_blood", []string{ids2[0]}},
		{"hold=yes", []string{ids2[1]}},
		{"hold=no&specimen_type=serum", []string{ids1[1]}},
		{"participant=" + strings.ToLower(p2), []string{ids2[1], ids2[0]}},
		{"study=ibd&visit=baseline&participant=" + p1, []string{kids[1], kids[0], ids1[1], ids1[0]}},
		{"from=" + today(-1) + "&to=" + today(0) + "&specimen_type=serum", []string{ids2[1], ids1[1]}},
		{"from=" + today(1), nil},
		{"to=" + today(-3), nil},
		{"study=RA", nil},
	} {
		if got := ids(get(token, tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("?%s: %v, want %v", tc.query, got, tc.want)
		}
	}

	// Keyset pages of two: the cursor leads on until the end.
	var paged []string
	query := "limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		l := get(token, query)
		if len(l.Samples) > 2 {
			t.Fatalf("page of %d", len(l.Samples))
		}
		paged = append(paged, ids(l)...)
		if l.NextCursor == nil {
			break
		}
		n, ok := l.NextCursor.(float64)
		if !ok {
			t.Fatalf("next_cursor %#v is not a number", l.NextCursor)
		}
		query = "limit=2&cursor=" + strconv.FormatInt(int64(n), 10)
	}
	if !slices.Equal(paged, ids(all)) {
		t.Errorf("paged %v, want %v", paged, ids(all))
	}

	// A manager sees every site, and may narrow to one.
	manager := a.usedToken(t, "manager")
	if got := ids(get(manager, "site=kiel")); !slices.Equal(got, kielIDs) {
		t.Errorf("manager's KIEL list %v, want %v", got, kielIDs)
	}
	if got := len(get(manager, "").Samples); got != 7 {
		t.Errorf("manager sees %d samples, want 7", got)
	}
	if got := ids(get(a.usedToken(t, "nurse-kiel"), "")); !slices.Equal(got, kielIDs) {
		t.Errorf("KIEL nurse sees %v, want %v", got, kielIDs)
	}

	a.api(t, "GET", "/api/v1/samples?status=gone", token, nil).wantError(t, http.StatusUnprocessableEntity, "invalid", "status")
	a.api(t, "GET", "/api/v1/samples?hold=maybe", token, nil).wantError(t, http.StatusUnprocessableEntity, "invalid", "hold")
	a.api(t, "GET", "/api/v1/samples?from=yesterday", token, nil).wantError(t, http.StatusUnprocessableEntity, "", "from")
}

func TestAPISamples_ConsentWithdrawalHoldsAndDecisions(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	nurse := a.usedToken(t, "nurse")
	manager := a.usedToken(t, "manager")
	tech := a.usedToken(t, "technician")

	// One participant withdraws the genetic tier only: storage remains, so material may be kept.
	partial, partialConsent := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", partial, bloodTube, serumTube)
	blood, serum := ids[0], ids[1]
	a.mustReceive(t, "technician", blood)
	kids := a.mustAliquot(t, "technician", blood, 2, "0.5", "plasma")
	other, _ := a.mustReadyParticipant(t, "nurse")
	untouched := a.mustCollect(t, "nurse", other, serumTube)[0]

	var w struct {
		Held []string `json:"held_samples"`
	}
	a.api(t, "POST", "/api/v1/participants/"+partial+"/consents/"+strconv.FormatInt(partialConsent, 10)+"/withdraw", nurse,
		map[string]any{"reason": "participant's letter", "tiers": []string{"genetic"}}).wantStatus(t, http.StatusOK).decode(t, &w)
	held := append([]string{}, w.Held...)
	slices.Sort(held)
	want := []string{blood, serum, kids[0], kids[1]}
	slices.Sort(want)
	if !slices.Equal(held, want) {
		t.Fatalf("held_samples %v, want the tubes and their aliquots %v", w.Held, want)
	}
	for _, id := range want {
		got := a.api(t, "GET", samplePath(id), tech, nil).wantStatus(t, http.StatusOK).object(t)
		if got["hold"] != true || !strings.Contains(got["hold_reason"].(string), "consent") {
			t.Errorf("%s after the withdrawal: hold %v (%v)", id, got["hold"], got["hold_reason"])
		}
	}
	a.wantEvent(t, "sample", kids[0], "sample.consent_hold", "nurse")
	if got := a.api(t, "GET", samplePath(untouched), tech, nil).object(t); got["hold"] != false {
		t.Errorf("another participant's sample was held: %v", got)
	}

	refuse := func(t *testing.T, token, path string, body any, status int, code, field string) {
		t.Helper()
		before := a.state(t)
		a.api(t, "POST", path, token, body).wantError(t, status, code, field)
		a.assertUnchanged(t, before)
	}
	decide := func(d string) map[string]any {
		return map[string]any{"decision": d, "reason": "steering committee, 2026-03"}
	}
	refuse(t, nurse, samplePath(serum, "/decision"), decide("destroy"), 403, "forbidden", "")
	refuse(t, tech, samplePath(serum, "/decision"), decide("destroy"), 403, "forbidden", "")
	refuse(t, manager, samplePath(serum, "/decision"), map[string]any{"decision": "destroy", "reason": ""}, 422, "reason_required", "reason")
	refuse(t, manager, samplePath(serum, "/decision"), decide("shrug"), 422, "invalid", "decision")
	refuse(t, manager, samplePath(untouched, "/decision"), decide("keep"), 409, "no_consent_hold", "")
	// The consent hold is lifted only by a decision.
	refuse(t, manager, samplePath(serum, "/release"), map[string]any{"reason": "fine"}, 409, "consent_hold", "")
	refuse(t, tech, samplePath(serum, "/destroy"), map[string]any{"reason": "withdrawn"}, 409, "consent_hold", "")
	refuse(t, tech, samplePath(blood, "/aliquots"), map[string]any{"count": 1, "volume": 0.5}, 409, "sample_on_hold", "")

	got := a.api(t, "POST", samplePath(serum, "/decision"), manager, decide("destroy")).wantStatus(t, http.StatusOK).object(t)
	if got["status"] != "destroyed" {
		t.Errorf("after destroy: %v", got)
	}
	got = a.api(t, "POST", samplePath(kids[0], "/decision"), manager, decide("keep")).wantStatus(t, http.StatusOK).object(t)
	if got["status"] != "received" || got["hold"] != false {
		t.Errorf("after keep: %v", got)
	}
	if n := a.count(t, "consent_decisions"); n != 2 {
		t.Errorf("%d consent decisions recorded, want 2", n)
	}
	if ev := a.wantEvent(t, "sample", kids[0], "sample.consent_decision", "manager"); ev.Reason != "steering committee, 2026-03" {
		t.Errorf("decision audited with reason %q", ev.Reason)
	}
	refuse(t, manager, samplePath(kids[0], "/decision"), decide("destroy"), 409, "no_consent_hold", "")

	// A full withdrawal leaves nothing that allows keeping.
	full, fullConsent := a.mustReadyParticipant(t, "nurse")
	fullTube := a.mustCollect(t, "nurse", full, serumTube)[0]
	a.api(t, "POST", "/api/v1/participants/"+full+"/consents/"+strconv.FormatInt(fullConsent, 10)+"/withdraw", nurse,
		map[string]any{"reason": "withdrawn in full"}).wantStatus(t, http.StatusOK).decode(t, &w)
	if !slices.Equal(w.Held, []string{fullTube}) {
		t.Errorf("held_samples %v, want [%s]", w.Held, fullTube)
	}
	refuse(t, manager, samplePath(fullTube, "/decision"), decide("keep"), 409, "consent_forbids_keeping", "decision")
	a.api(t, "POST", samplePath(fullTube, "/decision"), manager, decide("destroy")).wantStatus(t, http.StatusOK)

	// Withdrawing re-contact only touches no material.
	rc, rcConsent := a.mustReadyParticipant(t, "nurse")
	a.mustCollect(t, "nurse", rc, serumTube)
	a.api(t, "POST", "/api/v1/participants/"+rc+"/consents/"+strconv.FormatInt(rcConsent, 10)+"/withdraw", nurse,
		map[string]any{"reason": "no more calls", "tiers": []string{"recontact"}}).wantStatus(t, http.StatusOK).decode(t, &w)
	if len(w.Held) != 0 {
		t.Errorf("re-contact withdrawal held %v", w.Held)
	}
}

// TestRoleMatrix_SampleAPI checks the sample API routes with a token of every role. A
// role allowed a state-changing route is sent a request the service refuses as invalid
// (422), so that the matrix shows who gets past the door without changing anything.
func TestRoleMatrix_SampleAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	ids := a.mustCollect(t, "nurse", pseudonym, bloodTube)
	blood := ids[0]
	a.mustReceive(t, "technician", blood)

	all := auth.Roles
	lab := []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleTechnician}
	managers := []auth.Role{auth.RoleAdmin, auth.RoleManager}
	noReason := map[string]any{"reason": ""}
	routes := []struct {
		method, path string
		body         any
		ok           int
		roles        []auth.Role
	}{
		{"GET", "/api/v1/samples", nil, 200, all},
		{"GET", samplePath(blood), nil, 200, all},
		{"GET", samplePath(blood, "/custody"), nil, 200, all},
		{"POST", "/api/v1/samples", map[string]any{"participant": pseudonym, "study": "IBD", "visit": "BASELINE",
			"specimen_type": "serum", "container": "SST", "volume": 0}, 422, all},
		{"POST", samplePath(blood, "/receive"), map[string]any{}, 200, lab}, // a repeat scan: changes nothing
		{"POST", samplePath(blood, "/aliquots"), map[string]any{"count": 0, "volume": 0.5}, 422, lab},
		{"POST", samplePath(blood, "/processing"), map[string]any{"frozen_at": "2000-01-01T00:00:00Z"}, 422, lab},
		{"POST", samplePath(blood, "/destroy"), noReason, 422, lab},
		{"POST", samplePath(blood, "/consume"), noReason, 422, lab},
		{"POST", samplePath(blood, "/lost"), noReason, 422, lab},
		{"POST", samplePath(blood, "/hold"), noReason, 422, managers},
		{"POST", samplePath(blood, "/release"), noReason, 422, managers},
		{"POST", samplePath(blood, "/decision"), map[string]any{"decision": "keep", "reason": ""}, 422, managers},
	}
	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			token := a.usedToken(t, string(role))
			for _, rt := range routes {
				before := a.state(t)
				r := a.api(t, rt.method, rt.path, token, rt.body)
				if !slices.Contains(rt.roles, role) {
					r.wantError(t, http.StatusForbidden, "forbidden", "")
				} else if r.Status != rt.ok {
					t.Errorf("%s %s as %s: status %d, want %d: %s", rt.method, rt.path, role, r.Status, rt.ok, r.Body)
				}
				if rt.method == "POST" {
					a.assertUnchanged(t, before)
				}
			}
		})
	}
}
