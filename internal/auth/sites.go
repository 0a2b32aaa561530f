package auth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/db"
	"biobank/internal/input"
)

// Site is a partner institution. Users, freezers and the custody of samples belong to one.
type Site struct {
	ID        int64     `json:"-"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// PeerID is set on a site of a partner instance, known here as a shipment's
	// destination or origin; nobody works at it on this instance.
	PeerID *int64 `json:"-"`
}

// staffable refuses a partner instance's site as the site of a user here.
func (s Site) staffable() error {
	if s.PeerID != nil {
		return apperr.Invalid("site", fmt.Sprintf("%s is a site of a partner instance: its staff sign in there, not here.", s.Code))
	}
	if !s.Active {
		return apperr.Invalid("site", fmt.Sprintf("The site %s is inactive.", s.Code))
	}
	return nil
}

// siteRecord is what the audit trail keeps of a site.
type siteRecord struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AuditPayload marks siteRecord as an audit payload.
func (siteRecord) AuditPayload() {}

func (s Site) record() siteRecord {
	return siteRecord{Code: s.Code, Name: s.Name, Country: s.Country, Active: s.Active, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// SiteInput is what an administrator enters for a site.
type SiteInput struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Country string `json:"country"`
	Active  *bool  `json:"active,omitempty"`
	Reason  string `json:"reason"`
}

var (
	siteCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,15}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

func (in *SiteInput) normalise(withCode bool) error {
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.Name = strings.TrimSpace(in.Name)
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if withCode && !siteCodePattern.MatchString(in.Code) {
		return apperr.Invalid("code", "A site code has 2 to 16 capital letters, digits or dashes, e.g. LUX or DE-KIEL.")
	}
	if in.Name == "" {
		return apperr.Invalid("name", "Enter the site's name.")
	}
	if utf8.RuneCountInString(in.Name) > 200 {
		return apperr.Invalid("name", "The name may have at most 200 characters.")
	}
	if !countryPattern.MatchString(in.Country) {
		return apperr.Invalid("country", "Enter the country as its two-letter ISO code, e.g. LU, DE, FR or CH.")
	}
	return nil
}

// CreateSite adds a site. Only administrators may.
func (s *Service) CreateSite(ctx context.Context, actor Actor, in SiteInput) (Site, error) {
	if err := actor.Require(RoleAdmin); err != nil {
		return Site{}, err
	}
	if err := in.normalise(true); err != nil {
		return Site{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return Site{}, err
	}
	site := Site{Code: in.Code, Name: in.Name, Country: in.Country, Active: true}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Create(&site).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_site", "code", fmt.Sprintf("A site with the code %s already exists.", in.Code))
			}
			return err
		}
		e := actor.Entry("site.create", "site", site.Code)
		e.Reason, e.After = reason, site.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Site{}, fmt.Errorf("auth: create site %s: %w", in.Code, err)
	}
	return site, nil
}

// UpdateSite changes a site's name, country or active flag.
func (s *Service) UpdateSite(ctx context.Context, actor Actor, code string, in SiteInput) (Site, error) {
	if err := actor.Require(RoleAdmin); err != nil {
		return Site{}, err
	}
	if err := in.normalise(false); err != nil {
		return Site{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return Site{}, err
	}
	var site Site
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		closing := in.Active != nil && !*in.Active
		if closing {
			// Administrators first, then the site: the order UpdateUser locks in.
			if err := lockAdmins(tx.DB, 0); err != nil {
				return err
			}
		}
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("code = ?", strings.ToUpper(strings.TrimSpace(code))).Take(&site).Error; err != nil {
			if db.ErrNoRows(err) {
				return apperr.NotFound("site", code)
			}
			return err
		}
		before := site
		site.Name, site.Country = in.Name, in.Country
		if in.Active != nil {
			site.Active = *in.Active
		}
		if before.Name == site.Name && before.Country == site.Country && before.Active == site.Active {
			return apperr.Invalid("name", "Nothing was changed.")
		}
		if closing && before.Active {
			// Users of an inactive site cannot sign in: closing the site of every usable
			// administrator would leave nobody to administer the system.
			all, err := usableAdmins(tx.DB, 0, 0)
			if err != nil {
				return err
			}
			elsewhere, err := usableAdmins(tx.DB, 0, site.ID)
			if err != nil {
				return err
			}
			if all > 0 && elsewhere == 0 {
				return apperr.Conflict("last_admin", "active", "Every active administrator belongs to this site; make an administrator at another site first.")
			}
		}
		if err := tx.Save(&site).Error; err != nil {
			return err
		}
		e := actor.Entry("site.update", "site", site.Code)
		e.Reason, e.Before, e.After = reason, before.record(), site.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Site{}, fmt.Errorf("auth: update site %s: %w", code, err)
	}
	return site, nil
}

// Sites lists every site by code.
func (s *Service) Sites(ctx context.Context) ([]Site, error) {
	var sites []Site
	if err := s.DB.Gorm.WithContext(ctx).Order("code").Find(&sites).Error; err != nil {
		return nil, fmt.Errorf("auth: list sites: %w", err)
	}
	return sites, nil
}

// SiteByCode returns the site with code.
func (s *Service) SiteByCode(ctx context.Context, code string) (Site, error) {
	return siteByCode(s.DB.Gorm.WithContext(ctx), "site", code)
}

func siteByCode(q *gorm.DB, field, code string) (Site, error) {
	var site Site
	c := strings.ToUpper(strings.TrimSpace(code))
	if c == "" {
		return Site{}, apperr.Invalid(field, "Choose a site.")
	}
	if err := q.Where("code = ?", c).Take(&site).Error; err != nil {
		if db.ErrNoRows(err) {
			return Site{}, apperr.Invalid(field, fmt.Sprintf("There is no site with the code %q.", code))
		}
		return Site{}, fmt.Errorf("auth: site %s: %w", code, err)
	}
	return site, nil
}
