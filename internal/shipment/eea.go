package shipment

import (
	"fmt"
	"slices"

	"biobank/internal/apperr"
	"biobank/internal/consent"
	"biobank/internal/db"
	"biobank/internal/sample"
	"biobank/internal/study"
)

// eea lists the countries of the European Economic Area (the EU's 27 and Iceland,
// Liechtenstein and Norway) by ISO 3166-1 alpha-2 code. A transfer anywhere else — to
// Switzerland, in this network — is a transfer to a third country under the GDPR.
var eea = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
	"LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
}

// InEEA reports whether a country (ISO alpha-2) is in the EU/EEA.
func InEEA(country string) bool { return slices.Contains(eea, country) }

// DestinationCountry is the country a shipment goes to: its site's, or the one given for
// an external recipient ("" when unknown).
func (s Shipment) DestinationCountry() string {
	if s.Destination != nil {
		return s.Destination.Country
	}
	if s.ExternalCountry != nil {
		return *s.ExternalCountry
	}
	return ""
}

// outsideEEAAllowed refuses a sample bound for a country outside the EU/EEA when its
// study asks for the outside_eea tier and the participant's consent does not grant it.
func outsideEEAAllowed(tx *db.Tx, sh Shipment, smp sample.Sample) error {
	// A partner's site whose country its descriptor did not give is "ZZ": unknown, so not
	// known to be inside the EU/EEA.
	country := sh.DestinationCountry()
	if country == "" || InEEA(country) {
		return nil
	}
	var st study.Study
	if err := tx.Select("id", "code", "outside_eea_consent").Take(&st, smp.StudyID).Error; err != nil {
		return err
	}
	if !st.OutsideEEAConsent {
		return nil
	}
	may, err := consent.MayUse(tx.DB, smp.ParticipantID, smp.StudyID, study.TierOutsideEEA)
	if err != nil {
		return err
	}
	if !may {
		return apperr.Conflict("consent_forbids_sharing", "sample", fmt.Sprintf(
			"%s cannot go to %s (%s, outside the EU/EEA): study %s asks for the consent tier %q, which the participant's consent does not grant.",
			smp.Accession, sh.DestinationName(), country, st.Code, study.TierOutsideEEA))
	}
	return nil
}
