package seed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"biobank/internal/app"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/sample"
	"biobank/internal/sprec"
	"biobank/internal/study"
)

// demoVisit is an opened visit whose tubes the demo registers.
type demoVisit struct {
	Pseudonym string
	Study     string
	Visit     string
	VisitDate time.Time
	Site      string
}

// demoSamples registers the tubes of every opened demo visit through the sample service —
// collected by the site's nurse, received, processed and aliquoted by its technician —
// with the clock set to when each step happened, then applies the pending withdrawals so
// they put material on hold. About 8,000 samples.
func demoSamples(ctx context.Context, a *app.App, clock *demoClock, withdrawals []withdrawal, sum *Summary) error {
	d := a.DB
	var visits []demoVisit
	err := d.Gorm.WithContext(ctx).Raw(`SELECT p.pseudonym, st.code AS study, vd.code AS visit, v.visit_date, si.code AS site
		FROM visits v JOIN participants p ON p.id = v.participant_id JOIN studies st ON st.id = v.study_id
		JOIN visit_definitions vd ON vd.id = v.visit_definition_id JOIN sites si ON si.id = p.site_id
		ORDER BY v.visit_date, p.pseudonym, vd.day_offset`).Scan(&visits).Error
	if err != nil {
		return err
	}
	staff := map[string]map[auth.Role]auth.Actor{}
	users, err := a.Auth.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if staff[u.Site.Code] == nil {
			staff[u.Site.Code] = map[auth.Role]auth.Actor{}
		}
		staff[u.Site.Code][u.Role] = u.Actor()
	}
	studies := map[string]study.Study{}
	for _, v := range visits {
		if _, ok := studies[v.Study]; !ok {
			st, err := a.Studies.ByCode(ctx, v.Study)
			if err != nil {
				return err
			}
			studies[v.Study] = st
		}
	}
	// The visits are shared out among workers by participant, so that one participant's
	// visits stay in date order on one worker; each visit draws from a random source of
	// its own, so the data set does not depend on how the workers interleave (only the
	// order in which accession numbers are handed out does). Each worker builds the
	// application with a clock of its own.
	work := make([][]int, demoWorkers)
	for i, v := range visits {
		h := fnv.New32a()
		h.Write([]byte(v.Pseudonym))
		k := h.Sum32() % demoWorkers
		work[k] = append(work[k], i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, demoWorkers)
	made := make([]int, demoWorkers)
	for n := range work {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clock := &demoClock{}
			wa := app.New(d, app.Config{Now: clock.Now, AccessionPrefix: a.Samples.Prefix})
			for _, i := range work[n] {
				if ctx.Err() != nil {
					return
				}
				v := visits[i]
				count, err := demoVisitSamples(ctx, wa, clock, studies[v.Study], v, staff[v.Site], rand.New(rand.NewPCG(8000, visitSeed(v))))
				if err != nil {
					errs[n] = err
					cancel()
					return
				}
				made[n] += count
			}
		}()
	}
	wg.Wait()
	for n := range work {
		if errs[n] != nil {
			return errs[n]
		}
		sum.Samples += made[n]
	}
	clock.at = time.Time{}
	if err := demoStorage(ctx, a, sum); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	for _, w := range withdrawals {
		res, err := a.Consents.Withdraw(ctx, w.nurse, w.pseudonym, w.consentID, w.in)
		if err != nil {
			return err
		}
		sum.Withdrawals++
		sum.Held += len(res.HeldSamples)
	}
	return nil
}

// demoWorkers is how many visits the seed registers at once: the 2-core machine's database
// and the seed's own work overlap best with a few at a time.
const demoWorkers = 3

// demoVisitSamples registers one visit's tubes in one transaction — collected by the site's
// nurse, received, processed and aliquoted by its technician, with the clock set to when
// each step happened — and returns how many samples it made.
func demoVisitSamples(ctx context.Context, a *app.App, clock *demoClock, st study.Study, v demoVisit,
	staff map[auth.Role]auth.Actor, rng *rand.Rand) (int, error) {
	def, _ := st.Visit(v.Visit)
	nurse, tech := staff[auth.RoleNurse], staff[auth.RoleTechnician]
	collected := v.VisitDate.Add(8*time.Hour + time.Duration(rng.IntN(240))*time.Minute)
	var tubes []sample.Tube
	var reqs []study.SpecimenRequirement
	for _, r := range def.Requirements {
		if rng.IntN(100) < 4 {
			continue // not drawn this time
		}
		tubes = append(tubes, sample.Tube{SpecimenType: r.SpecimenType, Container: r.Container, Volume: r.Volume, Unit: r.Unit})
		reqs = append(reqs, r)
	}
	if len(tubes) == 0 {
		return 0, nil
	}
	clock.at = collected.Add(time.Minute)
	// One transaction per visit: its tubes collected, received, processed, aliquoted.
	made := 0
	err := demoTx(ctx, a.DB, func(tx *db.Tx) error {
		made = 0
		out, err := a.Samples.CollectTx(tx, nurse, sample.Collection{Participant: v.Pseudonym, Study: v.Study, Visit: v.Visit,
			CollectedAt: collected.Format(time.RFC3339), Tubes: tubes})
		if err != nil {
			return fmt.Errorf("collect %s %s: %w", v.Pseudonym, v.Visit, err)
		}
		made += len(out)
		for i, tube := range out {
			n, err := demoProcess(tx, a.Samples, &clock.at, tech, tube, reqs[i], rng)
			if err != nil {
				return fmt.Errorf("process %s: %w", tube.Accession, err)
			}
			made += n
		}
		return nil
	})
	return made, err
}

