package shipment

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/checkcode"
	"biobank/internal/custody"
	"biobank/internal/db"
	"biobank/internal/input"
	"biobank/internal/instance"
	"biobank/internal/participant"
	"biobank/internal/sample"
	"biobank/internal/storage"
	"biobank/internal/study"
)

// Peer is a partner instance registered from its descriptor.
type Peer struct {
	ID              int64     `json:"-"`
	Name            string    `json:"instance"`
	PublicKey       string    `json:"public_key"`
	AccessionPrefix string    `json:"accession_prefix"`
	BaseURL         string    `json:"base_url"`
	CreatedAt       time.Time `json:"created_at"`
}

// PeerInput is a partner's descriptor as an administrator pastes it, with a reason.
type PeerInput struct {
	Instance        string   `json:"instance"`
	PublicKey       string   `json:"public_key"`
	AccessionPrefix string   `json:"accession_prefix"`
	BaseURL         string   `json:"base_url"`
	Sites           []string `json:"sites"`
	// SiteDetails give the sites' names and countries (a country decides whether a
	// destination is outside the EU/EEA); a site without them is named by its code and its
	// country is unknown ("ZZ"), which counts as outside the EU/EEA.
	SiteDetails []SiteDetail `json:"site_details"`
	Reason      string       `json:"reason"`
}

// SiteDetail is a site as an instance's descriptor lists it.
type SiteDetail struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

type peerEvent struct {
	Instance        string   `json:"instance"`
	PublicKey       string   `json:"public_key"`
	AccessionPrefix string   `json:"accession_prefix"`
	BaseURL         string   `json:"base_url,omitempty"`
	Sites           []string `json:"sites"`
}

func (peerEvent) AuditPayload() {}

var siteCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,15}$`)

// RegisterPeer registers a partner instance (administrators): its key, its accession prefix
// (which must differ from this instance's) and its sites, which become destinations here.
func (s *Service) RegisterPeer(ctx context.Context, actor auth.Actor, in PeerInput) (Peer, error) {
	if err := actor.Require(auth.RoleAdmin); err != nil {
		return Peer{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return Peer{}, err
	}
	p := Peer{Name: strings.TrimSpace(in.Instance), AccessionPrefix: strings.ToUpper(strings.TrimSpace(in.AccessionPrefix)),
		BaseURL: strings.TrimSpace(in.BaseURL)}
	if p.Name == "" || len(p.Name) > 100 {
		return Peer{}, apperr.Invalid("instance", "Give the partner instance's name, as its descriptor says.")
	}
	key, err := instance.ParsePublicKey(in.PublicKey)
	if err != nil {
		return Peer{}, apperr.Invalid("public_key", "The public key is the base64 of 32 bytes, as the partner's descriptor gives it.")
	}
	p.PublicKey = instance.KeyText(key)
	if err := sample.CheckPrefix(p.AccessionPrefix); err != nil {
		return Peer{}, apperr.Invalid("accession_prefix", err.Error())
	}
	if p.AccessionPrefix == s.Samples.Prefix {
		return Peer{}, apperr.Invalid("accession_prefix", fmt.Sprintf("The partner's accession prefix must differ from this instance's (%s), or accession IDs could clash.", s.Samples.Prefix))
	}
	var sites []string
	for _, c := range in.Sites {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !siteCodePattern.MatchString(c) {
			return Peer{}, apperr.Invalid("sites", fmt.Sprintf("%q is not a site code.", c))
		}
		sites = append(sites, c)
	}
	if len(sites) == 0 {
		return Peer{}, apperr.Invalid("sites", "Name the partner's sites.")
	}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Create(&p).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_peer", "instance", fmt.Sprintf("A partner called %s, or with the prefix %s, is already registered.", p.Name, p.AccessionPrefix))
			}
			return err
		}
		for _, code := range sites {
			name, country := code, "ZZ"
			for _, d := range in.SiteDetails {
				if strings.EqualFold(strings.TrimSpace(d.Code), code) {
					if n := strings.TrimSpace(d.Name); n != "" && len(n) <= 150 {
						name = n
					}
					if c := strings.ToUpper(strings.TrimSpace(d.Country)); countryPattern.MatchString(c) {
						country = c
					}
				}
			}
			err := tx.Exec(`INSERT INTO sites (code, name, country, active, peer_id) VALUES (?, ?, ?, true, ?)`,
				code, name+" ("+p.Name+")", country, p.ID).Error
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_site", "sites", fmt.Sprintf("A site %s already exists here.", code))
			}
			if err != nil {
				return err
			}
		}
		e := actor.Entry("peer.register", "peer", p.Name)
		e.Reason = reason
		e.After = peerEvent{Instance: p.Name, PublicKey: p.PublicKey, AccessionPrefix: p.AccessionPrefix, BaseURL: p.BaseURL, Sites: sites}
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Peer{}, fmt.Errorf("shipment: register peer %s: %w", in.Instance, err)
	}
	return p, nil
}

// Peers lists the registered partner instances.
func (s *Service) Peers(ctx context.Context) ([]Peer, error) {
	var out []Peer
	err := s.DB.Gorm.WithContext(ctx).Order("lower(name)").Find(&out).Error
	return out, err
}

type importEvent struct {
	Shipment string `json:"shipment"`
	Peer     string `json:"peer"`
	Nonce    string `json:"nonce"`
	Items    int    `json:"items"`
}

func (importEvent) AuditPayload() {}

// sampleImportEvent is what a received sample's trail keeps of where it came from: the
// sending instance's facts, marked as carried in the manifest.
type sampleImportEvent struct {
	Shipment    string `json:"shipment"`
	FromPeer    string `json:"from_instance"`
	Origin      string `json:"origin"`
	Pseudonym   string `json:"pseudonym"`
	Parent      string `json:"parent,omitempty"`
	CollectedAt string `json:"collected_at"`
	SPREC       string `json:"sprec"`
	Carried     bool   `json:"carried_in_manifest"`
	// Custody is the tube's custody at the sender, as its manifest carried it.
	Custody []custody.Carried `json:"custody,omitempty"`
}

func (sampleImportEvent) AuditPayload() {}

// Import takes a partner's signed manifest (by a user of its destination site): the sender
// must be a registered partner and the signature theirs over the manifest's exact bytes,
// its nonce new here, its samples unknown here and numbered with the partner's prefix. The
// samples are pre-registered in transit with their own accession IDs, pseudonyms, lineage
// (within the manifest), SPREC and volumes, in a dispatched shipment from the partner's site
// that is then received by scanning like any other. Anything wrong imports nothing.
func (s *Service) Import(ctx context.Context, actor auth.Actor, doc []byte) (Shipment, error) {
	if err := actor.Require(shipRoles...); err != nil {
		return Shipment{}, err
	}
	var env Signed
	var unverified Manifest
	if err := json.Unmarshal(doc, &env); err != nil || json.Unmarshal(env.Manifest, &unverified) != nil {
		return Shipment{}, apperr.InvalidCode("manifest", "malformed_manifest", "This is not a signed manifest: a JSON object with manifest and signature.")
	}
	var out Shipment
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		var peer Peer
		err := tx.Where("lower(name) = lower(?)", unverified.Instance).Take(&peer).Error
		if db.ErrNoRows(err) {
			return apperr.InvalidCode("manifest", "unknown_sender", fmt.Sprintf("The manifest comes from %q, which is not a registered partner instance.", unverified.Instance))
		}
		if err != nil {
			return err
		}
		key, err := instance.ParsePublicKey(peer.PublicKey)
		if err != nil {
			return err
		}
		m, err := VerifySigned(doc, key)
		if err != nil {
			return err
		}
		var seen int64
		if err := tx.Model(&Shipment{}).Where("import_nonce = ?", m.Nonce).Count(&seen).Error; err != nil {
			return err
		}
		if seen > 0 || m.Nonce == "" {
			return apperr.Conflict("replayed_manifest", "manifest", fmt.Sprintf("This manifest (shipment %s) was imported already.", m.Shipment))
		}
		var origin, dest auth.Site
		if err := tx.Where("code = ? AND peer_id = ?", m.Origin, peer.ID).Take(&origin).Error; err != nil {
			return apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("The manifest's origin %s is not a site of %s.", m.Origin, peer.Name))
		}
		if err := tx.Where("code = ? AND peer_id IS NULL", m.Destination).Take(&dest).Error; err != nil {
			return apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("The manifest's destination %s is not a site of this instance.", m.Destination))
		}
		if dest.ID != actor.SiteID {
			return apperr.Forbidden(fmt.Sprintf("Shipment %s goes to %s: only that site imports and receives it.", m.Shipment, dest.Code))
		}
		if _, ok := Conditions[m.Condition]; !ok || len(m.Items) == 0 {
			return apperr.InvalidCode("manifest", "malformed_manifest", "The manifest names no samples, or an unknown condition.")
		}
		sh := Shipment{Code: m.Shipment, Status: Dispatched, OriginSiteID: origin.ID, Origin: origin, DestinationSiteID: &dest.ID, Destination: &dest,
			Condition: m.Condition, Courier: m.Courier, Tracking: m.Tracking, DataLogger: m.DataLogger, Responsible: m.Responsible, CreatedBy: actor.ID()}
		if m.DryIceKg != "" {
			if d, err := decimal.NewFromString(m.DryIceKg); err == nil {
				sh.DryIceKg = &d
			}
		}
		now := s.Now()
		sh.DispatchedAt = &now
		if err := tx.Omit(clause.Associations).Create(&sh).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("replayed_manifest", "manifest", fmt.Sprintf("A shipment %s exists here already.", m.Shipment))
			}
			return err
		}
		if err := tx.Exec("UPDATE shipments SET import_nonce = ?, peer_id = ? WHERE id = ?", m.Nonce, peer.ID, sh.ID).Error; err != nil {
			return err
		}
		ids := map[string]int64{}
		for i, it := range m.Items {
			id, err := s.importItem(tx, actor, peer, origin, dest, sh, it, ids)
			if err != nil {
				return fmt.Errorf("item %d (%s): %w", i+1, it.Accession, err)
			}
			ids[it.Accession] = id
		}
		e := actor.Entry("shipment.import", "shipment", sh.Code)
		e.After = importEvent{Shipment: sh.Code, Peer: peer.Name, Nonce: m.Nonce, Items: len(m.Items)}
		tx.Record(e)
		out = sh
		return nil
	})
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment: import: %w", err)
	}
	return out, nil
}

// importItem pre-registers one sample of a partner's manifest, in transit from its site.
func (s *Service) importItem(tx *db.Tx, actor auth.Actor, peer Peer, origin, dest auth.Site, sh Shipment, it ManifestItem, ids map[string]int64) (int64, error) {
	if !strings.HasPrefix(it.Accession, peer.AccessionPrefix) || !checkcode.Valid(it.Accession) {
		return 0, apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("%s is not an accession ID of %s (prefix %s).", it.Accession, peer.Name, peer.AccessionPrefix))
	}
	var n int64
	if err := tx.Model(&sample.Sample{}).Where("accession = ?", it.Accession).Count(&n).Error; err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, apperr.Conflict("accession_exists", "manifest", fmt.Sprintf("A sample %s exists here already.", it.Accession))
	}
	var st study.Study
	if err := tx.Preload("Visits").Where("code = ?", it.Study).Take(&st).Error; err != nil {
		return 0, apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("The study %s of %s is not set up here.", it.Study, it.Accession))
	}
	def, ok := st.Visit(it.Visit)
	if !ok {
		return 0, apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("The study %s here has no visit %s (%s).", st.Code, it.Visit, it.Accession))
	}
	collected, err := time.Parse(time.RFC3339, it.CollectedAt)
	if err != nil {
		return 0, apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("%s has no readable collection time.", it.Accession))
	}
	volume, err := decimal.NewFromString(it.Volume)
	if err != nil || !volume.IsPositive() {
		return 0, apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("%s has no readable volume.", it.Accession))
	}
	day := time.Date(collected.Year(), collected.Month(), collected.Day(), 0, 0, 0, 0, time.UTC)
	// The participant, enrolment and visit, as the sender knows them.
	var p participant.Participant
	err = tx.Where("pseudonym = ?", it.Pseudonym).Take(&p).Error
	if db.ErrNoRows(err) {
		p = participant.Participant{Pseudonym: it.Pseudonym, SiteID: dest.ID, External: true}
		err = tx.Omit(clause.Associations).Create(&p).Error
	}
	if err != nil {
		return 0, err
	}
	if err := tx.Exec(`INSERT INTO enrolments (participant_id, study_id, site_id, enrolled_on) SELECT ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM enrolments WHERE participant_id = ? AND study_id = ?)`, p.ID, st.ID, dest.ID, day, p.ID, st.ID).Error; err != nil {
		return 0, err
	}
	var visit participant.Visit
	err = tx.Where("participant_id = ? AND visit_definition_id = ?", p.ID, def.ID).Take(&visit).Error
	if db.ErrNoRows(err) {
		visit = participant.Visit{ParticipantID: p.ID, VisitDefinitionID: def.ID, StudyID: st.ID, SiteID: dest.ID, VisitDate: day,
			OutOfWindowReason: "", OpenedBy: actor.ID()}
		err = tx.Omit(clause.Associations).Create(&visit).Error
	}
	if err != nil {
		return 0, err
	}
	smp := sample.Sample{Accession: it.Accession, ParticipantID: p.ID, StudyID: st.ID, VisitID: visit.ID, SpecimenType: it.SpecimenType,
		Container: it.Container, Volume: volume, InitialVolume: volume, Unit: it.Unit, CollectedAt: collected, SiteID: origin.ID,
		Status: sample.InTransit, Processing: []byte(it.Processing), SPREC: it.SPREC}
	if len(smp.Processing) == 0 {
		smp.Processing = []byte("{}")
	}
	if it.TubeBarcode != "" {
		smp.TubeBarcode = &it.TubeBarcode
	}
	if id, ok := ids[it.Parent]; ok {
		smp.ParentID = &id
	} else if it.Parent != "" {
		// A parent that an earlier shipment brought here is linked too; one still at the
		// partner is known by its accession ID and the custody the manifest carries.
		var parents []int64
		if err := tx.Raw("SELECT id FROM samples WHERE accession = ?", it.Parent).Scan(&parents).Error; err != nil {
			return 0, err
		}
		if len(parents) == 1 {
			smp.ParentID = &parents[0]
		}
	}
	if err := tx.Omit(clause.Associations).Create(&smp).Error; err != nil {
		if db.IsUniqueViolation(err) {
			return 0, apperr.Conflict("accession_exists", "manifest", fmt.Sprintf("%s or its tube barcode exists here already.", it.Accession))
		}
		return 0, apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("%s cannot be registered here: %v", it.Accession, err))
	}
	item := Item{ShipmentID: sh.ID, SampleID: smp.ID, State: "packed"}
	if pos, err := storage.ParsePosition("position", it.Position); err == nil && it.Position != "" {
		item.Row, item.Col = &pos.Row, &pos.Col
	}
	if err := tx.Omit(clause.Associations).Create(&item).Error; err != nil {
		return 0, err
	}
	e := actor.Entry("sample.import", "sample", smp.Accession)
	e.After = sampleImportEvent{Shipment: sh.Code, FromPeer: peer.Name, Origin: origin.Code, Pseudonym: it.Pseudonym, Parent: it.Parent,
		CollectedAt: it.CollectedAt, SPREC: it.SPREC, Carried: true, Custody: it.Custody}
	tx.Record(e)
	return smp.ID, nil
}

// LocalSites are this instance's own active sites (not its partners'), as its descriptor lists them.
func (s *Service) LocalSites(ctx context.Context) ([]SiteDetail, error) {
	var sites []SiteDetail
	err := s.DB.Gorm.WithContext(ctx).Raw("SELECT code, name, country FROM sites WHERE active AND peer_id IS NULL ORDER BY code").Scan(&sites).Error
	return sites, err
}
