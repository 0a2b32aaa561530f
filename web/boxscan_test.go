package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"biobank/web"
)

// TestBoxPage_ScanOpensABoxAndChecksInItsOwnTube: at a box page's scan field, a box's
// label opens that box; a checked-out tube scanned into the box that keeps its position is
// checked in there (freeze–thaw + 1, audited as a check-in); scanned into another box it is
// refused with one plain sentence and nothing changes.
func TestBoxPage_ScanOpensABoxAndChecksInItsOwnTube(t *testing.T) {
	t.Parallel()
	a := newApp(t, web.Config{})
	a.seedLab(t)
	pseudonym, _ := a.mustReadyParticipant(t, "nurse")
	blood := a.mustCollect(t, "nurse", pseudonym, bloodTube)[0]
	a.mustReceive(t, "technician", blood)
	ids := a.mustAliquot(t, "technician", blood, 2, "0.5", "plasma")
	f := a.mustFreezer(t, "manager", "F1", "-80")
	a.mustBox(t, "manager", "BX1", f, "", 9, 9)
	a.mustBox(t, "manager", "BX2", f, "", 9, 9)
	a.mustPlace(t, "technician", "BX1", "A1", ids[0])
	if _, err := a.storageService().CheckOut(context.Background(), a.actorOf(t, "technician"), ids[0], "ELISA"); err != nil {
		t.Fatal(err)
	}
	tech := a.signedIn(t, "technician")

	tech.submit(t, "/boxes/BX1", "/boxes/BX1", url.Values{"sample": {"BX2"}}).wantRedirect(t, "/boxes/BX2")

	before := a.state(t)
	p := tech.submit(t, "/boxes/BX2", "/boxes/BX2", url.Values{"sample": {ids[0]}}).wantStatus(t, http.StatusConflict)
	msg := p.wantTestID(t, "place-error").Text()
	if strings.Count(msg, ids[0]) != 1 || !strings.Contains(msg, "checked out from box BX1") || !strings.Contains(msg, "A1") {
		t.Errorf("refusal %q should name the tube once and the box and position kept for it", msg)
	}
	a.assertUnchanged(t, before)

	p = tech.submit(t, "/boxes/BX1", "/boxes/BX1", url.Values{"sample": {ids[0]}}).wantStatus(t, http.StatusOK)
	if last := p.wantTestID(t, "place-ok").Text(); !strings.Contains(last, "checked in") || !strings.Contains(last, "A1") {
		t.Errorf("after scanning the checked-out tube into its box: %q", last)
	}
	smp := a.mustSample(t, ids[0])
	if smp.Status != "stored" || smp.FreezeThawCount != 1 {
		t.Errorf("%s is %s with %d freeze–thaw cycles, want stored and 1", ids[0], smp.Status, smp.FreezeThawCount)
	}
	a.wantEvent(t, "sample", ids[0], "sample.check_in", "technician")
}