// demoProcess receives a tube about an hour after collection, records a plausible
// processing (spun blood, frozen stool and urine), splits it by the visit's aliquot plan,
// and now and then uses up or loses an aliquot.
func demoProcess(tx *db.Tx, samples *sample.Service, clock *time.Time, tech auth.Actor, tube sample.Sample,
	r study.SpecimenRequirement, rng *rand.Rand) (aliquots int, err error) {
	collected := tube.CollectedAt
	*clock = collected.Add(time.Duration(30+rng.IntN(60)) * time.Minute)
	if _, err := samples.ReceiveTx(tx, tech, tube.Accession); err != nil {
		return 0, err
	}
	started := clock.Add(time.Duration(5+rng.IntN(40)) * time.Minute)
	p := sample.Processing{StartedAt: &started, PreCentrifugationTemp: sprec.TempRoom,
		StorageContainer: sprec.ContainerPolypropyleneTube, StorageTemperature: storageTemp(r.StorageTemperature)}
	ended := started.Add(15 * time.Minute)
	if r.SpecimenType == "urine" {
		p.UrineKind = sprec.UrineSpot
	}
	switch r.SpecimenType {
	case "stool", "urine", "csf":
		p.Centrifugation = &sample.Spin{None: true}
		if r.SpecimenType == "csf" {
			g, m, brake := 400, 10, false
			p.Centrifugation = &sample.Spin{Temp: sprec.TempCold, G: &g, Minutes: &m, Brake: &brake}
			p.CentrifugationEndedAt = &ended
			p.PostCentrifugationTemp = sprec.TempCold
			p.SecondCentrifugation = &sample.Spin{None: true}
		}
	default:
		g, m, brake := 2000, 10, true
		if r.Container == "CPT" {
			g, m = 1600, 15
		}
		p.Centrifugation = &sample.Spin{Temp: sprec.TempRoom, G: &g, Minutes: &m, Brake: &brake}
		p.SecondCentrifugation = &sample.Spin{None: true}
		p.CentrifugationEndedAt = &ended
		p.PostCentrifugationTemp = sprec.TempRoom
	}
	frozen := ended.Add(time.Duration(10+rng.IntN(50)) * time.Minute)
	p.FrozenAt = &frozen
	*clock = frozen.Add(time.Minute)
	if _, err := samples.RecordProcessingTx(tx, tech, tube.Accession, p); err != nil {
		return 0, err
	}
	if r.Aliquots == 0 || r.AliquotVolume == nil {
		return 0, nil
	}
	kind := ""
	if r.AliquotType != nil {
		kind = *r.AliquotType
	}
	kids, err := samples.AliquotTx(tx, tech, tube.Accession, sample.Split{Count: r.Aliquots, Volume: *r.AliquotVolume, SpecimenType: kind})
	if err != nil {
		return 0, err
	}
	for _, k := range kids {
		roll := rng.IntN(1000)
		var act sample.Action
		switch {
		case roll < 30:
			act = sample.ActConsume
		case roll < 40:
			act = sample.ActDestroy
		case roll < 42:
			act = sample.ActLose
		default:
			continue
		}
		*clock = clock.Add(24 * time.Hour * time.Duration(1+rng.IntN(60)))
		if clock.After(time.Now()) {
			*clock = time.Now().UTC()
		}
		reason := map[sample.Action]string{sample.ActConsume: "used for the ELISA batch", sample.ActDestroy: "tube cracked on thawing",
			sample.ActLose: "not found at the inventory check"}[act]
		if _, err := samples.EndTx(tx, tech, k.Accession, act, reason); err != nil {
			return 0, err
		}
	}
	return len(kids), nil
}

// storageTemp maps a requirement's storage temperature to the SPREC storage condition.
func storageTemp(t string) sprec.StorageTemperature {
	switch t {
	case "-80":
		v, _ := sprec.ParseStorageTemperature("-80")
		return v
	case "-20":
		v, _ := sprec.ParseStorageTemperature("-20")
		return v
	case "ln2":
		v, _ := sprec.ParseStorageTemperature("ln2")
		return v
	}
	v, _ := sprec.ParseStorageTemperature("rt_or_2-10")
	return v
}

// visitSeed is the seed of a visit's random source: derived from who and which visit, not
// from database IDs or the order the workers ran in, so the data set is the same each run.
func visitSeed(v demoVisit) uint64 {
	h := fnv.New64a()
	h.Write([]byte(v.Pseudonym + "/" + v.Study + "/" + v.Visit))
	return h.Sum64()
}
