package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"biobank/web"
)

// TestProcessing_EmptyOrUnexplainedReplacementIsRefused: through the API and the form, an
// empty set of facts (`{}`, `null`, an empty form) is refused and writes nothing, a
// correction without a reason is refused, and the refused form comes back for the same
// sample with what was typed, ready for the next save.
func TestProcessing_EmptyOrUnexplainedReplacementIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	serum := a.mustCollect(t, "nurse", pseudonym, serumTube)[0]
	a.mustReceive(t, "technician", serum)
	token := a.usedToken(t, "technician")
	c := a.signedIn(t, "technician")
	t0 := a.mustSample(t, serum).CollectedAt

	before := a.state(t)
	a.api(t, "POST", samplePath(serum, "/processing"), token, map[string]any{}).wantError(t, http.StatusUnprocessableEntity, "invalid", "processing")
	a.api(t, "POST", samplePath(serum, "/processing"), token, "null").wantError(t, http.StatusBadRequest, "malformed", "")
	formURL := "/samples/" + serum + "/processing"
	c.submit(t, formURL, formURL, url.Values{}).wantStatus(t, http.StatusUnprocessableEntity)
	a.assertUnchanged(t, before)

	a.api(t, "POST", samplePath(serum, "/processing"), token, workedSerumProcessing(t0)).wantStatus(t, http.StatusOK)
	recorded := a.mustSample(t, serum).SPREC
	before = a.state(t)
	a.api(t, "POST", samplePath(serum, "/processing"), token, map[string]any{}).wantError(t, http.StatusUnprocessableEntity, "invalid", "processing")
	a.api(t, "POST", samplePath(serum, "/processing"), token, map[string]any{"pre_centrifugation_temp": "2-10"}).
		wantError(t, http.StatusUnprocessableEntity, "reason_required", "reason")
	// The form asks for the reason once processing is recorded, and keeps its sample and
	// values when the save is refused.
	p := c.get(t, formURL).wantStatus(t, http.StatusOK)
	if p.Doc.Find(`input[name="reason"]`).Length() != 1 {
		t.Error("the form of a processed sample has no reason field")
	}
	p = c.submit(t, formURL, formURL, url.Values{"pre_centrifugation_temp": {"2-10"}, "storage_temperature": {"-80"}}).
		wantStatus(t, http.StatusUnprocessableEntity)
	p.wantTestID(t, "error-reason")
	if action, _ := p.Doc.Find(`form[data-testid="processing-form"]`).Attr("action"); action != formURL {
		t.Errorf("the refused form posts to %q, want %q", action, formURL)
	}
	a.assertUnchanged(t, before)
	if got := a.mustSample(t, serum).SPREC; got != recorded {
		t.Errorf("SPREC %q after refusals, want %q", got, recorded)
	}
	c.submit(t, formURL, formURL, url.Values{"pre_centrifugation_temp": {"2-10"}, "storage_temperature": {"-80"},
		"reason": {"kept in the fridge before the spin"}}).wantRedirect(t, "/samples/"+serum)
}
