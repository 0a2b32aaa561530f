// Package printing keeps the label printers and templates and prints: it builds the labels
// of samples and boxes from a template, sends them as one ZPL batch over TCP to a thermal
// printer (checking first that the printer answers and is ready), and records every job —
// queued, sent or failed with the reason — in the audit trail, since labels are controlled
// records.
package printing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/label"
	"biobank/internal/sample"
	"biobank/internal/storage"
)

// MaxLabels bounds the labels of one job (copies included).
const MaxLabels = 1000

// DefaultPort is where ZPL printers listen for raw jobs.
const DefaultPort = "9100"

// Printer is a label printer of a site.
type Printer struct {
	ID        int64     `json:"-"`
	Name      string    `json:"name"`
	SiteID    int64     `json:"-"`
	Site      auth.Site `json:"-" gorm:"foreignKey:SiteID"`
	Kind      string    `json:"kind"`
	Address   string    `json:"address"`
	DPI       int       `json:"dpi"`
	TimeoutMS int       `json:"timeout_ms"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// Template is a stored label template.
type Template struct {
	ID       int64   `json:"-"`
	Name     string  `json:"name"`
	WidthMM  float64 `json:"width_mm"`
	HeightMM float64 `json:"height_mm"`
	DPI      int     `json:"dpi"`
	// Codes are the symbologies, the primary first, separated by commas.
	Codes     string    `json:"codes"`
	Lines     []byte    `json:"-" gorm:"type:jsonb"`
	FontPt    float64   `json:"font_pt"`
	Stock     string    `json:"stock"`
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
}

// TableName is label_templates.
func (Template) TableName() string { return "label_templates" }

// Label is the template as the label package draws it.
func (t Template) Label() label.Template {
	out := label.Template{Name: t.Name, WidthMM: t.WidthMM, HeightMM: t.HeightMM, DPI: t.DPI, FontPt: t.FontPt, Stock: t.Stock}
	for _, c := range strings.Split(t.Codes, ",") {
		out.Codes = append(out.Codes, label.Symbology(c))
	}
	_ = json.Unmarshal(t.Lines, &out.Lines) // written by this package: always a list of lines
	return out
}

// Job is one print request, as recorded.
type Job struct {
	ID         int64      `json:"id"`
	CreatedAt  time.Time  `json:"created_at"`
	ActorID    *int64     `json:"-"`
	Actor      string     `json:"actor"`
	SiteID     *int64     `json:"-"`
	PrinterID  int64      `json:"-"`
	Printer    Printer    `json:"-" gorm:"foreignKey:PrinterID"`
	TemplateID *int64     `json:"-"`
	Template   *Template  `json:"-" gorm:"foreignKey:TemplateID"`
	Codes      []byte     `json:"-" gorm:"type:jsonb"`
	Labels     int        `json:"labels"`
	Status     string     `json:"status"`
	Error      string     `json:"error,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// TableName is print_jobs.
func (Job) TableName() string { return "print_jobs" }

// PrinterError is a printer that could not be reached or refused the job; the job is
// recorded failed with it. The web layer answers 502 printer_unreachable.
type PrinterError struct {
	Printer string
	Reason  string
	// Partial says the printer failed while taking the labels: some may have come out.
	Partial bool
}

func (e *PrinterError) Error() string {
	if e.Partial {
		return fmt.Sprintf("Printer %s %s: some labels may have come out; check them before printing again.", e.Printer, e.Reason)
	}
	return fmt.Sprintf("Printer %s %s. Nothing was printed.", e.Printer, e.Reason)
}

// Service prints labels.
type Service struct {
	DB      *db.DB
	Samples *sample.Service
	Storage *storage.Service
	Now     func() time.Time
}

// NewService returns a Service on d.
func NewService(d *db.DB, samples *sample.Service, st *storage.Service) *Service {
	return &Service{DB: d, Samples: samples, Storage: st, Now: func() time.Time { return time.Now().UTC() }}
}

// PrinterInput is what an administrator enters for a printer.
type PrinterInput struct {
	Name      string `json:"name"`
	Site      string `json:"site"`
	Kind      string `json:"kind"`
	Address   string `json:"address"`
	DPI       int    `json:"dpi"`
	TimeoutMS int    `json:"timeout_ms"`
	// SiteDefault makes it the printer of its site for people without one of their own.
	SiteDefault bool   `json:"site_default"`
	Reason      string `json:"reason"`
}

type printerEvent struct {
	Name        string `json:"name"`
	Site        string `json:"site"`
	Kind        string `json:"kind"`
	Address     string `json:"address"`
	DPI         int    `json:"dpi"`
	TimeoutMS   int    `json:"timeout_ms"`
	SiteDefault bool   `json:"site_default"`
}

func (printerEvent) AuditPayload() {}

// CreatePrinter adds a printer (administrators).
func (s *Service) CreatePrinter(ctx context.Context, actor auth.Actor, in PrinterInput) (Printer, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return Printer{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return Printer{}, err
	}
	p := Printer{Kind: strings.ToLower(strings.TrimSpace(in.Kind)), DPI: in.DPI, TimeoutMS: in.TimeoutMS, Active: true}
	if p.Name, err = input.Text("name", "printer name", in.Name, 100, true); err != nil {
		return Printer{}, err
	}
	if p.DPI == 0 {
		p.DPI = 300
	}
	if err := label.CheckDPI(p.DPI); err != nil {
		return Printer{}, err
	}
	if p.TimeoutMS == 0 {
		p.TimeoutMS = 5000
	}
	if p.TimeoutMS < 500 || p.TimeoutMS > 60000 {
		return Printer{}, apperr.Invalid("timeout_ms", "The timeout is 500 to 60,000 ms.")
	}
	switch p.Kind {
	case "zpl":
		if p.Address, err = printerAddress(in.Address); err != nil {
			return Printer{}, err
		}
	case "pdf":
		p.Address = strings.TrimSpace(in.Address)
	default:
		return Printer{}, apperr.Invalid("kind", "A printer is zpl (a thermal label printer, over the network) or pdf (sheets for an office printer).")
	}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		site := strings.ToUpper(strings.TrimSpace(in.Site))
		if site == "" {
			site = actor.SiteCode
		}
		if err := tx.Where("code = ?", site).Take(&p.Site).Error; err != nil {
			if db.ErrNoRows(err) {
				return apperr.Invalid("site", fmt.Sprintf("There is no site %q.", site))
			}
			return err
		}
		p.SiteID = p.Site.ID
		if err := tx.Omit(clause.Associations).Create(&p).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_printer", "name", fmt.Sprintf("There is already a printer called %s.", p.Name))
			}
			return err
		}
		if in.SiteDefault {
			if err := tx.Exec("UPDATE sites SET default_printer_id = ? WHERE id = ?", p.ID, p.SiteID).Error; err != nil {
				return err
			}
		}
		e := actor.Entry("printer.create", "printer", p.Name)
		e.Reason = reason
		e.After = printerEvent{Name: p.Name, Site: p.Site.Code, Kind: p.Kind, Address: p.Address, DPI: p.DPI, TimeoutMS: p.TimeoutMS, SiteDefault: in.SiteDefault}
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Printer{}, fmt.Errorf("printing: create printer %s: %w", in.Name, err)
	}
	return p, nil
}

