package bulk

import (
	"fmt"

	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/sample"
	"biobank/internal/storage"
)

// sampleImportEvent is what the trail keeps of each imported sample.
type sampleImportEvent struct {
	Job         int64  `json:"job"`
	Line        int    `json:"line"`
	Participant string `json:"participant"`
	Study       string `json:"study"`
	Visit       string `json:"visit"`
	Type        string `json:"specimen_type"`
	Container   string `json:"container"`
	Volume      string `json:"volume"`
	Unit        string `json:"unit"`
	CollectedAt string `json:"collected_at"`
	TubeBarcode string `json:"tube_barcode"`
	Parent      string `json:"parent,omitempty"`
	Box         string `json:"box,omitempty"`
	Position    string `json:"position,omitempty"`
	SPREC       string `json:"sprec,omitempty"`
	Status      string `json:"status"`
}

// AuditPayload marks sampleImportEvent as an audit payload.
func (sampleImportEvent) AuditPayload() {}

type visitOpenedEvent struct {
	Job   int64  `json:"job"`
	Study string `json:"study"`
	Visit string `json:"visit"`
	Date  string `json:"visit_date"`
}

// AuditPayload marks visitOpenedEvent as an audit payload.
func (visitOpenedEvent) AuditPayload() {}

// write imports the rows inside the job's transaction: staged, validated again (the data
// may have changed since the dry run), visits opened where missing, samples inserted a
// chunk at a time (progress and cancellation between chunks), lineage linked, positions
// taken, and one audit event per sample and per opened visit.
func (s *Service) write(tx *db.Tx, actor auth.Actor, j *job, rows []row) error {
	// A large file takes longer than the web's statement timeout allows one statement.
	if err := tx.Exec("SET LOCAL statement_timeout = '15min'").Error; err != nil {
		return err
	}
	accessions, err := s.Samples.NextAccessions(tx, len(rows))
	if err != nil {
		return err
	}
	if err := stage(tx, rows, accessions); err != nil {
		return err
	}
	problems, err := validate(tx, actor)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		sortErrors(problems)
		p := problems[0]
		return fmt.Errorf("line %d, %s: %s (the data changed since the dry run): %w", p.Line, p.Field, p.Message, errChanged)
	}
	var opened []struct {
		Pseudonym, Study, Visit string
		VisitDate               string
	}
	if err := tx.Raw(`WITH wanted AS (
			SELECT p.id AS participant_id, vd.id AS definition_id, st.id AS study_id, p.site_id, min(s.collected_at)::date AS visit_date,
				p.pseudonym, st.code AS study, vd.code AS visit
			FROM import_stage s JOIN participants p ON p.pseudonym = s.pseudonym JOIN studies st ON st.code = s.study
			JOIN visit_definitions vd ON vd.study_id = st.id AND vd.code = s.visit
			GROUP BY p.id, vd.id, st.id, p.site_id, p.pseudonym, st.code, vd.code),
		ins AS (
			INSERT INTO visits (participant_id, visit_definition_id, study_id, site_id, visit_date, opened_by)
			SELECT participant_id, definition_id, study_id, site_id, visit_date, ? FROM wanted
			ON CONFLICT (participant_id, visit_definition_id) DO NOTHING
			RETURNING participant_id, visit_definition_id)
		SELECT w.pseudonym, w.study, w.visit, w.visit_date::text AS visit_date FROM ins JOIN wanted w
			ON w.participant_id = ins.participant_id AND w.definition_id = ins.visit_definition_id`, actor.ID()).Scan(&opened).Error; err != nil {
		return fmt.Errorf("bulk: open visits: %w", err)
	}
	for _, v := range opened {
		e := actor.Entry("participant.open_visit", "participant", v.Pseudonym)
		e.Reason = fmt.Sprintf("opened by import job %d for its samples", j.ID)
		e.After = visitOpenedEvent{Job: j.ID, Study: v.Study, Visit: v.Visit, Date: v.VisitDate}
		tx.Record(e)
	}
	for start := 0; start < len(rows); start += insertChunk {
		end := min(start+insertChunk, len(rows))
		err := tx.Exec(`INSERT INTO samples (accession, tube_barcode, participant_id, study_id, visit_id, specimen_type, container, volume,
				initial_volume, unit, collected_at, received_at, received_by, status, site_id, sprec)
			SELECT s.accession, s.tube_barcode, p.id, st.id, v.id, s.specimen_type, s.container, s.volume, s.volume, s.unit, s.collected_at,
				now(), ?, CASE WHEN s.box IS NULL THEN 'received' ELSE 'stored' END, ?, COALESCE(s.sprec, '')
			FROM import_stage s JOIN participants p ON p.pseudonym = s.pseudonym JOIN studies st ON st.code = s.study
			JOIN visit_definitions vd ON vd.study_id = st.id AND vd.code = s.visit
			JOIN visits v ON v.participant_id = p.id AND v.visit_definition_id = vd.id
			WHERE s.line BETWEEN ? AND ? ORDER BY s.line`, actor.ID(), actor.SiteID, rows[start].line, rows[end-1].line).Error
		if err != nil {
			return fmt.Errorf("bulk: insert samples: %w", err)
		}
		s.mu.Lock()
		j.Done = end
		s.mu.Unlock()
	}
	if err := tx.Exec(`UPDATE samples c SET parent_id = par.id FROM import_stage s,
			LATERAL (SELECT x.id FROM samples x WHERE (x.tube_barcode = s.parent OR x.accession = s.parent) AND x.accession <> s.accession
				ORDER BY (x.status IN ('consumed', 'destroyed', 'lost')), x.id DESC LIMIT 1) par
		WHERE s.parent IS NOT NULL AND c.accession = s.accession`).Error; err != nil {
		return fmt.Errorf("bulk: link parents: %w", err)
	}
	if err := tx.Exec(`INSERT INTO sample_positions (sample_id, box_id, row, col, placed_by)
		SELECT x.id, b.id, s.pos_row, s.pos_col, ? FROM import_stage s JOIN samples x ON x.accession = s.accession JOIN boxes b ON b.barcode = s.box
		WHERE s.box IS NOT NULL`, actor.ID()).Error; err != nil {
		return fmt.Errorf("bulk: place samples: %w", err)
	}
	for i, r := range rows {
		status, pos := sample.Received, ""
		if r.box != "" {
			status, pos = sample.Stored, storage.Position{Row: r.posRow, Col: r.posCol}.String()
		}
		e := actor.Entry("sample.import_legacy", "sample", accessions[i])
		e.Reason = fmt.Sprintf("import job %d, %s line %d", j.ID, j.FileName, r.line)
		e.After = sampleImportEvent{Job: j.ID, Line: r.line, Participant: r.pseudonym, Study: r.study, Visit: r.visit, Type: r.specimen,
			Container: r.contain, Volume: r.volume.String(), Unit: r.unit, CollectedAt: r.collected.Format("2006-01-02T15:04:05Z"),
			TubeBarcode: r.tube, Parent: r.parent, Box: r.box, Position: pos, SPREC: r.sprec, Status: string(status)}
		tx.Record(e)
	}
	return nil
}

// errChanged marks a real run whose file no longer validates.
var errChanged = fmt.Errorf("bulk: the file no longer validates")
