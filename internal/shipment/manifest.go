package shipment

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/custody"
	"biobank/internal/input"
	"biobank/internal/instance"
	"biobank/internal/sample"
)

// ManifestSchema names the manifest's format and version.
const ManifestSchema = "biobank-manifest-1"

// Manifest is what a shipment carries, for people (CSV, PDF) and machines (signed JSON).
// Its JSON is canonical: encoding/json of this struct — fields in this order, no
// insignificant white space, no HTML escaping, UTF-8 — and the signature covers exactly
// those bytes.
type Manifest struct {
	Schema      string         `json:"schema"`
	Instance    string         `json:"instance"`
	Shipment    string         `json:"shipment"`
	Nonce       string         `json:"nonce"`
	CreatedAt   string         `json:"created_at"`
	Origin      string         `json:"origin"`
	Destination string         `json:"destination"`
	Condition   string         `json:"condition"`
	UNLines     []string       `json:"un_lines"`
	Courier     string         `json:"courier"`
	Tracking    string         `json:"tracking"`
	DataLogger  string         `json:"data_logger"`
	Responsible string         `json:"responsible"`
	DryIceKg    string         `json:"dry_ice_kg,omitempty"`
	Boxes       []ManifestBox  `json:"boxes"`
	Items       []ManifestItem `json:"items"`
}

// ManifestBox is a box that travels whole, with its grid.
type ManifestBox struct {
	Barcode string `json:"barcode"`
	Rows    int    `json:"rows"`
	Cols    int    `json:"cols"`
}

// ManifestItem is one tube of a manifest.
type ManifestItem struct {
	Accession    string          `json:"accession"`
	TubeBarcode  string          `json:"tube_barcode,omitempty"`
	Pseudonym    string          `json:"pseudonym"`
	Study        string          `json:"study"`
	Visit        string          `json:"visit"`
	SpecimenType string          `json:"specimen_type"`
	Container    string          `json:"container"`
	Volume       string          `json:"volume"`
	Unit         string          `json:"unit"`
	SPREC        string          `json:"sprec"`
	Processing   json.RawMessage `json:"processing"`
	Parent       string          `json:"parent,omitempty"`
	CollectedAt  string          `json:"collected_at"`
	Box          string          `json:"box,omitempty"`
	Position     string          `json:"position,omitempty"`
	// Custody is the tube's chain of custody at the sender, its ancestors' steps included,
	// as sentences: the receiver shows it, marked as carried.
	Custody []custody.Carried `json:"custody"`
}

// UNLines are the transport lines of a condition (STANDARDS.md §7).
func UNLines(sh Shipment) []string {
	lines := []string{"UN3373 Biological Substance, Category B"}
	if sh.Condition == "dry_ice" && sh.DryIceKg != nil {
		lines = append(lines, fmt.Sprintf("UN1845 Dry ice, %s kg net", sh.DryIceKg.String()))
	}
	return lines
}

// BuildManifest assembles the manifest of a shipment that has been packed.
func (s *Service) BuildManifest(ctx context.Context, actor auth.Actor, code string, id instance.Identity) (Manifest, error) {
	sh, err := s.Get(ctx, actor, code)
	if err != nil {
		return Manifest{}, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return Manifest{}, err
	}
	m := Manifest{Schema: ManifestSchema, Instance: id.Name, Shipment: sh.Code, Nonce: hex.EncodeToString(nonce),
		CreatedAt: s.Now().Format(time.RFC3339), Origin: sh.Origin.Code, Destination: sh.DestinationName(), Condition: sh.Condition,
		UNLines: UNLines(sh), Courier: sh.Courier, Tracking: sh.Tracking, DataLogger: sh.DataLogger, Responsible: sh.Responsible,
		Boxes: []ManifestBox{}, Items: []ManifestItem{}}
	if sh.DryIceKg != nil {
		m.DryIceKg = sh.DryIceKg.String()
	}
	seen := map[int64]bool{}
	ids := make([]int64, len(sh.Items))
	for i, it := range sh.Items {
		ids[i] = it.SampleID
	}
	details, err := s.Samples.Details(ctx, ids)
	if err != nil {
		return Manifest{}, err
	}
	carried, err := s.Samples.CarriedCustody(ctx, ids)
	if err != nil {
		return Manifest{}, err
	}
	byID := map[int64]sample.Sample{}
	for _, smp := range details {
		byID[smp.ID] = smp
	}
	for _, it := range sh.Items {
		smp := byID[it.SampleID]
		mi := ManifestItem{Accession: smp.Accession, Pseudonym: smp.Participant.Pseudonym, Study: smp.Study.Code,
			Visit: smp.Visit.Definition.Code, SpecimenType: smp.SpecimenType, Container: smp.Container, Volume: smp.Volume.String(),
			Unit: smp.Unit, SPREC: smp.SPREC, Processing: json.RawMessage(smp.Processing), CollectedAt: smp.CollectedAt.UTC().Format(time.RFC3339),
			Position: it.Position(), Custody: carried[it.SampleID]}
		if mi.Custody == nil {
			mi.Custody = []custody.Carried{}
		}
		if len(mi.Processing) == 0 {
			mi.Processing = json.RawMessage("{}")
		}
		if smp.TubeBarcode != nil {
			mi.TubeBarcode = *smp.TubeBarcode
		}
		if smp.Parent != nil {
			mi.Parent = smp.Parent.Accession
		}
		if it.Box != nil {
			mi.Box = it.Box.Barcode
			if !seen[it.Box.ID] {
				seen[it.Box.ID] = true
				m.Boxes = append(m.Boxes, ManifestBox{Barcode: it.Box.Barcode, Rows: it.Box.Rows, Cols: it.Box.Cols})
			}
		}
		m.Items = append(m.Items, mi)
	}
	return m, nil
}

