package sample

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/input"
)

// MIABISHeader names the columns of the MIABIS export: the sample and donor attributes
// of MIABIS core (STANDARDS.md §3) and the use and access conditions.
var MIABISHeader = []string{"sample_id", "donor_id", "sex", "material_type", "storage_temperature", "creation_datetime_utc",
	"anatomical_site", "diagnosis_icd10", "collection", "biobank", "country", "use_and_access_conditions", "access_from_outside_eu"}

// miabisMaterial is the MIABIS material type of each specimen type.
var miabisMaterial = map[string]string{
	"whole_blood": "Whole blood", "serum": "Serum", "plasma": "Plasma", "buffy_coat": "Buffy coat",
	"pbmc": "Peripheral blood cells", "stool": "Faeces", "csf": "Cerebrospinal fluid", "urine": "Urine", "saliva": "Saliva",
	"tissue": "Tissue (frozen)", "dna": "DNA", "rna": "RNA",
}

// miabisStorage is the MIABIS storage temperature band of a stored storage temperature.
var miabisStorage = map[string]string{
	"-80": "-60 °C to -85 °C", "-20": "-18 °C to -35 °C", "below-135": "Below -135 °C", "programmable": "Below -135 °C",
	"ln2": "Liquid nitrogen", "ln2_after_-80": "Liquid nitrogen", "rt_or_2-10": "Other", "other": "Other",
}

// ExportMIABIS writes the samples of a study (every study when "") as MIABIS rows, page by
// page. Access from outside the EU is "yes" when the participant's current consent grants
// sharing and — for a study that asks for it — the outside_eea tier.
func (s *Service) ExportMIABIS(ctx context.Context, actor auth.Actor, studyCode string, w io.Writer) error {
	if err := actor.Require(auth.RoleManager, auth.RoleAdmin); err != nil {
		return err
	}
	studyCode = strings.ToUpper(strings.TrimSpace(studyCode))
	var studyID int64
	if studyCode != "" {
		if err := s.DB.Gorm.WithContext(ctx).Raw("SELECT id FROM studies WHERE code = ?", studyCode).Scan(&studyID).Error; err != nil {
			return fmt.Errorf("sample: miabis: %w", err)
		}
		if studyID == 0 {
			return apperr.Invalid("study", fmt.Sprintf("There is no study %q.", studyCode))
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(MIABISHeader); err != nil {
		return err
	}
	var after int64
	for {
		n, last, err := s.miabisPage(ctx, studyID, after, cw)
		if err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if n < ExportPage {
			return nil
		}
		after = last
	}
}

func (s *Service) miabisPage(ctx context.Context, studyID, after int64, cw *csv.Writer) (int, int64, error) {
	rows, err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT s.id, s.accession, p.pseudonym, COALESCE(p.sex, ''), s.specimen_type,
		COALESCE(s.processing->>'storage_temperature', ''), s.collected_at, COALESCE(e.diagnosis, ''), st.code, si.name, si.country,
		COALESCE(array_to_string(c.effective_tiers, ';'), ''), st.outside_eea_consent
		FROM samples s
		JOIN participants p ON p.id = s.participant_id
		JOIN studies st ON st.id = s.study_id
		JOIN sites si ON si.id = s.site_id
		LEFT JOIN enrolments e ON e.participant_id = s.participant_id AND e.study_id = s.study_id
		LEFT JOIN LATERAL (SELECT effective_tiers FROM consents WHERE participant_id = s.participant_id AND study_id = s.study_id
			ORDER BY signed_on DESC, id DESC LIMIT 1) c ON true
		WHERE s.id > ? AND (? = 0 OR s.study_id = ?)
		ORDER BY s.id LIMIT ?`, after, studyID, studyID, ExportPage).Rows()
	if err != nil {
		return 0, 0, fmt.Errorf("sample: miabis: %w", err)
	}
	defer rows.Close()
	var (
		id                                                                   int64
		acc, pseud, sex, typ, storage, diag, studyCode, site, country, tiers string
		collected                                                            time.Time
		needsOutside                                                         sql.NullBool
	)
	n := 0
	for rows.Next() {
		if err := rows.Scan(&id, &acc, &pseud, &sex, &typ, &storage, &collected, &diag, &studyCode, &site, &country, &tiers, &needsOutside); err != nil {
			return 0, 0, fmt.Errorf("sample: miabis: %w", err)
		}
		n++
		granted := ";" + tiers + ";"
		outside := "no"
		if strings.Contains(granted, ";sharing;") && (!needsOutside.Bool || strings.Contains(granted, ";outside_eea;")) {
			outside = "yes"
		}
		material := miabisMaterial[typ]
		if material == "" {
			material = "Other"
		}
		if err := cw.Write([]string{acc, pseud, sex, material, miabisStorage[storage], collected.UTC().Format(time.RFC3339), "",
			diag, studyCode, input.CSVCell(site), country, tiers, outside}); err != nil {
			return 0, 0, err
		}
	}
	return n, id, rows.Err()
}