// printerAddress reads host:port, the port 9100 when it is left out.
func printerAddress(raw string) (string, error) {
	a := strings.TrimSpace(raw)
	if a == "" {
		return "", apperr.Invalid("address", "Give the printer's network address, such as 10.1.2.3 or label-printer-3:9100.")
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = a, DefaultPort
	}
	n, err := strconv.Atoi(port)
	if host == "" || strings.ContainsAny(host, " /") || err != nil || n < 1 || n > 65535 {
		return "", apperr.Invalid("address", fmt.Sprintf("%q is not a printer address: give host:port, such as 10.1.2.3:9100.", raw))
	}
	return net.JoinHostPort(host, port), nil
}

// Printers lists the printers, by site and name.
func (s *Service) Printers(ctx context.Context) ([]Printer, error) {
	var out []Printer
	err := s.DB.Gorm.WithContext(ctx).Preload("Site").Joins("JOIN sites ON sites.id = printers.site_id").
		Order("sites.code, lower(printers.name)").Find(&out).Error
	return out, err
}

// TemplateInput is what an administrator enters for a label template.
type TemplateInput struct {
	label.Template
	Reason string `json:"reason"`
}

type templateEvent struct {
	Name     string       `json:"name"`
	WidthMM  float64      `json:"width_mm"`
	HeightMM float64      `json:"height_mm"`
	DPI      int          `json:"dpi"`
	Codes    []string     `json:"codes"`
	Lines    []label.Line `json:"lines"`
	FontPt   float64      `json:"font_pt"`
	Stock    string       `json:"stock"`
}

