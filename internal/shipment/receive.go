package shipment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/sample"
)

// ReceiveInput is what the receiving technician scanned and saw.
type ReceiveInput struct {
	Received           []string         `json:"received"`
	Damaged            []string         `json:"damaged"`
	ArrivalCondition   string           `json:"arrival_condition"`
	ArrivalTemperature *decimal.Decimal `json:"arrival_temperature"`
	Excursion          string           `json:"excursion"`
	// MoreToCome keeps the receipt open: the scans are recorded (each tube comes into
	// custody as it is scanned, at the bench one at a time) but nothing is called missing
	// until a later call without it finishes the receipt.
	MoreToCome bool `json:"more_to_come"`
}

// Scan is what became of one scanned code.
type Scan struct {
	Code      string `json:"code"`
	Accession string `json:"accession,omitempty"`
	// Outcome is received, damaged, unexpected, or again (already received earlier).
	Outcome string `json:"outcome"`
}

// Receipt is the outcome of a receipt: what was received (or received damaged), what is
// still missing, and what was scanned but is not in the shipment.
type Receipt struct {
	Status     string   `json:"status"`
	Received   []string `json:"received"`
	Damaged    []string `json:"damaged"`
	Missing    []string `json:"missing"`
	Unexpected []string `json:"unexpected"`
	Scans      []Scan   `json:"scans"`
}

// Receive records what arrived, by a user of the destination site, as often as needed while
// the shipment is open: scanned samples of the shipment come into the destination's custody
// as received (damaged ones too, marked for a manager's decision); scans that match nothing
// packed are kept as unexpected, never ignored, until a manager resolves them; what is
// still packed when the receipt is finished is missing. The shipment is received when
// everything came intact and nothing unexpected turned up, partially received otherwise.
func (s *Service) Receive(ctx context.Context, actor auth.Actor, code string, in ReceiveInput) (Receipt, error) {
	if err := actor.Require(shipRoles...); err != nil {
		return Receipt{}, err
	}
	cond, err := input.Text("arrival_condition", "arrival condition", in.ArrivalCondition, 200, false)
	if err != nil {
		return Receipt{}, err
	}
	excursion, err := input.Text("excursion", "excursion", in.Excursion, 500, false)
	if err != nil {
		return Receipt{}, err
	}
	if len(in.Received)+len(in.Damaged) > 5000 {
		return Receipt{}, apperr.Invalid("received", "One receipt takes at most 5,000 scans.")
	}
	var out Receipt
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		sh, err := lockShipment(tx, actor, code, true)
		if err != nil {
			return err
		}
		if sh.Status != Dispatched && sh.Status != PartiallyReceived {
			return apperr.Conflict("not_in_transit", "shipment", fmt.Sprintf("Shipment %s is %s: there is nothing to receive.", sh.Code, strings.ReplaceAll(sh.Status, "_", " ")))
		}
		if in.MoreToCome && strings.TrimSpace(strings.Join(append(append([]string{}, in.Received...), in.Damaged...), "")) == "" {
			return apperr.Invalid("received", "Scan a tube.")
		}
		var items []Item
		if err := tx.Preload("Sample").Where("shipment_id = ?", sh.ID).Order("sample_id").Find(&items).Error; err != nil {
			return err
		}
		byCode := map[string]*Item{}
		for i := range items {
			it := &items[i]
			byCode[it.Sample.Accession] = it
			if it.Sample.TubeBarcode != nil {
				byCode[*it.Sample.TubeBarcode] = it
			}
		}
		scans := map[int64]string{} // sample id → received or damaged
		out.Scans = []Scan{}
		for _, list := range []struct {
			state string
			codes []string
		}{{"damaged", in.Damaged}, {"received", in.Received}} {
			for _, raw := range list.codes {
				c := input.Scanned(raw)
				if c == "" {
					continue
				}
				it := byCode[c]
				if it == nil {
					it = byCode[checkcode.Normalize(c)]
				}
				switch {
				case it == nil:
					if len(c) > 64 {
						return apperr.Invalid("received", fmt.Sprintf("%.20s… is too long for a tube's code.", c))
					}
					res := tx.Exec(`INSERT INTO shipment_unexpected (shipment_id, code, scanned_by) VALUES (?, ?, ?)
						ON CONFLICT DO NOTHING`, sh.ID, c, actor.ID())
					if res.Error != nil {
						return res.Error
					}
					out.Scans = append(out.Scans, Scan{Code: c, Outcome: "unexpected"})
				case it.State != "packed" || scans[it.SampleID] != "":
					out.Scans = append(out.Scans, Scan{Code: c, Accession: it.Sample.Accession, Outcome: "again"})
				default:
					scans[it.SampleID] = list.state
					out.Scans = append(out.Scans, Scan{Code: c, Accession: it.Sample.Accession, Outcome: list.state})
				}
			}
		}
		now := s.Now()
		var arrived []string
		for i := range items { // sample id order
			it := &items[i]
			state, ok := scans[it.SampleID]
			if !ok {
				continue
			}
			if err := s.arrive(tx, actor, sh, it, state, now); err != nil {
				return err
			}
			arrived = append(arrived, it.Sample.Accession)
		}
		unexpected, err := openUnexpected(tx, sh.ID)
		if err != nil {
			return err
		}
		scanned := out.Scans
		out = summarize(items, unexpected)
		out.Scans = scanned
		before := sh.event()
		updates := map[string]any{}
		if !in.MoreToCome {
			updates["status"], updates["received_at"] = out.Status, now
		} else {
			out.Status = sh.Status
		}
		if cond != "" {
			updates["arrival_condition"] = cond
		}
		if in.ArrivalTemperature != nil {
			updates["arrival_temperature"] = in.ArrivalTemperature
		}
		if excursion != "" {
			updates["excursion"] = excursion
		}
		if len(updates) > 0 {
			if err := tx.Model(&Shipment{}).Where("id = ?", sh.ID).Updates(updates).Error; err != nil {
				return err
			}
		}
		sh.Status = out.Status
		e := actor.Entry("shipment.receive", "shipment", sh.Code)
		ev := sh.event()
		ev.Samples = arrived
		for _, sc := range out.Scans {
			if sc.Outcome == "unexpected" {
				ev.Unexpected = append(ev.Unexpected, sc.Code)
			}
		}
		e.Before, e.After = before, ev
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("shipment: receive %s: %w", code, err)
	}
	return out, nil
}

