package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"biobank/internal/app"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/participant"
	"biobank/internal/study"
)

// req is a compact specimen requirement for the demo schedules.
func req(specimen, container, volume, unit string, aliquots int, aliquotVolume, aliquotType, temp string) study.RequirementInput {
	r := study.RequirementInput{SpecimenType: specimen, Container: container, Volume: decimal.RequireFromString(volume),
		Unit: unit, Aliquots: aliquots, AliquotType: aliquotType, StorageTemperature: temp}
	if aliquots > 0 {
		v := decimal.RequireFromString(aliquotVolume)
		r.AliquotVolume = &v
	}
	return r
}

var (
	edtaPlasma = req("whole_blood", "PED", "9", "mL", 6, "0.5", "plasma", "-80")
	serum      = req("serum", "SST", "7.5", "mL", 5, "0.5", "serum", "-80")
	pbmc       = req("pbmc", "CPT", "8", "mL", 2, "1", "pbmc", "ln2")
	paxRNA     = req("whole_blood", "PAX", "2.5", "mL", 0, "", "", "-80")
	stool      = req("stool", "STL", "2000", "mg", 4, "200", "stool", "-80")
	urine      = req("urine", "PPS", "10", "mL", 4, "1", "urine", "-80")
	csf        = req("csf", "PPS", "5", "mL", 10, "0.5", "csf", "-80")
)

// demoStudy is one cohort of the demonstration network.
type demoStudy struct {
	in       study.Input
	visits   []study.VisitInput
	versions []study.DocumentInput
	retire   string // a version retired once the next one exists
}

var demoStudies = []demoStudy{
	{
		in: study.Input{Code: "IBD", Name: "Inflammatory bowel disease cohort", DefaultDiagnosis: ptr("K50")},
		visits: []study.VisitInput{
			{Code: "BASELINE", Name: "Baseline", DayOffset: 0, WindowAfter: 14, Requirements: []study.RequirementInput{edtaPlasma, serum, pbmc, paxRNA, stool}},
			{Code: "M3", Name: "Month 3", DayOffset: 91, WindowBefore: 14, WindowAfter: 14, Requirements: []study.RequirementInput{edtaPlasma, serum, stool}},
			{Code: "M6", Name: "Month 6", DayOffset: 182, WindowBefore: 21, WindowAfter: 21, Requirements: []study.RequirementInput{edtaPlasma, serum, stool}},
			{Code: "M12", Name: "Month 12", DayOffset: 365, WindowBefore: 30, WindowAfter: 30, Requirements: []study.RequirementInput{edtaPlasma, serum, pbmc, paxRNA, stool}},
		},
		versions: []study.DocumentInput{
			{Version: "1.0", Tiers: []string{"storage", "genetic", "sharing", "recontact"}},
			{Version: "2.0", Tiers: []string{"storage", "genetic", "sharing", "recontact"}},
		},
		retire: "1.0",
	},
	{
		in: study.Input{Code: "RA", Name: "Rheumatic diseases cohort", DefaultDiagnosis: ptr("M06")},
		visits: []study.VisitInput{
			{Code: "BASELINE", Name: "Baseline", DayOffset: 0, WindowAfter: 14, Requirements: []study.RequirementInput{edtaPlasma, serum, paxRNA, urine}},
			{Code: "M6", Name: "Month 6", DayOffset: 182, WindowBefore: 21, WindowAfter: 21, Requirements: []study.RequirementInput{edtaPlasma, serum, urine}},
			{Code: "M12", Name: "Month 12", DayOffset: 365, WindowBefore: 30, WindowAfter: 30, Requirements: []study.RequirementInput{edtaPlasma, serum, paxRNA, urine}},
		},
		versions: []study.DocumentInput{{Version: "1.0", Tiers: []string{"storage", "genetic", "sharing"}}},
	},
	{
		in: study.Input{Code: "MS", Name: "Multiple sclerosis cohort", DefaultDiagnosis: ptr("G35"), PseudonymPattern: "MS-[0-9]{6}",
			PseudonymScheme: checkcode.SchemeNone, Reason: "the MS network's trusted third party issues MS-nnnnnn without check characters"},
		visits: []study.VisitInput{
			{Code: "BASELINE", Name: "Baseline with lumbar puncture", DayOffset: 0, WindowAfter: 21, Requirements: []study.RequirementInput{edtaPlasma, serum, pbmc, csf}},
			{Code: "M12", Name: "Month 12", DayOffset: 365, WindowBefore: 30, WindowAfter: 30, Requirements: []study.RequirementInput{edtaPlasma, serum, pbmc}},
			{Code: "M24", Name: "Month 24", DayOffset: 730, WindowBefore: 30, WindowAfter: 30, Requirements: []study.RequirementInput{edtaPlasma, serum, pbmc}},
		},
		versions: []study.DocumentInput{{Version: "1.0", Tiers: []string{"storage", "genetic", "sharing", "recontact"}}},
	},
}