func (templateEvent) AuditPayload() {}

// longestData is a label's data with the longest values its fields take, to check at save
// that a template's lines fit every sample.
var longestData = label.Data{Code: "AC00000000XX", Fields: map[string]string{
	"accession": "AC00000000XX", "tube_barcode": "FX0000000000", "pseudonym": "0000000X", "study": "IBD-EXT", "visit": "Month 12",
	"specimen_type": "Cerebrospinal fluid", "specimen_short": "CSF", "collected_on": "2026-12-31", "volume": "10.25 mL",
	"sprec": "PL1-PED-A-B-N-B-A", "position": "LUX-BX0000 H12",
}}

// CreateTemplate adds a label template (administrators); lines that do not fit a label are
// refused naming the line.
func (s *Service) CreateTemplate(ctx context.Context, actor auth.Actor, in TemplateInput) (Template, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return Template{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return Template{}, err
	}
	lt := in.Template
	lt.Name = strings.TrimSpace(lt.Name)
	if lt.DPI == 0 {
		lt.DPI = 300
	}
	if err := lt.Check(); err != nil {
		return Template{}, err
	}
	if _, err := lt.Layout(longestData); err != nil {
		return Template{}, err
	}
	lines, _ := json.Marshal(lt.Lines)
	if lt.Lines == nil {
		lines = []byte("[]")
	}
	t := Template{Name: lt.Name, WidthMM: lt.WidthMM, HeightMM: lt.HeightMM, DPI: lt.DPI, Lines: lines, FontPt: lt.FontPt, Stock: lt.Stock}
	var codes []string
	for _, c := range lt.Codes {
		codes = append(codes, string(c))
	}
	t.Codes = strings.Join(codes, ",")
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Create(&t).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_template", "name", fmt.Sprintf("There is already a template called %s.", t.Name))
			}
			return err
		}
		e := actor.Entry("label_template.create", "label_template", t.Name)
		e.Reason = reason
		e.After = templateEvent{Name: t.Name, WidthMM: t.WidthMM, HeightMM: t.HeightMM, DPI: t.DPI, Codes: codes, Lines: lt.Lines, FontPt: t.FontPt, Stock: t.Stock}
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Template{}, fmt.Errorf("printing: create template %s: %w", lt.Name, err)
	}
	return t, nil
}

// Templates lists the label templates by name.
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	var out []Template
	err := s.DB.Gorm.WithContext(ctx).Order("lower(name)").Find(&out).Error
	return out, err
}

// DefaultTemplate is the label printed when no template is named and none is defined: a
// 32 × 13 mm cryo label with a Data Matrix, the accession ID, pseudonym, specimen and
// volume.
var DefaultTemplate = label.Template{Name: "built-in cryo 32 × 13 mm", WidthMM: 32, HeightMM: 13, DPI: 300,
	Codes: []label.Symbology{label.DataMatrix}, FontPt: 5,
	Lines: []label.Line{{Field: "accession"}, {Field: "pseudonym"}, {Field: "specimen_short"}, {Field: "volume"}}, Stock: "cryo −196 °C"}

