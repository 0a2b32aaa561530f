package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"biobank/internal/apperr"
	"biobank/internal/custody"
	"biobank/internal/sample"
)

// apiSample is a sample in the JSON API (API.md: "A sample in JSON has at least …").
type apiSample struct {
	ID              string          `json:"id"`
	TubeBarcode     *string         `json:"tube_barcode"`
	Participant     string          `json:"participant"`
	Study           string          `json:"study"`
	Visit           string          `json:"visit"`
	SpecimenType    string          `json:"specimen_type"`
	Container       string          `json:"container"`
	Status          sample.Status   `json:"status"`
	Hold            bool            `json:"hold"`
	HoldReason      string          `json:"hold_reason,omitempty"`
	Volume          decimal.Decimal `json:"volume"`
	InitialVolume   decimal.Decimal `json:"initial_volume"`
	Unit            string          `json:"unit"`
	Parent          *string         `json:"parent"`
	Children        []string        `json:"children"`
	Site            string          `json:"site"`
	Location        any             `json:"location"`
	FreezeThawCount int             `json:"freeze_thaw_count"`
	SPREC           string          `json:"sprec"`
	SPRECVersion    string          `json:"sprec_version"`
	CollectedAt     time.Time       `json:"collected_at"`
	ReceivedAt      *time.Time      `json:"received_at"`
}

// toAPISample needs the sample's participant, study, visit, site, parent and children
// loaded (Service.Get does).
func toAPISample(s sample.Sample) apiSample {
	out := apiSample{ID: s.Accession, TubeBarcode: s.TubeBarcode, Participant: s.Participant.Pseudonym, Study: s.Study.Code,
		Visit: s.Visit.Definition.Code, SpecimenType: s.SpecimenType, Container: s.Container, Status: s.Status, Hold: s.Hold,
		Volume: s.Volume, InitialVolume: s.InitialVolume, Unit: s.Unit, Children: []string{}, Site: s.Site.Code,
		FreezeThawCount: s.FreezeThawCount, SPREC: s.SPREC, SPRECVersion: s.SPRECVersion, CollectedAt: s.CollectedAt, ReceivedAt: s.ReceivedAt}
	if s.Hold {
		out.HoldReason = s.HoldText()
	}
	if s.Parent != nil {
		out.Parent = &s.Parent.Accession
	}
	for _, c := range s.Children {
		out.Children = append(out.Children, c.Accession)
	}
	return out
}

// sampleJSON reads a sample with everything the API shows, in one query, and writes it.
func (s *Server) sampleJSON(c echo.Context, status int, code string) error {
	card, err := s.app.Samples.Card(c.Request().Context(), actor(c), code)
	if err != nil {
		return err
	}
	smp := card.Sample
	out := apiSample{ID: smp.Accession, TubeBarcode: smp.TubeBarcode, Participant: card.ParticipantPseudonym, Study: card.StudyCode,
		Visit: card.VisitCode, SpecimenType: smp.SpecimenType, Container: smp.Container, Status: smp.Status, Hold: smp.Hold,
		Volume: smp.Volume, InitialVolume: smp.InitialVolume, Unit: smp.Unit, Parent: card.ParentAccession, Children: card.Children,
		Site: card.SiteCode, FreezeThawCount: smp.FreezeThawCount, SPREC: smp.SPREC, SPRECVersion: smp.SPRECVersion,
		CollectedAt: smp.CollectedAt, ReceivedAt: smp.ReceivedAt}
	if smp.Hold {
		out.HoldReason = smp.HoldText()
	}
	if card.Location != nil {
		out.Location = card.Location
	}
	return c.JSON(status, out)
}

// apiCollectBody is the contract's single-tube registration.
type apiCollectBody struct {
	Participant  string          `json:"participant"`
	Study        string          `json:"study"`
	Visit        string          `json:"visit"`
	SpecimenType string          `json:"specimen_type"`
	Volume       decimal.Decimal `json:"volume"`
	Unit         string          `json:"unit"`
	CollectedAt  string          `json:"collected_at"`
	Container    string          `json:"container"`
	TubeBarcode  string          `json:"tube_barcode"`
	// Tubes registers several tubes of one visit at once instead of the single-tube fields.
	Tubes []sample.Tube `json:"tubes"`
	// Reason opens a not yet opened visit on a date outside its window.
	Reason string `json:"reason"`
}

