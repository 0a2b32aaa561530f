package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"biobank/internal/auth"
	"biobank/internal/storage"
	"biobank/web"
)

// boxPath is the API address of a box, with rest appended.
func boxPath(barcode string, rest ...string) string {
	return "/api/v1/boxes/" + barcode + strings.Join(rest, "")
}

// apiCSV posts a rack scanner file to path as text/csv, as a scanner's script would.
func (a *app) apiCSV(tb testing.TB, path, token, body string) *apiResp {
	tb.Helper()
	req, err := http.NewRequest("POST", a.ts.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.ts.Client().Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return &apiResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// apiBoxBody is a box as the API answers it.
type apiBoxBody struct {
	Barcode   string `json:"barcode"`
	Rows      int    `json:"rows"`
	Cols      int    `json:"cols"`
	Free      int    `json:"free"`
	Freezer   string `json:"freezer"`
	Rack      string `json:"rack"`
	Positions []struct {
		Position string  `json:"position"`
		Sample   *string `json:"sample"`
	} `json:"positions"`
}

// occupant is the sample the API names at position, or "" for a free one.
func (b apiBoxBody) occupant(tb testing.TB, position string) string {
	tb.Helper()
	for _, p := range b.Positions {
		if p.Position == position {
			if p.Sample == nil {
				return ""
			}
			return *p.Sample
		}
	}
	tb.Fatalf("box %s has no position %s in its JSON", b.Barcode, position)
	return ""
}

// getBox reads a box through the API.
func (a *app) getBox(tb testing.TB, token, barcode string) apiBoxBody {
	tb.Helper()
	var b apiBoxBody
	a.api(tb, "GET", boxPath(barcode), token, nil).wantStatus(tb, http.StatusOK).decode(tb, &b)
	return b
}

// locationOf reads a sample through the API and returns its location (nil when it has
// none) and status.
func (a *app) locationOf(tb testing.TB, token, code string) (map[string]any, string) {
	tb.Helper()
	got := a.api(tb, "GET", samplePath(code), token, nil).wantStatus(tb, http.StatusOK).object(tb)
	if _, ok := got["location"]; !ok {
		tb.Fatalf("sample %s has no location key: %v", code, got)
	}
	loc, _ := got["location"].(map[string]any)
	status, _ := got["status"].(string)
	return loc, status
}

// wantLocation fails the test unless the sample's API location is freezer › box › position.
func (a *app) wantLocation(tb testing.TB, token, code, freezer, box, position string) {
	tb.Helper()
	loc, _ := a.locationOf(tb, token, code)
	if loc == nil || loc["freezer"] != freezer || loc["box"] != box || loc["position"] != position {
		tb.Errorf("location of %s = %v, want %s › %s › %s", code, loc, freezer, box, position)
	}
}

// auditLocation returns the "location" of an audit event's before or after data.
func auditLocation(tb testing.TB, raw json.RawMessage) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatalf("audit data %s: %v", raw, err)
	}
	loc, _ := m["location"].(map[string]any)
	return loc
}

