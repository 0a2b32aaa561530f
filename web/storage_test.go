package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"biobank/internal/auth"
	"biobank/internal/sample"
	"biobank/web"
)

// upload loads the page at from and posts a multipart form to action with the file
// content as field, and that page's CSRF token, as a browser's file upload would.
func (c *client) upload(tb testing.TB, from, action, field, filename, content string) *page {
	tb.Helper()
	return c.uploadWith(tb, from, action, field, filename, content, nil)
}

// uploadWith is upload with other form fields beside the file.
func (c *client) uploadWith(tb testing.TB, from, action, field, filename, content string, fields url.Values) *page {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("_csrf", c.csrf(tb, from)); err != nil {
		tb.Fatal(err)
	}
	for k, vs := range fields {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if field != "" {
		fw, err := w.CreateFormFile(field, filename)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := fw.Write([]byte(content)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.app.ts.URL+action, &buf)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(tb, req)
}

// whereIs returns where a sample is stored, as people read it ("" when it has no
// position).
func (a *app) whereIs(tb testing.TB, code string) string {
	tb.Helper()
	loc, err := a.storageService().Location(context.Background(), a.mustSample(tb, code).ID)
	if err != nil {
		tb.Fatal(err)
	}
	if loc == nil {
		return ""
	}
	return loc.String()
}

// boxTypeID returns the id of the seeded box type of rows × cols.
func (a *app) boxTypeID(tb testing.TB, rows, cols int) string {
	tb.Helper()
	types, err := a.storageService().BoxTypes(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, bt := range types {
		if bt.Rows == rows && bt.Cols == cols {
			return strconv.FormatInt(bt.ID, 10)
		}
	}
	tb.Fatalf("no box type of %d × %d", rows, cols)
	return ""
}

// idOf is a record's id as a form sends it.
func idOf(n int64) string { return strconv.FormatInt(n, 10) }

// cell returns the grid cell at position.
func (p *page) cell(tb testing.TB, position string) *goquery.Selection {
	tb.Helper()
	return p.wantTestID(tb, "cell-"+position)
}

// wantClass fails the test unless s has (or, with want false, lacks) class cls.
func wantClass(tb testing.TB, s *goquery.Selection, cls string, want bool) {
	tb.Helper()
	if s.HasClass(cls) != want {
		c, _ := s.Attr("class")
		tb.Errorf("class %q: has %s %v, want %v", c, cls, !want, want)
	}
}

// text is the trimmed text of the element with id (a CSS selector such as "#e-f-name").
func (p *page) text(sel string) string {
	if p.Doc == nil {
		return ""
	}
	return strings.TrimSpace(p.Doc.Find(sel).Text())
}

// wantLabelled fails the test unless every visible input and select of the page has a
// label.
func wantLabelled(tb testing.TB, p *page) {
	tb.Helper()
	p.Doc.Find(`input:not([type="hidden"]), select`).Each(func(_ int, in *goquery.Selection) {
		id, _ := in.Attr("id")
		if id == "" || p.Doc.Find(`label[for="`+id+`"]`).Length() == 0 {
			name, _ := in.Attr("name")
			tb.Errorf("%s: input %q (id %q) has no label", p.Request.URL.RequestURI(), name, id)
		}
	})
}

func TestStoragePage_OverviewWithHeatMap(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	a.mustBox(t, "manager", "BX2", f1, "", 2, 2)
	a.mustStored(t, "BX1", 1)
	a.mustStored(t, "BX2", 4)

	for _, role := range []string{"technician", "nurse", "manager", "admin"} {
		t.Run(role, func(t *testing.T) {
			p := a.signedIn(t, role).get(t, "/storage").wantStatus(t, http.StatusOK)
			card := p.wantTestID(t, "freezer-"+idOf(f1.ID))
			if txt := card.Text(); !strings.Contains(txt, "F1") || !strings.Contains(txt, "LUX") || !strings.Contains(txt, "5 of 85 positions used") {
				t.Errorf("freezer card %q", txt)
			}
			heat := card.Find(testidSel("heat-box"))
			if heat.Length() != 2 {
				t.Fatalf("%d boxes in the heat map, want 2", heat.Length())
			}
			// Boxes outside racks first, then by rack and barcode.
			for i, want := range []struct{ href, class, text string }{
				{"/boxes/BX2", "heat-4", "100% (4/4)"},
				{"/boxes/BX1", "heat-1", "1% (1/81)"},
			} {
				box := heat.Eq(i)
				if href, _ := box.Attr("href"); href != want.href || !box.HasClass(want.class) || !strings.Contains(box.Text(), want.text) {
					cls, _ := box.Attr("class")
					t.Errorf("heat map box %d: %s, class %q, %q; want %+v", i, href, cls, box.Text(), want)
				}
			}
			setUp := role == "manager" || role == "admin"
			for _, form := range []string{"freezer-form", "rack-form", "box-form", "move-rack-form"} {
				if got := p.testid(form).Length() > 0; got != setUp {
					t.Errorf("%s offered %s: %v", role, form, got)
				}
			}
			if got := p.testid("box-type-form").Length() > 0; got != (role == "admin") {
				t.Errorf("%s offered the box type form: %v", role, got)
			}
			if got := p.Doc.Find(`a[href="/storage/import"]`).Length() > 0; got != (role != "nurse") {
				t.Errorf("%s offered the rack scanner import: %v", role, got)
			}
			wantLabelled(t, p)
		})
	}
	// Another site's technician sees none of LUX's freezers.
	p := a.signedIn(t, "technician-kiel").get(t, "/storage").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "no-freezers")
	if p.testid("heat-box").Length() != 0 {
		t.Error("KIEL's technician sees LUX's boxes")
	}
}

func TestStoragePage_SetUpForms(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "", 9, 9)
	manager := a.signedIn(t, "manager")
	admin := a.signedIn(t, "admin")
	tenByTen := a.boxTypeID(t, 10, 10)

	// refused posts a form that must come back with the message beside field, the values
	// kept, and nothing written.
	prefixes := map[string]string{"freezer-form": "freezer-", "rack-form": "rack-", "box-form": "box-", "box-type-form": "boxtype-"}
	refused := func(t *testing.T, c *client, action, form, field string, vals url.Values) *page {
		t.Helper()
		before := a.state(t)
		p := c.submit(t, "/storage", action, vals).wantStatus(t, http.StatusUnprocessableEntity)
		a.assertUnchanged(t, before)
		p.wantTestID(t, form)
		if msg := p.text("#e-f-" + prefixes[form] + field); msg == "" {
			t.Errorf("%s: no message beside %s\n%s", action, field, excerpt(p.Body))
		}
		p.wantNoGoError(t)
		return p
	}
	valueOf := func(p *page, inputID string) string {
		in := p.Doc.Find("#" + inputID)
		if goquery.NodeName(in) == "select" {
			v, _ := in.Find("option[selected]").Attr("value")
			return v
		}
		v, _ := in.Attr("value")
		return v
	}

	// Freezers.
	manager.submit(t, "/storage", "/storage/freezers", url.Values{"name": {"F2"}, "type": {"-20"}, "temperature": {"-20"}}).
		wantRedirect(t, "/storage")
	p := manager.get(t, "/storage").wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "F2") {
		t.Errorf("flash %q", msg)
	}
	if n := p.Doc.Find(`[data-testid^="freezer-"]`).Not(testidSel("freezer-form")).Length(); n != 2 {
		t.Errorf("%d freezer cards, want 2", n)
	}
	a.wantEvent(t, "freezer", idOf(f1.ID+1), "storage.create_freezer", "manager")
	p = refused(t, manager, "/storage/freezers", "freezer-form", "temperature", url.Values{"name": {"F3"}, "type": {"-20"}, "temperature": {"cold"}})
	if valueOf(p, "f-freezer-name") != "F3" || valueOf(p, "f-freezer-type") != "-20" || valueOf(p, "f-freezer-temperature") != "cold" {
		t.Errorf("values not kept: %q %q %q", valueOf(p, "f-freezer-name"), valueOf(p, "f-freezer-type"), valueOf(p, "f-freezer-temperature"))
	}
	refused(t, manager, "/storage/freezers", "freezer-form", "type", url.Values{"name": {"F3"}, "type": {"-70"}, "temperature": {"-70"}})
	refused(t, manager, "/storage/freezers", "freezer-form", "temperature", url.Values{"name": {"F3"}, "type": {"-80"}, "temperature": {"-250"}})
	refused(t, manager, "/storage/freezers", "freezer-form", "name", url.Values{"name": {""}, "type": {"-80"}, "temperature": {"-80"}})
	p = refused(t, manager, "/storage/freezers", "freezer-form", "name", url.Values{"name": {"F1"}, "type": {"-80"}, "temperature": {"-80"}})
	if msg := p.text("#e-f-freezer-name"); !strings.Contains(msg, "F1") {
		t.Errorf("duplicate freezer message %q", msg)
	}

	// Racks.
	manager.submit(t, "/storage", "/storage/racks", url.Values{"freezer": {idOf(f1.ID)}, "name": {"R2"}}).wantRedirect(t, "/storage")
	if msg := manager.get(t, "/storage").wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "R2") {
		t.Errorf("flash %q", msg)
	}
	p = refused(t, manager, "/storage/racks", "rack-form", "name", url.Values{"freezer": {idOf(f1.ID)}, "name": {""}})
	if valueOf(p, "f-rack-freezer") != idOf(f1.ID) {
		t.Errorf("the freezer chosen came back as %q", valueOf(p, "f-rack-freezer"))
	}
	refused(t, manager, "/storage/racks", "rack-form", "name", url.Values{"freezer": {idOf(f1.ID)}, "name": {"R1"}})
	refused(t, manager, "/storage/racks", "rack-form", "freezer", url.Values{"freezer": {""}, "name": {"R3"}})

	// Boxes, from a box type, in a rack.
	manager.submit(t, "/storage", "/storage/boxes", url.Values{"barcode": {"BX3"}, "freezer": {idOf(f1.ID)}, "rack": {"R1"}, "box_type": {tenByTen}}).
		wantRedirect(t, "/storage")
	if msg := manager.get(t, "/storage").wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "BX3") {
		t.Errorf("flash %q", msg)
	}
	if b, err := a.storageService().FindBox(context.Background(), a.actorOf(t, "manager"), "BX3"); err != nil || b.Rows != 10 || b.Cols != 10 || b.Rack == nil || b.Rack.Name != "R1" {
		t.Errorf("box BX3: %+v, %v", b, err)
	}
	p = refused(t, manager, "/storage/boxes", "box-form", "barcode", url.Values{"barcode": {"B!"}, "freezer": {idOf(f1.ID)}, "rack": {"R1"}, "box_type": {tenByTen}})
	if valueOf(p, "f-box-barcode") != "B!" || valueOf(p, "f-box-rack") != "R1" || valueOf(p, "f-box-box_type") != tenByTen || valueOf(p, "f-box-freezer") != idOf(f1.ID) {
		t.Errorf("values not kept: %q %q %q %q", valueOf(p, "f-box-barcode"), valueOf(p, "f-box-rack"), valueOf(p, "f-box-box_type"), valueOf(p, "f-box-freezer"))
	}
	refused(t, manager, "/storage/boxes", "box-form", "box_type", url.Values{"barcode": {"BX4"}, "freezer": {idOf(f1.ID)}, "box_type": {""}})
	refused(t, manager, "/storage/boxes", "box-form", "rack", url.Values{"barcode": {"BX4"}, "freezer": {idOf(f1.ID)}, "rack": {"R9"}, "box_type": {tenByTen}})
	refused(t, manager, "/storage/boxes", "box-form", "freezer", url.Values{"barcode": {"BX4"}, "freezer": {""}, "box_type": {tenByTen}})
	refused(t, manager, "/storage/boxes", "box-form", "barcode", url.Values{"barcode": {"BX1"}, "freezer": {idOf(f1.ID)}, "box_type": {tenByTen}})

	// Box types are the administrator's.
	admin.submit(t, "/storage", "/storage/box-types", url.Values{"name": {"7 × 7 large cryobox"}, "rows": {"7"}, "cols": {"7"}}).
		wantRedirect(t, "/storage")
	p = admin.get(t, "/storage").wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "7 × 7 large cryobox") {
		t.Errorf("flash %q", msg)
	}
	if p.Doc.Find(`#f-box-box_type option:contains("7 × 7 large cryobox")`).Length() != 1 {
		t.Error("the new box type is not offered for new boxes")
	}
	p = refused(t, admin, "/storage/box-types", "box-type-form", "rows", url.Values{"name": {"Big"}, "rows": {"27"}, "cols": {"9"}})
	if valueOf(p, "f-boxtype-name") != "Big" || valueOf(p, "f-boxtype-rows") != "27" {
		t.Errorf("values not kept: %q %q", valueOf(p, "f-boxtype-name"), valueOf(p, "f-boxtype-rows"))
	}
	if msg := p.text("#e-f-boxtype-rows"); msg == "" {
		t.Error("no message beside the rows of the box type")
	}
	refused(t, admin, "/storage/box-types", "box-type-form", "cols", url.Values{"name": {"Big"}, "rows": {"9"}, "cols": {"many"}})
	refused(t, admin, "/storage/box-types", "box-type-form", "name", url.Values{"name": {"7 × 7 large cryobox"}, "rows": {"7"}, "cols": {"7"}})
	tech := a.signedIn(t, "technician")
	before := a.state(t)
	manager.submit(t, "/storage", "/storage/box-types", url.Values{"name": {"6 × 6"}, "rows": {"6"}, "cols": {"6"}}).
		wantStatus(t, http.StatusForbidden).wantTestID(t, "error-403")
	tech.submit(t, "/storage", "/storage/freezers", url.Values{"name": {"F9"}, "type": {"-20"}, "temperature": {"-20"}}).
		wantStatus(t, http.StatusForbidden).wantTestID(t, "error-403")
	a.assertUnchanged(t, before)
}

