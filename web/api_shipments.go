package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"biobank/internal/apperr"
	"biobank/internal/shipment"
)

// shipmentJSON is a shipment as the API shows it.
type shipmentJSON struct {
	Code               string           `json:"code"`
	Status             string           `json:"status"`
	Origin             string           `json:"origin"`
	Destination        string           `json:"destination"`
	External           bool             `json:"external"`
	Country            string           `json:"country"`
	Condition          string           `json:"condition"`
	Courier            string           `json:"courier"`
	Tracking           string           `json:"tracking"`
	DataLogger         string           `json:"data_logger"`
	Responsible        string           `json:"responsible"`
	DryIceKg           *decimal.Decimal `json:"dry_ice_kg"`
	CreatedAt          time.Time        `json:"created_at"`
	DispatchedAt       *time.Time       `json:"dispatched_at"`
	ReceivedAt         *time.Time       `json:"received_at"`
	ArrivalCondition   string           `json:"arrival_condition,omitempty"`
	ArrivalTemperature *decimal.Decimal `json:"arrival_temperature,omitempty"`
	Excursion          string           `json:"excursion,omitempty"`
	Items              []itemJSON       `json:"items,omitempty"`
	Boxes              []string         `json:"boxes,omitempty"`
	Unexpected         []unexpectedJSON `json:"unexpected,omitempty"`
}

type unexpectedJSON struct {
	Code       string `json:"code"`
	Resolution string `json:"resolution,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

type itemJSON struct {
	Sample   string `json:"sample"`
	Box      string `json:"box,omitempty"`
	Position string `json:"position,omitempty"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
}

func shipmentOut(sh shipment.Shipment) shipmentJSON {
	out := shipmentJSON{Code: sh.Code, Status: sh.Status, Origin: sh.Origin.Code, Destination: sh.DestinationName(),
		External: sh.Destination == nil, Country: sh.DestinationCountry(), Condition: sh.Condition, Courier: sh.Courier, Tracking: sh.Tracking, DataLogger: sh.DataLogger,
		Responsible: sh.Responsible, DryIceKg: sh.DryIceKg, CreatedAt: sh.CreatedAt, DispatchedAt: sh.DispatchedAt, ReceivedAt: sh.ReceivedAt,
		ArrivalCondition: sh.ArrivalCondition, ArrivalTemperature: sh.ArrivalTemperature, Excursion: sh.Excursion}
	for _, u := range sh.Unexpected {
		out.Unexpected = append(out.Unexpected, unexpectedJSON{Code: u.Code, Resolution: u.Resolution, Reason: u.Reason})
	}
	seen := map[string]bool{}
	for _, it := range sh.Items {
		j := itemJSON{Sample: it.Sample.Accession, Position: it.Position(), State: it.State, Reason: it.Reason}
		if it.Box != nil {
			j.Box = it.Box.Barcode
			if !seen[j.Box] {
				seen[j.Box] = true
				out.Boxes = append(out.Boxes, j.Box)
			}
		}
		out.Items = append(out.Items, j)
	}
	return out
}