func TestAPIStorage_SetUpFreezersBoxesAndBoxTypes(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	admin := a.usedToken(t, "admin")
	manager := a.usedToken(t, "manager")
	tech := a.usedToken(t, "technician")

	refuse := func(t *testing.T, token, path string, body any, status int, code, field string) apiErr {
		t.Helper()
		before := a.state(t)
		e := a.api(t, "POST", path, token, body).wantError(t, status, code, field)
		a.assertUnchanged(t, before)
		return e
	}

	// Freezers.
	got := a.api(t, "POST", "/api/v1/freezers", manager, map[string]any{"name": "Upright −80 A", "type": "-80", "temperature": -80}).
		wantStatus(t, http.StatusCreated).object(t)
	id, ok := got["id"].(float64)
	if !ok || id <= 0 || got["name"] != "Upright −80 A" || got["type"] != "-80" {
		t.Fatalf("created freezer %v", got)
	}
	freezerID := strconv.FormatFloat(id, 'f', 0, 64)
	a.wantEvent(t, "freezer", freezerID, "storage.create_freezer", "manager")
	refuse(t, tech, "/api/v1/freezers", map[string]any{"name": "F2", "type": "-20", "temperature": -20}, 403, "forbidden", "")
	refuse(t, a.usedToken(t, "nurse"), "/api/v1/freezers", map[string]any{"name": "F2", "type": "-20", "temperature": -20}, 403, "forbidden", "")
	refuse(t, manager, "/api/v1/freezers", map[string]any{"name": "F2", "type": "-70", "temperature": -70}, 422, "invalid", "type")
	refuse(t, manager, "/api/v1/freezers", map[string]any{"name": "F2", "type": "-20", "temperature": -300}, 422, "invalid", "temperature")
	refuse(t, manager, "/api/v1/freezers", map[string]any{"name": " ", "type": "-20", "temperature": -20}, 422, "", "name")
	refuse(t, manager, "/api/v1/freezers", map[string]any{"name": "F2", "type": "-20", "temperature": "cold"}, 400, "malformed", "")
	e := refuse(t, admin, "/api/v1/freezers", map[string]any{"name": "Upright −80 A", "type": "-20", "temperature": -20}, 409, "duplicate_freezer", "name")
	if !strings.Contains(e.Message, "Upright −80 A") {
		t.Errorf("duplicate refusal %q does not name the freezer", e.Message)
	}
	// The same name at another site is another freezer; an administrator names the site.
	a.api(t, "POST", "/api/v1/freezers", admin, map[string]any{"name": "Upright −80 A", "type": "-80", "temperature": -80, "site": "KIEL"}).
		wantStatus(t, http.StatusCreated)
	refuse(t, admin, "/api/v1/freezers", map[string]any{"name": "N", "type": "4", "temperature": 4, "site": "NOPE"}, 422, "invalid", "site")
	var list struct {
		Freezers []map[string]any `json:"freezers"`
	}
	a.api(t, "GET", "/api/v1/freezers", tech, nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Freezers) != 1 || list.Freezers[0]["site"] != "LUX" {
		t.Errorf("a LUX technician sees the freezers %v", list.Freezers)
	}

	// Boxes, by the freezer's id or its name, by a grid or a box type.
	var box apiBoxBody
	a.api(t, "POST", "/api/v1/boxes", manager, map[string]any{"barcode": "BX-0001", "freezer": freezerID, "rows": 9, "cols": 9}).
		wantStatus(t, http.StatusCreated).decode(t, &box)
	if box.Barcode != "BX-0001" || box.Rows != 9 || box.Cols != 9 || box.Free != 81 || len(box.Positions) != 81 || box.Freezer != "Upright −80 A" {
		t.Errorf("created box %+v", box)
	}
	for _, p := range box.Positions {
		if p.Sample != nil {
			t.Errorf("a new box holds %s at %s", *p.Sample, p.Position)
		}
	}
	a.wantEvent(t, "box", "BX-0001", "storage.create_box", "manager")
	a.api(t, "POST", "/api/v1/boxes", manager, map[string]any{"barcode": "BX-0002", "freezer": "Upright −80 A", "rows": 8, "cols": 12}).
		wantStatus(t, http.StatusCreated).decode(t, &box)
	if box.Rows != 8 || box.Cols != 12 || len(box.Positions) != 96 || box.Positions[95].Position != "H12" {
		t.Errorf("box by freezer name: %d × %d, %d positions", box.Rows, box.Cols, len(box.Positions))
	}
	var types struct {
		BoxTypes []storage.BoxType `json:"box_types"`
	}
	a.api(t, "GET", "/api/v1/box-types", tech, nil).wantStatus(t, http.StatusOK).decode(t, &types)
	var tenByTen *storage.BoxType
	for i, bt := range types.BoxTypes {
		if bt.Rows == 10 && bt.Cols == 10 {
			tenByTen = &types.BoxTypes[i]
		}
	}
	if tenByTen == nil {
		t.Fatalf("no 10 × 10 box type in %+v", types.BoxTypes)
	}
	a.api(t, "POST", "/api/v1/boxes", admin, map[string]any{"barcode": "BX-0003", "freezer": freezerID, "box_type": strconv.FormatInt(tenByTen.ID, 10)}).
		wantStatus(t, http.StatusCreated).decode(t, &box)
	if box.Rows != 10 || box.Cols != 10 || box.Free != 100 {
		t.Errorf("box of type %s: %d × %d", tenByTen.Name, box.Rows, box.Cols)
	}
	a.api(t, "POST", "/api/v1/boxes", admin, map[string]any{"barcode": "BX-0004", "freezer": freezerID, "box_type": tenByTen.Name}).
		wantStatus(t, http.StatusCreated).decode(t, &box)
	if box.Rows != 10 || box.Cols != 10 {
		t.Errorf("box of type named %s: %d × %d", tenByTen.Name, box.Rows, box.Cols)
	}
	newBox := func(over map[string]any) map[string]any {
		m := map[string]any{"barcode": "BX-0009", "freezer": freezerID, "rows": 9, "cols": 9}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	refuse(t, manager, "/api/v1/boxes", newBox(map[string]any{"rows": 27}), 422, "invalid", "rows")
	refuse(t, manager, "/api/v1/boxes", newBox(map[string]any{"cols": 0}), 422, "invalid", "cols")
	refuse(t, manager, "/api/v1/boxes", newBox(map[string]any{"barcode": "B X"}), 422, "invalid", "barcode")
	refuse(t, manager, "/api/v1/boxes", newBox(map[string]any{"freezer": "No such freezer"}), 422, "invalid", "freezer")
	refuse(t, manager, "/api/v1/boxes", newBox(map[string]any{"rack": "R9"}), 422, "invalid", "rack")
	refuse(t, manager, "/api/v1/boxes", newBox(map[string]any{"box_type": "99999"}), 422, "invalid", "box_type")
	refuse(t, manager, "/api/v1/boxes", newBox(map[string]any{"barcode": "BX-0001"}), 409, "duplicate_box", "barcode")
	refuse(t, tech, "/api/v1/boxes", newBox(nil), 403, "forbidden", "")

	// Box types are the administrator's.
	bt := a.api(t, "POST", "/api/v1/box-types", admin, map[string]any{"name": "7 × 7 large cryobox", "rows": 7, "cols": 7}).
		wantStatus(t, http.StatusCreated).object(t)
	if bt["name"] != "7 × 7 large cryobox" || bt["rows"] != float64(7) || bt["id"] == nil {
		t.Errorf("created box type %v", bt)
	}
	refuse(t, manager, "/api/v1/box-types", map[string]any{"name": "6 × 6", "rows": 6, "cols": 6}, 403, "forbidden", "")
	refuse(t, tech, "/api/v1/box-types", map[string]any{"name": "6 × 6", "rows": 6, "cols": 6}, 403, "forbidden", "")
	refuse(t, admin, "/api/v1/box-types", map[string]any{"name": "6 × 6", "rows": 0, "cols": 6}, 422, "invalid", "rows")
	refuse(t, admin, "/api/v1/box-types", map[string]any{"name": "6 × 31", "rows": 6, "cols": 31}, 422, "invalid", "cols")
	refuse(t, admin, "/api/v1/box-types", map[string]any{"name": "7 × 7 large cryobox", "rows": 7, "cols": 7}, 409, "duplicate_box_type", "name")
	a.api(t, "GET", "/api/v1/box-types", a.usedToken(t, "nurse"), nil).wantStatus(t, http.StatusOK).decode(t, &types)
	if !slices.ContainsFunc(types.BoxTypes, func(b storage.BoxType) bool { return b.Name == "7 × 7 large cryobox" }) {
		t.Errorf("the new box type is not listed: %+v", types.BoxTypes)
	}
}

func TestAPIStorage_BoxGridAndPlacement(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	a.mustBox(t, "manager", "BX2", f1, "", 9, 9)
	ids := a.mustAliquots(t, "nurse", "technician", 6)

	refuse := func(t *testing.T, method, path, token string, body any, status int, code, field string) apiErr {
		t.Helper()
		before := a.state(t)
		e := a.api(t, method, path, token, body).wantError(t, status, code, field)
		a.assertUnchanged(t, before)
		return e
	}

	// The grid, row by row, every position free.
	raw := a.api(t, "GET", boxPath("BX1"), a.usedToken(t, "nurse"), nil).wantStatus(t, http.StatusOK).object(t)
	for _, key := range []string{"barcode", "rows", "cols", "free", "positions"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("box JSON has no %q: %v", key, raw)
		}
	}
	box := a.getBox(t, tech, "BX1")
	if box.Rows != 9 || box.Cols != 9 || box.Free != 81 || len(box.Positions) != 81 || box.Rack != "R1" {
		t.Fatalf("box %+v", box)
	}
	for i, p := range box.Positions {
		if want := string(rune('A'+i/9)) + strconv.Itoa(i%9+1); p.Position != want || p.Sample != nil {
			t.Fatalf("position %d is %s holding %v, want %s, free", i, p.Position, p.Sample, want)
		}
	}
	refuse(t, "GET", boxPath("NOPE-1"), tech, nil, 404, "not_found", "")

	// Placing at a named position; A01 is A1.
	a.api(t, "PUT", boxPath("BX1", "/positions/A01"), tech, map[string]any{"sample": ids[0]}).wantStatus(t, http.StatusOK)
	a.wantLocation(t, tech, ids[0], "F1", "BX1", "A1")
	if _, status := a.locationOf(t, tech, ids[0]); status != "stored" {
		t.Errorf("placed sample is %s, want stored", status)
	}
	ev := a.wantEvent(t, "sample", ids[0], "sample.place", "technician")
	if loc := auditLocation(t, ev.After); loc["box"] != "BX1" || loc["position"] != "A1" {
		t.Errorf("placement audited with location %v", loc)
	}
	box = a.getBox(t, tech, "BX1")
	if box.occupant(t, "A1") != ids[0] || box.Free != 80 {
		t.Errorf("after placing: A1 holds %q, %d free", box.occupant(t, "A1"), box.Free)
	}
	// As scanned: surrounding whitespace and lower case.
	a.api(t, "PUT", boxPath("BX1", "/positions/c3"), tech, map[string]any{"sample": "  " + strings.ToLower(ids[1]) + "\n"}).
		wantStatus(t, http.StatusOK)
	a.wantLocation(t, tech, ids[1], "F1", "BX1", "C3")

	// Refusals.
	e := refuse(t, "PUT", boxPath("BX1", "/positions/A1"), tech, map[string]any{"sample": ids[2]}, 409, "position_occupied", "position")
	if !strings.Contains(e.Message, ids[0]) {
		t.Errorf("occupied refusal %q does not name the occupant %s", e.Message, ids[0])
	}
	refuse(t, "PUT", boxPath("BX1", "/positions/J10"), tech, map[string]any{"sample": ids[2]}, 422, "invalid", "position")
	refuse(t, "PUT", boxPath("BX1", "/positions/A10"), tech, map[string]any{"sample": ids[2]}, 422, "invalid", "position")
	refuse(t, "PUT", boxPath("BX1", "/positions/11"), tech, map[string]any{"sample": ids[2]}, 422, "invalid", "position")
	refuse(t, "PUT", boxPath("BX1", "/positions/A2"), tech, map[string]any{"sample": "FX99999999"}, 404, "not_found", "")
	refuse(t, "PUT", boxPath("BX1", "/positions/A2"), tech, map[string]any{"sample": ""}, 422, "invalid", "sample")
	refuse(t, "PUT", boxPath("BX1", "/positions/A2"), tech, map[string]any{}, 422, "invalid", "sample")
	refuse(t, "PUT", boxPath("NOPE-1", "/positions/A2"), tech, map[string]any{"sample": ids[2]}, 404, "not_found", "")
	refuse(t, "PUT", boxPath("BX1", "/positions/A2"), a.usedToken(t, "nurse"), map[string]any{"sample": ids[2]}, 403, "forbidden", "")
	refuse(t, "PUT", boxPath("BX1", "/positions/A2"), a.usedToken(t, "technician-kiel"), map[string]any{"sample": ids[2]}, 403, "forbidden", "")
	refuse(t, "PUT", boxPath("BX1", "/positions/C3"), tech, map[string]any{"sample": ids[1]}, 409, "already_there", "position")
	a.api(t, "POST", samplePath(ids[5], "/destroy"), tech, map[string]any{"reason": "tube cracked"}).wantStatus(t, http.StatusOK)
	refuse(t, "PUT", boxPath("BX1", "/positions/A2"), tech, map[string]any{"sample": ids[5]}, 409, "wrong_status", "")

	// A placed sample put elsewhere moves, audited as a move from its old place.
	got := a.api(t, "PUT", boxPath("BX2", "/positions/B2"), tech, map[string]any{"sample": ids[0]}).wantStatus(t, http.StatusOK).object(t)
	if from, _ := got["moved_from"].(map[string]any); from["box"] != "BX1" || from["position"] != "A1" {
		t.Errorf("moved_from %v", got["moved_from"])
	}
	a.wantLocation(t, tech, ids[0], "F1", "BX2", "B2")
	if occ := a.getBox(t, tech, "BX1").occupant(t, "A1"); occ != "" {
		t.Errorf("A1 of BX1 still holds %s after the move", occ)
	}
	ev = a.wantEvent(t, "sample", ids[0], "sample.move", "technician")
	if before, after := auditLocation(t, ev.Before), auditLocation(t, ev.After); before["box"] != "BX1" || before["position"] != "A1" ||
		after["box"] != "BX2" || after["position"] != "B2" {
		t.Errorf("move audited from %v to %v", before, after)
	}
	// Within one box, too.
	a.api(t, "PUT", boxPath("BX2", "/positions/B3"), tech, map[string]any{"sample": ids[0]}).wantStatus(t, http.StatusOK)
	a.wantLocation(t, tech, ids[0], "F1", "BX2", "B3")

	// Taking a sample out of its position: it stays stored, without a position.
	r := a.api(t, "DELETE", boxPath("BX2", "/positions/B3"), tech, nil).wantStatus(t, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %s", r.Body)
	}
	if loc, status := a.locationOf(t, tech, ids[0]); loc != nil || status != "stored" {
		t.Errorf("after removal: location %v, status %s", loc, status)
	}
	ev = a.wantEvent(t, "sample", ids[0], "sample.remove_from_position", "technician")
	if loc := auditLocation(t, ev.Before); loc["box"] != "BX2" || loc["position"] != "B3" {
		t.Errorf("removal audited from %v", loc)
	}
	refuse(t, "DELETE", boxPath("BX2", "/positions/B3"), tech, nil, 404, "not_found", "")
	refuse(t, "DELETE", boxPath("BX2", "/positions/Z1"), tech, nil, 422, "invalid", "position")
	refuse(t, "DELETE", boxPath("BX1", "/positions/C3"), a.usedToken(t, "nurse"), nil, 403, "forbidden", "")

	// The next free position, row by row; a stored sample without a position goes back in.
	got = a.api(t, "POST", boxPath("BX1", "/next"), tech, map[string]any{"sample": ids[0]}).wantStatus(t, http.StatusOK).object(t)
	if loc, _ := got["location"].(map[string]any); loc["position"] != "A1" || got["sample"] != ids[0] || got["status"] != "stored" {
		t.Errorf("next free: %v", got)
	}
	a.api(t, "POST", boxPath("BX1", "/next"), tech, map[string]any{"sample": ids[2]}).wantStatus(t, http.StatusOK)
	a.wantLocation(t, tech, ids[2], "F1", "BX1", "A2")
	refuse(t, "POST", boxPath("BX1", "/next"), tech, map[string]any{"sample": ids[2]}, 409, "already_there", "position")
	// A full box says so.
	a.mustBox(t, "manager", "TINY", f1, "", 1, 1)
	a.api(t, "POST", boxPath("TINY", "/next"), tech, map[string]any{"sample": ids[3]}).wantStatus(t, http.StatusOK)
	refuse(t, "POST", boxPath("TINY", "/next"), tech, map[string]any{"sample": ids[4]}, 409, "box_full", "box")

	// Destroying a sample frees its position.
	a.api(t, "POST", samplePath(ids[3], "/destroy"), tech, map[string]any{"reason": "dropped"}).wantStatus(t, http.StatusOK)
	if box := a.getBox(t, tech, "TINY"); box.Free != 1 || box.occupant(t, "A1") != "" {
		t.Errorf("TINY after its sample was destroyed: %+v", box)
	}
	if loc, _ := a.locationOf(t, tech, ids[3]); loc != nil {
		t.Errorf("a destroyed sample is still at %v", loc)
	}
}