// arrive brings one packed sample into the destination's custody as received.
func (s *Service) arrive(tx *db.Tx, actor auth.Actor, sh Shipment, it *Item, state string, now time.Time) error {
	var smp sample.Sample
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&smp, it.SampleID).Error; err != nil {
		return err
	}
	next, err := sample.Next(smp, sample.ActArrive)
	if err != nil {
		return err
	}
	if err := tx.Model(&sample.Sample{}).Where("id = ?", smp.ID).
		Updates(map[string]any{"status": next, "site_id": *sh.DestinationSiteID, "updated_at": now}).Error; err != nil {
		return err
	}
	if err := tx.Model(&Item{}).Where("shipment_id = ? AND sample_id = ?", sh.ID, smp.ID).Update("state", state).Error; err != nil {
		return err
	}
	it.State = state
	e := actor.Entry("sample.arrive", "sample", smp.Accession)
	e.Before = sampleShipEvent{Shipment: sh.Code, Status: smp.Status, Site: sh.Origin.Code}
	e.After = sampleShipEvent{Shipment: sh.Code, Status: next, Site: sh.DestinationName(), From: sh.Origin.Code, ItemState: state}
	tx.Record(e)
	return nil
}

// openUnexpected lists the unexpected scans of a shipment not yet resolved.
func openUnexpected(tx *db.Tx, shipmentID int64) ([]string, error) {
	var codes []string
	err := tx.Raw("SELECT code FROM shipment_unexpected WHERE shipment_id = ? AND resolution = '' ORDER BY code", shipmentID).Scan(&codes).Error
	return codes, err
}

// summarize says where a shipment's items stand.
func summarize(items []Item, unexpected []string) Receipt {
	r := Receipt{Received: []string{}, Damaged: []string{}, Missing: []string{}, Unexpected: unexpected}
	if r.Unexpected == nil {
		r.Unexpected = []string{}
	}
	open := false
	for _, it := range items {
		switch it.State {
		case "received", "found":
			r.Received = append(r.Received, it.Sample.Accession)
		case "damaged":
			r.Damaged, open = append(r.Damaged, it.Sample.Accession), true
		case "packed":
			r.Missing, open = append(r.Missing, it.Sample.Accession), true
		}
	}
	r.Status = Received
	if open || len(unexpected) > 0 {
		r.Status = PartiallyReceived
	}
	return r
}

// Resolutions of a discrepancy.
var Resolutions = []string{"found", "lost", "destroyed", "returned"}