// Canonical is the manifest's canonical JSON, the bytes a signature covers.
func (m Manifest) Canonical() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Signed is a manifest as it travels: the canonical manifest, byte for byte, and the
// Ed25519 signature of those bytes by the sending instance (base64).
type Signed struct {
	Manifest  json.RawMessage `json:"manifest"`
	Signature string          `json:"signature"`
}

// Sign returns the signed manifest document.
func (m Manifest) Sign(key ed25519.PrivateKey) ([]byte, error) {
	body, err := m.Canonical()
	if err != nil {
		return nil, err
	}
	doc := Signed{Manifest: body, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, body))}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// VerifySigned reads a signed manifest document and checks its signature with the
// sender's public key over the manifest's bytes exactly as they are in the document; a
// changed byte, another key or a malformed document is refused with the reason.
func VerifySigned(doc []byte, key ed25519.PublicKey) (Manifest, error) {
	var sd Signed
	if err := json.Unmarshal(doc, &sd); err != nil || len(sd.Manifest) == 0 {
		return Manifest{}, apperr.InvalidCode("manifest", "malformed_manifest", "This is not a signed manifest: a JSON object with manifest and signature.")
	}
	sig, err := base64.StdEncoding.DecodeString(sd.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Manifest{}, apperr.InvalidCode("manifest", "bad_signature", "The manifest's signature is missing or malformed.")
	}
	if !ed25519.Verify(key, sd.Manifest, sig) {
		return Manifest{}, apperr.InvalidCode("manifest", "bad_signature", "The manifest's signature does not match its content and sender: it was changed, or signed by another instance.")
	}
	var m Manifest
	if err := json.Unmarshal(sd.Manifest, &m); err != nil || m.Schema != ManifestSchema {
		return Manifest{}, apperr.InvalidCode("manifest", "malformed_manifest", fmt.Sprintf("The manifest is not of the format %s.", ManifestSchema))
	}
	return m, nil
}

// CSV is the manifest as a spreadsheet: the shipment's facts, then one row per tube.
func (m Manifest) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	write := func(cells ...string) {
		for i := range cells {
			cells[i] = input.CSVCell(cells[i])
		}
		_ = w.Write(cells) // a bytes.Buffer does not fail; Flush reports anything else
	}
	for _, row := range [][]string{
		{"shipment", m.Shipment}, {"from", m.Origin}, {"to", m.Destination}, {"condition", Conditions[m.Condition]},
		{"courier", m.Courier}, {"tracking", m.Tracking}, {"data logger", m.DataLogger}, {"responsible", m.Responsible},
	} {
		write(row...)
	}
	for _, l := range m.UNLines {
		write("transport", l)
	}
	write()
	write("accession", "tube barcode", "type", "volume", "unit", "sprec", "box", "position")
	for _, it := range m.Items {
		write(it.Accession, it.TubeBarcode, it.SpecimenType, it.Volume, it.Unit, it.SPREC, it.Box, it.Position)
	}
	w.Flush()
	return buf.Bytes()
}