// PrintInput is a print request: samples or boxes, on a printer and template by name (the
// user's or site's printer, and the first template, when left out).
type PrintInput struct {
	Printer  string   `json:"printer"`
	Template string   `json:"template"`
	Samples  []string `json:"samples"`
	Boxes    []string `json:"boxes"`
	Copies   int      `json:"copies"`
}

type jobEvent struct {
	Job      int64    `json:"job"`
	Printer  string   `json:"printer"`
	Template string   `json:"template"`
	Codes    []string `json:"codes"`
	Labels   int      `json:"labels"`
	Status   string   `json:"status"`
	Error    string   `json:"error,omitempty"`
}

func (jobEvent) AuditPayload() {}

// Print prints the labels of samples or boxes: it records the job as queued, asks the
// printer whether it is there and ready, sends every label in one connection, and records
// the job sent — or failed, with the reason, which the caller gets as a *PrinterError.
func (s *Service) Print(ctx context.Context, actor auth.Actor, in PrintInput) (Job, error) {
	copies := in.Copies
	if copies == 0 {
		copies = 1
	}
	if copies < 1 || copies > 100 {
		return Job{}, apperr.Invalid("copies", "Print 1 to 100 copies of each label.")
	}
	n := (len(in.Samples) + len(in.Boxes)) * copies
	switch {
	case n == 0:
		return Job{}, apperr.Invalid("samples", "Name the samples or boxes whose labels to print.")
	case n > MaxLabels:
		return Job{}, apperr.Invalid("samples", fmt.Sprintf("One print job has at most %d labels; this one would have %d.", MaxLabels, n))
	}
	q := s.DB.Gorm.WithContext(ctx)
	printer, err := s.printerFor(q, actor, in.Printer)
	if err != nil {
		return Job{}, err
	}
	tpl, tplID, err := s.templateFor(q, in.Template)
	if err != nil {
		return Job{}, err
	}
	tpl.DPI = printer.DPI
	data, err := s.labelData(ctx, actor, in.Samples, in.Boxes)
	if err != nil {
		return Job{}, err
	}
	codes := make([]string, len(data))
	for i, d := range data {
		codes[i] = d.Code
	}
	zpl, err := label.ZPL(tpl, data, copies)
	if err != nil {
		return Job{}, err
	}
	codesJSON, _ := json.Marshal(codes)
	job := Job{Actor: actor.Username, ActorID: actor.ID(), PrinterID: printer.ID, TemplateID: tplID, Codes: codesJSON, Labels: n, Status: "queued"}
	if actor.SiteID != 0 {
		site := actor.SiteID
		job.SiteID = &site
	}
	event := func(tx *db.Tx, action string) {
		e := actor.Entry(action, "print_job", strconv.FormatInt(job.ID, 10))
		e.After = jobEvent{Job: job.ID, Printer: printer.Name, Template: tpl.Name, Codes: codes, Labels: n, Status: job.Status, Error: job.Error}
		tx.Record(e)
	}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Omit(clause.Associations).Create(&job).Error; err != nil {
			return err
		}
		event(tx, "print_job.queue")
		return nil
	})
	if err != nil {
		return Job{}, fmt.Errorf("printing: record job: %w", err)
	}
	sendErr := Send(ctx, printer, []byte(zpl))
	job.Status = "sent"
	if sendErr != nil {
		job.Status, job.Error = "failed", sendErr.Error()
	}
	now := s.Now()
	job.FinishedAt = &now
	// The outcome is recorded even when the caller has gone: the labels were (or were not)
	// printed whatever happens to the request.
	err = s.DB.Tx(context.WithoutCancel(ctx), func(tx *db.Tx) error {
		if err := tx.Model(&Job{}).Where("id = ?", job.ID).
			Updates(map[string]any{"status": job.Status, "error": job.Error, "finished_at": now}).Error; err != nil {
			return err
		}
		event(tx, "print_job."+job.Status)
		return nil
	})
	if err != nil {
		return job, fmt.Errorf("printing: record job %d: %w", job.ID, err)
	}
	if sendErr != nil {
		return job, sendErr
	}
	return job, nil
}