func TestBoxPage_ScanToPlace(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	ids := a.mustAliquots(t, "nurse", "technician", 6)
	tech := a.signedIn(t, "technician")
	const box = "/boxes/BX1"

	p := tech.get(t, box).wantStatus(t, http.StatusOK)
	if got := p.text(testidSel("box-barcode")); got != "BX1" {
		t.Errorf("box barcode %q", got)
	}
	if loc := p.text(testidSel("box-location")); !strings.Contains(loc, "LUX › F1") || !strings.Contains(loc, "R1") || !strings.Contains(loc, "9 × 9") {
		t.Errorf("box location %q", loc)
	}
	if free := p.text(testidSel("box-free")); free != "81" {
		t.Errorf("free %q, want 81", free)
	}
	if n := p.Doc.Find(`td[data-testid^="cell-"]`).Length(); n != 81 {
		t.Errorf("%d cells, want 81", n)
	}
	if _, ok := p.wantTestID(t, "place-input").Attr("autofocus"); !ok {
		t.Error("the scan field is not focused")
	}
	if href, _ := p.cell(t, "A1").Find("a").Attr("href"); href != box+"?position=A1" {
		t.Errorf("a free cell links to %q", href)
	}
	wantLabelled(t, p)

	// Scanned tubes go into the next free position, row by row.
	p = tech.submit(t, box, box, url.Values{"sample": {ids[0]}, "position": {""}}).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "place-ok").Text(); !strings.Contains(msg, ids[0]) || !strings.Contains(msg, "A1") {
		t.Errorf("placed: %q", msg)
	}
	a1 := p.cell(t, "A1")
	if href, _ := a1.Find("a").Attr("href"); href != "/samples/"+ids[0] {
		t.Errorf("A1 links to %q", href)
	}
	if title, _ := a1.Find("a").Attr("title"); !strings.Contains(title, ids[0]) {
		t.Errorf("A1 names %q on hover", title)
	}
	if txt := strings.TrimSpace(a1.Text()); !strings.Contains(txt, "PL") || !strings.Contains(txt, "●") {
		t.Errorf("A1 shows %q, want the type abbreviation and the stored mark", txt)
	}
	for _, cls := range []string{"cell-stored", "type-plasma", "cell-highlight"} {
		wantClass(t, a1, cls, true)
	}
	if free := p.text(testidSel("box-free")); free != "80" {
		t.Errorf("free %q, want 80", free)
	}
	if _, ok := p.wantTestID(t, "place-input").Attr("autofocus"); !ok {
		t.Error("the scan field is not focused for the next tube")
	}
	a.wantEvent(t, "sample", ids[0], "sample.place", "technician")
	p = tech.submit(t, box, box, url.Values{"sample": {"  " + strings.ToLower(ids[1]) + " "}, "position": {""}}).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "place-ok").Text(); !strings.Contains(msg, ids[1]) || !strings.Contains(msg, "A2") {
		t.Errorf("placed: %q", msg)
	}
	wantClass(t, p.cell(t, "A1"), "cell-highlight", false)

	// A position chosen first.
	p = tech.get(t, box+"?position=b2").wantStatus(t, http.StatusOK)
	if lbl := p.text(`label[for="place-sample"]`); !strings.Contains(lbl, "B2") {
		t.Errorf("scan label %q does not name B2", lbl)
	}
	if got := p.inputValue(t, "position"); got != "B2" {
		t.Errorf("chosen position %q", got)
	}
	wantClass(t, p.cell(t, "B2"), "cell-selected", true)
	p = tech.submit(t, box+"?position=B2", box, url.Values{"sample": {ids[2]}, "position": {"B2"}}).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "place-ok").Text(); !strings.Contains(msg, "B2") {
		t.Errorf("placed: %q", msg)
	}
	if got := a.whereIs(t, ids[2]); got != "F1 › R1 › BX1 › B2" {
		t.Errorf("%s is at %q", ids[2], got)
	}
	if got := p.inputValue(t, "position"); got != "" {
		t.Errorf("after placing, the form still chooses %q", got)
	}

	// Refusals say why beside the scan field and change nothing.
	for _, tc := range []struct {
		name, sample, position string
		status                 int
		says                   string
	}{
		{"occupied", ids[3], "A1", http.StatusConflict, ids[0]},
		{"unknown code", "FX99999999", "", http.StatusNotFound, "no sample or box has this code"},
		{"a repeat scan", ids[0], "", http.StatusConflict, "already"},
		{"outside the grid", ids[3], "J10", http.StatusUnprocessableEntity, "J10"},
		{"a misread accession ID", misreadAccession(t, ids[3]), "", http.StatusUnprocessableEntity, ids[3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.state(t)
			p := tech.submit(t, box, box, url.Values{"sample": {tc.sample}, "position": {tc.position}}).wantStatus(t, tc.status)
			a.assertUnchanged(t, before)
			msg := p.wantTestID(t, "place-error").Text()
			if !strings.Contains(msg, tc.says) || !strings.Contains(msg, tc.sample) {
				t.Errorf("refusal %q does not say %q about %s", msg, tc.says, tc.sample)
			}
			if p.testid("place-ok").Length() != 0 {
				t.Error("a refused scan also says it was placed")
			}
			p.wantTestID(t, "place-form")
			p.wantNoGoError(t)
		})
	}

	// The grid shows each status by a mark as well as a colour.
	a.mustPlace(t, "technician", "BX1", "C1", ids[4])
	a.mustPlace(t, "technician", "BX1", "C2", ids[5])
	if _, err := a.storageService().CheckOut(context.Background(), a.actorOf(t, "technician"), ids[4], "ELISA"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.sampleService().Quarantine(context.Background(), a.actorOf(t, "manager"), ids[5], "haemolysed"); err != nil {
		t.Fatal(err)
	}
	p = tech.get(t, box).wantStatus(t, http.StatusOK)
	for pos, want := range map[string]struct{ class, mark string }{
		"A1": {"cell-stored", "●"}, "C1": {"cell-reserved", "◌"}, "C2": {"cell-held", "▲"},
	} {
		c := p.cell(t, pos)
		wantClass(t, c, want.class, true)
		if !strings.Contains(c.Text(), want.mark) {
			t.Errorf("%s shows %q, want the mark %s", pos, strings.TrimSpace(c.Text()), want.mark)
		}
	}
	if free := p.text(testidSel("box-free")); free != "76" {
		t.Errorf("free %q, want 76 (a checked-out tube keeps its position)", free)
	}

	// The grid alone, for the page's script to refresh.
	p = tech.get(t, box+"/grid?position=D4&sample="+ids[1]).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "box-grid")
	if p.testid("who").Length() != 0 || p.testid("place-form").Length() != 0 || p.testid("box-barcode").Length() != 0 {
		t.Error("the grid comes with the whole page")
	}
	wantClass(t, p.cell(t, "D4"), "cell-selected", true)
	wantClass(t, p.cell(t, "A2"), "cell-highlight", true)
	wantClass(t, p.cell(t, "C1"), "cell-reserved", true)

	// A nurse sees the grid without the scan form; another site's technician not at all.
	p = a.signedIn(t, "nurse").get(t, box).wantStatus(t, http.StatusOK)
	if p.testid("place-form").Length() != 0 || p.cell(t, "D4").Find("a").Length() != 0 {
		t.Error("a nurse is offered to place tubes")
	}
	p = a.signedIn(t, "technician-kiel").get(t, box).wantStatus(t, http.StatusForbidden)
	p.wantTestID(t, "error-403")
	tech.get(t, "/boxes/NOPE-1").wantStatus(t, http.StatusNotFound).wantTestID(t, "error-404")

	// Placing a tube that is elsewhere moves it, and says so.
	a.mustBox(t, "manager", "BX2", f1, "", 9, 9)
	p = tech.submit(t, "/boxes/BX2", "/boxes/BX2", url.Values{"sample": {ids[0]}}).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "place-ok").Text(); !strings.Contains(msg, "moved") || !strings.Contains(msg, "BX1") {
		t.Errorf("move: %q", msg)
	}
	a.wantEvent(t, "sample", ids[0], "sample.move", "technician")
}