func (s *Server) apiCreateShipment(c echo.Context) error {
	var body struct {
		Destination json.RawMessage  `json:"destination"`
		Condition   string           `json:"condition"`
		Courier     string           `json:"courier"`
		Tracking    string           `json:"tracking"`
		DataLogger  string           `json:"data_logger"`
		Responsible string           `json:"responsible"`
		DryIceKg    *decimal.Decimal `json:"dry_ice_kg"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	in := shipment.Input{Condition: body.Condition, Courier: body.Courier, Tracking: body.Tracking, DataLogger: body.DataLogger,
		Responsible: body.Responsible, DryIceKg: body.DryIceKg}
	// The destination is a site code, or {"external": "name, address", "country": "CH"}.
	if len(body.Destination) > 0 && string(body.Destination) != "null" {
		if err := json.Unmarshal(body.Destination, &in.Destination); err != nil {
			var ext struct {
				External string `json:"external"`
				Country  string `json:"country"`
			}
			if err := json.Unmarshal(body.Destination, &ext); err != nil {
				return &malformedError{Field: "destination", Message: `The destination is a site code, or {"external": "name, address", "country": "CH"}.`}
			}
			in.External, in.Country = ext.External, ext.Country
		}
	}
	sh, err := s.app.Shipments.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, shipmentOut(sh))
}

func (s *Server) apiShipments(c echo.Context) error {
	f := shipment.Filter{Status: c.QueryParam("status"), Direction: c.QueryParam("direction")}
	if v := c.QueryParam("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return &malformedError{Field: "cursor", Message: "The cursor is the next_cursor of the previous page."}
		}
		f.Cursor = n
	}
	list, next, err := s.app.Shipments.List(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	out := make([]shipmentJSON, 0, len(list))
	for _, sh := range list {
		out = append(out, shipmentOut(sh))
	}
	return c.JSON(http.StatusOK, map[string]any{"shipments": out, "next_cursor": next})
}

func (s *Server) apiShipment(c echo.Context) error {
	sh, err := s.app.Shipments.Get(c.Request().Context(), actor(c), c.Param("shipment"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, shipmentOut(sh))
}

func (s *Server) apiAddShipmentItem(c echo.Context) error {
	var in shipment.ItemInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	added, err := s.app.Shipments.Add(c.Request().Context(), actor(c), c.Param("shipment"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"added": added})
}

func (s *Server) apiRemoveShipmentItem(c echo.Context) error {
	if err := s.app.Shipments.Remove(c.Request().Context(), actor(c), c.Param("shipment"), c.Param("sample")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiDispatchShipment(c echo.Context) error {
	var in struct{}
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &in); err != nil {
			return err
		}
	}
	if _, err := s.app.Shipments.Dispatch(c.Request().Context(), actor(c), c.Param("shipment")); err != nil {
		return err
	}
	return s.apiShipment(c)
}

func (s *Server) apiCancelShipment(c echo.Context) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if _, err := s.app.Shipments.Cancel(c.Request().Context(), actor(c), c.Param("shipment"), in.Reason); err != nil {
		return err
	}
	return s.apiShipment(c)
}

func (s *Server) apiReceiveShipment(c echo.Context) error {
	var in shipment.ReceiveInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.app.Shipments.Receive(c.Request().Context(), actor(c), c.Param("shipment"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) apiResolveDiscrepancy(c echo.Context) error {
	var in struct {
		Resolution string `json:"resolution"`
		Reason     string `json:"reason"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if _, err := s.app.Shipments.Resolve(c.Request().Context(), actor(c), c.Param("shipment"), c.Param("sample"), in.Resolution, in.Reason); err != nil {
		return err
	}
	return s.apiShipment(c)
}

// apiInstance answers this instance's descriptor, which a partner registers.
func (s *Server) apiInstance(c echo.Context) error {
	d, err := s.descriptor(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// descriptorJSON is this instance's descriptor.
type descriptorJSON struct {
	Instance        string                `json:"instance"`
	PublicKey       string                `json:"public_key"`
	AccessionPrefix string                `json:"accession_prefix"`
	BaseURL         string                `json:"base_url"`
	Sites           []string              `json:"sites"`
	SiteDetails     []shipment.SiteDetail `json:"site_details"`
}

func (s *Server) descriptor(c echo.Context) (descriptorJSON, error) {
	sites, err := s.app.Shipments.LocalSites(c.Request().Context())
	if err != nil {
		return descriptorJSON{}, err
	}
	id := s.cfg.Identity
	d := descriptorJSON{Instance: id.Name, PublicKey: id.PublicKeyText(), AccessionPrefix: id.AccessionPrefix, BaseURL: id.BaseURL,
		Sites: []string{}, SiteDetails: sites}
	for _, site := range sites {
		d.Sites = append(d.Sites, site.Code)
	}
	return d, nil
}

// apiManifest answers a shipment's manifest: signed JSON (the default), CSV or PDF.
func (s *Server) apiManifest(c echo.Context) error {
	m, err := s.app.Shipments.BuildManifest(c.Request().Context(), actor(c), c.Param("shipment"), *s.cfg.Identity)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	switch c.QueryParam("format") {
	case "", "json":
		doc, err := m.Sign(s.cfg.Identity.Private)
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+m.Shipment+`.manifest.json"`)
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
	case "csv":
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+m.Shipment+`.manifest.csv"`)
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", m.CSV())
	case "pdf":
		sh, err := s.app.Shipments.Get(c.Request().Context(), actor(c), m.Shipment)
		if err != nil {
			return err
		}
		doc, err := m.PDF(sh.Parties())
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `inline; filename="`+m.Shipment+`.manifest.pdf"`)
		return c.Blob(http.StatusOK, "application/pdf", doc)
	}
	return apperr.Invalid("format", "The manifest comes as json (signed), csv or pdf.")
}

func (s *Server) apiPeers(c echo.Context) error {
	peers, err := s.app.Shipments.Peers(c.Request().Context())
	if err != nil {
		return err
	}
	if peers == nil {
		peers = []shipment.Peer{}
	}
	return c.JSON(http.StatusOK, map[string]any{"peers": peers})
}

func (s *Server) apiRegisterPeer(c echo.Context) error {
	var in shipment.PeerInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.app.Shipments.RegisterPeer(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

// apiImportShipment takes a partner's signed manifest, exactly as exported.
func (s *Server) apiImportShipment(c echo.Context) error {
	doc, err := io.ReadAll(io.LimitReader(c.Request().Body, 2<<20))
	if err != nil {
		return &malformedError{Message: "The manifest could not be read."}
	}
	sh, err := s.app.Shipments.Import(c.Request().Context(), actor(c), doc)
	if err != nil {
		return err
	}
	full, err := s.app.Shipments.Get(c.Request().Context(), actor(c), sh.Code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"code": sh.Code, "status": sh.Status, "items": len(full.Items)})
}

// apiReceiptReport answers the signed receipt report of a shipment as this instance sees
// it, for the sending partner.
func (s *Server) apiReceiptReport(c echo.Context) error {
	doc, err := s.app.Shipments.BuildReceiptReport(c.Request().Context(), actor(c), c.Param("shipment"), *s.cfg.Identity)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+strings.ToUpper(c.Param("shipment"))+`.receipt.json"`)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
}

// apiApplyReceiptReport takes the partner's signed receipt report of a shipment sent to it.
func (s *Server) apiApplyReceiptReport(c echo.Context) error {
	doc, err := io.ReadAll(io.LimitReader(c.Request().Body, 2<<20))
	if err != nil {
		return &malformedError{Message: "The receipt report could not be read."}
	}
	if _, err := s.app.Shipments.ApplyReceiptReport(c.Request().Context(), actor(c), c.Param("shipment"), doc); err != nil {
		return err
	}
	return s.apiShipment(c)
}
