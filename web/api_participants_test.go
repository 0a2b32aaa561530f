package web_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"biobank/internal/checkcode"
	"biobank/web"
)

// object decodes a JSON object response.
func (r *apiResp) object(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	r.decode(tb, &m)
	return m
}

// strs returns a JSON array of strings as a Go slice (nil when v is not an array).
func strs(v any) []string {
	arr, ok := v.([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestAPIStudies_SetUp(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedStaff(t)
	admin := a.usedToken(t, "admin")
	nurse := a.usedToken(t, "nurse")

	st := a.api(t, "POST", "/api/v1/studies", admin, map[string]any{"code": " cd ", "name": "Crohn's disease"}).
		wantStatus(t, http.StatusCreated).object(t)
	if st["code"] != "CD" || st["name"] != "Crohn's disease" || st["active"] != true {
		t.Errorf("created study %v", st)
	}
	a.wantEvent(t, "study", "CD", "study.create", "admin")

	visit := map[string]any{"code": "baseline", "name": "Baseline", "day_offset": 0, "window_after": 7,
		"requirements": []map[string]any{
			{"specimen_type": "whole_blood", "container": "PED", "volume": 9, "unit": "mL"},
			{"specimen_type": "plasma", "container": "PED", "volume": 500, "unit": "µL", "aliquots": 2, "aliquot_volume": 250},
		}}
	r := a.api(t, "POST", "/api/v1/studies/cd/visits", admin, visit).wantStatus(t, http.StatusCreated)
	vd := r.object(t)
	reqs, _ := vd["requirements"].([]any)
	if vd["code"] != "BASELINE" || len(reqs) != 2 {
		t.Fatalf("created visit %s", r.Body)
	}
	// Volumes are JSON numbers; µL is stored as mL.
	for i, want := range []struct {
		volume float64
		unit   string
		alq    any
	}{{9, "mL", nil}, {0.5, "mL", 0.25}} {
		req := reqs[i].(map[string]any)
		if v, ok := req["volume"].(float64); !ok || v != want.volume || req["unit"] != want.unit || req["aliquot_volume"] != want.alq {
			t.Errorf("requirement %d: volume %#v %v, aliquot volume %#v; want the numbers %v %s, %v",
				i, req["volume"], req["unit"], req["aliquot_volume"], want.volume, want.unit, want.alq)
		}
	}
	a.wantEvent(t, "study", "CD", "study.add_visit", "admin")

	doc := a.api(t, "POST", "/api/v1/studies/CD/consent-documents", admin,
		map[string]any{"version": "1.0", "tiers": []string{"sharing", "storage"}}).wantStatus(t, http.StatusCreated).object(t)
	if doc["version"] != "1.0" || !slices.Equal(strs(doc["tiers"]), []string{"storage", "sharing"}) || doc["retired_at"] != nil {
		t.Errorf("created consent document %v", doc)
	}
	a.api(t, "POST", "/api/v1/studies/CD/consent-documents", admin,
		map[string]any{"version": "2.0", "tiers": []string{"storage"}}).wantStatus(t, http.StatusCreated)

	// Refusals change nothing.
	req := func(over map[string]any) map[string]any {
		m := map[string]any{"specimen_type": "serum", "container": "SST", "volume": 5, "unit": "mL"}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	visitWith := func(code string, reqs ...map[string]any) map[string]any {
		return map[string]any{"code": code, "name": "Visit " + code, "day_offset": 90, "requirements": reqs}
	}
	for _, tc := range []struct {
		name, token, path string
		body              any
		status            int
		code, field       string
	}{
		{"nurse creates a study", nurse, "/api/v1/studies", map[string]any{"code": "MS", "name": "Multiple sclerosis"}, 403, "forbidden", ""},
		{"duplicate study", admin, "/api/v1/studies", map[string]any{"code": "cd", "name": "Again"}, 409, "duplicate_study", "code"},
		{"bad study code", admin, "/api/v1/studies", map[string]any{"code": "C D!", "name": "Bad"}, 422, "invalid", "code"},
		{"study without a name", admin, "/api/v1/studies", map[string]any{"code": "MS", "name": " "}, 422, "invalid", "name"},
		{"bad pseudonym pattern", admin, "/api/v1/studies", map[string]any{"code": "MS", "name": "MS", "pseudonym_pattern": "TTP-[0-9"}, 422, "invalid", "pseudonym_pattern"},
		{"nurse adds a visit", nurse, "/api/v1/studies/CD/visits", visitWith("M3", req(nil)), 403, "forbidden", ""},
		{"unknown specimen type", admin, "/api/v1/studies/CD/visits", visitWith("M3", req(map[string]any{"specimen_type": "blood"})), 422, "invalid", "requirements[0].specimen_type"},
		{"unknown specimen type in the second row", admin, "/api/v1/studies/CD/visits",
			visitWith("M3", req(nil), req(map[string]any{"specimen_type": "ectoplasm"})), 422, "invalid", "requirements[1].specimen_type"},
		{"unknown container", admin, "/api/v1/studies/CD/visits", visitWith("M3", req(map[string]any{"container": "JAR"})), 422, "invalid", "requirements[0].container"},
		{"zero volume", admin, "/api/v1/studies/CD/visits", visitWith("M3", req(map[string]any{"volume": 0})), 422, "invalid", "requirements[0].volume"},
		{"unknown unit", admin, "/api/v1/studies/CD/visits", visitWith("M3", req(map[string]any{"unit": "gallon"})), 422, "invalid", "requirements[0].volume"},
		{"aliquots without their volume", admin, "/api/v1/studies/CD/visits", visitWith("M3", req(map[string]any{"aliquots": 3})), 422, "invalid", "requirements[0].aliquot_volume"},
		{"volume as a word", admin, "/api/v1/studies/CD/visits", visitWith("M3", req(map[string]any{"volume": "lots"})), 400, "malformed", ""},
		{"negative day offset", admin, "/api/v1/studies/CD/visits", map[string]any{"code": "M3", "name": "M3", "day_offset": -1}, 422, "invalid", "day_offset"},
		{"bad visit code", admin, "/api/v1/studies/CD/visits", map[string]any{"code": "month 3", "name": "M3", "day_offset": 90}, 422, "invalid", "code"},
		{"duplicate visit", admin, "/api/v1/studies/CD/visits", visitWith("baseline"), 409, "duplicate_visit", "code"},
		{"visit of an unknown study", admin, "/api/v1/studies/NOPE/visits", visitWith("M3", req(nil)), 404, "not_found", ""},
		{"unknown tier", admin, "/api/v1/studies/CD/consent-documents", map[string]any{"version": "3.0", "tiers": []string{"storage", "cloning"}}, 422, "invalid", "tiers"},
		{"no tiers", admin, "/api/v1/studies/CD/consent-documents", map[string]any{"version": "3.0", "tiers": []string{}}, 422, "invalid", "tiers"},
		{"bad version", admin, "/api/v1/studies/CD/consent-documents", map[string]any{"version": "v 3", "tiers": []string{"storage"}}, 422, "invalid", "version"},
		{"duplicate version", admin, "/api/v1/studies/CD/consent-documents", map[string]any{"version": "1.0", "tiers": []string{"storage"}}, 409, "duplicate_version", "version"},
		{"document of an unknown study", admin, "/api/v1/studies/NOPE/consent-documents", map[string]any{"version": "1.0", "tiers": []string{"storage"}}, 404, "not_found", ""},
		{"nurse retires a version", nurse, "/api/v1/studies/CD/consent-documents/1.0/retire", map[string]any{"reason": "old"}, 403, "forbidden", ""},
		{"retire without a reason", admin, "/api/v1/studies/CD/consent-documents/1.0/retire", map[string]any{"reason": " "}, 422, "reason_required", "reason"},
		{"retire an unknown version", admin, "/api/v1/studies/CD/consent-documents/9.9/retire", map[string]any{"reason": "old"}, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			a.api(t, "POST", tc.path, tc.token, tc.body).wantError(t, tc.status, tc.code, tc.field)
			a.assertUnchanged(t, before)
		})
	}

	// Retiring a version: consents can no longer be recorded on it.
	retired := a.api(t, "POST", "/api/v1/studies/CD/consent-documents/1.0/retire", admin, map[string]any{"reason": "superseded by 2.0"}).
		wantStatus(t, http.StatusOK).object(t)
	if retired["version"] != "1.0" || retired["retired_at"] == nil {
		t.Errorf("retired document %v", retired)
	}
	if ev := a.wantEvent(t, "study", "CD", "study.retire_consent_document", "admin"); ev.Reason != "superseded by 2.0" {
		t.Errorf("retirement audited with reason %q", ev.Reason)
	}
	before := a.state(t)
	a.api(t, "POST", "/api/v1/studies/CD/consent-documents/1.0/retire", admin, map[string]any{"reason": "again"}).
		wantError(t, http.StatusConflict, "already_retired", "version")
	a.assertUnchanged(t, before)

	p := a.api(t, "POST", "/api/v1/participants", nurse, map[string]any{"study": "CD"}).wantStatus(t, http.StatusCreated).object(t)
	pseudonym := p["pseudonym"].(string)
	before = a.state(t)
	a.api(t, "POST", "/api/v1/participants/"+pseudonym+"/consents", nurse,
		map[string]any{"study": "CD", "version": "1.0", "signed_on": today(0), "tiers": []string{"storage"}}).
		wantError(t, http.StatusUnprocessableEntity, "retired_version", "version")
	a.assertUnchanged(t, before)
	a.api(t, "POST", "/api/v1/participants/"+pseudonym+"/consents", nurse,
		map[string]any{"study": "CD", "version": "2.0", "signed_on": today(0), "tiers": []string{"storage"}}).
		wantStatus(t, http.StatusCreated)

	// Everyone signed in reads the set-up.
	var one struct {
		Code      string `json:"code"`
		Visits    []any  `json:"visits"`
		Documents []struct {
			Version   string  `json:"version"`
			RetiredAt *string `json:"retired_at"`
		} `json:"consent_documents"`
	}
	a.api(t, "GET", "/api/v1/studies/cd", nurse, nil).wantStatus(t, http.StatusOK).decode(t, &one)
	if one.Code != "CD" || len(one.Visits) != 1 || len(one.Documents) != 2 || one.Documents[0].RetiredAt == nil || one.Documents[1].RetiredAt != nil {
		t.Errorf("GET /api/v1/studies/cd = %+v", one)
	}
	a.api(t, "GET", "/api/v1/studies/NOPE", nurse, nil).wantError(t, http.StatusNotFound, "not_found", "")
	var list struct{ Studies []map[string]any }
	a.api(t, "GET", "/api/v1/studies", nurse, nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Studies) != 1 || list.Studies[0]["code"] != "CD" {
		t.Errorf("GET /api/v1/studies = %+v", list)
	}
}

func TestAPIParticipants_Enrol(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	nurse := a.usedToken(t, "nurse")
	manager := a.usedToken(t, "manager")
	tech := a.usedToken(t, "technician")

	// Without a pseudonym one is generated.
	r := a.api(t, "POST", "/api/v1/participants", nurse, map[string]any{"study": "ibd"}).wantStatus(t, http.StatusCreated)
	var got struct {
		Pseudonym string `json:"pseudonym"`
		Site      string `json:"site"`
		Studies   []struct {
			Study      string `json:"study"`
			EnrolledOn string `json:"enrolled_on"`
		} `json:"studies"`
	}
	r.decode(t, &got)
	if len(got.Pseudonym) != 8 || !checkcode.ValidPID(got.Pseudonym) {
		t.Errorf("generated pseudonym %q is not 8 symbols with valid check symbols", got.Pseudonym)
	}
	if got.Site != "LUX" || len(got.Studies) != 1 || got.Studies[0].Study != "IBD" || got.Studies[0].EnrolledOn != today(0) {
		t.Errorf("enrolment %s", r.Body)
	}
	for _, key := range []string{"pseudonym", "studies", "site"} {
		if _, ok := r.object(t)[key]; !ok {
			t.Errorf("the response lacks %q: %s", key, r.Body)
		}
	}
	ev := a.wantEvent(t, "participant", got.Pseudonym, "participant.enrol", "nurse")
	if ev.Site != "LUX" {
		t.Errorf("enrolment audited at site %q", ev.Site)
	}
	// Two generated pseudonyms differ.
	var second struct{ Pseudonym string }
	a.api(t, "POST", "/api/v1/participants", nurse, map[string]any{"study": "IBD"}).wantStatus(t, http.StatusCreated).decode(t, &second)
	if second.Pseudonym == got.Pseudonym {
		t.Errorf("the same pseudonym %s was generated twice", got.Pseudonym)
	}

	// A pseudonym from the trusted third party, typed in lower case with spaces and a
	// look-alike letter, is stored in its written form.
	given := mustPseudonym(t, "K05X18")
	typed := " " + strings.ToLower(strings.Replace(given, "0", "o", 1)) + " "
	var ext struct {
		Pseudonym string  `json:"pseudonym"`
		Sex       *string `json:"sex"`
		BirthYear *int    `json:"birth_year"`
	}
	a.api(t, "POST", "/api/v1/participants", nurse, map[string]any{"study": "IBD", "pseudonym": typed, "sex": "female", "birth_year": 1970}).
		wantStatus(t, http.StatusCreated).decode(t, &ext)
	if ext.Pseudonym != given || ext.Sex == nil || *ext.Sex != "female" || ext.BirthYear == nil || *ext.BirthYear != 1970 {
		t.Errorf("enrolled %+v, want %s, female, 1970", ext, given)
	}

	// A manager may enrol at another site.
	var kiel struct{ Site string }
	a.api(t, "POST", "/api/v1/participants", manager, map[string]any{"study": "RA", "site": "kiel"}).
		wantStatus(t, http.StatusCreated).decode(t, &kiel)
	if kiel.Site != "KIEL" {
		t.Errorf("manager enrolled at %q, want KIEL", kiel.Site)
	}

	wrong := mistyped(t, mustPseudonym(t, "M7P3QR"))
	for _, tc := range []struct {
		name, token string
		body        any
		status      int
		code, field string
		message     string
	}{
		{"duplicate pseudonym", nurse, map[string]any{"study": "RA", "pseudonym": given}, 409, "duplicate_pseudonym", "pseudonym", given},
		{"malformed pseudonym", nurse, map[string]any{"study": "IBD", "pseudonym": "ABC"}, 422, "malformed_pseudonym", "pseudonym", ""},
		{"pseudonym with a character outside the alphabet", nurse, map[string]any{"study": "IBD", "pseudonym": "K3X7Q2M!"}, 422, "malformed_pseudonym", "pseudonym", ""},
		{"wrong check character", nurse, map[string]any{"study": "IBD", "pseudonym": wrong}, 422, "wrong_check", "pseudonym", mustPseudonym(t, "M7P3QR")},
		{"unknown study", nurse, map[string]any{"study": "NOPE"}, 422, "invalid", "study", ""},
		{"no study", nurse, map[string]any{}, 422, "invalid", "study", ""},
		{"unknown sex", nurse, map[string]any{"study": "IBD", "sex": "x"}, 422, "invalid", "sex", ""},
		{"birth year in the future", nurse, map[string]any{"study": "IBD", "birth_year": 3000}, 422, "invalid", "birth_year", ""},
		{"enrolment date in the future", nurse, map[string]any{"study": "IBD", "enrolled_on": today(5)}, 422, "invalid", "enrolled_on", ""},
		{"a name is no field", nurse, map[string]any{"study": "IBD", "name": "Jane Doe"}, 400, "malformed", "name", ""},
		{"a birth date is no field", nurse, map[string]any{"study": "IBD", "birth_date": "1970-01-01"}, 400, "malformed", "birth_date", ""},
		{"nurse enrols at another site", nurse, map[string]any{"study": "IBD", "site": "KIEL"}, 403, "forbidden", "", ""},
		{"technician enrols", tech, map[string]any{"study": "IBD"}, 403, "forbidden", "", ""},
		{"no token", "", map[string]any{"study": "IBD"}, 401, "unauthenticated", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			e := a.api(t, "POST", "/api/v1/participants", tc.token, tc.body).wantError(t, tc.status, tc.code, tc.field)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not mention %q", e.Message, tc.message)
			}
			a.assertUnchanged(t, before)
		})
	}
}

func TestAPIParticipants_Get(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	nurse := a.usedToken(t, "nurse")
	pseudonym := a.mustEnrol(t, "nurse", "IBD", mustPseudonym(t, "K05X18"), -3)
	kielOnly := a.mustEnrol(t, "nurse-kiel", "IBD", "", 0)

	// A participant without consents or samples still has both lists.
	r := a.api(t, "GET", "/api/v1/participants/"+pseudonym, nurse, nil).wantStatus(t, http.StatusOK)
	body := r.object(t)
	for _, key := range []string{"consents", "samples"} {
		if list, ok := body[key].([]any); !ok || len(list) != 0 {
			t.Errorf("%q is %#v, want an empty list: %s", key, body[key], r.Body)
		}
	}

	id := a.mustConsent(t, "nurse", pseudonym, "IBD", "1.0", "storage", "genetic")
	a.mustWithdraw(t, "nurse", pseudonym, id, "genetic")
	for _, who := range []string{"nurse", "technician", "manager", "admin"} {
		for _, as := range []string{pseudonym, strings.ToLower(strings.Replace(pseudonym, "0", "O", 1))} {
			var p struct {
				Pseudonym string `json:"pseudonym"`
				Site      string `json:"site"`
				Studies   []struct{ Study string }
				Consents  []struct {
					ID             int64    `json:"id"`
					Study          string   `json:"study"`
					Version        string   `json:"version"`
					Tiers          []string `json:"tiers"`
					EffectiveTiers []string `json:"effective_tiers"`
					Status         string   `json:"status"`
					Withdrawals    []struct{ Reason string }
				} `json:"consents"`
				Samples []any `json:"samples"`
			}
			a.api(t, "GET", "/api/v1/participants/"+as, a.usedToken(t, who), nil).wantStatus(t, http.StatusOK).decode(t, &p)
			if p.Pseudonym != pseudonym || p.Site != "LUX" || len(p.Studies) != 1 || p.Samples == nil || len(p.Consents) != 1 {
				t.Fatalf("GET %s as %s = %+v", as, who, p)
			}
			c := p.Consents[0]
			if c.ID != id || c.Study != "IBD" || c.Version != "1.0" || !slices.Equal(c.EffectiveTiers, []string{"storage"}) ||
				c.Status != "partially_withdrawn" || len(c.Withdrawals) != 1 {
				t.Errorf("consent as %s = %+v", who, c)
			}
		}
	}

	for _, tc := range []struct {
		name, who, path string
		status          int
		code            string
		message         string
	}{
		{"nurse of another site", "nurse-kiel", pseudonym, 403, "forbidden", ""},
		{"the other way round", "nurse", kielOnly, 403, "forbidden", ""},
		{"technician of another site", "technician", kielOnly, 403, "forbidden", ""},
		{"unknown pseudonym", "nurse", mustPseudonym(t, "ZZZZZZ"), 404, "not_found", ""},
		{"wrong check character", "nurse", mistyped(t, pseudonym), 422, "wrong_check", pseudonym},
		{"not a pseudonym", "nurse", "K%21", 422, "malformed_pseudonym", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.api(t, "GET", "/api/v1/participants/"+tc.path, a.usedToken(t, tc.who), nil)
			field := ""
			if tc.status == 422 {
				field = "pseudonym"
			}
			e := r.wantError(t, tc.status, tc.code, field)
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not suggest %q", e.Message, tc.message)
			}
			if tc.status == 403 && strings.Contains(string(r.Body), tc.path) {
				t.Errorf("a refusal shows the participant: %s", r.Body)
			}
		})
	}
}

