package sample_test

import (
	"context"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"biobank/internal/apperr"
	"biobank/internal/consent"
	"biobank/internal/sample"
)

// TestRace_WithdrawalAgainstAliquoting runs, round after round, 20 consent withdrawals
// against 20 splits of the same participant's tubes: no deadlock or other internal error
// reaches a caller, exactly one withdrawal succeeds, and afterwards every live sample of
// the participant — tubes and the aliquots that won the race alike — is on consent hold.
func TestRace_WithdrawalAgainstAliquoting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	const n, rounds = 20, 4
	for round := 0; round < rounds; round++ {
		consentID := w.consentID
		if round > 0 { // the previous round withdrew it: a new consent for new tubes
			consentID = w.join(t, w.pseudonym, "IBD", []string{"storage", "genetic", "sharing", "recontact"}, false, false)
		}
		var tubes []sample.Tube
		for i := 0; i < n; i++ {
			tubes = append(tubes, tube("whole_blood", "PED", "4"))
		}
		collected := w.mustCollectTubes(t, w.collection(tubes...))
		for _, smp := range collected {
			if _, err := w.samples.Receive(ctx, w.tech, smp.Accession); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		splitting, withdrawing := make(chan struct{}), make(chan struct{})
		var first sync.Once
		for i := 0; i < n; i++ {
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-splitting
				first.Do(func() { close(withdrawing) }) // splits get a head start
				_, err := w.samples.Aliquot(ctx, w.tech, collected[i].Accession, sample.Split{Count: 2, Volume: decimal.RequireFromString("0.5"), SpecimenType: "plasma"})
				errs <- err
			}()
			go func() {
				defer wg.Done()
				<-withdrawing
				_, err := w.consents.Withdraw(ctx, w.nurse, w.pseudonym, consentID, consent.WithdrawInput{Reason: "by letter"})
				errs <- err
			}()
		}
		close(splitting)
		wg.Wait()
		close(errs)
		refusedWithdrawals := 0
		for err := range errs {
			if err == nil {
				continue
			}
			if c, ok := apperr.AsConflict(err); ok && (c.Code == "already_withdrawn" || c.Code == "sample_on_hold") {
				if c.Code == "already_withdrawn" {
					refusedWithdrawals++
				}
				continue
			}
			t.Errorf("round %d: a caller got an error that is not a domain refusal: %v", round, err)
		}
		if refusedWithdrawals != n-1 {
			t.Errorf("round %d: %d withdrawals refused as already done, want %d (exactly one succeeds)", round, refusedWithdrawals, n-1)
		}
		var live, held int64
		if err := w.db.Gorm.Raw(`SELECT count(*), count(*) FILTER (WHERE hold AND hold_kind = 'consent') FROM samples s
			JOIN participants p ON p.id = s.participant_id WHERE p.pseudonym = ? AND s.status NOT IN ('consumed', 'destroyed', 'lost')`,
			w.pseudonym).Row().Scan(&live, &held); err != nil {
			t.Fatal(err)
		}
		if live < int64(n) || held != live {
			t.Errorf("round %d: %d of %d live samples are on consent hold, want all", round, held, live)
		}
	}
}
