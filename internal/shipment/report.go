package shipment

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/instance"
	"biobank/internal/sample"
)

// ReceiptSchema names the receipt report's format and version.
const ReceiptSchema = "biobank-receipt-1"

// ReceiptReport is what a receiving instance tells the sender of a shipment: how it
// arrived and what became of every tube. Signed like a manifest (canonical JSON of this
// struct, Ed25519 over exactly those bytes), so the sender's records follow the
// receiver's without anybody retyping them.
type ReceiptReport struct {
	Schema             string       `json:"schema"`
	Instance           string       `json:"instance"`
	Shipment           string       `json:"shipment"`
	Nonce              string       `json:"nonce"`
	CreatedAt          string       `json:"created_at"`
	Status             string       `json:"status"`
	ReceivedAt         string       `json:"received_at,omitempty"`
	ArrivalCondition   string       `json:"arrival_condition,omitempty"`
	ArrivalTemperature string       `json:"arrival_temperature,omitempty"`
	Excursion          string       `json:"excursion,omitempty"`
	Items              []ReportItem `json:"items"`
	Unexpected         []string     `json:"unexpected"`
}

// ReportItem is one tube's outcome at the receiver: packed (not arrived), received,
// damaged, found, lost, destroyed or returned, with the receiver's reason.
type ReportItem struct {
	Accession string `json:"accession"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
}

// SignedReceipt is a receipt report as it travels.
type SignedReceipt struct {
	Receipt   json.RawMessage `json:"receipt"`
	Signature string          `json:"signature"`
}

// BuildReceiptReport is the signed report of a shipment as this instance sees it, for the
// sender: any user who may see the shipment may fetch it.
func (s *Service) BuildReceiptReport(ctx context.Context, actor auth.Actor, code string, id instance.Identity) ([]byte, error) {
	sh, err := s.Get(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	r := ReceiptReport{Schema: ReceiptSchema, Instance: id.Name, Shipment: sh.Code, Nonce: hex.EncodeToString(nonce),
		CreatedAt: s.Now().Format(time.RFC3339), Status: sh.Status, ArrivalCondition: sh.ArrivalCondition, Excursion: sh.Excursion,
		Items: []ReportItem{}, Unexpected: []string{}}
	if sh.ReceivedAt != nil {
		r.ReceivedAt = sh.ReceivedAt.UTC().Format(time.RFC3339)
	}
	if sh.ArrivalTemperature != nil {
		r.ArrivalTemperature = sh.ArrivalTemperature.String()
	}
	for _, it := range sh.Items {
		r.Items = append(r.Items, ReportItem{Accession: it.Sample.Accession, State: it.State, Reason: it.Reason})
	}
	for _, u := range sh.Unexpected {
		if u.Resolution == "" {
			r.Unexpected = append(r.Unexpected, u.Code)
		}
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	canonical := bytes.TrimSuffix(body.Bytes(), []byte("\n"))
	var doc bytes.Buffer
	enc = json.NewEncoder(&doc)
	enc.SetEscapeHTML(false)
	err = enc.Encode(SignedReceipt{Receipt: canonical, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(id.Private, canonical))})
	return doc.Bytes(), err
}

// ApplyReceiptReport takes the signed receipt report of a shipment this instance sent to
// a partner (by a user of its origin site): the signature must be the partner's — the
// instance whose site the shipment went to — over the report's exact bytes, the report
// about this shipment, its nonce new. The shipment takes the receiver's status and each
// tube its outcome: arrived tubes pass into the partner site's custody, lost and
// destroyed ones end, returned ones come back. Applying a later report again moves on
// only what changed. A refusal changes nothing.
func (s *Service) ApplyReceiptReport(ctx context.Context, actor auth.Actor, code string, doc []byte) (Shipment, error) {
	if err := actor.Require(shipRoles...); err != nil {
		return Shipment{}, err
	}
	var env SignedReceipt
	var r ReceiptReport
	if err := json.Unmarshal(doc, &env); err != nil || json.Unmarshal(env.Receipt, &r) != nil || r.Schema != ReceiptSchema {
		return Shipment{}, apperr.InvalidCode("receipt", "malformed_receipt", "This is not a signed receipt report: a JSON object with receipt and signature.")
	}
	var out Shipment
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		sh, err := lockShipment(tx, actor, code, false)
		if err != nil {
			return err
		}
		if sh.Destination == nil || sh.Destination.PeerID == nil {
			return apperr.Conflict("not_to_partner", "receipt", fmt.Sprintf("Shipment %s went to a site of this instance: its receipt is recorded here, not reported.", sh.Code))
		}
		if sh.Status != Dispatched && sh.Status != PartiallyReceived {
			return apperr.Conflict("not_in_transit", "receipt", fmt.Sprintf("Shipment %s is %s: there is nothing left to report.", sh.Code, strings.ReplaceAll(sh.Status, "_", " ")))
		}
		var peer Peer
		if err := tx.Take(&peer, *sh.Destination.PeerID).Error; err != nil {
			return err
		}
		key, err := instance.ParsePublicKey(peer.PublicKey)
		if err != nil {
			return err
		}
		sig, err := base64.StdEncoding.DecodeString(env.Signature)
		if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(key, env.Receipt, sig) || !strings.EqualFold(r.Instance, peer.Name) {
			return apperr.InvalidCode("receipt", "bad_signature", fmt.Sprintf("The report is not signed by %s, where the shipment went, or it was changed.", peer.Name))
		}
		if r.Shipment != sh.Code {
			return apperr.InvalidCode("receipt", "malformed_receipt", fmt.Sprintf("The report is about shipment %s, not %s.", r.Shipment, sh.Code))
		}
		if !slices.Contains([]string{Received, PartiallyReceived, Closed}, r.Status) {
			return apperr.Conflict("not_received", "receipt", fmt.Sprintf("%s has not finished receiving %s yet (it is %s there).", peer.Name, sh.Code, strings.ReplaceAll(r.Status, "_", " ")))
		}
		res := tx.Exec("INSERT INTO shipment_receipt_reports (shipment_id, nonce, status) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", sh.ID, r.Nonce, r.Status)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 || r.Nonce == "" {
			return apperr.Conflict("replayed_receipt", "receipt", "This receipt report was applied already.")
		}
		var items []Item
		if err := tx.Preload("Sample").Where("shipment_id = ?", sh.ID).Order("sample_id").Find(&items).Error; err != nil {
			return err
		}
		reported := map[string]ReportItem{}
		for _, ri := range r.Items {
			reported[ri.Accession] = ri
		}
		now := s.Now()
		for i := range items { // sample id order
			if err := s.applyReported(tx, actor, sh, peer, &items[i], reported[items[i].Sample.Accession], now); err != nil {
				return err
			}
		}
		before := sh.event()
		sh.Status = r.Status
		updates := map[string]any{"status": r.Status, "received_at": now, "arrival_condition": r.ArrivalCondition, "excursion": r.Excursion}
		if err := tx.Model(&Shipment{}).Where("id = ?", sh.ID).Updates(updates).Error; err != nil {
			return err
		}
		e := actor.Entry("shipment.receipt_report", "shipment", sh.Code)
		e.Reason = "signed receipt report of " + peer.Name
		ev := sh.event()
		ev.Unexpected = r.Unexpected
		e.Before, e.After = before, ev
		tx.Record(e)
		out = sh
		return nil
	})
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment: receipt report for %s: %w", code, err)
	}
	return out, nil
}

// applyReported moves one tube on to the state the receiver reported, if that differs.
func (s *Service) applyReported(tx *db.Tx, actor auth.Actor, sh Shipment, peer Peer, it *Item, ri ReportItem, now time.Time) error {
	state := ri.State
	if state == "" || state == it.State || state == "packed" {
		return nil
	}
	var smp sample.Sample
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&smp, it.SampleID).Error; err != nil {
		return err
	}
	updates := map[string]any{"updated_at": now}
	switch state {
	case "received", "damaged", "found":
		if it.State != "packed" {
			return nil // arrived already; a later resolution of a damaged tube is the receiver's
		}
		updates["status"], updates["site_id"] = sample.Received, *sh.DestinationSiteID
	case "lost":
		updates["status"] = sample.Lost
	case "destroyed":
		updates["status"] = sample.Destroyed
	case "returned":
		updates["status"], updates["site_id"] = sample.Received, sh.OriginSiteID
	default:
		return apperr.InvalidCode("receipt", "malformed_receipt", fmt.Sprintf("The report gives %s the unknown state %q.", smp.Accession, state))
	}
	if err := tx.Model(&sample.Sample{}).Where("id = ?", smp.ID).Updates(updates).Error; err != nil {
		return err
	}
	if err := tx.Model(&Item{}).Where("shipment_id = ? AND sample_id = ?", sh.ID, smp.ID).
		Updates(map[string]any{"state": state, "reason": ri.Reason}).Error; err != nil {
		return err
	}
	e := actor.Entry("sample.arrive", "sample", smp.Accession)
	if it.State != "packed" {
		e.Action = "sample.shipment_resolve"
	}
	e.Reason = "reported by " + peer.Name + " in its signed receipt report"
	if ri.Reason != "" {
		e.Reason += ": " + ri.Reason
	}
	e.Before = sampleShipEvent{Shipment: sh.Code, Status: smp.Status, Site: sh.Origin.Code, ItemState: it.State}
	e.After = sampleShipEvent{Shipment: sh.Code, Status: sample.Status(fmt.Sprint(updates["status"])), Site: sh.DestinationName(),
		From: sh.Origin.Code, ItemState: state, Destination: sh.DestinationName()}
	tx.Record(e)
	it.State = state
	return nil
}