func TestAPIStorage_PlacementAcrossSites(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	manager := a.usedToken(t, "manager")
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BX1", f1, "", 9, 9)
	kiel := a.mustAliquots(t, "nurse-kiel", "technician-kiel", 1)[0]
	collected := a.mustCollect(t, "nurse", a.mustEnrolReady(t), serumTube)[0]

	kielTech := a.usedToken(t, "technician-kiel")

	before := a.state(t)
	// A manager sees every site, but a tube is stored only where it is.
	a.api(t, "PUT", boxPath("BX1", "/positions/A1"), manager, map[string]any{"sample": kiel}).wantError(t, 409, "wrong_site", "sample")
	a.api(t, "PUT", boxPath("BX1", "/positions/A1"), kielTech, map[string]any{"sample": kiel}).wantError(t, 403, "forbidden", "")
	a.api(t, "GET", boxPath("BX1"), kielTech, nil).wantError(t, 403, "forbidden", "")
	// A tube not yet received is not stored.
	a.api(t, "PUT", boxPath("BX1", "/positions/A1"), manager, map[string]any{"sample": collected}).wantError(t, 409, "wrong_status", "")
	a.assertUnchanged(t, before)
}

// mustEnrolReady is a new consented participant of IBD at LUX with the visit open.
func (a *app) mustEnrolReady(tb testing.TB) string {
	tb.Helper()
	p, _ := a.mustReadyParticipant(tb, "nurse")
	return p
}

