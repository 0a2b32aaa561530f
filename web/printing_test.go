package web_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"biobank/internal/printing/printtest"
	"biobank/web"
)

// TestPrinting_API: an administrator adds printers and a template; a technician prints a
// batch of aliquot labels that reaches the printer as one connection, byte for byte the
// batch's ZPL; a printer that does not answer, one out of paper and one that is not there
// give 502 naming the printer, with the job recorded failed; the jobs list and the audit
// trail tell who printed what, where, with which template and how it went.
func TestPrinting_API(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	admin := a.usedToken(t, "admin")
	tech := a.usedToken(t, "technician")
	ids := a.mustAliquots(t, "nurse", "technician", 3)
	ready, silent, paperOut := printtest.New(t, printtest.Ready), printtest.New(t, printtest.Silent), printtest.New(t, printtest.PaperOut)
	reset := printtest.New(t, printtest.Reset)
	gone, _ := net.Listen("tcp", "127.0.0.1:0")
	goneAddr := gone.Addr().String()
	gone.Close()

	for _, p := range []map[string]any{
		{"name": "Bench 1", "kind": "zpl", "address": ready.Addr(), "dpi": 300, "site_default": true, "reason": "new printer"},
		{"name": "Bench 2", "kind": "zpl", "address": silent.Addr(), "timeout_ms": 800, "reason": "new printer"},
		{"name": "Bench 3", "kind": "zpl", "address": paperOut.Addr(), "reason": "new printer"},
		{"name": "Old Zebra", "kind": "zpl", "address": goneAddr, "timeout_ms": 800, "reason": "new printer"},
		{"name": "Flaky", "kind": "zpl", "address": reset.Addr(), "timeout_ms": 800, "reason": "new printer"},
	} {
		a.api(t, "POST", "/api/v1/printers", admin, p).wantStatus(t, http.StatusCreated)
	}
	a.api(t, "POST", "/api/v1/printers", admin, map[string]any{"name": "X", "kind": "zpl", "address": "no such:host:9", "reason": "x"}).
		wantError(t, http.StatusUnprocessableEntity, "invalid", "address")
	a.api(t, "POST", "/api/v1/printers", admin, map[string]any{"name": "X", "kind": "zpl", "address": "10.0.0.1", "dpi": 250, "reason": "x"}).
		wantError(t, http.StatusUnprocessableEntity, "invalid", "dpi")
	a.api(t, "POST", "/api/v1/printers", tech, map[string]any{"name": "X", "kind": "zpl", "address": "10.0.0.1", "reason": "x"}).
		wantError(t, http.StatusForbidden, "forbidden", "")
	var printers struct{ Printers []map[string]any }
	a.api(t, "GET", "/api/v1/printers", tech, nil).wantStatus(t, http.StatusOK).decode(t, &printers)
	if len(printers.Printers) != 5 || printers.Printers[0]["address"] != ready.Addr() {
		t.Errorf("printers %v", printers.Printers)
	}

	tpl := map[string]any{"name": "Cryo 32x13", "width_mm": 32, "height_mm": 13, "dpi": 300, "codes": []string{"datamatrix"},
		"lines": []map[string]string{{"field": "accession"}, {"field": "pseudonym"}, {"field": "volume"}}, "font_pt": 5, "stock": "cryo −196 °C", "reason": "cryo labels"}
	a.api(t, "POST", "/api/v1/label-templates", admin, tpl).wantStatus(t, http.StatusCreated)
	tooLong := map[string]any{"name": "Tiny", "width_mm": 20, "height_mm": 10, "codes": []string{"datamatrix"},
		"lines": []map[string]string{{"field": "sprec"}}, "font_pt": 6, "reason": "x"}
	if e := a.api(t, "POST", "/api/v1/label-templates", admin, tooLong).wantError(t, http.StatusUnprocessableEntity, "invalid", "lines[0]"); !strings.Contains(e.Message, "SPREC") {
		t.Errorf("a line that does not fit: %q", e.Message)
	}

	// The technician prints three aliquots' labels on the site's printer.
	var job struct {
		ID     int64
		Status string
		Labels int
	}
	a.api(t, "POST", "/api/v1/print-jobs", tech, map[string]any{"samples": ids}).wantStatus(t, http.StatusCreated).decode(t, &job)
	if job.Status != "sent" || job.Labels != 3 {
		t.Errorf("job %+v", job)
	}
	got := ready.Received(t)
	var zpl bytes.Buffer
	for _, id := range ids {
		r := a.api(t, "GET", "/api/v1/samples/"+id+"/label.zpl", tech, nil).wantStatus(t, http.StatusOK)
		zpl.Write(r.Body)
	}
	if !bytes.Equal(got, zpl.Bytes()) {
		t.Errorf("the printer received\n%s\nwant the batch\n%s", got, zpl.Bytes())
	}
	if n := bytes.Count(got, []byte("^XA")); n != 3 {
		t.Errorf("%d labels reached the printer, want 3", n)
	}
	for _, id := range ids {
		if !bytes.Contains(got, []byte("^BXN,3,200^FH_^FD"+id+"^FS")) {
			t.Errorf("no Data Matrix of %s in the batch", id)
		}
	}

	// Printers that fail: named, recorded failed, nothing marked printed.
	for _, tc := range []struct{ printer, says string }{
		{"Bench 2", "did not answer within 800ms"},
		{"Bench 3", "out of paper"},
		{"Old Zebra", "could not be reached"},
		{"Flaky", "some labels may have come out"},
	} {
		e := a.api(t, "POST", "/api/v1/print-jobs", tech, map[string]any{"printer": tc.printer, "samples": ids[:1]}).
			wantError(t, http.StatusBadGateway, "printer_unreachable", "printer")
		if !strings.Contains(e.Message, tc.printer) || !strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: %q, want it to say %q", tc.printer, e.Message, tc.says)
		}
	}
	// Requests refused before anything is queued.
	before := a.state(t)
	many := make([]string, 1001)
	for i := range many {
		many[i] = ids[0]
	}
	a.api(t, "POST", "/api/v1/print-jobs", tech, map[string]any{"samples": many}).wantError(t, http.StatusUnprocessableEntity, "invalid", "samples")
	a.api(t, "POST", "/api/v1/print-jobs", tech, map[string]any{"samples": ids, "copies": 400}).wantError(t, http.StatusUnprocessableEntity, "invalid", "copies")
	a.api(t, "POST", "/api/v1/print-jobs", tech, map[string]any{"samples": []string{"AC99999999ZZ"}}).wantStatus(t, http.StatusUnprocessableEntity)
	a.api(t, "POST", "/api/v1/print-jobs", tech, map[string]any{"printer": "Nope", "samples": ids}).wantError(t, http.StatusUnprocessableEntity, "invalid", "printer")
	a.assertUnchanged(t, before)

	var jobs struct {
		Jobs []struct {
			Actor, Printer, Template, Status, Error string
			Labels                                  int
		}
	}
	a.api(t, "GET", "/api/v1/print-jobs", tech, nil).wantStatus(t, http.StatusOK).decode(t, &jobs)
	if len(jobs.Jobs) != 5 || jobs.Jobs[4].Status != "sent" || jobs.Jobs[4].Template != "Cryo 32x13" || jobs.Jobs[4].Printer != "Bench 1" ||
		jobs.Jobs[0].Status != "failed" || !strings.Contains(jobs.Jobs[0].Error, "some labels may have come out") || jobs.Jobs[4].Actor != "technician" {
		b, _ := json.Marshal(jobs)
		t.Errorf("jobs %s", b)
	}
	sent := a.wantEvent(t, "print_job", "1", "print_job.sent", "technician")
	if !strings.Contains(string(sent.After), "Bench 1") || !strings.Contains(string(sent.After), ids[0]) {
		t.Errorf("the audit event of the job: %s", sent.After)
	}
	a.wantEvent(t, "print_job", "2", "print_job.failed", "technician")

	// The scan-back check of a printed label.
	var v struct {
		Match   bool
		Message string
	}
	a.api(t, "POST", "/api/v1/labels/verify", tech, map[string]string{"expected": ids[0], "scanned": "]d2" + ids[0] + "\r\n"}).decode(t, &v)
	if !v.Match {
		t.Errorf("the label of %s scanned back: %+v", ids[0], v)
	}
	a.api(t, "POST", "/api/v1/labels/verify", tech, map[string]string{"expected": ids[0], "scanned": ids[1]}).decode(t, &v)
	if v.Match || !strings.Contains(v.Message, ids[1]) {
		t.Errorf("another tube's label: %+v", v)
	}
}

