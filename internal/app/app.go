// Package app is the composition root: the one place that builds every domain service with
// the collaborators it needs. The web server, the command line, the demo seed and the
// tests all build the application through New, so no service is ever wired differently,
// or half-wired, in one of them.
package app

import (
	"time"

	"biobank/internal/auth"
	"biobank/internal/bulk"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/fhir"
	"biobank/internal/participant"
	"biobank/internal/printing"
	"biobank/internal/sample"
	"biobank/internal/shipment"
	"biobank/internal/storage"
	"biobank/internal/study"
)

// Config is what the services take from the configuration.
type Config struct {
	// AccessionPrefix starts new accession IDs (sample.DefaultPrefix when empty).
	AccessionPrefix string
	// Now is the clock every service reads (UTC); the real clock when nil. The demo seed
	// sets it to when each step happened, tests to a clock they control.
	Now func() time.Time
}

// App holds every domain service, built once.
type App struct {
	DB           *db.DB
	Auth         *auth.Service
	Studies      *study.Service
	Participants *participant.Service
	Consents     *consent.Service
	Samples      *sample.Service
	Storage      *storage.Service
	Printing     *printing.Service
	Shipments    *shipment.Service
	FHIR         *fhir.Service
	Import       *bulk.Service
}

// New builds the services on d. Order follows the collaborators: samples free their
// storage position through storage.Positions, and a consent withdrawal holds material
// through the sample service, inside the withdrawal's own transaction.
func New(d *db.DB, cfg Config) *App {
	now := cfg.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	a := &App{DB: d}
	a.Auth = auth.NewService(d)
	a.Auth.Now = now
	a.Studies = study.NewService(d)
	a.Studies.Now = now
	a.Participants = participant.NewService(d, a.Studies)
	a.Samples = sample.NewService(d, a.Participants, storage.Positions{})
	a.Samples.Now = now
	if cfg.AccessionPrefix != "" {
		a.Samples.Prefix = cfg.AccessionPrefix
	}
	a.Consents = consent.NewService(d, a.Participants, a.Samples)
	a.Storage = storage.NewService(d, a.Samples)
	a.Storage.Now = now
	a.Printing = printing.NewService(d, a.Samples, a.Storage)
	a.Printing.Now = now
	a.Shipments = shipment.NewService(d, a.Samples)
	a.Shipments.Now = now
	a.FHIR = fhir.NewService(d, a.Samples, a.Samples.Prefix)
	a.Import = bulk.NewService(d, a.Samples)
	a.Import.Now = now
	return a
}