func TestAPIConsents_RecordAndWithdraw(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	nurse := a.usedToken(t, "nurse")
	manager := a.usedToken(t, "manager")
	pseudonym := a.mustEnrol(t, "nurse", "IBD", "", -10)
	path := "/api/v1/participants/" + pseudonym + "/consents"

	r := a.api(t, "POST", path, nurse, map[string]any{"study": "ibd", "version": "1.0", "signed_on": today(-1),
		"tiers": []string{"sharing", "storage", "genetic"}}).wantStatus(t, http.StatusCreated)
	var c struct {
		ID             int64    `json:"id"`
		Study          string   `json:"study"`
		Version        string   `json:"version"`
		SignedOn       string   `json:"signed_on"`
		Tiers          []string `json:"tiers"`
		EffectiveTiers []string `json:"effective_tiers"`
		Status         string   `json:"status"`
	}
	r.decode(t, &c)
	all := []string{"storage", "genetic", "sharing"}
	if c.ID == 0 || c.Study != "IBD" || c.Version != "1.0" || c.SignedOn != today(-1) || !slices.Equal(c.Tiers, all) ||
		!slices.Equal(c.EffectiveTiers, all) || c.Status != "active" {
		t.Errorf("recorded consent %s", r.Body)
	}
	a.wantEvent(t, "participant", pseudonym, "consent.record", "nurse")

	other := a.mustEnrol(t, "nurse", "RA", "", 0)
	kiel := a.mustEnrol(t, "nurse-kiel", "IBD", "", 0)
	good := map[string]any{"study": "IBD", "version": "1.0", "signed_on": today(0), "tiers": []string{"storage"}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name, token, pseudonym string
		body                   any
		status                 int
		code, field            string
	}{
		{"tiers not offered", nurse, pseudonym, map[string]any{"study": "IBD", "version": "2.0", "signed_on": today(0), "tiers": []string{"storage", "genetic"}}, 422, "tier_not_offered", "tiers"},
		{"unknown tier", nurse, pseudonym, with("tiers", []string{"telepathy"}), 422, "invalid", "tiers"},
		{"no tiers", nurse, pseudonym, with("tiers", []string{}), 422, "invalid", "tiers"},
		{"signed in the future", nurse, pseudonym, with("signed_on", today(3)), 422, "invalid", "signed_on"},
		{"signed on no date", nurse, pseudonym, with("signed_on", "yesterday"), 422, "invalid", "signed_on"},
		{"retired version", nurse, pseudonym, with("version", "0.9"), 422, "retired_version", "version"},
		{"unknown version", nurse, pseudonym, with("version", "7"), 422, "invalid", "version"},
		{"unknown study", nurse, pseudonym, with("study", "NOPE"), 422, "invalid", "study"},
		{"not enrolled in the study", nurse, other, good, 409, "not_enrolled", "study"},
		{"participant of another site", nurse, kiel, good, 403, "forbidden", ""},
		{"unknown participant", nurse, mustPseudonym(t, "ZZZZZZ"), good, 404, "not_found", ""},
		{"wrong check character", nurse, mistyped(t, pseudonym), good, 422, "wrong_check", "pseudonym"},
		{"technician", a.usedToken(t, "technician"), pseudonym, good, 403, "forbidden", ""},
		{"tiers as a string", nurse, pseudonym, with("tiers", "storage"), 400, "malformed", "tiers"},
	} {
		t.Run("record/"+tc.name, func(t *testing.T) {
			before := a.state(t)
			a.api(t, "POST", "/api/v1/participants/"+tc.pseudonym+"/consents", tc.token, tc.body).wantError(t, tc.status, tc.code, tc.field)
			a.assertUnchanged(t, before)
		})
	}

	withdraw := path + "/" + strconv.FormatInt(c.ID, 10) + "/withdraw"
	for _, tc := range []struct {
		name, token, path string
		body              any
		status            int
		code, field       string
	}{
		{"no reason", nurse, withdraw, map[string]any{"tiers": []string{"genetic"}}, 422, "reason_required", "reason"},
		{"blank reason", nurse, withdraw, map[string]any{"reason": "   "}, 422, "reason_required", "reason"},
		{"tier not in force", nurse, withdraw, map[string]any{"reason": "x", "tiers": []string{"recontact"}}, 422, "invalid", "tiers"},
		{"unknown tier", nurse, withdraw, map[string]any{"reason": "x", "tiers": []string{"telepathy"}}, 422, "invalid", "tiers"},
		{"withdrawn in the future", nurse, withdraw, map[string]any{"reason": "x", "withdrawn_on": today(5)}, 422, "invalid", "withdrawn_on"},
		{"unknown consent", nurse, path + "/999999/withdraw", map[string]any{"reason": "x"}, 404, "not_found", ""},
		{"consent id not a number", nurse, path + "/abc/withdraw", map[string]any{"reason": "x"}, 404, "not_found", ""},
		{"consent of another participant", nurse, "/api/v1/participants/" + other + "/consents/" + strconv.FormatInt(c.ID, 10) + "/withdraw", map[string]any{"reason": "x"}, 404, "not_found", ""},
		{"nurse of another site", a.usedToken(t, "nurse-kiel"), withdraw, map[string]any{"reason": "x"}, 403, "forbidden", ""},
		{"technician", a.usedToken(t, "technician"), withdraw, map[string]any{"reason": "x"}, 403, "forbidden", ""},
	} {
		t.Run("withdraw/"+tc.name, func(t *testing.T) {
			before := a.state(t)
			a.api(t, "POST", tc.path, tc.token, tc.body).wantError(t, tc.status, tc.code, tc.field)
			a.assertUnchanged(t, before)
		})
	}

	// One tier, then the rest; the effective tiers follow at once.
	type withdrawn struct {
		Held    []string `json:"held_samples"`
		Consent struct {
			EffectiveTiers []string `json:"effective_tiers"`
			Status         string   `json:"status"`
		} `json:"consent"`
	}
	var w withdrawn
	r = a.api(t, "POST", withdraw, nurse, map[string]any{"reason": "no genetic research", "tiers": []string{"genetic"}}).wantStatus(t, http.StatusOK)
	r.decode(t, &w)
	if held, ok := r.object(t)["held_samples"].([]any); !ok || len(held) != 0 {
		t.Errorf("held_samples is not an empty list: %s", r.Body)
	}
	if !slices.Equal(w.Consent.EffectiveTiers, []string{"storage", "sharing"}) || w.Consent.Status != "partially_withdrawn" {
		t.Errorf("after withdrawing genetic: %s", r.Body)
	}
	if ev := a.wantEvent(t, "participant", pseudonym, "consent.withdraw", "nurse"); ev.Reason != "no genetic research" {
		t.Errorf("withdrawal audited with reason %q", ev.Reason)
	}
	effective := func() []string {
		var p struct {
			Consents []struct {
				EffectiveTiers []string `json:"effective_tiers"`
			}
		}
		a.api(t, "GET", "/api/v1/participants/"+pseudonym, nurse, nil).wantStatus(t, http.StatusOK).decode(t, &p)
		if len(p.Consents) != 1 {
			t.Fatalf("%d consents", len(p.Consents))
		}
		return p.Consents[0].EffectiveTiers
	}
	if got := effective(); !slices.Equal(got, []string{"storage", "sharing"}) {
		t.Errorf("effective tiers now %v", got)
	}
	// A manager withdraws the rest: no tiers named means everything.
	a.api(t, "POST", withdraw, manager, map[string]any{"reason": "moved abroad"}).wantStatus(t, http.StatusOK).decode(t, &w)
	if len(w.Consent.EffectiveTiers) != 0 || w.Consent.Status != "withdrawn" {
		t.Errorf("after withdrawing everything: %+v", w)
	}
	if got := effective(); len(got) != 0 {
		t.Errorf("effective tiers now %v", got)
	}
	before := a.state(t)
	a.api(t, "POST", withdraw, nurse, map[string]any{"reason": "again"}).wantError(t, http.StatusConflict, "already_withdrawn", "")
	a.assertUnchanged(t, before)

	// A new consent replaces the withdrawn one.
	a.api(t, "POST", path, nurse, good).wantStatus(t, http.StatusCreated)
	var p struct {
		Consents []struct{ Status string }
	}
	a.api(t, "GET", "/api/v1/participants/"+pseudonym, nurse, nil).decode(t, &p)
	if len(p.Consents) != 2 || p.Consents[0].Status != "active" || p.Consents[1].Status != "withdrawn" {
		t.Errorf("consent history, newest first: %+v", p.Consents)
	}
}

