package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/consent"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/study"
	"biobank/templates"
)

func (s *Server) studyOptions(c echo.Context, onlyActive bool) ([]templates.Option, []study.Study, error) {
	studies, err := s.app.Studies.List(c.Request().Context())
	if err != nil {
		return nil, nil, err
	}
	var opts []templates.Option
	for _, st := range studies {
		if st.Active || !onlyActive {
			opts = append(opts, templates.Option{Value: st.Code, Label: st.Code + " — " + st.Name})
		}
	}
	return opts, studies, nil
}

func (s *Server) participantsPage(c echo.Context) error {
	f := templates.NewForm()
	for _, k := range []string{"study", "status"} {
		f.Values[k] = c.QueryParam(k)
	}
	tiers := c.QueryParams()["tiers"]
	f.Values["tiers"] = strings.Join(tiers, ",")
	v := templates.ParticipantsView{Filter: f}
	var err error
	if v.Studies, _, err = s.studyOptions(c, false); err != nil {
		return err
	}
	filter := consent.Filter{Study: f.Value("study"), Status: f.Value("status"), Tiers: tiers}
	status := http.StatusOK
	var rows []consent.Row
	var next int64
	if filter.Cursor, err = cursorParam(c); err == nil {
		rows, next, err = s.app.Consents.List(c.Request().Context(), actor(c), filter)
	}
	if err != nil {
		if !formError(&v.Filter, err) {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	v.Rows = rows
	v.NextURL = nextPageURL(c, "/participants", next)
	p := s.page(c, "Participants")
	p.Nav = "participants"
	return s.render(c, status, templates.ParticipantsPage(p, v))
}

func (s *Server) enrolPage(c echo.Context) error {
	f := templates.NewForm()
	f.Values["enrolled_on"] = s.today()
	return s.renderEnrol(c, http.StatusOK, f)
}

func (s *Server) today() string { return s.app.Participants.Now().Format("2006-01-02") }

func (s *Server) renderEnrol(c echo.Context, status int, f templates.Form) error {
	studies, _, err := s.studyOptions(c, true)
	if err != nil {
		return err
	}
	v := templates.EnrolView{Form: f, Studies: studies}
	for _, x := range participant.Sexes {
		v.Sexes = append(v.Sexes, templates.Option{Value: x, Label: strings.ReplaceAll(x, "_", " ")})
	}
	if actor(c).AllSites() {
		if v.Sites, err = s.siteOptions(c); err != nil {
			return err
		}
		if f.Value("site") == "" {
			f.Values["site"] = actor(c).SiteCode
			v.Form = f
		}
	}
	p := s.page(c, "Enrol a participant")
	p.Nav = "participants"
	return s.render(c, status, templates.EnrolPage(p, v))
}

func (s *Server) enrol(c echo.Context) error {
	f := formFrom(c, "study", "pseudonym", "site", "sex", "birth_year", "enrolled_on", "diagnosis")
	in := participant.EnrolInput{Study: f.Value("study"), Pseudonym: f.Value("pseudonym"), Site: f.Value("site"),
		Sex: f.Value("sex"), EnrolledOn: f.Value("enrolled_on"), Diagnosis: f.Value("diagnosis")}
	year, err := formInt(f, "birth_year", "year of birth", false)
	if err == nil {
		if year != 0 {
			in.BirthYear = &year
		}
		var p participant.Participant
		p, err = s.app.Participants.Enrol(c.Request().Context(), actor(c), in)
		if err == nil {
			return s.seeOther(c, templates.ParticipantPath(p.Pseudonym),
				"Enrolled "+p.Pseudonym+" in "+strings.ToUpper(in.Study)+". Write the pseudonym on the consent form.")
		}
	}
	if formError(&f, err) {
		return s.renderEnrol(c, http.StatusUnprocessableEntity, f)
	}
	return err
}

func (s *Server) participantPage(c echo.Context) error {
	return s.renderParticipant(c, http.StatusOK, "", nil)
}

// renderParticipant shows a participant's page; failed names the refused form.
func (s *Server) renderParticipant(c echo.Context, status int, failed string, f *templates.Form) error {
	ctx := c.Request().Context()
	a := actor(c)
	p, err := s.app.Participants.Get(ctx, a, c.Param("pseudonym"))
	if err != nil {
		return err
	}
	if p.Pseudonym != c.Param("pseudonym") && status == http.StatusOK {
		return c.Redirect(http.StatusSeeOther, templates.ParticipantPath(p.Pseudonym))
	}
	history, err := s.app.Consents.History(ctx, p.ID)
	if err != nil {
		return err
	}
	_, studies, err := s.studyOptions(c, false)
	if err != nil {
		return err
	}
	v := templates.ParticipantView{Participant: p, Consents: history, Studies: map[int64]study.Study{},
		Forms: map[string]templates.Form{}, CanRecord: a.Is(auth.RoleNurse, auth.RoleManager, auth.RoleAdmin), CanCollect: true}
	if v.Samples, _, err = s.app.Samples.List(ctx, a, sample.Filter{Participant: p.Pseudonym, Limit: 500}); err != nil {
		return err
	}
	opened := map[int64]bool{}
	for _, vis := range p.Visits {
		opened[vis.VisitDefinitionID] = true
	}
	for _, st := range studies {
		if _, enrolled := p.Enrolment(st.ID); !enrolled {
			if st.Active {
				v.EnrolStudyOpts = append(v.EnrolStudyOpts, templates.Option{Value: st.Code, Label: st.Code + " — " + st.Name})
			}
			continue
		}
		v.Studies[st.ID] = st
		for _, d := range st.Documents {
			if d.RetiredAt == nil {
				v.DocumentOpts = append(v.DocumentOpts, templates.Option{Value: st.Code + "|" + d.Version,
					Label: st.Code + " version " + d.Version + " (" + strings.Join(d.Tiers.Strings(), ", ") + ")"})
			}
		}
		enr, _ := p.Enrolment(st.ID)
		for _, vd := range st.Visits {
			if !opened[vd.ID] {
				v.VisitOpts = append(v.VisitOpts, templates.Option{Value: st.Code + "|" + vd.Code, Label: st.Code + " — " + vd.Name})
				from, to := vd.Window(enr.EnrolledOn)
				v.Due = append(v.Due, templates.DueVisit{Study: st.Code, Definition: vd, From: from, To: to})
			}
		}
	}
	consentForm := templates.NewForm()
	consentForm.Values["signed_on"] = s.today()
	visitForm := templates.NewForm()
	visitForm.Values["date"] = s.today()
	v.Forms["consent"], v.Forms["visit"] = consentForm, visitForm
	if f != nil {
		v.Forms[failed] = *f
	}
	page := s.page(c, "Participant "+p.Pseudonym)
	page.Nav = "participants"
	return s.render(c, status, templates.ParticipantPage(page, v))
}

// participantForm handles a post from the participant page: it runs do and redirects, or
// re-renders the page with the refused form.
func (s *Server) participantForm(c echo.Context, name string, f templates.Form, do func() (string, error)) error {
	done, err := do()
	if err != nil {
		if formError(&f, err) {
			return s.renderParticipant(c, http.StatusUnprocessableEntity, name, &f)
		}
		return err
	}
	return s.seeOther(c, templates.ParticipantPath(c.Param("pseudonym")), done)
}

func (s *Server) recordConsent(c echo.Context) error {
	f := formFrom(c, "document", "signed_on")
	tiers := formList(c, "tiers")
	f.Values["tiers"] = strings.Join(tiers, ",")
	return s.participantForm(c, "consent", f, func() (string, error) {
		studyCode, version, ok := strings.Cut(f.Value("document"), "|")
		if !ok {
			return "", apperr.Invalid("document", "Choose the study and consent version.")
		}
		_, err := s.app.Consents.Record(c.Request().Context(), actor(c), c.Param("pseudonym"),
			consent.RecordInput{Study: studyCode, Version: version, SignedOn: f.Value("signed_on"), Tiers: tiers})
		if v, isV := apperr.AsValidation(err); isV && (v.Field == "study" || v.Field == "version") {
			v.Field = "document"
		}
		return "Consent recorded.", err
	})
}

func (s *Server) withdrawConsent(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.NotFound("consent", c.Param("id"))
	}
	f := formFrom(c, "reason")
	tiers := formList(c, "tiers")
	f.Values["tiers"] = strings.Join(tiers, ",")
	return s.participantForm(c, "withdraw-"+c.Param("id"), f, func() (string, error) {
		w, err := s.app.Consents.Withdraw(c.Request().Context(), actor(c), c.Param("pseudonym"), id, consent.WithdrawInput{Reason: f.Value("reason"), Tiers: tiers})
		if err != nil {
			return "", err
		}
		msg := "Withdrawal recorded; in force now: " + strings.Join(w.Consent.EffectiveTiers.Strings(), ", ") + "."
		if len(w.Consent.EffectiveTiers) == 0 {
			msg = "Withdrawal recorded: the consent is withdrawn in full."
		}
		return msg, nil
	})
}

func (s *Server) openVisit(c echo.Context) error {
	f := formFrom(c, "visit", "date", "reason")
	return s.participantForm(c, "visit", f, func() (string, error) {
		studyCode, visit, ok := strings.Cut(f.Value("visit"), "|")
		if !ok {
			return "", apperr.Invalid("visit", "Choose the visit.")
		}
		v, err := s.app.Participants.OpenVisit(c.Request().Context(), actor(c), c.Param("pseudonym"),
			participant.OpenVisitInput{Study: studyCode, Visit: visit, Date: f.Value("date"), Reason: f.Value("reason")})
		if ve, isV := apperr.AsValidation(err); isV && ve.Field == "study" {
			ve.Field = "visit"
		}
		if err != nil {
			return "", err
		}
		return v.Definition.Name + " visit opened for " + v.VisitDate.Format("2006-01-02") + ".", nil
	})
}

func (s *Server) enrolExisting(c echo.Context) error {
	f := formFrom(c, "study")
	return s.participantForm(c, "enrol", f, func() (string, error) {
		_, err := s.app.Participants.EnrolExisting(c.Request().Context(), actor(c), c.Param("pseudonym"), f.Value("study"), "")
		return "Enrolled in " + strings.ToUpper(f.Value("study")) + ".", err
	})
}

// scanPseudonym resolves a scanned pseudonym: a redirect to the participant's page, or
// the message for a wrong check character or a participant of another site. ok is false
// when the text is not a pseudonym at all or no participant has it.
func (s *Server) scanPseudonym(c echo.Context, q string) (handled bool, err error) {
	p, err := s.app.Participants.Get(c.Request().Context(), actor(c), q)
	switch {
	case err == nil:
		return true, c.Redirect(http.StatusSeeOther, templates.ParticipantPath(url.PathEscape(p.Pseudonym)))
	case isCheckFailure(err):
		return true, s.scanMessage(c, q, http.StatusUnprocessableEntity, err.Error())
	}
	if _, forbidden := apperr.AsForbidden(err); forbidden {
		return true, s.scanMessage(c, q, http.StatusForbidden, "This participant belongs to another site.")
	}
	if _, missing := apperr.AsNotFound(err); missing {
		return false, nil
	}
	if _, invalid := apperr.AsValidation(err); invalid {
		return false, nil
	}
	return true, err
}

func isCheckFailure(err error) bool {
	v, ok := apperr.AsValidation(err)
	return ok && v.Code == "wrong_check"
}