func ptr[T any](v T) *T { return &v }

// ParticipantsPerStudySite is how many demo participants each study enrols at each site by
// default: 3 studies × 4 sites × 20 = 240, with about 10,000 samples.
const ParticipantsPerStudySite = 20

// seededReader is a deterministic byte source, so a demo database looks the same each time.
type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.UintN(256))
	}
	return len(p), nil
}

// demoStudiesAndParticipants loads the cohorts, their schedules and consent versions, and
// ~240 participants with consents, some withdrawals and the visits already due.
func demoStudiesAndParticipants(ctx context.Context, a *app.App, admin auth.Actor, perStudySite int, sum *Summary) ([]withdrawal, error) {
	var later []withdrawal
	var plans []participantPlan
	studies := a.Studies
	for _, ds := range demoStudies {
		in := ds.in
		if in.Reason == "" {
			in.Reason = "demonstration data"
		}
		if _, err := studies.Create(ctx, admin, in); err != nil {
			return nil, err
		}
		for _, v := range ds.visits {
			if _, err := studies.AddVisit(ctx, admin, ds.in.Code, v); err != nil {
				return nil, err
			}
		}
		for _, doc := range ds.versions {
			if _, err := studies.AddDocument(ctx, admin, ds.in.Code, doc); err != nil {
				return nil, err
			}
		}
		if ds.retire != "" {
			if _, err := studies.RetireDocument(ctx, admin, ds.in.Code, ds.retire, "superseded by a newer version"); err != nil {
				return nil, err
			}
		}
		sum.Studies++
	}

	nurses := map[string]auth.Actor{}
	users, err := a.Auth.Users(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Role == auth.RoleNurse {
			nurses[u.Site.Code] = u.Actor()
		}
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	people, consents := a.Participants, a.Consents
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for _, ds := range demoStudies {
		st, err := studies.ByCode(ctx, ds.in.Code)
		if err != nil {
			return nil, err
		}
		version := ds.versions[len(ds.versions)-1].Version
		doc, _ := st.Document(version)
		for _, site := range DemoSites {
			nurse := nurses[site.Code]
			for i := 0; i < perStudySite; i++ {
				enrolled := today.AddDate(0, 0, -rng.IntN(760))
				pl := participantPlan{site: site.Code, nurse: nurse, study: st.Code, version: version,
					in: participant.EnrolInput{Study: st.Code, EnrolledOn: enrolled.Format("2006-01-02"),
						Sex: []string{"female", "male"}[rng.IntN(2)], BirthYear: ptr(1945 + rng.IntN(60))}}
				// Some of the IBD cohort have ulcerative colitis, some of the RA cohort
				// seropositive arthritis; the rest take the cohort's default.
				switch {
				case st.Code == "IBD" && i%3 == 2:
					pl.in.Diagnosis = "K51"
				case st.Code == "RA" && i%4 == 0:
					pl.in.Diagnosis = "M05"
				}
				if st.PseudonymPattern != "" {
					pl.in.Pseudonym = fmt.Sprintf("MS-%06d", 100000+len(plans))
				} else if pl.in.Pseudonym, err = st.PseudonymScheme.Generate(seededReader{rng}); err != nil {
					return nil, err
				}
				pl.tiers = []string{"storage"}
				for _, t := range doc.Tiers[1:] {
					if rng.IntN(100) < 82 {
						pl.tiers = append(pl.tiers, string(t))
					}
				}
				for _, v := range st.Visits {
					on := enrolled.AddDate(0, 0, v.DayOffset+rng.IntN(v.WindowAfter+1))
					if on.After(today) {
						break
					}
					pl.due = append(pl.due, participant.OpenVisitInput{Study: st.Code, Visit: v.Code, Date: on.Format("2006-01-02")})
				}
				// About one consent in 16 is withdrawn later: some tiers, or all of it.
				if pl.withdrawRoll = rng.IntN(100); pl.withdrawRoll < 6 {
					pl.withdrawDaysAgo = rng.IntN(30)
				}
				plans = append(plans, pl)
			}
		}
	}
	// The plans are drawn in one sequence, so the data set is the same on every run; the
	// transactions — one per participant: enrolment, consent and the visits already due —
	// then run one site per worker.
	results := make([]withdrawal, len(plans))
	withdrawn := make([]bool, len(plans))
	errs := make([]error, len(DemoSites))
	var wg sync.WaitGroup
	for n, site := range DemoSites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k, pl := range plans {
				if pl.site != site.Code {
					continue
				}
				var c consent.Consent
				err := demoTx(ctx, a.DB, func(tx *db.Tx) error {
					p, err := people.EnrolTx(tx, pl.nurse, pl.in)
					if err != nil {
						return err
					}
					if c, err = consents.RecordTx(tx, pl.nurse, p.Pseudonym, consent.RecordInput{Study: pl.study, Version: pl.version,
						SignedOn: pl.in.EnrolledOn, Tiers: pl.tiers}); err != nil {
						return err
					}
					for _, v := range pl.due {
						if _, err := people.OpenVisitTx(tx, pl.nurse, p.Pseudonym, v); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs[n] = err
					return
				}
				results[k], withdrawn[k] = demoWithdrawal(pl, c, today)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for k, pl := range plans {
		sum.Participants++
		sum.Consents++
		sum.Visits += len(pl.due)
		if withdrawn[k] {
			later = append(later, results[k])
		}
	}
	return later, nil
}

// withdrawal is a demo consent withdrawal, applied once the participant's samples exist so
// that it puts them on hold as a real one would.
type withdrawal struct {
	nurse     auth.Actor
	pseudonym string
	consentID int64
	in        consent.WithdrawInput
}

// participantPlan is one demo participant, drawn before any of them is written.
type participantPlan struct {
	site, study, version string
	nurse                auth.Actor
	in                   participant.EnrolInput
	tiers                []string
	due                  []participant.OpenVisitInput
	// withdrawRoll below 6 withdraws the consent withdrawDaysAgo days ago (some tiers from
	// 3 up, all below).
	withdrawRoll, withdrawDaysAgo int
}

// demoWithdrawal turns a plan's withdrawal draw into the withdrawal of consent c.
func demoWithdrawal(pl participantPlan, c consent.Consent, today time.Time) (withdrawal, bool) {
	if pl.withdrawRoll >= 6 {
		return withdrawal{}, false
	}
	in := consent.WithdrawInput{Reason: "participant's request by letter", WithdrawnOn: today.AddDate(0, 0, -pl.withdrawDaysAgo).Format("2006-01-02")}
	if pl.withdrawRoll >= 3 && len(c.Tiers) > 1 {
		in.Tiers = []string{string(c.Tiers[len(c.Tiers)-1])}
	}
	if in.WithdrawnOn < c.SignedOn.Format("2006-01-02") {
		in.WithdrawnOn = today.Format("2006-01-02")
	}
	return withdrawal{nurse: pl.nurse, pseudonym: pl.in.Pseudonym, consentID: c.ID, in: in}, true
}