func TestBoxPage_MoveBoxForm(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	f2 := a.mustFreezer(t, "manager", "F2", "-80")
	a.mustRack(t, "manager", f2, "R2")
	a.mustBox(t, "manager", "BX1", f1, "", 9, 9)
	ids := a.mustStored(t, "BX1", 3)
	manager := a.signedIn(t, "manager")
	const box = "/boxes/BX1"

	tech := a.signedIn(t, "technician")
	if tech.get(t, box).wantStatus(t, http.StatusOK).testid("move-box-form").Length() != 0 {
		t.Error("a technician is offered to move the box")
	}
	p := manager.get(t, box).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "move-box-form")
	wantLabelled(t, p)

	before := a.state(t)
	p = manager.submit(t, box, box+"/move", url.Values{"freezer": {idOf(f2.ID)}, "rack": {"R2"}, "reason": {""}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	if p.text("#e-f-move-reason") == "" {
		t.Error("no message beside the reason")
	}
	if v, _ := p.Doc.Find("#f-move-freezer option[selected]").Attr("value"); v != idOf(f2.ID) {
		t.Errorf("the freezer chosen came back as %q", v)
	}
	if v, _ := p.Doc.Find("#f-move-rack").Attr("value"); v != "R2" {
		t.Errorf("the rack came back as %q", v)
	}
	if _, open := p.wantTestID(t, "move-box-form").Closest("details").Attr("open"); !open {
		t.Error("the refused move form is folded away")
	}
	p = manager.submit(t, box, box+"/move", url.Values{"freezer": {idOf(f1.ID)}, "reason": {"tidy"}}).wantStatus(t, http.StatusUnprocessableEntity)
	if p.text("#e-f-move-freezer") == "" {
		t.Error("no message beside the freezer when the box is already there")
	}
	manager.submit(t, box, box+"/move", url.Values{"freezer": {idOf(f2.ID)}, "rack": {"R9"}, "reason": {"F1 alarm"}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	tech.submit(t, box, box+"/move", url.Values{"freezer": {idOf(f2.ID)}, "reason": {"F1 alarm"}}).
		wantStatus(t, http.StatusForbidden)
	a.assertUnchanged(t, before)

	manager.submit(t, box, box+"/move", url.Values{"freezer": {idOf(f2.ID)}, "rack": {"R2"}, "reason": {"F1 alarm"}}).wantRedirect(t, box)
	p = manager.get(t, box).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "F2") {
		t.Errorf("flash %q", msg)
	}
	if loc := p.text(testidSel("box-location")); !strings.Contains(loc, "F2") || !strings.Contains(loc, "R2") {
		t.Errorf("box location after the move %q", loc)
	}
	for i, smp := range ids {
		if got, want := a.whereIs(t, smp), "F2 › R2 › BX1 › A"+strconv.Itoa(i+1); got != want {
			t.Errorf("%s is at %q, want %q", smp, got, want)
		}
		if ev := a.wantEvent(t, "sample", smp, "sample.move", "manager"); ev.Reason != "F1 alarm" {
			t.Errorf("move of %s audited with reason %q", smp, ev.Reason)
		}
	}
}

func TestStoragePage_MoveRackForm(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	f2 := a.mustFreezer(t, "manager", "F2", "-80")
	rack := a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	a.mustBox(t, "manager", "BX2", f1, "R1", 9, 9)
	in1, in2 := a.mustStored(t, "BX1", 2), a.mustStored(t, "BX2", 1)
	manager := a.signedIn(t, "manager")

	p := manager.get(t, "/storage").wantStatus(t, http.StatusOK)
	if opt := p.Doc.Find(`#f-moverack-rack option[value="` + idOf(rack.ID) + `"]`).Text(); !strings.Contains(opt, "F1") || !strings.Contains(opt, "R1") {
		t.Errorf("rack option %q", opt)
	}
	before := a.state(t)
	for field, vals := range map[string]url.Values{
		"reason":  {"rack": {idOf(rack.ID)}, "freezer": {idOf(f2.ID)}, "reason": {""}},
		"freezer": {"rack": {idOf(rack.ID)}, "freezer": {idOf(f1.ID)}, "reason": {"tidy"}},
		"rack":    {"rack": {""}, "freezer": {idOf(f2.ID)}, "reason": {"tidy"}},
	} {
		p := manager.submit(t, "/storage", "/storage/racks/move", vals).wantStatus(t, http.StatusUnprocessableEntity)
		if p.text("#e-f-moverack-"+field) == "" {
			t.Errorf("no message beside %s\n%s", field, excerpt(p.Body))
		}
		if v, _ := p.Doc.Find("#f-moverack-freezer option[selected]").Attr("value"); v != vals.Get("freezer") {
			t.Errorf("the freezer chosen came back as %q", v)
		}
	}
	a.assertUnchanged(t, before)

	manager.submit(t, "/storage", "/storage/racks/move", url.Values{"rack": {idOf(rack.ID)}, "freezer": {idOf(f2.ID)}, "reason": {"F1 alarm"}}).
		wantRedirect(t, "/storage")
	manager.get(t, "/storage").wantStatus(t, http.StatusOK).wantTestID(t, "flash-success")
	for _, smp := range append(in1, in2...) {
		if got := a.whereIs(t, smp); !strings.HasPrefix(got, "F2 › R1 › ") {
			t.Errorf("%s is at %q after the rack move", smp, got)
		}
		if ev := a.wantEvent(t, "sample", smp, "sample.move", "manager"); ev.Reason != "F1 alarm" {
			t.Errorf("move of %s audited with reason %q", smp, ev.Reason)
		}
	}
}

func TestSamplePage_LocationAndCheckOut(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	ids := a.mustStored(t, "BX1", 3)
	a.mustPlace(t, "technician", "BX1", "C4", ids[1])
	unplaced := a.mustAliquots(t, "nurse", "technician", 1)[0]
	tech := a.signedIn(t, "technician")
	smp := "/samples/" + ids[1]

	p := tech.get(t, smp).wantStatus(t, http.StatusOK)
	loc := p.wantTestID(t, "sample-location")
	if got := strings.TrimSpace(loc.Text()); !strings.Contains(got, "F1 › R1 › BX1 › C4") {
		t.Errorf("location %q", got)
	}
	if href, _ := loc.Find("a").Attr("href"); href != "/boxes/BX1?sample="+ids[1] {
		t.Errorf("location links to %q", href)
	}
	wantClass(t, p.cell(t, "C4"), "cell-highlight", true)
	wantClass(t, p.cell(t, "A1"), "cell-highlight", false)
	if p.cell(t, "A2").Find("a").Length() != 0 {
		t.Error("the sample page's grid offers to choose a free position")
	}
	p.wantTestID(t, "checkout-submit")
	if p.testid("checkin-submit").Length() != 0 {
		t.Error("a stored sample is offered check-in")
	}
	wantLabelled(t, p)
	// The box page highlights it, too.
	wantClass(t, tech.get(t, "/boxes/BX1?sample="+ids[1]).wantStatus(t, http.StatusOK).cell(t, "C4"), "cell-highlight", true)
	p = tech.get(t, "/samples/"+unplaced).wantStatus(t, http.StatusOK)
	if got := p.text(testidSel("sample-location")); got != "not in a box" {
		t.Errorf("an unplaced sample's location %q", got)
	}
	if p.testid("box-grid").Length() != 0 || p.testid("checkout-form").Length() != 0 {
		t.Error("an unplaced received sample shows a grid or a check-out form")
	}
	if a.signedIn(t, "nurse").get(t, smp).wantStatus(t, http.StatusOK).testid("checkout-form").Length() != 0 {
		t.Error("a nurse is offered check-out")
	}

	// Checked out: the position stays reserved; the list says who and since when.
	tech.get(t, "/storage/checked-out").wantStatus(t, http.StatusOK).wantTestID(t, "checked-out-empty")
	tech.submit(t, smp, smp+"/storage", url.Values{"action": {"checkout"}, "reason": {"ELISA"}}).wantRedirect(t, smp)
	p = tech.get(t, smp).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "Checked out") {
		t.Errorf("flash %q", msg)
	}
	if got := p.text(testidSel("sample-location")); !strings.Contains(got, "BX1 › C4") || !strings.Contains(got, "reserved") {
		t.Errorf("location while checked out %q", got)
	}
	p.wantTestID(t, "checkin-submit")
	if s := a.mustSample(t, ids[1]); s.Status != sample.CheckedOut {
		t.Errorf("status %s", s.Status)
	}
	wantClass(t, tech.get(t, "/boxes/BX1").wantStatus(t, http.StatusOK).cell(t, "C4"), "cell-reserved", true)
	p = a.signedIn(t, "nurse").get(t, "/storage/checked-out").wantStatus(t, http.StatusOK)
	rows := p.wantTestID(t, "checked-out-table").Find("tbody tr")
	if rows.Length() != 1 {
		t.Fatalf("%d checked-out rows, want 1", rows.Length())
	}
	var cells []string
	rows.Find("td").Each(func(_ int, s *goquery.Selection) { cells = append(cells, strings.TrimSpace(s.Text())) })
	if len(cells) != 6 || cells[0] != ids[1] || cells[2] != "technician" || !strings.HasSuffix(cells[3], "UTC") || cells[4] != "ELISA" || cells[5] != "BX1 C4" {
		t.Errorf("checked-out row %q", cells)
	}
	if href, _ := rows.Find("a").Attr("href"); href != smp {
		t.Errorf("the row links to %q", href)
	}

	// Checked in: one more freeze–thaw cycle, back in the same position.
	tech.submit(t, smp, smp+"/storage", url.Values{"action": {"checkin"}}).wantRedirect(t, smp)
	if s := a.mustSample(t, ids[1]); s.Status != sample.Stored || s.FreezeThawCount != 1 {
		t.Errorf("after check-in: %s, %d freeze–thaw cycles", s.Status, s.FreezeThawCount)
	}
	if got := a.whereIs(t, ids[1]); got != "F1 › R1 › BX1 › C4" {
		t.Errorf("after check-in at %q", got)
	}
	a.wantEvent(t, "sample", ids[1], "sample.check_in", "technician")
	tech.get(t, "/storage/checked-out").wantStatus(t, http.StatusOK).wantTestID(t, "checked-out-empty")

	// Refused: a post without the action (neither check out nor in) changes nothing; a
	// reason too long is shown beside the field; a held sample stays in.
	before := a.state(t)
	tech.submit(t, smp, smp+"/storage", url.Values{"reason": {"assay"}}).wantStatus(t, http.StatusUnprocessableEntity)
	if st := a.mustSample(t, strings.TrimPrefix(smp, "/samples/")).Status; st != "stored" {
		t.Errorf("a post without an action left %s %s, want it stored", smp, st)
	}
	long := strings.Repeat("x", 501)
	p = tech.submit(t, smp, smp+"/storage", url.Values{"action": {"checkout"}, "reason": {long}}).wantStatus(t, http.StatusUnprocessableEntity)
	if p.text("#e-f-storage-reason") == "" {
		t.Error("no message beside the check-out reason")
	}
	if v, _ := p.Doc.Find("#f-storage-reason").Attr("value"); v != long {
		t.Error("the reason was not kept")
	}
	a.assertUnchanged(t, before)
	if _, err := a.sampleService().Quarantine(context.Background(), a.actorOf(t, "manager"), ids[2], "haemolysed"); err != nil {
		t.Fatal(err)
	}
	held := "/samples/" + ids[2]
	before = a.state(t)
	p = tech.submit(t, held, held+"/storage", url.Values{"action": {"checkout"}, "reason": {"assay"}}).wantStatus(t, http.StatusUnprocessableEntity)
	errs := p.testid("form-error")
	if errs.Length() != 1 || !strings.Contains(errs.Text(), "hold") {
		t.Errorf("%d refusal messages %q, want one saying the sample is on hold", errs.Length(), errs.Text())
	}
	a.assertUnchanged(t, before)
}

func TestFindPage_ProposesBoxesWithRoom(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f80 := a.mustFreezer(t, "manager", "F80", "-80")
	f20 := a.mustFreezer(t, "manager", "F20", "-20")
	a.mustBox(t, "manager", "BXA", f80, "", 2, 2)
	a.mustBox(t, "manager", "BXB", f80, "", 3, 3)
	a.mustBox(t, "manager", "BXC", f20, "", 2, 2)
	a.mustStored(t, "BXA", 3)
	tech := a.signedIn(t, "technician")

	boxes := func(p *page) []string {
		var out []string
		p.testid("find-table").Find("tbody tr").Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.TrimSpace(s.Find("td").First().Text()))
		})
		return out
	}
	p := tech.get(t, "/storage/find").wantStatus(t, http.StatusOK)
	p.wantTestID(t, "find-form")
	if got := p.inputValue(t, "n"); got != "1" {
		t.Errorf("room for %q by default", got)
	}
	if got := boxes(p); !slices.Equal(got, []string{"BXA", "BXC", "BXB"}) {
		t.Errorf("boxes with room %v", got)
	}
	wantLabelled(t, p)
	p = tech.get(t, "/storage/find?n=2&type=-80").wantStatus(t, http.StatusOK)
	if got := boxes(p); !slices.Equal(got, []string{"BXB"}) {
		t.Errorf("room for 2 at −80 °C: %v", got)
	}
	row := p.testid("find-table").Find("tbody tr").First()
	if href, _ := row.Find("a").Attr("href"); href != "/boxes/BXB" || !strings.Contains(row.Text(), "9 of 9") || !strings.Contains(row.Text(), "F80") {
		t.Errorf("row %q links to %q", row.Text(), href)
	}
	if p.inputValue(t, "n") != "2" || p.inputValue(t, "type") != "-80" {
		t.Errorf("the search came back as n=%q type=%q", p.inputValue(t, "n"), p.inputValue(t, "type"))
	}
	tech.get(t, "/storage/find?n=10").wantStatus(t, http.StatusOK).wantTestID(t, "find-empty")
	a.signedIn(t, "technician-kiel").get(t, "/storage/find").wantStatus(t, http.StatusOK).wantTestID(t, "find-empty")
}