func TestAPIVisits_Open(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	nurse := a.usedToken(t, "nurse")
	onTime := a.mustEnrol(t, "nurse", "IBD", "", -95)
	late := a.mustEnrol(t, "nurse", "IBD", "", -30)
	kiel := a.mustEnrol(t, "nurse-kiel", "IBD", "", -30)
	open := func(pseudonym string) string { return "/api/v1/participants/" + pseudonym + "/visits" }

	type visit struct {
		ID       int64  `json:"id"`
		Study    string `json:"study"`
		Visit    string `json:"visit"`
		Date     string `json:"date"`
		Reason   string `json:"out_of_window_reason"`
		Expected []struct {
			SpecimenType string  `json:"specimen_type"`
			Volume       float64 `json:"volume"`
			Unit         string  `json:"unit"`
		} `json:"expected_specimens"`
	}
	var v visit
	// Inside the window: a reason given anyway is not kept.
	a.api(t, "POST", open(onTime), nurse, map[string]any{"study": "ibd", "visit": "baseline", "date": today(-93), "reason": "none needed"}).
		wantStatus(t, http.StatusCreated).decode(t, &v)
	if v.ID == 0 || v.Study != "IBD" || v.Visit != "BASELINE" || v.Date != today(-93) || v.Reason != "" || len(v.Expected) != 3 ||
		v.Expected[0].SpecimenType != "whole_blood" || v.Expected[0].Volume != 9 || v.Expected[2].Unit != "mg" {
		t.Errorf("opened visit %+v", v)
	}
	a.wantEvent(t, "participant", onTime, "visit.open", "nurse")
	a.api(t, "POST", open(onTime), nurse, map[string]any{"study": "IBD", "visit": "M3"}).wantStatus(t, http.StatusCreated).decode(t, &v)
	if v.Visit != "M3" || v.Date != today(0) {
		t.Errorf("M3 opened today: %+v", v)
	}

	for _, tc := range []struct {
		name, who, path string
		body            map[string]any
		status          int
		code, field     string
	}{
		{"outside the window without a reason", "nurse", open(late), map[string]any{"study": "IBD", "visit": "BASELINE", "date": today(0)}, 409, "out_of_window", "date"},
		{"before enrolment", "nurse", open(late), map[string]any{"study": "IBD", "visit": "BASELINE", "date": today(-31), "reason": "x"}, 422, "invalid", "date"},
		{"in the future", "nurse", open(late), map[string]any{"study": "IBD", "visit": "BASELINE", "date": today(5), "reason": "x"}, 422, "invalid", "date"},
		{"unknown visit", "nurse", open(late), map[string]any{"study": "IBD", "visit": "M99"}, 422, "invalid", "visit"},
		{"unknown study", "nurse", open(late), map[string]any{"study": "NOPE", "visit": "BASELINE"}, 422, "invalid", "study"},
		{"not enrolled in the study", "nurse", open(late), map[string]any{"study": "RA", "visit": "BASELINE"}, 409, "not_enrolled", "study"},
		{"already open", "nurse", open(onTime), map[string]any{"study": "IBD", "visit": "M3"}, 409, "visit_exists", "visit"},
		{"participant of another site", "nurse", open(kiel), map[string]any{"study": "IBD", "visit": "BASELINE", "reason": "x"}, 403, "forbidden", ""},
		{"technician", "technician", open(late), map[string]any{"study": "IBD", "visit": "BASELINE", "reason": "x"}, 403, "forbidden", ""},
		{"unknown participant", "nurse", open(mustPseudonym(t, "ZZZZZZ")), map[string]any{"study": "IBD", "visit": "BASELINE"}, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := a.usedToken(t, tc.who)
			before := a.state(t)
			e := a.api(t, "POST", tc.path, token, tc.body).wantError(t, tc.status, tc.code, tc.field)
			if tc.code == "out_of_window" && (!strings.Contains(e.Message, today(-30)) || !strings.Contains(e.Message, today(-23))) {
				t.Errorf("message %q does not give the window", e.Message)
			}
			a.assertUnchanged(t, before)
		})
	}

	// With a reason the nurse proceeds.
	a.api(t, "POST", open(late), nurse, map[string]any{"study": "IBD", "visit": "BASELINE", "date": today(0), "reason": "participant was abroad"}).
		wantStatus(t, http.StatusCreated).decode(t, &v)
	if v.Reason != "participant was abroad" || v.Date != today(0) {
		t.Errorf("out-of-window visit %+v", v)
	}
	if ev := a.wantEvent(t, "participant", late, "visit.open", "nurse"); ev.Reason != "participant was abroad" {
		t.Errorf("visit audited with reason %q", ev.Reason)
	}
	var p struct {
		Visits []visit `json:"visits"`
	}
	a.api(t, "GET", "/api/v1/participants/"+late, nurse, nil).wantStatus(t, http.StatusOK).decode(t, &p)
	if len(p.Visits) != 1 || p.Visits[0].Visit != "BASELINE" || p.Visits[0].Reason != "participant was abroad" || len(p.Visits[0].Expected) != 3 {
		t.Errorf("participant's visits %+v", p.Visits)
	}
}