func TestAPIStorage_CheckOutAndIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	manager := a.usedToken(t, "manager")
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BX1", f1, "", 9, 9)
	ids := a.mustStored(t, "BX1", 3)

	refuse := func(t *testing.T, path, token string, body any, status int, code, field string) apiErr {
		t.Helper()
		before := a.state(t)
		e := a.api(t, "POST", path, token, body).wantError(t, status, code, field)
		a.assertUnchanged(t, before)
		return e
	}

	var list struct {
		Samples []storage.CheckedOut `json:"samples"`
	}
	a.api(t, "GET", "/api/v1/storage/checked-out", tech, nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if list.Samples == nil || len(list.Samples) != 0 {
		t.Errorf("checked out before any check-out: %+v (want [])", list.Samples)
	}

	got := a.api(t, "POST", samplePath(ids[0], "/checkout"), tech, map[string]any{"reason": "ELISA"}).wantStatus(t, http.StatusOK).object(t)
	if got["status"] != "checked_out" || got["id"] != ids[0] {
		t.Errorf("checked out: %v", got)
	}
	wantNumber(t, got, "freeze_thaw_count", 0)
	// The position stays reserved for it.
	a.wantLocation(t, tech, ids[0], "F1", "BX1", "A1")
	box := a.getBox(t, tech, "BX1")
	if box.occupant(t, "A1") != ids[0] || box.Free != 78 {
		t.Errorf("while checked out: A1 holds %q, %d free", box.occupant(t, "A1"), box.Free)
	}
	if ev := a.wantEvent(t, "sample", ids[0], "sample.check_out", "technician"); ev.Reason != "ELISA" {
		t.Errorf("check-out audited with reason %q", ev.Reason)
	}
	refuse(t, boxPath("BX1", "/next"), tech, map[string]any{"sample": ids[0]}, 409, "wrong_status", "")
	a.api(t, "GET", "/api/v1/storage/checked-out", a.usedToken(t, "nurse"), nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Samples) != 1 || list.Samples[0].Accession != ids[0] || list.Samples[0].By != "technician" ||
		list.Samples[0].Reason != "ELISA" || list.Samples[0].Box != "BX1" || list.Samples[0].Position != "A1" || list.Samples[0].Since.IsZero() {
		t.Errorf("checked out list %+v", list.Samples)
	}
	a.api(t, "GET", "/api/v1/storage/checked-out", a.usedToken(t, "technician-kiel"), nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Samples) != 0 {
		t.Errorf("KIEL sees LUX's checked-out tubes: %+v", list.Samples)
	}
	refuse(t, samplePath(ids[0], "/checkout"), tech, map[string]any{}, 409, "wrong_status", "")
	refuse(t, samplePath(ids[1], "/checkin"), tech, map[string]any{}, 409, "wrong_status", "")
	refuse(t, samplePath(ids[1], "/checkout"), a.usedToken(t, "nurse"), map[string]any{}, 403, "forbidden", "")
	refuse(t, samplePath(ids[1], "/checkout"), tech, map[string]any{"reason": strings.Repeat("x", 501)}, 422, "", "reason")
	refuse(t, samplePath(ids[1], "/checkout"), tech, map[string]any{"why": "x"}, 400, "malformed", "why")
	refuse(t, samplePath("FX99999999", "/checkout"), tech, map[string]any{}, 404, "not_found", "")

	// Checking in: back in its position, one more freeze–thaw cycle. No body is needed.
	got = a.api(t, "POST", samplePath(ids[0], "/checkin"), tech, nil).wantStatus(t, http.StatusOK).object(t)
	if got["status"] != "stored" {
		t.Errorf("checked in: %v", got)
	}
	wantNumber(t, got, "freeze_thaw_count", 1)
	a.wantLocation(t, tech, ids[0], "F1", "BX1", "A1")
	a.wantEvent(t, "sample", ids[0], "sample.check_in", "technician")
	a.api(t, "POST", samplePath(ids[0], "/checkout"), tech, nil).wantStatus(t, http.StatusOK)
	got = a.api(t, "POST", samplePath(ids[0], "/checkin"), tech, map[string]any{}).wantStatus(t, http.StatusOK).object(t)
	wantNumber(t, got, "freeze_thaw_count", 2)

	// A held sample may be moved, but not checked out.
	a.api(t, "POST", samplePath(ids[1], "/hold"), manager, map[string]any{"reason": "haemolysed"}).wantStatus(t, http.StatusOK)
	e := refuse(t, samplePath(ids[1], "/checkout"), tech, map[string]any{"reason": "assay"}, 409, "sample_on_hold", "")
	if !strings.Contains(e.Message, "haemolysed") {
		t.Errorf("hold refusal %q does not say why", e.Message)
	}
	a.api(t, "PUT", boxPath("BX1", "/positions/I9"), tech, map[string]any{"sample": ids[1]}).wantStatus(t, http.StatusOK)
	a.wantLocation(t, tech, ids[1], "F1", "BX1", "I9")

	// A checked-out sample that is used up gives its position back.
	a.api(t, "POST", samplePath(ids[2], "/checkout"), tech, nil).wantStatus(t, http.StatusOK)
	a.api(t, "POST", samplePath(ids[2], "/consume"), tech, map[string]any{"reason": "used up in the assay"}).wantStatus(t, http.StatusOK)
	if occ := a.getBox(t, tech, "BX1").occupant(t, "A3"); occ != "" {
		t.Errorf("A3 still holds %s after its sample was consumed", occ)
	}
}

