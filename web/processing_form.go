package web

import (
	"strconv"
	"strings"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/sample"
	"biobank/internal/sprec"
	"biobank/templates"
)

// processingFields are the inputs of the processing form.
var processingFields = []string{"started_at", "pre_centrifugation_temp",
	"spin1_none", "spin1_g", "spin1_minutes", "spin1_temp", "spin1_brake",
	"spin2_none", "spin2_g", "spin2_minutes", "spin2_temp", "spin2_brake",
	"centrifugation_ended_at", "post_centrifugation_temp", "frozen_at", "storage_container", "storage_temperature",
	"collection", "warm_ischaemia_min", "cold_ischaemia_min", "fixation_type", "fixation_min", "reason"}

const datetimeLocal = "2006-01-02T15:04"

// processingForm pre-fills the form from the sample's stored record.
func processingForm(smp sample.Sample) templates.Form {
	f := templates.NewForm()
	p, _ := sample.ProcessingOf(smp) // an unreadable record pre-fills nothing
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(datetimeLocal)
	}
	num := func(n *int) string {
		if n == nil {
			return ""
		}
		return strconv.Itoa(*n)
	}
	f.Values["started_at"], f.Values["centrifugation_ended_at"], f.Values["frozen_at"] = at(p.StartedAt), at(p.CentrifugationEndedAt), at(p.FrozenAt)
	f.Values["pre_centrifugation_temp"], f.Values["post_centrifugation_temp"] = p.PreCentrifugationTemp.String(), p.PostCentrifugationTemp.String()
	for prefix, sp := range map[string]*sample.Spin{"spin1_": p.Centrifugation, "spin2_": p.SecondCentrifugation} {
		if sp == nil {
			continue
		}
		if sp.None {
			f.Values[prefix+"none"] = "true"
		}
		f.Values[prefix+"g"], f.Values[prefix+"minutes"], f.Values[prefix+"temp"] = num(sp.G), num(sp.Minutes), sp.Temp.String()
		if sp.Brake != nil {
			f.Values[prefix+"brake"] = map[bool]string{true: "yes", false: "no"}[*sp.Brake]
		}
	}
	f.Values["storage_container"], f.Values["storage_temperature"] = p.StorageContainer.String(), p.StorageTemperature.String()
	f.Values["collection"], f.Values["fixation_type"] = p.Collection, p.FixationType
	f.Values["warm_ischaemia_min"], f.Values["cold_ischaemia_min"], f.Values["fixation_min"] = num(p.WarmIschaemiaMin), num(p.ColdIschaemiaMin), num(p.FixationMin)
	return f
}

// processingFromForm reads the processing form; an unreadable value is a validation
// error beside its field. Empty fields stay unknown.
func processingFromForm(f templates.Form) (sample.Processing, error) {
	var p sample.Processing
	var err error
	at := func(name string) *time.Time {
		v := strings.TrimSpace(f.Value(name))
		if v == "" || err != nil {
			return nil
		}
		t, perr := time.Parse(datetimeLocal, v)
		if perr != nil {
			err = apperr.Invalid(name, "Give a date and time such as 2026-01-31T09:30.")
			return nil
		}
		return &t
	}
	num := func(name string) *int {
		if strings.TrimSpace(f.Value(name)) == "" || err != nil {
			return nil
		}
		n, nerr := formInt(f, name, "number", false)
		if nerr != nil || n < 0 {
			err = apperr.Invalid(name, "Give a whole number, zero or more.")
			return nil
		}
		return &n
	}
	temp := func(name string) sprec.Temperature {
		t, terr := sprec.ParseTemperature(f.Value(name))
		if terr != nil && err == nil {
			err = apperr.Invalid(name, "Choose a temperature from the list.")
		}
		return t
	}
	spin := func(prefix string) *sample.Spin {
		if f.Value(prefix+"none") == "true" {
			return &sample.Spin{None: true}
		}
		sp := &sample.Spin{G: num(prefix + "g"), Minutes: num(prefix + "minutes"), Temp: temp(prefix + "temp")}
		switch f.Value(prefix + "brake") {
		case "yes":
			b := true
			sp.Brake = &b
		case "no":
			b := false
			sp.Brake = &b
		}
		if sp.G == nil && sp.Minutes == nil && sp.Temp == sprec.TempUnknown && sp.Brake == nil {
			return nil // nothing recorded: unknown
		}
		return sp
	}
	p.StartedAt, p.CentrifugationEndedAt, p.FrozenAt = at("started_at"), at("centrifugation_ended_at"), at("frozen_at")
	p.PreCentrifugationTemp, p.PostCentrifugationTemp = temp("pre_centrifugation_temp"), temp("post_centrifugation_temp")
	p.Centrifugation, p.SecondCentrifugation = spin("spin1_"), spin("spin2_")
	if c, cerr := sprec.ParseStorageContainer(f.Value("storage_container")); cerr == nil {
		p.StorageContainer = c
	} else if err == nil {
		err = apperr.Invalid("storage_container", "Choose a storage container from the list.")
	}
	if t, terr := sprec.ParseStorageTemperature(f.Value("storage_temperature")); terr == nil {
		p.StorageTemperature = t
	} else if err == nil {
		err = apperr.Invalid("storage_temperature", "Choose a storage temperature from the list.")
	}
	p.Collection, p.FixationType = strings.ToUpper(strings.TrimSpace(f.Value("collection"))), strings.ToUpper(strings.TrimSpace(f.Value("fixation_type")))
	p.WarmIschaemiaMin, p.ColdIschaemiaMin, p.FixationMin = num("warm_ischaemia_min"), num("cold_ischaemia_min"), num("fixation_min")
	return p, err
}