func (s *Service) printerFor(q *gorm.DB, actor auth.Actor, name string) (Printer, error) {
	var p Printer
	var err error
	switch name = strings.TrimSpace(name); {
	case name != "":
		err = q.Where("lower(name) = lower(?) AND active", name).Take(&p).Error
		if db.ErrNoRows(err) {
			return p, apperr.Invalid("printer", fmt.Sprintf("There is no printer %q.", name))
		}
	default:
		err = q.Raw(`SELECT p.* FROM printers p WHERE p.active AND p.id = COALESCE(
			(SELECT default_printer_id FROM users WHERE id = ?), (SELECT default_printer_id FROM sites WHERE id = ?),
			(SELECT min(id) FROM printers WHERE site_id = ? AND active AND kind = 'zpl'))`,
			actor.ID(), actor.SiteID, actor.SiteID).Scan(&p).Error
		if err == nil && p.ID == 0 {
			return p, apperr.Invalid("printer", "No label printer is set up for your site: ask an administrator to add one.")
		}
	}
	if err != nil {
		return p, err
	}
	if p.Kind != "zpl" {
		return p, apperr.Invalid("printer", fmt.Sprintf("%s prints PDF sheets: download the sheet of these labels and print it there.", p.Name))
	}
	return p, nil
}

func (s *Service) templateFor(q *gorm.DB, name string) (label.Template, *int64, error) {
	var ts []Template
	qq := q.Order("id").Limit(1)
	if name = strings.TrimSpace(name); name != "" {
		qq = qq.Where("lower(name) = lower(?)", name)
	}
	if err := qq.Find(&ts).Error; err != nil {
		return label.Template{}, nil, err
	}
	if len(ts) == 0 {
		if name != "" {
			return label.Template{}, nil, apperr.Invalid("template", fmt.Sprintf("There is no label template %q.", name))
		}
		return DefaultTemplate, nil, nil
	}
	id := ts[0].ID
	return ts[0].Label(), &id, nil
}

// sampleData is what a sample's label shows.
func (s *Service) sampleData(ctx context.Context, actor auth.Actor, code string) (label.Data, error) {
	smp, err := s.Samples.Get(ctx, actor, code)
	if err != nil {
		return label.Data{}, err
	}
	var row struct {
		TypeLabel string
		Box       *string
		Row, Col  *int
	}
	err = s.DB.Gorm.WithContext(ctx).Raw(`SELECT t.label AS type_label, b.barcode AS box, p.row, p.col
		FROM specimen_types t LEFT JOIN sample_positions p ON p.sample_id = ? LEFT JOIN boxes b ON b.id = p.box_id
		WHERE t.code = ?`, smp.ID, smp.SpecimenType).Scan(&row).Error
	if err != nil {
		return label.Data{}, err
	}
	f := map[string]string{
		"accession": smp.Accession, "pseudonym": smp.Participant.Pseudonym, "study": smp.Study.Code,
		"visit": smp.Visit.Definition.Name, "specimen_type": row.TypeLabel, "specimen_short": sprecType(smp.SPREC, smp.SpecimenType),
		"collected_on": smp.CollectedAt.Format("2006-01-02"), "volume": smp.Volume.String() + " " + smp.Unit, "sprec": smp.SPREC,
	}
	if smp.TubeBarcode != nil {
		f["tube_barcode"] = *smp.TubeBarcode
	}
	if row.Box != nil && row.Row != nil && row.Col != nil {
		f["position"] = *row.Box + " " + storage.Position{Row: *row.Row, Col: *row.Col}.String()
	}
	return label.Data{Code: smp.Accession, Fields: f}, nil
}

