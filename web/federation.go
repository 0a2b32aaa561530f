package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"biobank/internal/apperr"
	"biobank/internal/shipment"
	"biobank/templates"
)

// peersPage lists the registered partner instances and takes a new one's descriptor.
func (s *Server) peersPage(c echo.Context) error {
	return s.renderPeers(c, http.StatusOK, templates.NewForm())
}

func (s *Server) renderPeers(c echo.Context, status int, f templates.Form) error {
	peers, err := s.app.Shipments.Peers(c.Request().Context())
	if err != nil {
		return err
	}
	d, err := s.descriptor(c)
	if err != nil {
		return err
	}
	own, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	p := s.page(c, "Partner instances")
	p.Nav = "peers"
	return s.render(c, status, templates.PeersPage(p, templates.PeersView{Peers: peers, Form: f, Own: string(own)}))
}

// registerPeerForm registers a partner from its descriptor, pasted as JSON.
func (s *Server) registerPeerForm(c echo.Context) error {
	f := formFrom(c, "descriptor", "reason")
	var in shipment.PeerInput
	var err error
	if strings.TrimSpace(f.Value("descriptor")) == "" {
		err = apperr.Invalid("descriptor", "Paste the partner's instance descriptor (its GET /api/v1/instance).")
	} else if jerr := json.Unmarshal([]byte(f.Value("descriptor")), &in); jerr != nil {
		err = apperr.Invalid("descriptor", "The descriptor is not JSON as GET /api/v1/instance answers it.")
	}
	var peer shipment.Peer
	if err == nil {
		in.Reason = f.Value("reason")
		peer, err = s.app.Shipments.RegisterPeer(c.Request().Context(), actor(c), in)
	}
	if err != nil {
		if v, ok := apperr.AsValidation(err); ok && v.Field != "reason" && v.Field != "descriptor" {
			err = apperr.Invalid("descriptor", v.Message)
		}
		if formError(&f, err) {
			return s.renderPeers(c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	return s.seeOther(c, "/admin/peers", "Partner "+peer.Name+" registered: its sites are now destinations.")
}

// importManifestPage takes a partner's signed manifest.
func (s *Server) importManifestPage(c echo.Context) error {
	return s.renderImportManifest(c, http.StatusOK, "")
}

func (s *Server) renderImportManifest(c echo.Context, status int, msg string) error {
	p := s.page(c, "Import a manifest")
	p.Nav = "shipments"
	return s.render(c, status, templates.ImportManifestPage(p, msg))
}

// importManifest imports an uploaded signed manifest into a dispatched shipment to this
// site, received next by scanning. A refusal says why; nothing is imported.
func (s *Server) importManifest(c echo.Context) error {
	_, doc, problem, err := uploaded(c, 2<<20, "Choose the manifest file (.manifest.json) the sender exported.")
	if err != nil {
		return err
	}
	if problem != "" {
		return s.renderImportManifest(c, http.StatusUnprocessableEntity, problem)
	}
	sh, err := s.app.Shipments.Import(c.Request().Context(), actor(c), doc)
	if err != nil {
		st, body := classify(err)
		if st >= 500 {
			return err
		}
		return s.renderImportManifest(c, st, body.Message)
	}
	return s.seeOther(c, templates.ShipmentPath(sh.Code), "Manifest of "+sh.Code+" imported and verified: scan the tubes as they come out of the package.")
}

// applyReceiptReportForm takes the partner's signed receipt report, uploaded on the
// shipment's page.
func (s *Server) applyReceiptReportForm(c echo.Context) error {
	name, doc, problem, err := uploaded(c, 2<<20, "Choose the receipt report (.receipt.json) the partner sent.")
	if err != nil {
		return err
	}
	if problem != "" {
		return s.renderShipment(c, http.StatusUnprocessableEntity, templates.ShipmentView{Error: problem})
	}
	sh, err := s.app.Shipments.ApplyReceiptReport(c.Request().Context(), actor(c), c.Param("shipment"), doc)
	if err != nil {
		return s.shipmentRefusal(c, err, name)
	}
	return s.seeOther(c, templates.ShipmentPath(sh.Code), "The partner's receipt report was verified and applied: the shipment is "+templates.ShipmentStatusLabel(sh.Status)+".")
}
