package web

import (
	"biobank/internal/checkcode"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"biobank/internal/apperr"
	"biobank/internal/study"
	"biobank/templates"
)

func (s *Server) studiesPage(c echo.Context) error {
	f := templates.NewForm()
	f.Values["pseudonym_scheme"] = string(checkcode.SchemeMainzelliste)
	return s.renderStudies(c, http.StatusOK, f)
}

func (s *Server) renderStudies(c echo.Context, status int, f templates.Form) error {
	studies, err := s.app.Studies.List(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "Studies")
	p.Nav = "studies"
	return s.render(c, status, templates.StudiesPage(p, studies, f))
}

func (s *Server) createStudy(c echo.Context) error {
	f := formFrom(c, "code", "name", "pseudonym_scheme", "pseudonym_pattern", "reason")
	st, err := s.app.Studies.Create(c.Request().Context(), actor(c), study.Input{Code: f.Value("code"), Name: f.Value("name"),
		PseudonymScheme: checkcode.Scheme(f.Value("pseudonym_scheme")), PseudonymPattern: f.Value("pseudonym_pattern"), Reason: f.Value("reason")})
	if err != nil {
		if formError(&f, err) {
			return s.renderStudies(c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	return s.seeOther(c, templates.StudyPath(st.Code), "Study "+st.Code+" was added. Now add its visits and consent versions.")
}

func (s *Server) studyPage(c echo.Context) error {
	return s.renderStudy(c, http.StatusOK, "", nil)
}

func (s *Server) renderStudy(c echo.Context, status int, failed string, f *templates.Form) error {
	ctx := c.Request().Context()
	st, err := s.app.Studies.ByCode(ctx, c.Param("study"))
	if err != nil {
		return err
	}
	types, containers, err := s.app.Studies.Vocabularies(ctx)
	if err != nil {
		return err
	}
	v := templates.StudyView{Study: st, Forms: map[string]templates.Form{}}
	for _, t := range types {
		v.SpecimenTypes = append(v.SpecimenTypes, templates.Option{Value: t.Code, Label: t.Label})
	}
	for _, ct := range containers {
		v.Containers = append(v.Containers, templates.Option{Value: ct.Code, Label: ct.Code + " — " + ct.Label})
	}
	for _, t := range study.Temperatures {
		v.Temperatures = append(v.Temperatures, templates.Option{Value: t, Label: t})
	}
	if f != nil {
		v.Forms[failed] = *f
	}
	p := s.page(c, "Study "+st.Code)
	p.Nav = "studies"
	return s.render(c, status, templates.StudyPage(p, v))
}

// requirementRows is the number of specimen rows the visit form offers.
const requirementRows = 4

func (s *Server) addVisit(c echo.Context) error {
	names := []string{"code", "name", "day_offset", "window_before", "window_after"}
	for i := 0; i < requirementRows; i++ {
		for _, n := range []string{"specimen_type", "container", "volume", "unit", "aliquots", "aliquot_volume", "storage_temperature"} {
			names = append(names, "requirements["+strconv.Itoa(i)+"]."+n)
		}
	}
	f := formFrom(c, names...)
	in, rows, err := visitFromForm(f)
	if err == nil {
		_, err = s.app.Studies.AddVisit(c.Request().Context(), actor(c), c.Param("study"), in)
		// The service numbers the requirements it was given; the form skips empty rows.
		if v, ok := apperr.AsValidation(err); ok {
			v.Field = formRowField(v.Field, rows)
		}
	}
	if err != nil {
		if formError(&f, err) {
			return s.renderStudy(c, http.StatusUnprocessableEntity, "visit", &f)
		}
		return err
	}
	return s.seeOther(c, templates.StudyPath(c.Param("study")), "Visit "+strings.ToUpper(in.Code)+" was added.")
}

// visitFromForm reads the visit form; numbers that do not parse are validation errors
// beside their field. rows gives, for each requirement of the input, its row in the form.
func visitFromForm(f templates.Form) (in study.VisitInput, rows []int, err error) {
	in = study.VisitInput{Code: f.Value("code"), Name: f.Value("name")}
	if in.DayOffset, err = formInt(f, "day_offset", "days after enrolment", true); err != nil {
		return in, nil, err
	}
	if in.WindowBefore, err = formInt(f, "window_before", "window", false); err != nil {
		return in, nil, err
	}
	if in.WindowAfter, err = formInt(f, "window_after", "window", false); err != nil {
		return in, nil, err
	}
	for i := 0; i < requirementRows; i++ {
		field := func(n string) string { return "requirements[" + strconv.Itoa(i) + "]." + n }
		if strings.TrimSpace(f.Value(field("specimen_type"))) == "" {
			continue
		}
		r := study.RequirementInput{SpecimenType: f.Value(field("specimen_type")), Container: f.Value(field("container")),
			Unit: f.Value(field("unit")), StorageTemperature: f.Value(field("storage_temperature"))}
		if r.Volume, err = formDecimal(f, field("volume"), "volume", true); err != nil {
			return in, nil, err
		}
		if r.Aliquots, err = formInt(f, field("aliquots"), "number of aliquots", false); err != nil {
			return in, nil, err
		}
		if r.Aliquots > 0 {
			v, err := formDecimal(f, field("aliquot_volume"), "aliquot volume", true)
			if err != nil {
				return in, nil, err
			}
			r.AliquotVolume = &v
		}
		in.Requirements = append(in.Requirements, r)
		rows = append(rows, i)
	}
	return in, rows, nil
}

// formRowField renames a service's "requirements[i].name" field to the form row that
// requirement i came from.
func formRowField(field string, rows []int) string {
	var i int
	var name string
	if n, err := fmt.Sscanf(field, "requirements[%d].%s", &i, &name); err != nil || n != 2 || i < 0 || i >= len(rows) {
		return field
	}
	return "requirements[" + strconv.Itoa(rows[i]) + "]." + name
}

func formInt(f templates.Form, name, label string, required bool) (int, error) {
	v := strings.TrimSpace(f.Value(name))
	if v == "" {
		if required {
			return 0, apperr.Invalid(name, "Enter the "+label+".")
		}
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, apperr.Invalid(name, "The "+label+" must be a whole number.")
	}
	return n, nil
}

func formDecimal(f templates.Form, name, label string, required bool) (decimal.Decimal, error) {
	v := strings.ReplaceAll(strings.TrimSpace(f.Value(name)), ",", ".")
	if v == "" {
		if required {
			return decimal.Zero, apperr.Invalid(name, "Enter the "+label+".")
		}
		return decimal.Zero, nil
	}
	d, err := decimal.NewFromString(v)
	if err != nil || len(v) > 20 {
		return decimal.Zero, apperr.Invalid(name, "The "+label+" must be a number such as 0.5.")
	}
	return d, nil
}

func (s *Server) updateStudy(c echo.Context) error {
	f := formFrom(c, "name", "pseudonym_pattern", "pseudonym_scheme", "active", "outside_eea_consent", "default_diagnosis", "reason")
	diagnosis := f.Value("default_diagnosis")
	active, outside := f.Value("active") == "true", f.Value("outside_eea_consent") == "true"
	f.Values["active"], f.Values["outside_eea_consent"] = strconv.FormatBool(active), strconv.FormatBool(outside)
	_, err := s.app.Studies.Update(c.Request().Context(), actor(c), c.Param("study"), study.Input{Name: f.Value("name"),
		PseudonymPattern: f.Value("pseudonym_pattern"), PseudonymScheme: checkcode.Scheme(f.Value("pseudonym_scheme")),
		Active: &active, OutsideEEAConsent: &outside, DefaultDiagnosis: &diagnosis, Reason: f.Value("reason")})
	if err != nil {
		if formError(&f, err) {
			return s.renderStudy(c, http.StatusUnprocessableEntity, "settings", &f)
		}
		return err
	}
	return s.seeOther(c, templates.StudyPath(c.Param("study")), "Study settings were saved.")
}

func (s *Server) addConsentDocument(c echo.Context) error {
	f := formFrom(c, "version")
	tiers := formList(c, "tiers")
	f.Values["tiers"] = strings.Join(tiers, ",")
	_, err := s.app.Studies.AddDocument(c.Request().Context(), actor(c), c.Param("study"), study.DocumentInput{Version: f.Value("version"), Tiers: tiers})
	if err != nil {
		if formError(&f, err) {
			return s.renderStudy(c, http.StatusUnprocessableEntity, "document", &f)
		}
		return err
	}
	return s.seeOther(c, templates.StudyPath(c.Param("study")), "Consent version "+strings.TrimSpace(f.Value("version"))+" was added.")
}

func (s *Server) retireConsentDocument(c echo.Context) error {
	f := formFrom(c, "reason")
	_, err := s.app.Studies.RetireDocument(c.Request().Context(), actor(c), c.Param("study"), c.Param("version"), f.Value("reason"))
	if err != nil {
		if formError(&f, err) {
			if msg := f.Errors["reason"]; msg != "" {
				f.Error = msg
			}
			return s.renderStudy(c, http.StatusUnprocessableEntity, "retire", &f)
		}
		return err
	}
	return s.seeOther(c, templates.StudyPath(c.Param("study")), "Consent version "+c.Param("version")+" was retired: it can no longer be used for new consents.")
}

// formList returns every value of a repeated form field (checkboxes).
func formList(c echo.Context, name string) []string {
	params, err := c.FormParams()
	if err != nil {
		return nil
	}
	return params[name]
}
