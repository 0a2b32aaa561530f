package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/sample"
	"biobank/templates"
)

// collectView builds the collection form of a participant's opened visit from the visit's
// specimen requirements.
func (s *Server) collectView(c echo.Context) (templates.CollectView, error) {
	ctx := c.Request().Context()
	p, err := s.app.Participants.Get(ctx, actor(c), c.Param("pseudonym"))
	if err != nil {
		return templates.CollectView{}, err
	}
	st, err := s.app.Studies.ByCode(ctx, c.Param("study"))
	if err != nil {
		return templates.CollectView{}, err
	}
	def, ok := st.Visit(c.Param("visit"))
	if !ok {
		return templates.CollectView{}, apperr.NotFound("visit", c.Param("visit"))
	}
	types, containers, err := s.app.Studies.Vocabularies(ctx)
	if err != nil {
		return templates.CollectView{}, err
	}
	labels := map[string]string{}
	for _, t := range types {
		labels[t.Code] = t.Label
	}
	for _, ct := range containers {
		labels[ct.Code] = ct.Label
	}
	v := templates.CollectView{Pseudonym: p.Pseudonym, Study: st.Code, Visit: def.Code, VisitName: def.Name,
		Requirements: def.Requirements, Form: templates.NewForm(), Labels: labels}
	v.Opens = true
	for _, vis := range p.Visits {
		if vis.VisitDefinitionID == def.ID {
			v.Opens = false
		}
	}
	if enr, enrolled := p.Enrolment(st.ID); v.Opens && enrolled {
		from, to := def.Window(enr.EnrolledOn)
		v.Window = from.Format("2006-01-02") + " to " + to.Format("2006-01-02")
	}
	return v, nil
}

func (s *Server) collectPage(c echo.Context) error {
	v, err := s.collectView(c)
	if err != nil {
		return err
	}
	v.Form.Values["collected_at"] = s.app.Samples.Now().Format(datetimeLocal)
	for i, r := range v.Requirements {
		v.Form.Values[collectField(i, "drawn")] = "true"
		v.Form.Values[collectField(i, "volume")] = r.Volume.String()
	}
	return s.renderCollect(c, http.StatusOK, v)
}

func (s *Server) renderCollect(c echo.Context, status int, v templates.CollectView) error {
	p := s.page(c, "Register tubes")
	p.Nav = "participants"
	return s.render(c, status, templates.CollectPage(p, v))
}

func collectField(i int, name string) string { return "tubes[" + strconv.Itoa(i) + "]." + name }

func (s *Server) collect(c echo.Context) error {
	v, err := s.collectView(c)
	if err != nil {
		return err
	}
	names := []string{"collected_at", "reason"}
	for i := range v.Requirements {
		for _, n := range []string{"drawn", "volume", "tube_barcode", "specimen_type", "container", "unit"} {
			names = append(names, collectField(i, n))
		}
	}
	v.Form = formFrom(c, names...)
	in := sample.Collection{Participant: v.Pseudonym, Study: v.Study, Visit: v.Visit, CollectedAt: v.Form.Value("collected_at"),
		Reason: v.Form.Value("reason")}
	// Rows keep their position in the form so that an error names the right row: the
	// service numbers the tubes it is given, so map back from them.
	var rows []int
	for i, r := range v.Requirements {
		if v.Form.Value(collectField(i, "drawn")) != "true" {
			continue
		}
		vol, err := formDecimal(v.Form, collectField(i, "volume"), "volume", true)
		if err != nil {
			formError(&v.Form, err)
			return s.renderCollect(c, http.StatusUnprocessableEntity, v)
		}
		in.Tubes = append(in.Tubes, sample.Tube{SpecimenType: r.SpecimenType, Container: r.Container, Volume: vol, Unit: r.Unit,
			TubeBarcode: v.Form.Value(collectField(i, "tube_barcode"))})
		rows = append(rows, i)
	}
	out, err := s.app.Samples.Collect(c.Request().Context(), actor(c), in)
	if err != nil {
		if ve, ok := apperr.AsValidation(err); ok {
			ve.Field = formRow(ve.Field, rows)
		}
		if ce, ok := apperr.AsConflict(err); ok {
			ce.Field = formRow(ce.Field, rows)
		}
		if formError(&v.Form, err) {
			return s.renderCollect(c, http.StatusUnprocessableEntity, v)
		}
		return err
	}
	ids := make([]string, len(out))
	for i, smp := range out {
		ids[i] = smp.Accession
	}
	s.offerPrint(c, ids)
	return s.seeOther(c, templates.ParticipantPath(v.Pseudonym), strconv.Itoa(len(out))+" tubes registered: "+strings.Join(ids, ", ")+".")
}

// formRow renames "tubes[k].x" (k-th tube given to the service) to the form row it came
// from.
func formRow(field string, rows []int) string {
	if !strings.HasPrefix(field, "tubes[") {
		return field
	}
	end := strings.Index(field, "]")
	k, err := strconv.Atoi(field[len("tubes["):end])
	if err != nil || k >= len(rows) {
		return field
	}
	return collectField(rows[k], field[end+2:])
}