func TestAPIStorage_FreeSpaceAndOccupancy(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	f80 := a.mustFreezer(t, "manager", "F80", "-80")
	f20 := a.mustFreezer(t, "manager", "F20", "-20")
	a.mustBox(t, "manager", "BXA", f80, "", 2, 2)
	a.mustBox(t, "manager", "BXB", f80, "", 3, 3)
	a.mustBox(t, "manager", "BXC", f20, "", 2, 2)
	kielF := a.mustFreezerAt(t, "admin", "KIEL", "K80", "-80")
	// An administrator of LUX sets up KIEL's storage by the freezer's id.
	a.mustBox(t, "admin", "KBX", kielF, "", 5, 5)
	a.mustStored(t, "BXA", 3)

	free := func(t *testing.T, token, query string) []string {
		t.Helper()
		var out struct {
			Boxes []storage.FreeBox `json:"boxes"`
		}
		a.api(t, "GET", "/api/v1/storage/free"+query, token, nil).wantStatus(t, http.StatusOK).decode(t, &out)
		if out.Boxes == nil {
			t.Errorf("free%s: boxes is null, want a list", query)
		}
		var got []string
		for _, b := range out.Boxes {
			got = append(got, fmt.Sprintf("%s:%d/%d", b.Barcode, b.Free, b.Size))
		}
		return got
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"BXA:1/4", "BXC:4/4", "BXB:9/9"}},
		{"?n=2", []string{"BXC:4/4", "BXB:9/9"}},
		{"?n=2&type=-80", []string{"BXB:9/9"}},
		{"?n=1&type=-80", []string{"BXA:1/4", "BXB:9/9"}},
		{"?n=10", nil},
		{"?type=ln2", nil},
	} {
		if got := free(t, tech, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("free%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	// Boxes already holding the type come first.
	serum := a.mustCollect(t, "nurse", a.mustEnrolReady(t), serumTube)[0]
	a.mustReceive(t, "technician", serum)
	a.mustPlace(t, "technician", "BXB", "", serum)
	for query, want := range map[string][]string{
		"?specimen_type=serum":  {"BXB:8/9", "BXA:1/4", "BXC:4/4"},
		"?specimen_type=plasma": {"BXA:1/4", "BXB:8/9", "BXC:4/4"},
	} {
		if got := free(t, tech, query); !slices.Equal(got, want) {
			t.Errorf("free%s = %v, want %v", query, got, want)
		}
	}
	if got := free(t, a.usedToken(t, "technician-kiel"), "?n=1"); !slices.Equal(got, []string{"KBX:25/25"}) {
		t.Errorf("free at KIEL = %v", got)
	}

	occupancy := func(t *testing.T, token string) map[string]string {
		t.Helper()
		var out struct {
			Boxes []map[string]any `json:"boxes"`
		}
		a.api(t, "GET", "/api/v1/storage/occupancy", token, nil).wantStatus(t, http.StatusOK).decode(t, &out)
		got := map[string]string{}
		for _, b := range out.Boxes {
			got[fmt.Sprint(b["box"])] = fmt.Sprintf("%v %v %v/%v", b["site"], b["freezer"], b["used"], b["size"])
		}
		return got
	}
	want := map[string]string{"BXA": "LUX F80 3/4", "BXB": "LUX F80 1/9", "BXC": "LUX F20 0/4"}
	if got := occupancy(t, tech); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("occupancy for LUX's technician = %v, want %v", got, want)
	}
	want["KBX"] = "KIEL K80 0/25"
	if got := occupancy(t, a.usedToken(t, "manager")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("occupancy for a manager = %v, want %v", got, want)
	}
}

func TestAPIStorage_MoveBoxAndRack(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	manager := a.usedToken(t, "manager")
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	f2 := a.mustFreezer(t, "manager", "F2", "-80")
	kielF := a.mustFreezerAt(t, "admin", "KIEL", "K1", "-80")
	rack := a.mustRack(t, "manager", f1, "R1")
	a.mustRack(t, "manager", f2, "R2")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	a.mustBox(t, "manager", "BX2", f1, "R1", 9, 9)
	inBX1 := a.mustStored(t, "BX1", 3)
	inBX2 := a.mustStored(t, "BX2", 2)

	refuse := func(t *testing.T, path, token string, body any, status int, code, field string) {
		t.Helper()
		before := a.state(t)
		a.api(t, "POST", path, token, body).wantError(t, status, code, field)
		a.assertUnchanged(t, before)
	}
	refuse(t, boxPath("BX1", "/move"), tech, map[string]any{"freezer": "F2", "reason": "F1 alarm"}, 403, "forbidden", "")
	refuse(t, boxPath("BX1", "/move"), manager, map[string]any{"freezer": "F2", "reason": ""}, 422, "reason_required", "reason")
	refuse(t, boxPath("BX1", "/move"), manager, map[string]any{"freezer": "F1", "rack": "R1", "reason": "x"}, 422, "invalid", "freezer")
	refuse(t, boxPath("BX1", "/move"), manager, map[string]any{"freezer": "F9", "reason": "x"}, 422, "invalid", "freezer")
	refuse(t, boxPath("BX1", "/move"), manager, map[string]any{"freezer": strconv.FormatInt(kielF.ID, 10), "reason": "x"}, 422, "invalid", "freezer")
	refuse(t, boxPath("BX1", "/move"), manager, map[string]any{"freezer": "F2", "rack": "R9", "reason": "x"}, 422, "invalid", "rack")
	refuse(t, boxPath("NOPE-1", "/move"), manager, map[string]any{"freezer": "F2", "reason": "x"}, 404, "not_found", "")

	// A whole box moves; every sample inside gets its own audited move.
	var box apiBoxBody
	a.api(t, "POST", boxPath("BX1", "/move"), manager, map[string]any{"freezer": "F2", "rack": "R2", "reason": "F1 alarm"}).
		wantStatus(t, http.StatusOK).decode(t, &box)
	if box.Freezer != "F2" || box.Rack != "R2" || box.Free != 78 {
		t.Errorf("moved box %+v", box)
	}
	for i, id := range inBX1 {
		pos := "A" + strconv.Itoa(i+1)
		a.wantLocation(t, tech, id, "F2", "BX1", pos)
		ev := a.wantEvent(t, "sample", id, "sample.move", "manager")
		before, after := auditLocation(t, ev.Before), auditLocation(t, ev.After)
		if ev.Reason != "F1 alarm" || before["freezer"] != "F1" || after["freezer"] != "F2" || after["rack"] != "R2" || before["position"] != pos || after["position"] != pos {
			t.Errorf("move of %s audited %q from %v to %v", id, ev.Reason, before, after)
		}
	}
	a.wantEvent(t, "box", "BX1", "storage.move_box", "manager")
	a.wantLocation(t, tech, inBX2[0], "F1", "BX2", "A1")

	// A whole rack moves with its boxes.
	refuse(t, "/api/v1/racks/"+strconv.FormatInt(rack.ID, 10)+"/move", tech, map[string]any{"freezer": "F2", "reason": "F1 alarm"}, 403, "forbidden", "")
	refuse(t, "/api/v1/racks/"+strconv.FormatInt(rack.ID, 10)+"/move", manager, map[string]any{"freezer": "F1", "reason": "x"}, 422, "invalid", "freezer")
	refuse(t, "/api/v1/racks/99999/move", manager, map[string]any{"freezer": "F2", "reason": "x"}, 404, "not_found", "")
	refuse(t, "/api/v1/racks/R1/move", manager, map[string]any{"freezer": "F2", "reason": "x"}, 404, "not_found", "")
	a.api(t, "POST", "/api/v1/racks/"+strconv.FormatInt(rack.ID, 10)+"/move", manager, map[string]any{"freezer": "F2", "reason": "F1 alarm"}).
		wantStatus(t, http.StatusNoContent)
	for i, id := range inBX2 {
		a.wantLocation(t, tech, id, "F2", "BX2", "A"+strconv.Itoa(i+1))
		if ev := a.wantEvent(t, "sample", id, "sample.move", "manager"); auditLocation(t, ev.Before)["freezer"] != "F1" {
			t.Errorf("rack move of %s audited from %s", id, ev.Before)
		}
	}
	if b := a.getBox(t, tech, "BX2"); b.Freezer != "F2" || b.Rack != "R1" {
		t.Errorf("BX2 after the rack move: %s › %s", b.Freezer, b.Rack)
	}
}

func TestAPIStorage_RackImport(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "RACK01", f1, "", 8, 12)
	a.mustBox(t, "manager", "OTHER", f1, "", 9, 9)
	ids := a.mustAliquots(t, "nurse", "technician", 4)
	labelled := serumTube
	labelled.TubeBarcode = "FX00077777"
	serum := a.mustCollect(t, "nurse", a.mustEnrolReady(t), labelled)[0]
	a.mustReceive(t, "technician", serum)
	a.mustPlace(t, "technician", "OTHER", "E5", ids[2])

	clean := "Rack,Position,Tube\n" +
		"RACK01,A01," + ids[0] + "\n" +
		"RACK01,A02,FX00077777\n" +
		"RACK01,A03," + ids[2] + "\n" +
		"RACK01,A04,\n"
	type preview struct {
		Box   string `json:"box"`
		Clean bool   `json:"clean"`
		Wells []storage.WellCheck
	}

	// Without confirm: the preview of every well, nothing placed.
	before := a.state(t)
	var p preview
	a.apiCSV(t, "/api/v1/boxes/import", tech, clean).wantStatus(t, http.StatusOK).decode(t, &p)
	a.assertUnchanged(t, before)
	var outcomes []string
	for _, w := range p.Wells {
		outcomes = append(outcomes, w.Position+":"+w.Outcome)
	}
	if p.Box != "RACK01" || !p.Clean || !slices.Equal(outcomes, []string{"A1:matched", "A2:matched", "A3:moved", "A4:empty"}) {
		t.Errorf("preview: box %s, clean %v, wells %v", p.Box, p.Clean, outcomes)
	}
	if p.Wells[1].Accession != serum {
		t.Errorf("the tube barcode was matched to %q, want %s", p.Wells[1].Accession, serum)
	}

	// Unclean files are previewed with the reason, and refused on confirm with nothing placed.
	unclean := clean + "RACK01,B01,FX00000404\nRACK01,B02,NO READ\nRACK01,E05," + ids[3] + "\n"
	a.apiCSV(t, "/api/v1/boxes/import", tech, unclean).wantStatus(t, http.StatusOK).decode(t, &p)
	outcomes = nil
	for _, w := range p.Wells {
		outcomes = append(outcomes, w.Position+":"+w.Outcome)
	}
	if p.Clean || !slices.Equal(outcomes[4:], []string{"B1:unknown", "B2:no_read", "E5:matched"}) {
		t.Errorf("unclean preview: clean %v, wells %v", p.Clean, outcomes)
	}
	a.apiCSV(t, "/api/v1/boxes/import?confirm=true", tech, unclean).wantError(t, http.StatusConflict, "rack_not_clean", "file")
	a.assertUnchanged(t, before)
	// A tube the LIMS has in another position of this box, where the scanner saw another.
	a.mustPlace(t, "technician", "RACK01", "H12", ids[3])
	conflict := clean + "RACK01,H12," + ids[1] + "\n"
	a.apiCSV(t, "/api/v1/boxes/import", tech, conflict).wantStatus(t, http.StatusOK).decode(t, &p)
	if last := p.Wells[len(p.Wells)-1]; p.Clean || last.Outcome != "conflict" || !strings.Contains(last.Message, ids[3]) {
		t.Errorf("conflicting well: clean %v, %+v", p.Clean, last)
	}
	before = a.state(t)
	a.apiCSV(t, "/api/v1/boxes/import?confirm=true", tech, conflict).wantError(t, http.StatusConflict, "rack_not_clean", "file")
	a.assertUnchanged(t, before)

	// Files that cannot be used at all name the offending lines.
	for _, tc := range []struct {
		name, body string
		lines      []int
	}{
		{"two racks", "RACK01,A1," + ids[0] + "\nRACK02,A2," + ids[1] + "\n", []int{1, 2}},
		{"a position twice", "RACK01,A1," + ids[0] + "\nRACK01,A01," + ids[1] + "\n", []int{2}},
		{"a tube twice", "RACK01,A1," + ids[0] + "\nRACK01,A2," + ids[0] + "\n", []int{2}},
		{"garbage", "\x00\x01\x02\xff\xfe", nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			r := a.apiCSV(t, "/api/v1/boxes/import?confirm=true", tech, tc.body)
			a.assertUnchanged(t, before)
			var body struct {
				Error    apiErr              `json:"error"`
				Problems []storage.LineError `json:"problems"`
			}
			r.wantStatus(t, http.StatusUnprocessableEntity).decode(t, &body)
			if body.Error.Code != "bad_rack_file" || body.Error.Field != "file" || body.Error.Message == "" {
				t.Errorf("error %+v", body.Error)
			}
			var lines []int
			for _, pr := range body.Problems {
				if pr.Line > 0 {
					lines = append(lines, pr.Line)
				}
				if !strings.Contains(body.Error.Message, pr.Message) {
					t.Errorf("message %q does not name the problem %q", body.Error.Message, pr.Message)
				}
			}
			if !slices.Equal(lines, tc.lines) {
				t.Errorf("problems on lines %v, want %v: %+v", lines, tc.lines, body.Problems)
			}
			for _, l := range tc.lines {
				if !strings.Contains(body.Error.Message, "line "+strconv.Itoa(l)) {
					t.Errorf("message %q does not name line %d", body.Error.Message, l)
				}
			}
		})
	}
	nurse, kielTech := a.usedToken(t, "nurse"), a.usedToken(t, "technician-kiel")
	before = a.state(t)
	a.apiCSV(t, "/api/v1/boxes/import", tech, "NOSUCHBOX,A1,"+ids[0]+"\n").wantError(t, http.StatusUnprocessableEntity, "invalid", "file")
	a.apiCSV(t, "/api/v1/boxes/import", nurse, clean).wantError(t, http.StatusForbidden, "forbidden", "")
	a.apiCSV(t, "/api/v1/boxes/import", kielTech, clean).wantError(t, http.StatusForbidden, "forbidden", "")
	a.assertUnchanged(t, before)

	// Confirmed, a clean file places every tube in one go.
	got := a.apiCSV(t, "/api/v1/boxes/import?confirm=true", tech, clean).wantStatus(t, http.StatusOK).object(t)
	if got["box"] != "RACK01" || got["placed"] != float64(3) {
		t.Errorf("import: %v", got)
	}
	box := a.getBox(t, tech, "RACK01")
	for pos, want := range map[string]string{"A1": ids[0], "A2": serum, "A3": ids[2], "A4": "", "H12": ids[3]} {
		if got := box.occupant(t, pos); got != want {
			t.Errorf("%s holds %q, want %q", pos, got, want)
		}
	}
	a.wantEvent(t, "sample", ids[0], "sample.place", "technician")
	a.wantEvent(t, "sample", ids[2], "sample.move", "technician")
	if occ := a.getBox(t, tech, "OTHER").occupant(t, "E5"); occ != "" {
		t.Errorf("E5 of OTHER still holds %s", occ)
	}
	// The same file again: every well is already in place.
	a.apiCSV(t, "/api/v1/boxes/import", tech, clean).wantStatus(t, http.StatusOK).decode(t, &p)
	if !p.Clean || p.Wells[0].Outcome != "already" {
		t.Errorf("a repeat preview: clean %v, %+v", p.Clean, p.Wells)
	}
}