func TestImportPage_PreviewAndConfirm(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "RACK01", f1, "", 8, 12)
	ids := a.mustAliquots(t, "nurse", "technician", 3)
	tech := a.signedIn(t, "technician")
	const page = "/storage/import"

	p := tech.get(t, page).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "import-form")
	wantLabelled(t, p)
	if p.testid("import-preview").Length() != 0 {
		t.Error("a preview before any upload")
	}

	// An unclean file is previewed without a way to confirm it.
	before := a.state(t)
	unclean := "RACK01,A01," + ids[0] + "\nRACK01,A02,FX00000404\nRACK01,A03,NO READ\n"
	p = tech.upload(t, page, page, "file", "rack.csv", unclean).wantStatus(t, http.StatusOK)
	p.wantTestID(t, "import-preview")
	p.wantTestID(t, "well-matched")
	p.wantTestID(t, "well-unknown")
	p.wantTestID(t, "well-no_read")
	p.wantTestID(t, "import-not-clean")
	if p.testid("import-confirm").Length() != 0 {
		t.Error("an unclean file can be confirmed")
	}
	// Files that cannot be read name the offending lines; no file at all is asked for.
	p = tech.upload(t, page, page, "file", "rack.csv", "RACK01,A1,"+ids[0]+"\nRACK02,A2,"+ids[1]+"\n").wantStatus(t, http.StatusUnprocessableEntity)
	if probs := p.wantTestID(t, "import-problems").Text(); !strings.Contains(probs, "line 1") || !strings.Contains(probs, "line 2") {
		t.Errorf("problems %q", probs)
	}
	p.wantTestID(t, "import-error")
	p = tech.upload(t, page, page, "", "", "").wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "import-error").Text(); !strings.Contains(msg, "Choose") {
		t.Errorf("no file: %q", msg)
	}
	p = tech.upload(t, page, page, "file", "rack.csv", "NOSUCHBOX,A1,"+ids[0]+"\n").wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "import-error").Text(); !strings.Contains(msg, "NOSUCHBOX") {
		t.Errorf("unknown rack: %q", msg)
	}
	// A confirmation of what is not clean (a page left open while colleagues worked)
	// places nothing.
	p = tech.submit(t, page, page+"/confirm", url.Values{"data": {unclean}}).wantStatus(t, http.StatusConflict)
	p.wantTestID(t, "import-not-clean")
	p.wantTestID(t, "import-error")
	tech.submit(t, page, page+"/confirm", url.Values{"data": {"garbage"}}).wantStatus(t, http.StatusUnprocessableEntity).
		wantTestID(t, "import-problems")
	// Text that cannot be stored is refused where it enters, naming the field.
	p = tech.submit(t, page, page+"/confirm", url.Values{"data": {"\x00garbage"}}).wantStatus(t, http.StatusBadRequest)
	if msg := p.wantTestID(t, "error-message").Text(); !strings.Contains(msg, `"data"`) || !strings.Contains(msg, "NUL") {
		t.Errorf("NUL in the form: %q", msg)
	}
	a.assertUnchanged(t, before)

	// A clean file: the preview, then one confirmation places every tube.
	clean := "Rack;Position;Tube\nRACK01;A01;" + ids[0] + "\nRACK01;A02;" + ids[1] + "\nRACK01;A03;" + ids[2] + "\nRACK01;A04;\n"
	p = tech.upload(t, page, page, "file", "rack.csv", clean).wantStatus(t, http.StatusOK)
	a.assertUnchanged(t, before)
	if n := p.testid("well-matched").Length(); n != 3 {
		t.Errorf("%d matched wells, want 3", n)
	}
	p.wantTestID(t, "well-empty")
	data, _ := p.wantTestID(t, "import-confirm").Find(`input[name="data"]`).Attr("value")
	if data != clean {
		t.Errorf("the confirmation carries %q, want the uploaded file", data)
	}
	tech.submit(t, page, page+"/confirm", url.Values{"data": {data}}).wantRedirect(t, "/boxes/RACK01")
	p = tech.get(t, "/boxes/RACK01").wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "3 tubes placed") {
		t.Errorf("flash %q", msg)
	}
	for i, smp := range ids {
		if got, want := a.whereIs(t, smp), "F1 › RACK01 › A"+strconv.Itoa(i+1); got != want {
			t.Errorf("%s is at %q, want %q", smp, got, want)
		}
		a.wantEvent(t, "sample", smp, "sample.place", "technician")
	}
	a.signedIn(t, "nurse").get(t, page).wantStatus(t, http.StatusForbidden)
}

