package bulk

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"biobank/internal/auth"
	"biobank/internal/db"
)

// stageChunk is how many rows one staging statement carries.
const stageChunk = 10_000

// stagedRow is a parsed row as the staging statement reads it.
type stagedRow struct {
	Line         int    `json:"line"`
	Pseudonym    string `json:"pseudonym"`
	Study        string `json:"study"`
	Visit        string `json:"visit"`
	SpecimenType string `json:"specimen_type"`
	Container    string `json:"container"`
	Volume       string `json:"volume"`
	Unit         string `json:"unit"`
	CollectedAt  string `json:"collected_at"`
	TubeBarcode  string `json:"tube_barcode"`
	Parent       string `json:"parent"`
	Box          string `json:"box"`
	PosRow       int    `json:"pos_row"`
	PosCol       int    `json:"pos_col"`
	SPREC        string `json:"sprec"`
	Accession    string `json:"accession"`
}

// stage copies the parsed rows into a temporary table of the transaction, 10,000 rows per
// statement as one JSON document expanded by jsonb_to_recordset — the set-based stand-in
// for COPY, which database/sql's transaction does not expose.
func stage(tx *db.Tx, rows []row, accessions []string) error {
	if err := tx.Exec(`CREATE TEMP TABLE import_stage (line integer PRIMARY KEY, pseudonym text, study text, visit text,
		specimen_type text, container text, volume numeric, unit text, collected_at timestamptz, tube_barcode text, parent text,
		box text, pos_row integer, pos_col integer, sprec text, accession text) ON COMMIT DROP`).Error; err != nil {
		return fmt.Errorf("bulk: stage: %w", err)
	}
	for start := 0; start < len(rows); start += stageChunk {
		end := min(start+stageChunk, len(rows))
		chunk := make([]stagedRow, 0, end-start)
		for i, r := range rows[start:end] {
			sr := stagedRow{Line: r.line, Pseudonym: r.pseudonym, Study: r.study, Visit: r.visit, SpecimenType: r.specimen, Container: r.contain,
				Volume: r.volume.String(), Unit: r.unit, CollectedAt: r.collected.Format(time.RFC3339Nano), TubeBarcode: r.tube,
				Parent: r.parent, Box: r.box, PosRow: r.posRow, PosCol: r.posCol, SPREC: r.sprec}
			if accessions != nil {
				sr.Accession = accessions[start+i]
			}
			chunk = append(chunk, sr)
		}
		doc, err := json.Marshal(chunk)
		if err != nil {
			return err
		}
		err = tx.Exec(`INSERT INTO import_stage SELECT line, pseudonym, study, visit, specimen_type, container, volume::numeric, unit,
				collected_at::timestamptz, tube_barcode, NULLIF(parent, ''), NULLIF(box, ''), NULLIF(pos_row, 0), NULLIF(pos_col, 0), sprec,
				NULLIF(accession, '')
			FROM jsonb_to_recordset(?::jsonb) AS t(line integer, pseudonym text, study text, visit text, specimen_type text, container text,
				volume text, unit text, collected_at text, tube_barcode text, parent text, box text, pos_row integer, pos_col integer,
				sprec text, accession text)`, string(doc)).Error
		if err != nil {
			return fmt.Errorf("bulk: stage: %w", err)
		}
	}
	return tx.Exec("ANALYZE import_stage").Error
}