// TestRoleMatrix_StorageAPI checks every storage API route with a token of every role and
// without one. A role allowed a state-changing route is sent a request the service refuses
// (422 or 409), so that the matrix shows who gets past the door without changing anything.
func TestRoleMatrix_StorageAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	rack := a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	id := a.mustStored(t, "BX1", 1)[0]
	rackPath := "/api/v1/racks/" + strconv.FormatInt(rack.ID, 10) + "/move"
	freezerRacks := "/api/v1/freezers/" + strconv.FormatInt(f1.ID, 10) + "/racks"

	all := auth.Roles
	lab := []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleTechnician}
	managers := []auth.Role{auth.RoleAdmin, auth.RoleManager}
	admin := []auth.Role{auth.RoleAdmin}
	routes := []struct {
		method, path string
		body         any
		ok           int
		roles        []auth.Role
	}{
		{"GET", "/api/v1/freezers", nil, 200, all},
		{"POST", "/api/v1/freezers", map[string]any{"name": "F2", "type": "-70", "temperature": -70}, 422, managers},
		{"POST", freezerRacks, map[string]any{"name": ""}, 422, managers},
		{"POST", rackPath, map[string]any{"freezer": "F1", "reason": ""}, 422, managers},
		{"POST", "/api/v1/boxes", map[string]any{"barcode": "BX2", "freezer": "F1", "rows": 27, "cols": 9}, 422, managers},
		{"GET", "/api/v1/box-types", nil, 200, all},
		{"POST", "/api/v1/box-types", map[string]any{"name": "0 × 0", "rows": 0, "cols": 0}, 422, admin},
		{"POST", "/api/v1/boxes/import", "garbage\x00", 422, lab},
		{"GET", boxPath("BX1"), nil, 200, all},
		{"PUT", boxPath("BX1", "/positions/Z9"), map[string]any{"sample": id}, 422, lab},
		{"DELETE", boxPath("BX1", "/positions/Z9"), nil, 422, lab},
		{"POST", boxPath("BX1", "/next"), map[string]any{"sample": ""}, 422, lab},
		{"POST", boxPath("BX1", "/move"), map[string]any{"freezer": "F1", "reason": ""}, 422, managers},
		{"POST", samplePath(id, "/checkout"), map[string]any{"reason": strings.Repeat("x", 501)}, 422, lab},
		{"POST", samplePath(id, "/checkin"), map[string]any{}, 409, lab},
		{"GET", "/api/v1/storage/free", nil, 200, all},
		{"GET", "/api/v1/storage/checked-out", nil, 200, all},
		{"GET", "/api/v1/storage/occupancy", nil, 200, all},
	}
	call := func(t *testing.T, method, path, token string, body any) *apiResp {
		t.Helper()
		if s, ok := body.(string); ok {
			return a.apiCSV(t, path, token, s)
		}
		return a.api(t, method, path, token, body)
	}
	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			token := a.usedToken(t, string(role))
			for _, rt := range routes {
				before := a.state(t)
				r := call(t, rt.method, rt.path, token, rt.body)
				if !slices.Contains(rt.roles, role) {
					r.wantError(t, http.StatusForbidden, "forbidden", "")
				} else if r.Status != rt.ok {
					t.Errorf("%s %s as %s: status %d, want %d: %s", rt.method, rt.path, role, r.Status, rt.ok, r.Body)
				}
				if rt.method != "GET" {
					a.assertUnchanged(t, before)
				}
			}
		})
	}
	t.Run("signed out", func(t *testing.T) {
		for _, rt := range routes {
			before := a.state(t)
			r := call(t, rt.method, rt.path, "", rt.body)
			r.wantError(t, http.StatusUnauthorized, "unauthenticated", "")
			a.assertUnchanged(t, before)
		}
	})
}