// Resolve settles a discrepancy — a missing or damaged sample — with a reason (managers):
// found (received at the destination after all), lost, destroyed, or returned to the
// sender. The shipment closes when nothing is left open.
func (s *Service) Resolve(ctx context.Context, actor auth.Actor, code, sampleCode, resolution, reason string) (Shipment, error) {
	if err := actor.Require(auth.RoleManager, auth.RoleAdmin); err != nil {
		return Shipment{}, err
	}
	if !slices.Contains(Resolutions, resolution) {
		return Shipment{}, apperr.Invalid("resolution", "The resolution is found, lost, destroyed or returned.")
	}
	reason, err := input.Reason(reason)
	if err != nil {
		return Shipment{}, err
	}
	var out Shipment
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		var sh Shipment
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("code = ?", strings.ToUpper(input.Scanned(code))).Take(&sh).Error
		if db.ErrNoRows(err) {
			return apperr.NotFound("shipment", code)
		}
		if err != nil {
			return err
		}
		if sh.Status != PartiallyReceived && sh.Status != Dispatched {
			return apperr.Conflict("nothing_open", "shipment", fmt.Sprintf("Shipment %s has no open discrepancy.", sh.Code))
		}
		if err := tx.Take(&sh.Origin, sh.OriginSiteID).Error; err != nil {
			return err
		}
		if sh.DestinationSiteID != nil {
			sh.Destination = &auth.Site{}
			if err := tx.Take(sh.Destination, *sh.DestinationSiteID).Error; err != nil {
				return err
			}
		}
		// An unexpected scan is settled by itself: it may be nobody's sample here.
		res := tx.Exec(`UPDATE shipment_unexpected SET resolution = ?, reason = ? WHERE shipment_id = ? AND code = ? AND resolution = ''`,
			resolution, reason, sh.ID, input.Scanned(sampleCode))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			e := actor.Entry("shipment.resolve_unexpected", "shipment", sh.Code)
			e.Reason = reason
			e.After = unexpectedEvent{Shipment: sh.Code, Code: input.Scanned(sampleCode), Resolution: resolution}
			tx.Record(e)
			return s.closeIfSettled(tx, actor, &sh, &out)
		}
		smp, err := s.Samples.Lock(tx, actor, sampleCode)
		if err != nil {
			return err
		}
		var it Item
		err = tx.Where("shipment_id = ? AND sample_id = ?", sh.ID, smp.ID).Take(&it).Error
		if db.ErrNoRows(err) {
			return apperr.NotFound("sample in shipment", smp.Accession)
		}
		if err != nil {
			return err
		}
		if it.State != "packed" && it.State != "damaged" {
			return apperr.Conflict("not_open", "sample", fmt.Sprintf("%s arrived as %s: there is nothing to resolve.", smp.Accession, it.State))
		}
		now := s.Now()
		updates := map[string]any{"updated_at": now}
		switch resolution {
		case "found":
			if it.State == "packed" {
				if sh.DestinationSiteID == nil {
					return apperr.Invalid("resolution", "An external recipient's shipment has no receiving site to find samples at.")
				}
				if err := s.arrive(tx, actor, sh, &it, "found", now); err != nil {
					return err
				}
				updates = nil
			}
		case "lost", "destroyed":
			updates["status"] = map[string]sample.Status{"lost": sample.Lost, "destroyed": sample.Destroyed}[resolution]
		case "returned":
			updates["status"], updates["site_id"] = sample.Received, sh.OriginSiteID
		}
		if updates != nil {
			if err := tx.Model(&sample.Sample{}).Where("id = ?", smp.ID).Updates(updates).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&Item{}).Where("shipment_id = ? AND sample_id = ?", sh.ID, smp.ID).
			Updates(map[string]any{"state": resolution, "reason": reason}).Error; err != nil {
			return err
		}
		e := actor.Entry("sample.shipment_resolve", "sample", smp.Accession)
		e.Reason = reason
		e.Before = sampleShipEvent{Shipment: sh.Code, Status: smp.Status, ItemState: it.State}
		e.After = sampleShipEvent{Shipment: sh.Code, ItemState: resolution, Destination: sh.DestinationName()}
		tx.Record(e)
		return s.closeIfSettled(tx, actor, &sh, &out)
	})
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment: resolve %s in %s: %w", sampleCode, code, err)
	}
	return out, nil
}

// closeIfSettled closes a shipment with nothing left open — no tube packed or damaged, no
// unexpected scan unresolved — and sets out to it.
func (s *Service) closeIfSettled(tx *db.Tx, actor auth.Actor, sh *Shipment, out *Shipment) error {
	var open int64
	err := tx.Raw(`SELECT (SELECT count(*) FROM shipment_items WHERE shipment_id = ? AND state IN ('packed', 'damaged'))
		+ (SELECT count(*) FROM shipment_unexpected WHERE shipment_id = ? AND resolution = '')`, sh.ID, sh.ID).Scan(&open).Error
	if err != nil {
		return err
	}
	if open == 0 {
		before := sh.event()
		sh.Status = Closed
		if err := tx.Model(&Shipment{}).Where("id = ?", sh.ID).Update("status", Closed).Error; err != nil {
			return err
		}
		e := actor.Entry("shipment.close", "shipment", sh.Code)
		e.Before, e.After = before, sh.event()
		tx.Record(e)
	}
	*out = *sh
	return nil
}

type unexpectedEvent struct {
	Shipment   string `json:"shipment"`
	Code       string `json:"code"`
	Resolution string `json:"resolution"`
}

// AuditPayload marks unexpectedEvent as an audit payload.
func (unexpectedEvent) AuditPayload() {}