func (s *Server) apiCollect(c echo.Context) error {
	var in apiCollectBody
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	tubes := in.Tubes
	if len(tubes) == 0 {
		tubes = []sample.Tube{{SpecimenType: in.SpecimenType, Container: in.Container, Volume: in.Volume, Unit: in.Unit, TubeBarcode: in.TubeBarcode}}
	}
	out, err := s.app.Samples.Collect(c.Request().Context(), actor(c), sample.Collection{Participant: in.Participant, Study: in.Study,
		Visit: in.Visit, CollectedAt: in.CollectedAt, Tubes: tubes, Reason: in.Reason})
	if err != nil {
		if len(in.Tubes) == 0 {
			singleTubeField(err)
		}
		return err
	}
	if len(in.Tubes) == 0 {
		return s.sampleJSON(c, http.StatusCreated, out[0].Accession)
	}
	list := make([]apiSample, 0, len(out))
	for _, smp := range out {
		got, err := s.app.Samples.Get(c.Request().Context(), actor(c), smp.Accession)
		if err != nil {
			return err
		}
		list = append(list, toAPISample(got))
	}
	return c.JSON(http.StatusCreated, map[string]any{"samples": list})
}

// singleTubeField names a refused field of the single-tube body as that body does: the
// service numbers its tubes ("tubes[0].volume"), the contract's body has "volume".
func singleTubeField(err error) {
	if ve, ok := apperr.AsValidation(err); ok {
		ve.Field = strings.TrimPrefix(ve.Field, "tubes[0].")
	}
	if ce, ok := apperr.AsConflict(err); ok {
		ce.Field = strings.TrimPrefix(ce.Field, "tubes[0].")
	}
}

func (s *Server) apiSample(c echo.Context) error {
	return s.sampleJSON(c, http.StatusOK, c.Param("code"))
}

func (s *Server) apiReceive(c echo.Context) error {
	if err := bindOptionalJSON(c); err != nil {
		return err
	}
	r, err := s.app.Samples.Receive(c.Request().Context(), actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	smp, err := s.app.Samples.Get(c.Request().Context(), actor(c), r.Sample.Accession)
	if err != nil {
		return err
	}
	warnings := r.Warnings
	if warnings == nil {
		warnings = []sample.Warning{}
	}
	return c.JSON(http.StatusOK, struct {
		apiSample
		Warnings []sample.Warning `json:"warnings"`
	}{toAPISample(smp), warnings})
}

// bindOptionalJSON accepts an empty body or {} for actions that take no input.
func bindOptionalJSON(c echo.Context) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	var empty struct{}
	return bindJSON(c, &empty)
}

func (s *Server) apiAliquot(c echo.Context) error {
	var in sample.Split
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	kids, err := s.app.Samples.Aliquot(c.Request().Context(), actor(c), c.Param("code"), in)
	if err != nil {
		return err
	}
	out := make([]apiSample, 0, len(kids))
	for _, k := range kids {
		got, err := s.app.Samples.Get(c.Request().Context(), actor(c), k.Accession)
		if err != nil {
			return err
		}
		out = append(out, toAPISample(got))
	}
	return c.JSON(http.StatusCreated, map[string]any{"aliquots": out})
}

func (s *Server) apiProcessing(c echo.Context) error {
	var in sample.Processing
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	smp, err := s.app.Samples.RecordProcessing(c.Request().Context(), actor(c), c.Param("code"), in)
	if err != nil {
		return err
	}
	return s.sampleJSON(c, http.StatusOK, smp.Accession)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

// apiEnd is destroy, consume and lost.
func (s *Server) apiEnd(action sample.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in reasonBody
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		smp, err := s.app.Samples.End(c.Request().Context(), actor(c), c.Param("code"), action, in.Reason)
		if err != nil {
			return err
		}
		return s.sampleJSON(c, http.StatusOK, smp.Accession)
	}
}

func (s *Server) apiHold(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in reasonBody
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		var smp sample.Sample
		var err error
		if on {
			smp, err = s.app.Samples.Quarantine(c.Request().Context(), actor(c), c.Param("code"), in.Reason)
		} else {
			smp, err = s.app.Samples.Release(c.Request().Context(), actor(c), c.Param("code"), in.Reason)
		}
		if err != nil {
			return err
		}
		return s.sampleJSON(c, http.StatusOK, smp.Accession)
	}
}