// TestAPIStorage_RackImportOfOtherLayouts: numbered wells counted down the columns into
// the box named in the query, and a Micronic JSON scan result, previewed and placed.
func TestAPIStorage_RackImportOfOtherLayouts(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	tech := a.usedToken(t, "technician")
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "IDX-1", f1, "", 8, 12)
	a.mustBox(t, "manager", "MIC-0001", f1, "", 8, 12)
	ids := a.mustAliquots(t, "nurse", "technician", 4)
	var got struct {
		Box    string `json:"box"`
		Layout string `json:"layout"`
		Clean  bool   `json:"clean"`
		Wells  []storage.WellCheck
	}
	before := a.state(t)
	a.api(t, "POST", "/api/v1/boxes/import?box=IDX-1&order=columns", tech, "1,"+ids[0]+"\n2,"+ids[1]+"\n9,\n").
		wantStatus(t, http.StatusOK).decode(t, &got)
	if !got.Clean || len(got.Wells) != 3 || got.Wells[0].Position != "A1" || got.Wells[1].Position != "B1" || got.Wells[2].Position != "A2" {
		t.Fatalf("numbered wells down the columns of an 8×12 box: %+v", got)
	}
	a.api(t, "POST", "/api/v1/boxes/import?box=IDX-1", tech, "1,"+ids[0]+"\n2,"+ids[1]+"\n97,\n").
		wantStatus(t, http.StatusOK).decode(t, &got)
	if got.Clean || got.Wells[1].Position != "A2" || got.Wells[2].Outcome != "conflict" {
		t.Errorf("well 97 of a 96-position box: %+v", got)
	}
	a.assertUnchanged(t, before)
	a.api(t, "POST", "/api/v1/boxes/import?box=IDX-1&order=columns&confirm=true", tech, "1,"+ids[0]+"\n2,"+ids[1]+"\n").
		wantStatus(t, http.StatusOK)
	if where := a.whereIs(t, ids[1]); where != "F1 › IDX-1 › B1" {
		t.Errorf("%s is at %q", ids[1], where)
	}

	scan := `{"rackId": "MIC-0001", "tubes": [{"position": "A01", "tubeId": "` + ids[2] + `", "status": "Code OK"},
		{"position": "A02", "tubeId": "` + ids[3] + `", "status": "Code OK"}, {"position": "A03", "tubeId": "", "status": "No Tube"}]}`
	a.api(t, "POST", "/api/v1/boxes/import", tech, scan).wantStatus(t, http.StatusOK).decode(t, &got)
	if !got.Clean || got.Box != "MIC-0001" || !strings.Contains(got.Layout, "JSON") || len(got.Wells) != 3 {
		t.Fatalf("Micronic JSON: %+v", got)
	}
	a.api(t, "POST", "/api/v1/boxes/import?confirm=true", tech, scan).wantStatus(t, http.StatusOK)
	if where := a.whereIs(t, ids[3]); where != "F1 › MIC-0001 › A2" {
		t.Errorf("%s is at %q", ids[3], where)
	}
	// A rack the file names that is not the box in the query is refused.
	before = a.state(t)
	r := a.api(t, "POST", "/api/v1/boxes/import?box=IDX-1", tech, scan).wantStatus(t, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.Body), `"code":"bad_rack_file"`) || !strings.Contains(string(r.Body), "not of box IDX-1") {
		t.Errorf("a scan of another rack: %s", r.Body)
	}
	a.assertUnchanged(t, before)
}
