package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/shipment"
	"biobank/templates"
)

var shipmentFields = []string{"destination", "external", "country", "condition", "dry_ice_kg", "courier", "tracking", "data_logger", "responsible"}

func (s *Server) shipmentsPage(c echo.Context) error {
	return s.renderShipments(c, http.StatusOK, templates.NewForm())
}

func (s *Server) renderShipments(c echo.Context, status int, f templates.Form) error {
	ctx, a := c.Request().Context(), actor(c)
	v := templates.ShipmentsView{Form: f, CanCreate: a.SiteID != 0}
	var err error
	if v.Incoming, _, err = s.app.Shipments.List(ctx, a, shipment.Filter{Direction: "in", Limit: 100}); err != nil {
		return err
	}
	if v.Outgoing, _, err = s.app.Shipments.List(ctx, a, shipment.Filter{Direction: "out", Limit: 100}); err != nil {
		return err
	}
	sites, err := s.app.Auth.Sites(ctx)
	if err != nil {
		return err
	}
	for _, site := range sites {
		if site.Active && site.ID != a.SiteID {
			v.Destinations = append(v.Destinations, templates.Option{Value: site.Code, Label: site.Name + " (" + site.Code + ", " + site.Country + ")"})
		}
		if site.ID == a.SiteID {
			v.Site = site.Name
		}
	}
	if f.Value("condition") == "" {
		f.Values["condition"] = "dry_ice"
	}
	p := s.page(c, "Shipments")
	p.Nav = "shipments"
	return s.render(c, status, templates.ShipmentsPage(p, v))
}