func (s *Server) apiDecide(c echo.Context) error {
	var in struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	smp, err := s.app.Samples.Decide(c.Request().Context(), actor(c), c.Param("code"), sample.Decision(in.Decision), in.Reason)
	if err != nil {
		return err
	}
	return s.sampleJSON(c, http.StatusOK, smp.Accession)
}

// custodyEvent is one step of the chain of custody (API.md), with its sentence; a step
// carried in a partner's manifest has no data of this instance's trail.
type custodyEvent struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Site     string    `json:"site"`
	Action   string    `json:"action"`
	Sample   string    `json:"sample"`
	Reason   string    `json:"reason"`
	Text     string    `json:"text"`
	Ancestor bool      `json:"ancestor"`
	Carried  bool      `json:"carried"`
	Instance string    `json:"instance,omitempty"`
	Data     any       `json:"data"`
}

func custodyOut(lines []custody.Line) []custodyEvent {
	out := make([]custodyEvent, 0, len(lines))
	for _, l := range lines {
		e := custodyEvent{Seq: l.Seq, At: l.At, Actor: l.Actor, Site: l.Site, Action: l.Action, Sample: l.Sample, Reason: l.Reason,
			Text: l.Text, Ancestor: l.Ancestor, Carried: l.Carried, Instance: l.Instance}
		if !l.Carried {
			e.Data = map[string]any{"before": l.Before, "after": l.After}
		}
		out = append(out, e)
	}
	return out
}

func (s *Server) apiCustody(c echo.Context) error {
	smp, lines, err := s.app.Samples.Custody(c.Request().Context(), actor(c), c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"sample": smp.Accession, "events": custodyOut(lines)})
}

// sampleFilter reads the list filters from the query string; a cursor or limit that is
// not a number is refused rather than ignored.
func sampleFilter(c echo.Context) (sample.Filter, error) {
	f := sample.Filter{Study: c.QueryParam("study"), Visit: c.QueryParam("visit"), SpecimenType: c.QueryParam("specimen_type"),
		Status: c.QueryParam("status"), Hold: c.QueryParam("hold"), From: c.QueryParam("from"), To: c.QueryParam("to"),
		Participant: c.QueryParam("participant"), Site: c.QueryParam("site")}
	var err error
	if f.Cursor, err = cursorParam(c); err != nil {
		return f, err
	}
	if v := c.QueryParam("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			return f, apperr.Invalid("limit", "The limit must be a number from 1 to 500.")
		}
	}
	return f, nil
}

func (s *Server) apiSamples(c echo.Context) error {
	filter, err := sampleFilter(c)
	if err != nil {
		return err
	}
	rows, next, err := s.app.Samples.List(c.Request().Context(), actor(c), filter)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []sample.Row{}
	}
	var nextCursor any
	if next > 0 {
		nextCursor = next
	}
	return c.JSON(http.StatusOK, map[string]any{"samples": rows, "next_cursor": nextCursor})
}

// actionFromForm maps the end form's choice to an action.
func actionFromForm(v string) sample.Action {
	switch strings.TrimSpace(v) {
	case "consume":
		return sample.ActConsume
	case "destroy":
		return sample.ActDestroy
	case "lose":
		return sample.ActLose
	}
	return ""
}

// apiSamplesExport streams every sample the list's filters select as CSV.
func (s *Server) apiSamplesExport(c echo.Context) error {
	f, err := sampleFilter(c)
	if err != nil {
		return err
	}
	w := &lazyWriter{c: c, contentType: "text/csv; charset=utf-8", filename: "samples.csv"}
	err = s.app.Samples.Export(c.Request().Context(), actor(c), f, w)
	if err != nil && w.started {
		abortStream(c, "samples export", err)
	}
	return err
}

// apiMIABISExport streams the MIABIS sample and donor attributes of a study as CSV.
func (s *Server) apiMIABISExport(c echo.Context) error {
	if err := fhirParamsAPI(c, "study"); err != nil {
		return err
	}
	w := &lazyWriter{c: c, contentType: "text/csv; charset=utf-8", filename: "miabis.csv"}
	err := s.app.Samples.ExportMIABIS(c.Request().Context(), actor(c), c.QueryParam("study"), w)
	if err != nil && w.started {
		abortStream(c, "MIABIS export", err)
	}
	return err
}
