package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/custody"
	"biobank/internal/sample"
	"biobank/templates"
)

func (s *Server) samplesPage(c echo.Context) error {
	ctx := c.Request().Context()
	f := templates.NewForm()
	for _, k := range []string{"study", "visit", "specimen_type", "status", "hold", "from", "to", "participant"} {
		f.Values[k] = c.QueryParam(k)
	}
	v := templates.SamplesView{Filter: f}
	var err error
	if v.Studies, _, err = s.studyOptions(c, false); err != nil {
		return err
	}
	types, _, err := s.app.Studies.Vocabularies(ctx)
	if err != nil {
		return err
	}
	for _, t := range types {
		v.Types = append(v.Types, templates.Option{Value: t.Code, Label: t.Label})
	}
	for _, st := range sample.Statuses {
		v.Statuses = append(v.Statuses, templates.Option{Value: string(st), Label: st.Label()})
	}
	status := http.StatusOK
	filter, err := sampleFilter(c)
	var rows []sample.Row
	var next int64
	if err == nil {
		rows, next, err = s.app.Samples.List(ctx, actor(c), filter)
	}
	if err != nil {
		if !formError(&v.Filter, err) {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	v.Rows = rows
	v.NextURL = nextPageURL(c, "/samples", next)
	p := s.page(c, "Samples")
	p.Nav = "samples"
	return s.render(c, status, templates.SamplesPage(p, v))
}

func (s *Server) samplePage(c echo.Context) error {
	return s.renderSample(c, http.StatusOK, "", nil)
}

// renderSample shows a sample's page; failed names the refused form.
func (s *Server) renderSample(c echo.Context, status int, failed string, f *templates.Form) error {
	ctx := c.Request().Context()
	smp, events, err := s.app.Samples.Custody(ctx, actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	if smp.Accession != c.Param("code") && status == http.StatusOK {
		return c.Redirect(http.StatusSeeOther, templates.SamplePath(smp.Accession))
	}
	a := actor(c)
	v := templates.SampleView{Sample: smp, Events: events, Forms: map[string]templates.Form{},
		CanLab: a.Is(auth.RoleTechnician, auth.RoleManager, auth.RoleAdmin), CanAdmin: a.Is(auth.RoleManager, auth.RoleAdmin)}
	if v.Location, err = s.app.Storage.Location(ctx, smp.ID); err != nil {
		return err
	}
	if v.Location != nil {
		g, err := s.app.Storage.Grid(ctx, a, v.Location.Box)
		if err != nil {
			return err
		}
		v.Grid = &g
	}
	if v.Siblings, err = s.app.Samples.Siblings(ctx, smp); err != nil {
		return err
	}
	if f != nil {
		v.Forms[failed] = *f
	}
	p := s.page(c, "Sample "+smp.Accession)
	p.Nav = "samples"
	return s.render(c, status, templates.SamplePage(p, v))
}

// sampleForm handles a post from the sample page: it runs do and redirects back with a
// flash, or re-renders the page with the refused form.
func (s *Server) sampleForm(c echo.Context, name string, f templates.Form, do func() (sample.Sample, string, error)) error {
	smp, done, err := do()
	if err != nil {
		if formError(&f, err) {
			return s.renderSample(c, http.StatusUnprocessableEntity, name, &f)
		}
		return err
	}
	return s.seeOther(c, templates.SamplePath(smp.Accession), done)
}

func (s *Server) undoReceive(c echo.Context) error {
	f := formFrom(c, "reason")
	return s.sampleForm(c, "undo", f, func() (sample.Sample, string, error) {
		smp, err := s.app.Samples.UndoReceive(c.Request().Context(), actor(c), c.Param("code"), f.Value("reason"))
		return smp, "The receipt was taken back: the tube is collected again.", err
	})
}

func (s *Server) endSample(c echo.Context) error {
	f := formFrom(c, "action", "reason")
	return s.sampleForm(c, "end", f, func() (sample.Sample, string, error) {
		smp, err := s.app.Samples.End(c.Request().Context(), actor(c), c.Param("code"), actionFromForm(f.Value("action")), f.Value("reason"))
		return smp, "Recorded: the sample is " + string(smp.Status) + ".", err
	})
}

func (s *Server) holdSample(c echo.Context) error {
	f := formFrom(c, "reason")
	return s.sampleForm(c, "hold", f, func() (sample.Sample, string, error) {
		if c.FormValue("on") == "true" {
			smp, err := s.app.Samples.Quarantine(c.Request().Context(), actor(c), c.Param("code"), f.Value("reason"))
			return smp, "The sample is on quality hold.", err
		}
		smp, err := s.app.Samples.Release(c.Request().Context(), actor(c), c.Param("code"), f.Value("reason"))
		return smp, "The hold was released.", err
	})
}

func (s *Server) decideSample(c echo.Context) error {
	f := formFrom(c, "decision", "reason")
	return s.sampleForm(c, "hold", f, func() (sample.Sample, string, error) {
		smp, err := s.app.Samples.Decide(c.Request().Context(), actor(c), c.Param("code"), sample.Decision(f.Value("decision")), f.Value("reason"))
		return smp, "Decision recorded.", err
	})
}

func (s *Server) consentActionsPage(c echo.Context) error {
	rows, _, err := s.app.Samples.ConsentHeld(c.Request().Context(), actor(c), 0)
	if err != nil {
		return err
	}
	p := s.page(c, "Consent actions")
	p.Nav = "consent-actions"
	return s.render(c, http.StatusOK, templates.ConsentActionsPage(p, rows))
}

func (s *Server) receivePage(c echo.Context) error {
	return s.renderReceive(c, http.StatusOK, templates.ReceiveView{})
}

func (s *Server) renderReceive(c echo.Context, status int, v templates.ReceiveView) error {
	var err error
	if v.Recent, err = s.app.Samples.RecentReceipts(c.Request().Context(), actor(c), 50); err != nil {
		return err
	}
	p := s.page(c, "Receive tubes")
	// Not p.Bench: that would autofocus the header scan box, which comes first in the
	// page and so would take the focus from the receive field the next tube must reach.
	p.Nav = "samples"
	return s.render(c, status, templates.ReceivePage(p, v))
}

// receiveScan receives one scanned tube and shows the page again, ready for the next
// scan. A refused scan (unknown, misread, wrong status, another site's) says why and
// changes nothing.
func (s *Server) receiveScan(c echo.Context) error {
	code := strings.TrimSpace(c.FormValue("code"))
	r, err := s.app.Samples.Receive(c.Request().Context(), actor(c), code)
	if err != nil {
		status, body := classify(err)
		if status >= 500 {
			return err
		}
		msg := body.Message
		if status == http.StatusNotFound {
			msg = "No sample has this code. Check the label and scan again."
		}
		return s.renderReceive(c, status, templates.ReceiveView{Error: msg, Scanned: code})
	}
	return s.renderReceive(c, http.StatusOK, templates.ReceiveView{Last: &r, Scanned: code})
}

func (s *Server) processingPage(c echo.Context) error {
	smp, err := s.app.Samples.Get(c.Request().Context(), actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	return s.renderProcessing(c, http.StatusOK, smp, processingForm(smp))
}

func (s *Server) renderProcessing(c echo.Context, status int, smp sample.Sample, f templates.Form) error {
	p := s.page(c, "Processing "+smp.Accession)
	p.Nav = "samples"
	recorded := false
	if pr, err := sample.ProcessingOf(smp); err == nil {
		recorded = pr.HasFacts()
	}
	return s.render(c, status, templates.ProcessingPage(p, templates.ProcessingView{Sample: smp, Form: f,
		Solid: smp.SpecimenType == "tissue", Recorded: recorded}))
}

func (s *Server) recordProcessing(c echo.Context) error {
	ctx := c.Request().Context()
	smp, err := s.app.Samples.Get(ctx, actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	f := formFrom(c, processingFields...)
	in, err := processingFromForm(f)
	var done sample.Sample
	if err == nil {
		in.Reason = f.Value("reason")
		done, err = s.app.Samples.RecordProcessing(ctx, actor(c), smp.Accession, in)
	}
	if err != nil {
		if formError(&f, err) {
			// The page comes back for the same sample, with everything typed.
			return s.renderProcessing(c, http.StatusUnprocessableEntity, smp, f)
		}
		return err
	}
	msg := "Processing recorded."
	if done.SPREC != "" {
		msg += " SPREC " + done.SPREC + "."
	}
	return s.seeOther(c, templates.SamplePath(done.Accession), msg)
}

func (s *Server) aliquotPage(c echo.Context) error {
	smp, err := s.app.Samples.Get(c.Request().Context(), actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	f := templates.NewForm()
	f.Values["unit"] = smp.Unit
	plan := s.aliquotPlan(c, smp, &f)
	return s.renderAliquot(c, http.StatusOK, smp, f, plan)
}

func (s *Server) renderAliquot(c echo.Context, status int, smp sample.Sample, f templates.Form, plan string) error {
	types, _, err := s.app.Studies.Vocabularies(c.Request().Context())
	if err != nil {
		return err
	}
	v := templates.AliquotView{Sample: smp, Form: f, Plan: plan}
	for _, t := range types {
		v.Types = append(v.Types, templates.Option{Value: t.Code, Label: t.Label})
	}
	p := s.page(c, "Aliquot "+smp.Accession)
	p.Nav = "samples"
	return s.render(c, status, templates.AliquotPage(p, v))
}

// aliquotPlan pre-fills the form with the visit's aliquot plan for this specimen, and
// describes it.
func (s *Server) aliquotPlan(c echo.Context, smp sample.Sample, f *templates.Form) string {
	f.Values["specimen_type"] = smp.SpecimenType
	st, err := s.app.Studies.ByCode(c.Request().Context(), smp.Study.Code)
	if err != nil {
		return ""
	}
	def, ok := st.Visit(smp.Visit.Definition.Code)
	if !ok {
		return ""
	}
	for _, r := range def.Requirements {
		if r.SpecimenType == smp.SpecimenType && r.Container == smp.Container && r.Aliquots > 0 && r.AliquotVolume != nil {
			f.Values["count"] = strconv.Itoa(r.Aliquots)
			f.Values["volume"] = r.AliquotVolume.String()
			f.Values["unit"] = r.Unit
			kind := smp.SpecimenType
			if r.AliquotType != nil {
				kind = *r.AliquotType
				f.Values["specimen_type"] = kind
			}
			return strconv.Itoa(r.Aliquots) + " × " + r.AliquotVolume.String() + " " + r.Unit + " of " + kind
		}
	}
	return ""
}

func (s *Server) aliquot(c echo.Context) error {
	ctx := c.Request().Context()
	smp, err := s.app.Samples.Get(ctx, actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	f := formFrom(c, "specimen_type", "count", "volume", "unit", "input_volume")
	in := sample.Split{SpecimenType: f.Value("specimen_type"), Unit: f.Value("unit")}
	var kids []sample.Sample
	if in.Count, err = formInt(f, "count", "number of aliquots", true); err == nil {
		if in.Volume, err = formDecimal(f, "volume", "volume", true); err == nil {
			if strings.TrimSpace(f.Value("input_volume")) != "" {
				v, derr := formDecimal(f, "input_volume", "amount used", true)
				in.InputVolume, err = &v, derr
			}
			if err == nil {
				kids, err = s.app.Samples.Aliquot(ctx, actor(c), smp.Accession, in)
			}
		}
	}
	if err != nil {
		if formError(&f, err) {
			return s.renderAliquot(c, http.StatusUnprocessableEntity, smp, f, "")
		}
		return err
	}
	codes := make([]string, len(kids))
	for i, k := range kids {
		codes[i] = k.Accession
	}
	s.offerPrint(c, codes)
	return s.seeOther(c, templates.SamplePath(smp.Accession), strconv.Itoa(len(kids))+" aliquots created: "+kids[0].Accession+" … "+kids[len(kids)-1].Accession+".")
}

// custodyPage is a sample's chain of custody in sentences, or printed (format=pdf) or
// exported (format=csv).
func (s *Server) custodyPage(c echo.Context) error {
	smp, lines, err := s.app.Samples.Custody(c.Request().Context(), actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	switch c.QueryParam("format") {
	case "":
		p := s.page(c, "Chain of custody of "+smp.Accession)
		p.Nav = "samples"
		return s.render(c, http.StatusOK, templates.CustodyPage(p, templates.CustodyView{Sample: smp, Lines: lines}))
	case "csv":
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+smp.Accession+`.custody.csv"`)
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", custody.CSV(lines))
	case "pdf":
		summary := fmt.Sprintf("%s, %s %s, %s; participant %s, study %s, visit %s; in the custody of %s.", smp.SpecimenType,
			smp.Volume.String(), smp.Unit, smp.Status.Label(), smp.Participant.Pseudonym, smp.Study.Code, smp.Visit.Definition.Code, smp.Site.Name)
		doc, err := custody.PDF(smp.Accession, summary, actor(c).Username, time.Now(), lines)
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `inline; filename="`+smp.Accession+`.custody.pdf"`)
		return c.Blob(http.StatusOK, "application/pdf", doc)
	}
	return apperr.Invalid("format", "The chain of custody comes as a page, csv or pdf.")
}
