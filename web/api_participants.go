package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/consent"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/study"
)

func (s *Server) apiStudies(c echo.Context) error {
	studies, err := s.app.Studies.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"studies": studies})
}

func (s *Server) apiStudy(c echo.Context) error {
	st, err := s.app.Studies.ByCode(c.Request().Context(), c.Param("study"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) apiCreateStudy(c echo.Context) error {
	var in study.Input
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.Active = nil
	st, err := s.app.Studies.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, st)
}

func (s *Server) apiUpdateStudy(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.app.Studies.ByCode(ctx, c.Param("study"))
	if err != nil {
		return err
	}
	in := study.Input{Name: st.Name, PseudonymPattern: st.PseudonymPattern}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	st, err = s.app.Studies.Update(ctx, actor(c), st.Code, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) apiAddVisit(c echo.Context) error {
	var in study.VisitInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	v, err := s.app.Studies.AddVisit(c.Request().Context(), actor(c), c.Param("study"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) apiAddConsentDocument(c echo.Context) error {
	var in study.DocumentInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	d, err := s.app.Studies.AddDocument(c.Request().Context(), actor(c), c.Param("study"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (s *Server) apiRetireConsentDocument(c echo.Context) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	d, err := s.app.Studies.RetireDocument(c.Request().Context(), actor(c), c.Param("study"), c.Param("version"), in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// apiParticipantBody is a participant in the JSON API.
type apiParticipantBody struct {
	Pseudonym string         `json:"pseudonym"`
	Site      string         `json:"site"`
	External  bool           `json:"external"`
	Sex       *string        `json:"sex"`
	BirthYear *int           `json:"birth_year"`
	Studies   []apiEnrolment `json:"studies"`
	Consents  []apiConsent   `json:"consents"`
	Visits    []apiVisit     `json:"visits,omitempty"`
	Samples   []any          `json:"samples"`
	Created   time.Time      `json:"created_at"`
}

type apiEnrolment struct {
	Study      string `json:"study"`
	EnrolledOn string `json:"enrolled_on"`
}

type apiConsent struct {
	ID             int64           `json:"id"`
	Study          string          `json:"study"`
	Version        string          `json:"version"`
	SignedOn       string          `json:"signed_on"`
	Tiers          study.Tiers     `json:"tiers"`
	EffectiveTiers study.Tiers     `json:"effective_tiers"`
	Status         string          `json:"status"`
	Withdrawals    []apiWithdrawal `json:"withdrawals"`
}

type apiWithdrawal struct {
	Tiers       study.Tiers `json:"tiers"`
	Reason      string      `json:"reason"`
	WithdrawnOn string      `json:"withdrawn_on"`
	RecordedAt  time.Time   `json:"recorded_at"`
}

type apiVisit struct {
	ID      int64                       `json:"id"`
	Study   string                      `json:"study"`
	Visit   string                      `json:"visit"`
	Name    string                      `json:"name"`
	Date    string                      `json:"date"`
	Reason  string                      `json:"out_of_window_reason,omitempty"`
	Expects []study.SpecimenRequirement `json:"expected_specimens"`
}

func toAPIParticipant(p participant.Participant, consents []consent.Consent) apiParticipantBody {
	out := apiParticipantBody{Pseudonym: p.Pseudonym, Site: p.Site.Code, External: p.External, Sex: p.Sex,
		BirthYear: p.BirthYear, Created: p.CreatedAt, Studies: []apiEnrolment{}, Samples: []any{}}
	codes := map[int64]string{}
	for _, e := range p.Enrolments {
		codes[e.StudyID] = e.Study.Code
		out.Studies = append(out.Studies, apiEnrolment{Study: e.Study.Code, EnrolledOn: e.EnrolledOn.Format("2006-01-02")})
	}
	out.Consents = []apiConsent{}
	for _, c := range consents {
		out.Consents = append(out.Consents, toAPIConsent(c, c.Withdrawals))
	}
	for _, v := range p.Visits {
		out.Visits = append(out.Visits, apiVisit{ID: v.ID, Study: codes[v.StudyID], Visit: v.Definition.Code, Name: v.Definition.Name,
			Date: v.VisitDate.Format("2006-01-02"), Reason: v.OutOfWindowReason, Expects: v.Definition.Requirements})
	}
	return out
}

func toAPIConsent(c consent.Consent, ws []consent.Withdrawal) apiConsent {
	out := apiConsent{ID: c.ID, Study: c.Study.Code, Version: c.Document.Version, SignedOn: c.SignedOn.Format("2006-01-02"),
		Tiers: c.Tiers, EffectiveTiers: c.EffectiveTiers, Status: c.Status(), Withdrawals: []apiWithdrawal{}}
	for _, w := range ws {
		out.Withdrawals = append(out.Withdrawals, apiWithdrawal{Tiers: w.Tiers, Reason: w.Reason,
			WithdrawnOn: w.WithdrawnOn.Format("2006-01-02"), RecordedAt: w.CreatedAt})
	}
	return out
}

func (s *Server) apiEnrol(c echo.Context) error {
	var in participant.EnrolInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.app.Participants.Enrol(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAPIParticipant(p, nil))
}

func (s *Server) apiParticipant(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.app.Participants.Get(ctx, actor(c), c.Param("pseudonym"))
	if err != nil {
		return err
	}
	history, err := s.app.Consents.History(ctx, p.ID)
	if err != nil {
		return err
	}
	rows, _, err := s.app.Samples.List(ctx, actor(c), sample.Filter{Participant: p.Pseudonym, Limit: 500})
	if err != nil {
		return err
	}
	out := toAPIParticipant(p, history)
	for _, r := range rows {
		out.Samples = append(out.Samples, r)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiEnrolExisting(c echo.Context) error {
	var in struct {
		Study      string `json:"study"`
		EnrolledOn string `json:"enrolled_on"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.app.Participants.EnrolExisting(c.Request().Context(), actor(c), c.Param("pseudonym"), in.Study, in.EnrolledOn)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAPIParticipant(p, nil))
}

func (s *Server) apiRecordConsent(c echo.Context) error {
	var in consent.RecordInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	rec, err := s.app.Consents.Record(c.Request().Context(), actor(c), c.Param("pseudonym"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAPIConsent(rec, nil))
}

func (s *Server) apiWithdrawConsent(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.NotFound("consent", c.Param("id"))
	}
	var in consent.WithdrawInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	w, err := s.app.Consents.Withdraw(c.Request().Context(), actor(c), c.Param("pseudonym"), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"held_samples": w.HeldSamples,
		"consent": toAPIConsent(w.Consent, w.Consent.Withdrawals)})
}

func (s *Server) apiOpenVisit(c echo.Context) error {
	var in participant.OpenVisitInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	v, err := s.app.Participants.OpenVisit(c.Request().Context(), actor(c), c.Param("pseudonym"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, apiVisit{ID: v.ID, Study: strings.ToUpper(strings.TrimSpace(in.Study)), Visit: v.Definition.Code,
		Name: v.Definition.Name, Date: v.VisitDate.Format("2006-01-02"), Reason: v.OutOfWindowReason, Expects: v.Definition.Requirements})
}

func (s *Server) apiConsents(c echo.Context) error {
	f := consent.Filter{Study: c.QueryParam("study"), Status: c.QueryParam("status")}
	if t := c.QueryParam("tiers"); t != "" {
		f.Tiers = strings.Split(t, ",")
	}
	var err error
	if f.Cursor, err = cursorParam(c); err != nil {
		return err
	}
	rows, next, err := s.app.Consents.List(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	type row struct {
		consent.Row
		SignedOn string `json:"signed_on"`
		Status   string `json:"status"`
	}
	out := make([]row, len(rows))
	for i, r := range rows {
		out[i] = row{Row: r, SignedOn: r.SignedOn.Format("2006-01-02"), Status: r.Status()}
	}
	var nextCursor any
	if next > 0 {
		nextCursor = next
	}
	return c.JSON(http.StatusOK, map[string]any{"consents": out, "next_cursor": nextCursor})
}