func TestScan_FindsBoxes(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BX1", f1, "", 9, 9)
	kiel := a.mustFreezerAt(t, "admin", "KIEL", "K1", "-80")
	a.mustBox(t, "admin", "KBX1", kiel, "", 9, 9)
	tech := a.signedIn(t, "technician")

	tech.get(t, "/scan?q=BX1").wantRedirect(t, "/boxes/BX1")
	tech.get(t, "/scan?q="+url.QueryEscape(" BX1 ")).wantRedirect(t, "/boxes/BX1")
	a.signedIn(t, "nurse").get(t, "/scan?q=BX1").wantRedirect(t, "/boxes/BX1")
	p := tech.get(t, "/scan?q=KBX1").wantStatus(t, http.StatusForbidden)
	if msg := p.wantTestID(t, "scan-result").Text(); !strings.Contains(msg, "another site") {
		t.Errorf("scan result %q", msg)
	}
	p.wantNoGoError(t)
	a.signedIn(t, "technician-kiel").get(t, "/scan?q=KBX1").wantRedirect(t, "/boxes/KBX1")
	a.signedIn(t, "manager").get(t, "/scan?q=KBX1").wantRedirect(t, "/boxes/KBX1")
	tech.get(t, "/scan?q=BX9").wantStatus(t, http.StatusNotFound).wantTestID(t, "scan-result")
}