// TestPrinting_Pages: after aliquoting, the next page offers the new aliquots' labels; one
// click sends them to the site's printer; a printer that does not answer brings the print
// page back saying so; a label scanned back is checked against its tube.
func TestPrinting_Pages(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	printer := printtest.New(t, printtest.Ready)
	silent := printtest.New(t, printtest.Silent)
	admin := a.usedToken(t, "admin")
	a.api(t, "POST", "/api/v1/printers", admin, map[string]any{"name": "Bench 1", "kind": "zpl", "address": printer.Addr(), "site_default": true, "reason": "new"}).
		wantStatus(t, http.StatusCreated)
	a.api(t, "POST", "/api/v1/printers", admin, map[string]any{"name": "Bench 2", "kind": "zpl", "address": silent.Addr(), "timeout_ms": 600, "reason": "new"}).
		wantStatus(t, http.StatusCreated)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	blood := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", blood)
	tech := a.signedIn(t, "technician")

	tech.submit(t, "/samples/"+blood+"/aliquot", "/samples/"+blood+"/aliquot",
		url.Values{"specimen_type": {"plasma"}, "count": {"4"}, "volume": {"0.5"}, "unit": {"mL"}}).wantRedirect(t, "/samples/"+blood)
	p := tech.get(t, "/samples/"+blood).wantStatus(t, http.StatusOK)
	offer := p.wantTestID(t, "print-offer")
	if got := offer.Find(testidSel("print-offer-submit")).Text(); !strings.Contains(got, "Print 4 labels") {
		t.Errorf("the offer reads %q", got)
	}
	codes, _ := offer.Find(`input[name="samples"]`).Attr("value")
	next, _ := offer.Find(`input[name="next"]`).Attr("value")
	tech.submit(t, "/samples/"+blood, "/labels/print", url.Values{"samples": {codes}, "next": {next}}).wantRedirect(t, "/samples/"+blood)
	got := printer.Received(t)
	if n := bytes.Count(got, []byte("^XA")); n != 4 {
		t.Errorf("the printer received %d labels, want one per aliquot (4)", n)
	}
	for _, id := range strings.Split(codes, ",") {
		if !bytes.Contains(got, []byte(id)) {
			t.Errorf("no label for %s", id)
		}
	}
	p = tech.get(t, "/samples/"+blood).wantStatus(t, http.StatusOK)
	if msg := p.wantTestID(t, "flash-success").Text(); !strings.Contains(msg, "4 labels sent to Bench 1") {
		t.Errorf("flash %q", msg)
	}
	if p.testid("print-offer").Length() != 0 {
		t.Error("the offer is still shown after printing")
	}

	// A printer that does not answer: the print page says which and why, ready to retry.
	first := strings.Split(codes, ",")[0]
	p = tech.submit(t, "/labels/print?samples="+first, "/labels/print", url.Values{"samples": {first}, "printer": {"Bench 2"}, "copies": {"1"}}).
		wantStatus(t, http.StatusBadGateway)
	if msg := p.wantTestID(t, "form-error").Text(); !strings.Contains(msg, "Bench 2") || !strings.Contains(msg, "did not answer") {
		t.Errorf("the print page says %q", msg)
	}
	if got, _ := p.wantTestID(t, "print-form").Find(`select[name="printer"] option[selected]`).Attr("value"); got != "Bench 2" {
		t.Errorf("the printer chosen came back as %q", got)
	}

	// A selection in the samples list goes to the print page with those samples; a printer
	// chosen there can be made the user's own.
	all := strings.Split(codes, ",")
	p = tech.get(t, "/samples").wantStatus(t, http.StatusOK)
	if p.testid("sample-select").Length() == 0 {
		t.Fatal("the samples list has no check boxes to select samples to print")
	}
	p = tech.get(t, "/labels/print?next=%2Fsamples&samples="+all[1]+"&samples="+all[2]).wantStatus(t, http.StatusOK)
	if got := p.wantTestID(t, "print-codes").Text(); !strings.Contains(got, all[1]) || !strings.Contains(got, all[2]) {
		t.Errorf("the print page of a selection lists %q", got)
	}
	second := printtest.New(t, printtest.Ready)
	a.api(t, "POST", "/api/v1/printers", admin, map[string]any{"name": "Bench 3", "kind": "zpl", "address": second.Addr(), "reason": "new"}).
		wantStatus(t, http.StatusCreated)
	tech.submit(t, "/labels/print?samples="+all[1], "/labels/print", url.Values{"samples": {all[1] + "," + all[2]}, "printer": {"Bench 3"},
		"remember": {"true"}, "copies": {"1"}, "next": {"/samples"}}).wantRedirect(t, "/samples")
	if n := bytes.Count(second.Received(t), []byte("^XA")); n != 2 {
		t.Errorf("Bench 3 received %d labels, want 2", n)
	}
	a.wantEvent(t, "user", "technician", "user.default_printer", "technician")
	a.api(t, "POST", "/api/v1/print-jobs", a.usedToken(t, "technician"), map[string]any{"samples": all[:1]}).wantStatus(t, http.StatusCreated)
	second.Received(t) // the user's printer, not the site's

	// The scan-back check, from the tube's page or the verify page.
	tech.get(t, "/samples/"+first).wantStatus(t, http.StatusOK).wantTestID(t, "verify-inline")
	tech.submit(t, "/samples/"+first, "/labels/verify", url.Values{"expected": {first}, "scanned": {first}}).
		wantStatus(t, http.StatusOK).wantTestID(t, "verify-match")
	p = tech.submit(t, "/labels/verify?expected="+first, "/labels/verify", url.Values{"expected": {first}, "scanned": {"]d2" + first + "\r"}}).
		wantStatus(t, http.StatusOK)
	p.wantTestID(t, "verify-match")
	p = tech.submit(t, "/labels/verify?expected="+first, "/labels/verify", url.Values{"expected": {first}, "scanned": {blood}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	if msg := p.wantTestID(t, "verify-mismatch").Text(); !strings.Contains(msg, "another tube") {
		t.Errorf("a wrong label: %q", msg)
	}
}