// sprecType is the short name of a specimen type: the first part of its SPREC code.
func sprecType(sprec, fallback string) string {
	if t, _, ok := strings.Cut(sprec, "-"); ok && t != "" {
		return t
	}
	return fallback
}

// Jobs lists recent print jobs, newest first (of the actor's site for those who see only
// their own), from before cursor when it is set.
func (s *Service) Jobs(ctx context.Context, actor auth.Actor, cursor int64, limit int) ([]Job, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := actor.ScopeToSite(s.DB.Gorm.WithContext(ctx).Preload("Printer").Preload("Template"), "print_jobs.site_id")
	if cursor > 0 {
		q = q.Where("id < ?", cursor)
	}
	var out []Job
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Verify is the scan-back check of a printed label: the scanned code must name the expected
// sample (its accession ID or tube barcode) or box.
func (s *Service) Verify(ctx context.Context, actor auth.Actor, expected, scanned string) (bool, string, error) {
	exp, got := input.Scanned(expected), input.Scanned(scanned)
	if exp == "" || got == "" {
		return false, "", apperr.Invalid("scanned", "Scan the label that was printed.")
	}
	want, err := s.Samples.Get(ctx, actor, exp)
	if err != nil {
		if _, missing := apperr.AsNotFound(err); !missing {
			return false, "", err
		}
		// A box label.
		if strings.EqualFold(exp, got) {
			return true, "", nil
		}
		return false, fmt.Sprintf("The label reads %s, not %s: it is the wrong label.", got, exp), nil
	}
	smp, err := s.Samples.Get(ctx, actor, got)
	if err != nil {
		var v *apperr.ValidationError
		if errors.As(err, &v) {
			return false, fmt.Sprintf("The label reads %q, which is not a valid code: reprint it. (%s)", got, v.Message), nil
		}
		if _, missing := apperr.AsNotFound(err); missing {
			return false, fmt.Sprintf("The label reads %s, which is no sample: reprint it.", got), nil
		}
		return false, "", err
	}
	if smp.ID != want.ID {
		return false, fmt.Sprintf("The label reads %s, but this tube is %s: it is another tube's label.", smp.Accession, want.Accession), nil
	}
	return true, "", nil
}

// statusProbe asks a ZPL printer for its host status (~HS); it answers three lines between
// STX and ETX.
const statusProbe = "~HS"

// Send sends a ZPL batch to a printer in one connection: it connects, asks the printer's
// status and waits for the answer (a printer that accepts a connection but does not answer
// is not there), refuses when the printer reports paper out or paused, writes the batch,
// and asks the status once more, whose answer confirms the printer took it all (a printer
// that reset the connection on the way does not answer). Every step is bounded by the
// printer's timeout.
func Send(ctx context.Context, p Printer, zpl []byte) error {
	timeout := time.Duration(p.TimeoutMS) * time.Millisecond
	fail := func(reason string) error { return &PrinterError{Printer: p.Name, Reason: reason} }
	failDuring := func(reason string) error { return &PrinterError{Printer: p.Name, Reason: reason, Partial: true} }
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", p.Address)
	if err != nil {
		return fail(fmt.Sprintf("(%s) could not be reached: %v", p.Address, unwrapNet(err)))
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fail(err.Error())
	}
	if _, err := conn.Write([]byte(statusProbe)); err != nil {
		return fail(fmt.Sprintf("(%s) closed the connection: %v", p.Address, unwrapNet(err)))
	}
	status, err := readStatus(conn)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fail(fmt.Sprintf("(%s) did not answer within %s", p.Address, timeout))
		}
		return fail(fmt.Sprintf("(%s) did not answer: %v", p.Address, unwrapNet(err)))
	}
	if problem := status.problem(); problem != "" {
		return fail("reports " + problem)
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fail(err.Error())
	}
	if _, err := conn.Write(zpl); err != nil {
		return failDuring(fmt.Sprintf("(%s) stopped taking the labels (%v)", p.Address, unwrapNet(err)))
	}
	// Ask again: the answer says the printer took the whole batch (a printer that reset the
	// connection on the way does not answer).
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return failDuring(err.Error())
	}
	_, err = conn.Write([]byte(statusProbe))
	if err == nil {
		_, err = readStatus(conn)
	}
	if err != nil {
		return failDuring(fmt.Sprintf("(%s) did not confirm it took the labels (%v)", p.Address, unwrapNet(err)))
	}
	return nil
}