// TestRoleMatrix_StoragePages checks every storage page and form for every role and
// signed out: who gets the page (or, for a form post, a refusal of what was entered,
// which shows the form was reached) and who gets the friendly 403 page; no post writes
// anything.
func TestRoleMatrix_StoragePages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	rack := a.mustRack(t, "manager", f1, "R1")
	a.mustBox(t, "manager", "BX1", f1, "R1", 9, 9)
	smp := a.mustStored(t, "BX1", 1)[0]

	all := auth.Roles
	lab := []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleTechnician}
	managers := []auth.Role{auth.RoleAdmin, auth.RoleManager}
	admin := []auth.Role{auth.RoleAdmin}
	routes := []struct {
		method, path string
		form         url.Values
		ok           int
		roles        []auth.Role
	}{
		{"GET", "/storage", nil, 200, all},
		{"GET", "/storage/find", nil, 200, all},
		{"GET", "/storage/checked-out", nil, 200, all},
		{"GET", "/storage/import", nil, 200, lab},
		{"GET", "/boxes/BX1", nil, 200, all},
		{"GET", "/boxes/BX1/grid", nil, 200, all},
		{"POST", "/storage/freezers", url.Values{"name": {"F2"}, "type": {"-70"}, "temperature": {"-70"}}, 422, managers},
		{"POST", "/storage/racks", url.Values{"freezer": {idOf(f1.ID)}, "name": {""}}, 422, managers},
		{"POST", "/storage/racks/move", url.Values{"rack": {idOf(rack.ID)}, "freezer": {idOf(f1.ID)}, "reason": {""}}, 422, managers},
		{"POST", "/storage/boxes", url.Values{"barcode": {"B!"}, "freezer": {idOf(f1.ID)}, "box_type": {"1"}}, 422, managers},
		{"POST", "/storage/box-types", url.Values{"name": {"none"}, "rows": {"0"}, "cols": {"0"}}, 422, admin},
		{"POST", "/storage/import", url.Values{}, 422, lab},
		{"POST", "/storage/import/confirm", url.Values{"data": {"no rack file here"}}, 422, lab},
		{"POST", "/boxes/BX1", url.Values{"sample": {smp}, "position": {"Z9"}}, 422, lab},
		{"POST", "/boxes/BX1/move", url.Values{"freezer": {idOf(f1.ID)}, "reason": {""}}, 422, managers},
		{"POST", "/samples/" + smp + "/storage", url.Values{"action": {"checkin"}}, 422, lab},
	}
	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			c := a.signedIn(t, string(role))
			for _, rt := range routes {
				before := a.state(t)
				var p *page
				if rt.method == "GET" {
					p = c.get(t, rt.path)
				} else {
					p = c.submit(t, "/", rt.path, rt.form)
				}
				if !slices.Contains(rt.roles, role) {
					if p.StatusCode != http.StatusForbidden {
						t.Errorf("%s %s as %s: status %d, want 403", rt.method, rt.path, role, p.StatusCode)
					} else {
						p.wantTestID(t, "error-403")
					}
				} else if p.StatusCode != rt.ok {
					t.Errorf("%s %s as %s: status %d, want %d\n%s", rt.method, rt.path, role, p.StatusCode, rt.ok, excerpt(p.Body))
				}
				p.wantNoGoError(t)
				if rt.method == "POST" {
					a.assertUnchanged(t, before)
				}
			}
		})
	}
	t.Run("signed out", func(t *testing.T) {
		c := a.newClient(t)
		before := a.state(t)
		for _, rt := range routes {
			if rt.method == "GET" {
				c.get(t, rt.path).wantRedirect(t, "/login?next="+url.QueryEscape(rt.path))
			} else {
				c.submit(t, "/login", rt.path, rt.form).wantRedirect(t, "/login")
			}
		}
		a.assertUnchanged(t, before)
	})
}