func (s *Server) createShipmentForm(c echo.Context) error {
	f := formFrom(c, shipmentFields...)
	in := shipment.Input{Destination: f.Value("destination"), External: f.Value("external"), Country: f.Value("country"),
		Condition: f.Value("condition"), Courier: f.Value("courier"), Tracking: f.Value("tracking"), DataLogger: f.Value("data_logger"),
		Responsible: f.Value("responsible")}
	var err error
	if kg := strings.TrimSpace(f.Value("dry_ice_kg")); kg != "" {
		d, perr := decimal.NewFromString(strings.ReplaceAll(kg, ",", "."))
		if perr != nil || len(kg) > 8 {
			err = apperr.Invalid("dry_ice_kg", "The dry ice's weight is a number of kg, such as 5 or 2.5.")
		}
		in.DryIceKg = &d
	}
	var sh shipment.Shipment
	if err == nil {
		sh, err = s.app.Shipments.Create(c.Request().Context(), actor(c), in)
	}
	if err != nil {
		if formError(&f, err) {
			return s.renderShipments(c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	return s.seeOther(c, templates.ShipmentPath(sh.Code), "Shipment "+sh.Code+" created: scan the tubes or boxes to pack.")
}

func (s *Server) shipmentPage(c echo.Context) error {
	return s.renderShipment(c, http.StatusOK, templates.ShipmentView{})
}

// renderShipment shows a shipment with what the viewer may do with it, and the outcome of
// the last scan or form in v.
func (s *Server) renderShipment(c echo.Context, status int, v templates.ShipmentView) error {
	a := actor(c)
	sh, err := s.app.Shipments.Get(c.Request().Context(), a, c.Param("shipment"))
	if err != nil {
		return err
	}
	v.Shipment = sh
	lab := a.Role == auth.RoleTechnician || a.Role == auth.RoleManager || a.Role == auth.RoleAdmin
	v.CanPack = lab && sh.Status == shipment.Draft && a.SiteID == sh.OriginSiteID
	v.CanReceive = lab && (sh.Status == shipment.Dispatched || sh.Status == shipment.PartiallyReceived) &&
		sh.DestinationSiteID != nil && *sh.DestinationSiteID == a.SiteID
	v.CanResolve = (a.Role == auth.RoleManager || a.Role == auth.RoleAdmin) &&
		(sh.Status == shipment.PartiallyReceived || sh.Status == shipment.Dispatched)
	v.UNLines = shipment.UNLines(sh)
	// Between instances: the receiver hands the sender a signed receipt report; the sender
	// applies it here.
	v.CanReport = sh.PeerID != nil && sh.Status != shipment.Dispatched
	v.CanApplyReport = lab && a.SiteID == sh.OriginSiteID && sh.Destination != nil && sh.Destination.PeerID != nil &&
		(sh.Status == shipment.Dispatched || sh.Status == shipment.PartiallyReceived)
	boxes := map[string]int{}
	for _, it := range sh.Items {
		if it.Box == nil || it.Row == nil {
			v.Loose = append(v.Loose, it)
			continue
		}
		i, ok := boxes[it.Box.Barcode]
		if !ok {
			i = len(v.Boxes)
			boxes[it.Box.Barcode] = i
			v.Boxes = append(v.Boxes, templates.PackedBox{Barcode: it.Box.Barcode, Rows: it.Box.Rows, Cols: it.Box.Cols, Cells: map[string]shipment.Item{}})
		}
		v.Boxes[i].Cells[it.Position()] = it
	}
	p := s.page(c, "Shipment "+sh.Code)
	p.Nav = "shipments"
	return s.render(c, status, templates.ShipmentPage(p, v))
}

// packScan packs what was scanned — a tube, or else a whole box — and shows the shipment
// again, ready for the next scan. A refusal says why and packs nothing.
func (s *Server) packScan(c echo.Context) error {
	ctx, a, code := c.Request().Context(), actor(c), strings.TrimSpace(c.FormValue("code"))
	v := templates.ShipmentView{Scanned: code}
	if code == "" {
		v.Error = "Scan a tube or a box."
		return s.renderShipment(c, http.StatusUnprocessableEntity, v)
	}
	added, err := s.app.Shipments.Add(ctx, a, c.Param("shipment"), shipment.ItemInput{Sample: code})
	if nf, ok := apperr.AsNotFound(err); ok && nf.What == "sample" {
		// Not a tube: a whole box, perhaps.
		added, err = s.app.Shipments.Add(ctx, a, c.Param("shipment"), shipment.ItemInput{Box: code})
		if v, ok := apperr.AsValidation(err); ok && v.Field == "box" {
			err = apperr.Invalid("code", "No tube has this code, and no box with this code holds tubes. Check the label and scan again.")
		}
	}
	if err != nil {
		return s.shipmentRefusal(c, err, code)
	}
	v.Outcome = "packed"
	v.Message = fmt.Sprintf("Packed %s.", strings.Join(added, ", "))
	if len(added) > 1 {
		v.Message = fmt.Sprintf("Packed box %s: %d tubes with their positions.", code, len(added))
	}
	return s.renderShipment(c, http.StatusOK, v)
}

func (s *Server) removeShipmentItem(c echo.Context) error {
	if err := s.app.Shipments.Remove(c.Request().Context(), actor(c), c.Param("shipment"), c.Param("sample")); err != nil {
		return s.shipmentRefusal(c, err, "")
	}
	return s.seeOther(c, templates.ShipmentPath(c.Param("shipment")), c.Param("sample")+" was taken out of the shipment.")
}

func (s *Server) dispatchShipment(c echo.Context) error {
	sh, err := s.app.Shipments.Dispatch(c.Request().Context(), actor(c), c.Param("shipment"))
	if err != nil {
		return s.shipmentRefusal(c, err, "")
	}
	return s.seeOther(c, templates.ShipmentPath(sh.Code), "Shipment "+sh.Code+" dispatched: its tubes are in transit.")
}

func (s *Server) cancelShipment(c echo.Context) error {
	f := formFrom(c, "reason")
	sh, err := s.app.Shipments.Cancel(c.Request().Context(), actor(c), c.Param("shipment"), f.Value("reason"))
	if err != nil {
		if formError(&f, err) {
			return s.renderShipment(c, http.StatusUnprocessableEntity, templates.ShipmentView{Forms: map[string]templates.Form{"cancel": f}})
		}
		return err
	}
	return s.seeOther(c, templates.ShipmentPath(sh.Code), "Shipment "+sh.Code+" was cancelled.")
}

// shipmentRefusal shows the shipment again with a refusal above everything.
func (s *Server) shipmentRefusal(c echo.Context, err error, scanned string) error {
	st, body := classify(err)
	if st >= 500 || st == http.StatusNotFound && c.Param("sample") == "" {
		return err
	}
	return s.renderShipment(c, st, templates.ShipmentView{Scanned: scanned, Error: body.Message})
}

// receiveScanShipment records one scanned tube at the destination (received, or damaged
// with the other button), or — with finish — closes the receipt with the arrival
// condition, after which whatever was not scanned is missing.
func (s *Server) receiveScanShipment(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	if c.FormValue("finish") == "true" {
		f := formFrom(c, "arrival_condition", "arrival_temperature", "excursion")
		in := shipment.ReceiveInput{ArrivalCondition: f.Value("arrival_condition"), Excursion: f.Value("excursion")}
		var err error
		if t := strings.TrimSpace(f.Value("arrival_temperature")); t != "" {
			d, perr := decimal.NewFromString(strings.ReplaceAll(t, ",", "."))
			if perr != nil || len(t) > 8 || d.Abs().GreaterThan(decimal.NewFromInt(300)) {
				err = apperr.Invalid("arrival_temperature", "The temperature is a number of °C, such as -70 or 4.5.")
			}
			in.ArrivalTemperature = &d
		}
		var r shipment.Receipt
		if err == nil {
			r, err = s.app.Shipments.Receive(ctx, a, c.Param("shipment"), in)
		}
		if err != nil {
			if formError(&f, err) {
				st, _ := classify(err)
				return s.renderShipment(c, st, templates.ShipmentView{Forms: map[string]templates.Form{"finish": f}})
			}
			return err
		}
		msg := "Receipt finished: everything arrived."
		if r.Status == shipment.PartiallyReceived {
			msg = fmt.Sprintf("Receipt finished: %d received, %d damaged, %d missing, %d unexpected — a manager resolves the discrepancies.",
				len(r.Received), len(r.Damaged), len(r.Missing), len(r.Unexpected))
		}
		return s.seeOther(c, templates.ShipmentPath(c.Param("shipment")), msg)
	}
	code := strings.TrimSpace(c.FormValue("code"))
	in := shipment.ReceiveInput{Received: []string{code}, MoreToCome: true}
	if c.FormValue("state") == "damaged" {
		in = shipment.ReceiveInput{Damaged: []string{code}, MoreToCome: true}
	}
	v := templates.ShipmentView{Scanned: code}
	r, err := s.app.Shipments.Receive(ctx, a, c.Param("shipment"), in)
	if err != nil {
		return s.shipmentRefusal(c, err, code)
	}
	for _, sc := range r.Scans {
		v.Outcome = sc.Outcome
		switch sc.Outcome {
		case "received":
			v.Message = sc.Accession + " received into this site's custody."
		case "damaged":
			v.Message = sc.Accession + " received, damaged: a manager decides what becomes of it."
		case "again":
			v.Message = sc.Accession + " was already scanned."
		case "unexpected":
			v.Message = sc.Code + " is not in this shipment: kept as unexpected for a manager to resolve."
		}
	}
	return s.renderShipment(c, http.StatusOK, v)
}

func (s *Server) resolveDiscrepancyForm(c echo.Context) error {
	f := formFrom(c, "resolution", "reason")
	code := c.Param("sample")
	_, err := s.app.Shipments.Resolve(c.Request().Context(), actor(c), c.Param("shipment"), code, f.Value("resolution"), f.Value("reason"))
	if err != nil {
		if formError(&f, err) {
			st, _ := classify(err)
			return s.renderShipment(c, st, templates.ShipmentView{Forms: map[string]templates.Form{"resolve-" + code: f}})
		}
		return err
	}
	return s.seeOther(c, templates.ShipmentPath(c.Param("shipment")), code+" resolved: "+f.Value("resolution")+".")
}