func unwrapNet(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// hostStatus is the first line of a ~HS answer: "aaa,b,c,dddd,eee,f,g,h,iii,j,k,l" where b
// is the paper-out flag and c the pause flag.
type hostStatus struct{ fields []string }

func (h hostStatus) problem() string {
	switch {
	case len(h.fields) > 1 && h.fields[1] == "1":
		return "it is out of paper or labels"
	case len(h.fields) > 2 && h.fields[2] == "1":
		return "it is paused"
	}
	return ""
}

// readStatus reads the first STX … ETX string of a ~HS answer.
func readStatus(conn net.Conn) (hostStatus, error) {
	var buf []byte
	one := make([]byte, 256)
	for len(buf) < 4096 {
		n, err := conn.Read(one)
		buf = append(buf, one[:n]...)
		if i := strings.IndexByte(string(buf), '\x02'); i >= 0 {
			if j := strings.IndexByte(string(buf[i:]), '\x03'); j > 0 {
				return hostStatus{fields: strings.Split(string(buf[i+1:i+j]), ",")}, nil
			}
		}
		if err != nil {
			return hostStatus{}, err
		}
	}
	return hostStatus{}, errors.New("the answer is not a printer status")
}

// AuditPayloads are the payload types of this package (for tests of the trail).
var _ = []audit.Payload{printerEvent{}, templateEvent{}, jobEvent{}}

// SampleZPL is the ZPL of one sample's label with the named template (the first, or the
// built-in one).
func (s *Service) SampleZPL(ctx context.Context, actor auth.Actor, code, template string) (string, error) {
	tpl, _, err := s.templateFor(s.DB.Gorm.WithContext(ctx), template)
	if err != nil {
		return "", err
	}
	d, err := s.sampleData(ctx, actor, code)
	if err != nil {
		return "", err
	}
	return label.ZPL(tpl, []label.Data{d}, 1)
}

// JobPrinter is the name of the printer of a job.
func (s *Service) JobPrinter(ctx context.Context, id int64) (string, error) {
	var name string
	err := s.DB.Gorm.WithContext(ctx).Raw("SELECT p.name FROM print_jobs j JOIN printers p ON p.id = j.printer_id WHERE j.id = ?", id).Scan(&name).Error
	return name, err
}

// SheetInput asks for a PDF sheet of labels.
type SheetInput struct {
	Samples  []string
	Boxes    []string
	Template string
	Sheet    string
	Copies   int
}

// SheetPDF draws the labels of samples and boxes on a PDF sheet for an office printer.
func (s *Service) SheetPDF(ctx context.Context, actor auth.Actor, in SheetInput) ([]byte, error) {
	copies := max(in.Copies, 1)
	n := (len(in.Samples) + len(in.Boxes)) * copies
	switch {
	case n == 0:
		return nil, apperr.Invalid("samples", "Name the samples or boxes whose labels to put on the sheet.")
	case n > MaxLabels:
		return nil, apperr.Invalid("samples", fmt.Sprintf("One sheet request has at most %d labels; this one would have %d.", MaxLabels, n))
	}
	sheet, err := label.SheetByName(in.Sheet)
	if err != nil {
		return nil, err
	}
	tpl, _, err := s.templateFor(s.DB.Gorm.WithContext(ctx), in.Template)
	if err != nil {
		return nil, err
	}
	data, err := s.labelData(ctx, actor, in.Samples, in.Boxes)
	if err != nil {
		return nil, err
	}
	pdf, _, err := label.PDF(tpl, sheet, data, copies)
	return pdf, err
}

// labelData is the data of the labels of samples and boxes, in order.
func (s *Service) labelData(ctx context.Context, actor auth.Actor, samples, boxes []string) ([]label.Data, error) {
	var data []label.Data
	for _, code := range samples {
		d, err := s.sampleData(ctx, actor, code)
		if err != nil {
			return nil, err
		}
		data = append(data, d)
	}
	for _, code := range boxes {
		b, err := s.Storage.FindBox(ctx, actor, code)
		if err != nil {
			return nil, err
		}
		data = append(data, label.Data{Code: b.Barcode, Fields: map[string]string{"accession": b.Barcode, "position": b.Barcode}})
	}
	return data, nil
}

// PreviewData is the data a template preview shows: the named sample, else the latest
// sample the actor can see, else made-up values as long as real ones get.
func (s *Service) PreviewData(ctx context.Context, actor auth.Actor, code string) (label.Data, error) {
	if code == "" {
		var acc []string
		err := actor.ScopeToSite(s.DB.Gorm.WithContext(ctx).Table("samples"), "site_id").Order("id DESC").Limit(1).Pluck("accession", &acc).Error
		if err != nil {
			return label.Data{}, err
		}
		if len(acc) == 0 {
			return longestData, nil
		}
		code = acc[0]
	}
	return s.sampleData(ctx, actor, code)
}

// TemplateByName is a saved template as the label package draws it.
func (s *Service) TemplateByName(ctx context.Context, name string) (label.Template, error) {
	t, _, err := s.templateFor(s.DB.Gorm.WithContext(ctx), name)
	return t, err
}

type userPrinterEvent struct {
	Printer string `json:"printer"`
}

func (userPrinterEvent) AuditPayload() {}

// SetUserPrinter makes a printer the actor's own, printed on when no printer is named.
func (s *Service) SetUserPrinter(ctx context.Context, actor auth.Actor, name string) error {
	return s.DB.Tx(ctx, func(tx *db.Tx) error {
		var p Printer
		err := tx.Where("lower(name) = lower(?) AND active", strings.TrimSpace(name)).Take(&p).Error
		if db.ErrNoRows(err) {
			return apperr.Invalid("printer", fmt.Sprintf("There is no printer %q.", name))
		}
		if err != nil {
			return err
		}
		if err := tx.Exec("UPDATE users SET default_printer_id = ? WHERE id = ?", p.ID, actor.UserID).Error; err != nil {
			return err
		}
		e := actor.Entry("user.default_printer", "user", actor.Username)
		e.After = userPrinterEvent{Printer: p.Name}
		tx.Record(e)
		return nil
	})
}

// BatchZPL is the ZPL of the labels of samples and boxes, to download (for a printer the
// application cannot reach, or to keep).
func (s *Service) BatchZPL(ctx context.Context, actor auth.Actor, in SheetInput) (string, error) {
	copies := max(in.Copies, 1)
	n := (len(in.Samples) + len(in.Boxes)) * copies
	switch {
	case n == 0:
		return "", apperr.Invalid("samples", "Name the samples or boxes whose labels to write.")
	case n > MaxLabels:
		return "", apperr.Invalid("samples", fmt.Sprintf("One batch has at most %d labels; this one would have %d.", MaxLabels, n))
	}
	tpl, _, err := s.templateFor(s.DB.Gorm.WithContext(ctx), in.Template)
	if err != nil {
		return "", err
	}
	data, err := s.labelData(ctx, actor, in.Samples, in.Boxes)
	if err != nil {
		return "", err
	}
	return label.ZPL(tpl, data, copies)
}