// checks are the SQL validations of staged rows against the database: each selects the
// line, the field and the message of every row it refuses. A ? is the importing user's site.
var checks = []string{
	`SELECT line AS line, 'pseudonym' AS field, 'No participant has the pseudonym ' || pseudonym || '.' AS message FROM import_stage s
		WHERE NOT EXISTS (SELECT 1 FROM participants p WHERE p.pseudonym = s.pseudonym)`,
	`SELECT line AS line, 'study' AS field, 'There is no study ' || study || '.' AS message FROM import_stage s
		WHERE NOT EXISTS (SELECT 1 FROM studies st WHERE st.code = s.study)`,
	`SELECT s.line AS line, 'study' AS field, s.pseudonym || ' is not enrolled in ' || s.study || '.' AS message FROM import_stage s
		JOIN participants p ON p.pseudonym = s.pseudonym JOIN studies st ON st.code = s.study
		WHERE NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.participant_id = p.id AND e.study_id = st.id)`,
	`SELECT s.line AS line, 'visit' AS field, 'The study ' || s.study || ' has no visit ' || s.visit || '.' AS message FROM import_stage s JOIN studies st ON st.code = s.study
		WHERE NOT EXISTS (SELECT 1 FROM visit_definitions vd WHERE vd.study_id = st.id AND vd.code = s.visit)`,
	`SELECT line AS line, 'specimen_type' AS field, 'Unknown specimen type ' || specimen_type || '.' AS message FROM import_stage s
		WHERE NOT EXISTS (SELECT 1 FROM specimen_types t WHERE t.code = s.specimen_type)`,
	`SELECT line AS line, 'container' AS field, 'Unknown container ' || container || '.' AS message FROM import_stage s
		WHERE NOT EXISTS (SELECT 1 FROM container_types c WHERE c.code = s.container)`,
	`SELECT s.line AS line, 'unit' AS field, s.specimen_type || ' is measured in ' || t.unit || ', not ' || s.unit || '.' AS message FROM import_stage s
		JOIN specimen_types t ON t.code = s.specimen_type WHERE t.unit <> s.unit`,
	`SELECT s.line AS line, 'tube_barcode' AS field, 'A sample with the tube barcode ' || s.tube_barcode || ' exists already (' || x.accession || ').' AS message
		FROM import_stage s JOIN samples x ON x.tube_barcode = s.tube_barcode AND x.status NOT IN ('consumed', 'destroyed', 'lost')`,
	`SELECT s.line AS line, 'parent' AS field, 'The parent ' || s.parent || ' comes later in the file (line ' || later.line || '): list parents before their aliquots.' AS message
		FROM import_stage s JOIN import_stage later ON later.tube_barcode = s.parent AND later.line > s.line`,
	`SELECT s.line AS line, 'parent' AS field, 'No sample and no earlier row has the code ' || s.parent || '.' AS message FROM import_stage s
		WHERE s.parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM import_stage e WHERE e.tube_barcode = s.parent)
		AND NOT EXISTS (SELECT 1 FROM samples x WHERE x.tube_barcode = s.parent OR x.accession = s.parent)`,
	`SELECT line AS line, 'box' AS field, 'There is no box ' || box || ' at this site.' AS message FROM import_stage s
		WHERE s.box IS NOT NULL AND NOT EXISTS (SELECT 1 FROM boxes b JOIN freezers f ON f.id = b.freezer_id WHERE b.barcode = s.box AND f.site_id = ?)`,
	`SELECT s.line AS line, 'position' AS field, 'Box ' || s.box || ' has ' || b.rows || ' rows and ' || b.cols || ' columns: ' || chr(64 + s.pos_row) || s.pos_col || ' is outside it.' AS message
		FROM import_stage s JOIN boxes b ON b.barcode = s.box WHERE s.pos_row > b.rows OR s.pos_col > b.cols`,
	`SELECT s.line AS line, 'position' AS field, chr(64 + s.pos_row) || s.pos_col || ' in ' || s.box || ' holds ' || x.accession || ' already.' AS message
		FROM import_stage s JOIN boxes b ON b.barcode = s.box JOIN sample_positions p ON p.box_id = b.id AND p.row = s.pos_row AND p.col = s.pos_col
		JOIN samples x ON x.id = p.sample_id`,
	`SELECT s.line AS line, 'position' AS field, chr(64 + s.pos_row) || s.pos_col || ' in ' || s.box || ' is given to line ' || o.line || ' already.' AS message
		FROM import_stage s JOIN import_stage o ON o.box = s.box AND o.pos_row = s.pos_row AND o.pos_col = s.pos_col AND o.line < s.line`,
}

// validate runs the SQL checks over the staged rows.
func validate(tx *db.Tx, actor auth.Actor) ([]RowError, error) {
	var out []RowError
	for _, q := range checks {
		var found []RowError
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, actor.SiteID)
		}
		if err := tx.Raw(q, args...).Scan(&found).Error; err != nil {
			return nil, fmt.Errorf("bulk: validate: %w", err)
		}
		out = append(out, found...)
	}
	return out, nil
}

// sortErrors orders problems by line, then field.
func sortErrors(errs []RowError) {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Field < errs[j].Field
	})
}