func TestAPIConsents_ListFilters(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedClinic(t)
	every := []string{"storage", "genetic", "sharing", "recontact"}

	active := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustConsent(t, "nurse", active, "IBD", "1.0", every...)
	partial := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustWithdraw(t, "nurse", partial, a.mustConsent(t, "nurse", partial, "IBD", "1.0", every...), "genetic")
	withdrawn := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustWithdraw(t, "nurse", withdrawn, a.mustConsent(t, "nurse", withdrawn, "IBD", "1.0", "storage", "genetic"))
	// Withdrew, then consented again: only the latest record counts.
	again := a.mustEnrol(t, "nurse", "IBD", "", 0)
	a.mustWithdraw(t, "nurse", again, a.mustConsent(t, "nurse", again, "IBD", "1.0", every...))
	a.mustConsent(t, "nurse", again, "IBD", "2.0", "storage")
	ra := a.mustEnrol(t, "nurse", "RA", "", 0)
	a.mustConsent(t, "nurse", ra, "RA", "1.0", "storage", "sharing")
	kiel := a.mustEnrol(t, "nurse-kiel", "IBD", "", 0)
	a.mustConsent(t, "nurse-kiel", kiel, "IBD", "1.0", every...)

	list := func(t *testing.T, who, query string) []string {
		t.Helper()
		var res struct {
			Consents []struct {
				Pseudonym      string   `json:"pseudonym"`
				Study          string   `json:"study"`
				Status         string   `json:"status"`
				EffectiveTiers []string `json:"effective_tiers"`
			} `json:"consents"`
			NextCursor *int64 `json:"next_cursor"`
		}
		a.api(t, "GET", "/api/v1/consents?"+query, a.usedToken(t, who), nil).wantStatus(t, http.StatusOK).decode(t, &res)
		var out []string
		for _, c := range res.Consents {
			out = append(out, c.Pseudonym+"/"+c.Study+"/"+c.Status)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	for _, tc := range []struct {
		who, query string
		want       []string
	}{
		{"manager", "", sorted(active+"/IBD/active", partial+"/IBD/partially_withdrawn", withdrawn+"/IBD/withdrawn",
			again+"/IBD/active", ra+"/RA/active", kiel+"/IBD/active")},
		{"manager", "status=active", sorted(active+"/IBD/active", again+"/IBD/active", ra+"/RA/active", kiel+"/IBD/active")},
		{"manager", "status=partially_withdrawn", []string{partial + "/IBD/partially_withdrawn"}},
		{"manager", "status=withdrawn", []string{withdrawn + "/IBD/withdrawn"}},
		{"manager", "tiers=genetic", sorted(active+"/IBD/active", kiel+"/IBD/active")},
		{"manager", "tiers=sharing,storage", sorted(active+"/IBD/active", partial+"/IBD/partially_withdrawn", ra+"/RA/active", kiel+"/IBD/active")},
		{"manager", "tiers=sharing&study=ra", []string{ra + "/RA/active"}},
		{"manager", "status=partially_withdrawn&tiers=genetic", nil},
		{"nurse", "tiers=genetic", []string{active + "/IBD/active"}},
		{"technician", "status=active&study=IBD", sorted(active+"/IBD/active", again+"/IBD/active")},
		{"nurse-kiel", "", []string{kiel + "/IBD/active"}},
	} {
		if got := list(t, tc.who, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("GET /api/v1/consents?%s as %s:\n got %v\nwant %v", tc.query, tc.who, got, tc.want)
		}
	}

	// The list is an empty array, never null.
	r := a.api(t, "GET", "/api/v1/consents?study=NOPE", a.usedToken(t, "manager"), nil).wantStatus(t, http.StatusOK)
	var raw map[string]json.RawMessage
	r.decode(t, &raw)
	if string(raw["consents"]) != "[]" {
		t.Errorf("an empty list is %s", raw["consents"])
	}

	for query, field := range map[string]string{"status=gone": "status", "tiers=telepathy": "tiers", "cursor=abc": "cursor"} {
		a.api(t, "GET", "/api/v1/consents?"+query, a.usedToken(t, "manager"), nil).wantError(t, http.StatusUnprocessableEntity, "invalid", field)
	}
}