// TestImportPage_TwoColumnFileIntoTheChosenBox: a FluidX file of position and tube only,
// NO READ for empty wells: refused until the box is chosen, then previewed clean (saying how
// it was read) and placed with the settings carried through the confirmation.
func TestImportPage_TwoColumnFileIntoTheChosenBox(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	f1 := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "FX-RACK-2", f1, "", 8, 12)
	ids := a.mustAliquots(t, "nurse", "technician", 2)
	tech := a.signedIn(t, "technician")
	const page = "/storage/import"
	file := "A1," + ids[0] + "\r\nA2,NO READ\r\nA3," + ids[1] + "\r\n"

	before := a.state(t)
	p := tech.upload(t, page, page, "file", "scan.csv", file).wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "import-error").Text(); !strings.Contains(msg, "choose the box to import into") {
		t.Errorf("without a box: %q", msg)
	}
	settings := url.Values{"box": {"FX-RACK-2"}, "no_read": {"empty"}, "order": {"rows"}}
	p = tech.uploadWith(t, page, page, "file", "scan.csv", file, settings).wantStatus(t, http.StatusOK)
	a.assertUnchanged(t, before)
	if txt := p.wantTestID(t, "import-layout").Text(); !strings.Contains(txt, "2 columns (position, tube)") {
		t.Errorf("layout %q", txt)
	}
	if n := p.testid("well-matched").Length(); n != 2 || p.testid("well-empty").Length() != 1 {
		t.Fatalf("%d matched and %d empty wells, want 2 and 1", n, p.testid("well-empty").Length())
	}
	confirm := p.wantTestID(t, "import-confirm")
	vals := url.Values{}
	confirm.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		value, _ := in.Attr("value")
		if name != "_csrf" {
			vals.Set(name, value)
		}
	})
	if vals.Get("box") != "FX-RACK-2" || vals.Get("no_read") != "empty" || vals.Get("file_name") != "scan.csv" {
		t.Errorf("the confirmation carries %v", vals)
	}
	tech.submit(t, page, page+"/confirm", vals).wantRedirect(t, "/boxes/FX-RACK-2")
	if got := a.whereIs(t, ids[1]); got != "F1 › FX-RACK-2 › A3" {
		t.Errorf("%s is at %q", ids[1], got)
	}
}
