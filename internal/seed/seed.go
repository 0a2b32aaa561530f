// Package seed loads a synthetic demonstration data set into an empty database. Nothing in
// it describes a real person: sites are generic, users are role accounts.
package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"biobank/internal/app"
	"biobank/internal/auth"
	"biobank/internal/db"
)

// DemoPassword is the password of every demo account. It is printed by `make run`; a
// database seeded with it is for demonstration only.
const DemoPassword = "biobank-demo"

// ErrNotEmpty means the database already has sites or users, so demo data is not mixed
// into them.
var ErrNotEmpty = errors.New("seed: the database already holds sites or users; demo data is only loaded into an empty database")

// DemoSites are the four partner sites of the demonstration network.
var DemoSites = []auth.SiteInput{
	{Code: "LUX", Name: "Luxembourg — integrated biobank site", Country: "LU"},
	{Code: "DE-KIEL", Name: "Germany — Kiel clinical site", Country: "DE"},
	{Code: "FR-STRAS", Name: "France — Strasbourg clinical site", Country: "FR"},
	{Code: "CH-BASEL", Name: "Switzerland — Basel clinical site", Country: "CH"},
}

// Login is one demo account.
type Login struct {
	Username string
	Role     auth.Role
	Site     string
}

// DemoLogins are the demo accounts: one per role at the Luxembourg site, and a technician
// and a nurse at each other site.
var DemoLogins = []Login{
	{"admin", auth.RoleAdmin, "LUX"},
	{"manager", auth.RoleManager, "LUX"},
	{"tech.lux", auth.RoleTechnician, "LUX"},
	{"nurse.lux", auth.RoleNurse, "LUX"},
	{"tech.kiel", auth.RoleTechnician, "DE-KIEL"},
	{"nurse.kiel", auth.RoleNurse, "DE-KIEL"},
	{"tech.stras", auth.RoleTechnician, "FR-STRAS"},
	{"nurse.stras", auth.RoleNurse, "FR-STRAS"},
	{"tech.basel", auth.RoleTechnician, "CH-BASEL"},
	{"nurse.basel", auth.RoleNurse, "CH-BASEL"},
}

// Summary says what Demo loaded.
type Summary struct {
	Sites        int
	Users        int
	Studies      int
	Participants int
	Consents     int
	Withdrawals  int
	Visits       int
	Samples      int
	Held         int
	Stored       int
	CheckedOut   int
	Printers     int
	Templates    int
	Shipments    int
}

func (s Summary) String() string {
	return fmt.Sprintf("demo data loaded: %d sites, %d users (password %q for every account), %d studies, "+
		"%d participants with %d consents (%d withdrawals) and %d visits, %d samples (%d in freezer positions, %d checked out, %d on consent hold), "+
		"%d label printers and %d label templates, %d shipments",
		s.Sites, s.Users, DemoPassword, s.Studies, s.Participants, s.Consents, s.Withdrawals, s.Visits, s.Samples, s.Stored, s.CheckedOut, s.Held,
		s.Printers, s.Templates, s.Shipments)
}

// Empty reports whether the database has neither sites nor users yet. Sites count too: a
// database where an administrator has begun setting up must not get demo data, and a demo
// site code already taken would stop Demo half-way, after some sites were created.
func Empty(ctx context.Context, d *db.DB) (bool, error) {
	var found bool
	err := d.Gorm.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM sites) OR EXISTS (SELECT 1 FROM users)").Scan(&found).Error
	if err != nil {
		return false, fmt.Errorf("seed: look for sites and users: %w", err)
	}
	return !found, nil
}

// Options size the demonstration data set.
type Options struct {
	// ParticipantsPerStudySite defaults to ParticipantsPerStudySite; tests use a few.
	ParticipantsPerStudySite int
}

// Demo loads the full demonstration data set (see DemoWith).
func Demo(ctx context.Context, d *db.DB) (Summary, error) {
	return DemoWith(ctx, d, Options{})
}

// DemoWith loads the demonstration data set through the same services (and so the same audit
// trail) as a person would. It refuses a database that already has sites or users.
func DemoWith(ctx context.Context, d *db.DB, opts Options) (Summary, error) {
	if opts.ParticipantsPerStudySite <= 0 {
		opts.ParticipantsPerStudySite = ParticipantsPerStudySite
	}
	empty, err := Empty(ctx, d)
	if err != nil {
		return Summary{}, err
	}
	if !empty {
		return Summary{}, ErrNotEmpty
	}
	clock := &demoClock{}
	a := app.New(d, app.Config{Now: clock.Now})
	svc := a.Auth
	actor := auth.Actor{Username: "demo-seed", Role: auth.RoleAdmin}
	var sum Summary
	for _, in := range DemoSites {
		in.Reason = "demonstration data"
		if _, err := svc.CreateSite(ctx, actor, in); err != nil {
			return sum, fmt.Errorf("seed: %w", err)
		}
		sum.Sites++
	}
	for _, l := range DemoLogins {
		_, err := svc.CreateUser(ctx, actor, auth.NewUser{Username: l.Username, Role: string(l.Role), Site: l.Site,
			Password: DemoPassword, Reason: "demonstration data"})
		if err != nil {
			return sum, fmt.Errorf("seed: %w", err)
		}
		sum.Users++
	}
	if err := demoPrinting(ctx, a, actor, &sum); err != nil {
		return sum, fmt.Errorf("seed: %w", err)
	}
	withdrawals, err := demoStudiesAndParticipants(ctx, a, actor, opts.ParticipantsPerStudySite, &sum)
	if err != nil {
		return sum, fmt.Errorf("seed: %w", err)
	}
	if err := demoSamples(ctx, a, clock, withdrawals, &sum); err != nil {
		return sum, fmt.Errorf("seed: %w", err)
	}
	clock.at = time.Time{} // shipments happen now
	if err := demoShipmentsSeed(ctx, a, &sum); err != nil {
		return sum, fmt.Errorf("seed: %w", err)
	}
	return sum, nil
}

// demoClock is the clock of the seed's services: the real time, or, while the seed replays
// a sample's past, the moment each step happened.
type demoClock struct{ at time.Time }

// Now is the clock's reading.
func (c *demoClock) Now() time.Time {
	if c.at.IsZero() {
		return time.Now().UTC()
	}
	return c.at
}

// demoTx runs one of the seed's transactions without waiting for its commit to reach the
// disk (synchronous_commit off for that transaction alone): demonstration data can be made
// again, and a crash part-way leaves a partly seeded database whether or not the last
// commits were flushed. Atomicity and the audit chain are unaffected.
func demoTx(ctx context.Context, d *db.DB, fn func(tx *db.Tx) error) error {
	return d.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.NoDurabilityWait("demonstration data: a crash while loading it means loading it again"); err != nil {
			return err
		}
		return fn(tx)
	})
}
