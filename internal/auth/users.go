package auth

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/db"
	"biobank/internal/input"
)

// User is a person who signs in: staff of a site, never a participant.
type User struct {
	ID                int64      `json:"id"`
	Username          string     `json:"username"`
	Role              Role       `json:"role"`
	SiteID            int64      `json:"-"`
	Site              Site       `json:"-" gorm:"foreignKey:SiteID"`
	PasswordHash      string     `json:"-"`
	Active            bool       `json:"active"`
	FailedSignIns     int        `json:"failed_sign_ins"`
	LockedUntil       *time.Time `json:"locked_until"`
	LastSignInAt      *time.Time `json:"last_sign_in_at"`
	PasswordChangedAt time.Time  `json:"password_changed_at"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Actor returns the user as the actor of a service call.
func (u User) Actor() Actor {
	return Actor{UserID: u.ID, Username: u.Username, Role: u.Role, SiteID: u.SiteID, SiteCode: u.Site.Code}
}

// LockedAt reports whether sign-in is locked at time now.
func (u User) LockedAt(now time.Time) bool {
	return u.LockedUntil != nil && u.LockedUntil.After(now)
}

// userRecord is what the audit trail keeps of a user: never the password hash.
type userRecord struct {
	Username    string     `json:"username"`
	Role        Role       `json:"role"`
	Site        string     `json:"site"`
	Active      bool       `json:"active"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
}

// AuditPayload marks userRecord as an audit payload.
func (userRecord) AuditPayload() {}

func (u User) record() userRecord {
	return userRecord{Username: u.Username, Role: u.Role, Site: u.Site.Code, Active: u.Active, LockedUntil: u.LockedUntil}
}

// NewUser is what an administrator enters to create a user.
type NewUser struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Site     string `json:"site"`
	Password string `json:"password"`
	Reason   string `json:"reason"`
}

// CreateUser adds a user with a password.
func (s *Service) CreateUser(ctx context.Context, actor Actor, in NewUser) (User, error) {
	if err := actor.Require(RoleAdmin); err != nil {
		return User{}, err
	}
	username, err := normaliseUsername("username", in.Username)
	if err != nil {
		return User{}, err
	}
	role, err := ParseRole("role", in.Role)
	if err != nil {
		return User{}, err
	}
	if err := CheckPasswordPolicy("password", in.Password); err != nil {
		return User{}, err
	}
	reason, err := input.Reason(in.Reason)
	if err != nil {
		return User{}, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return User{}, fmt.Errorf("auth: hash password: %w", err)
	}
	var u User
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		site, err := siteByCode(tx.DB, "site", in.Site)
		if err != nil {
			return err
		}
		if err := site.staffable(); err != nil {
			return err
		}
		u = User{Username: username, Role: role, SiteID: site.ID, Site: site, PasswordHash: hash, Active: true, PasswordChangedAt: s.Now()}
		if err := tx.Omit("Site").Create(&u).Error; err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.Conflict("duplicate_username", "username", fmt.Sprintf("The username %s is taken.", username))
			}
			return err
		}
		e := actor.Entry("user.create", "user", u.Username)
		e.Reason, e.After = reason, u.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("auth: create user %s: %w", username, err)
	}
	return u, nil
}

// UserChange is an administrator's change to a user. Nil fields are left as they are.
type UserChange struct {
	Role     *string `json:"role,omitempty"`
	Site     *string `json:"site,omitempty"`
	Active   *bool   `json:"active,omitempty"`
	Password *string `json:"password,omitempty"`
	Unlock   bool    `json:"unlock,omitempty"`
	Reason   string  `json:"reason"`
}

// UpdateUser applies an administrator's change to the user with id: role, site, active
// flag, a new password, or lifting a sign-in lock. It refuses to leave the system without
// an active administrator.
func (s *Service) UpdateUser(ctx context.Context, actor Actor, id int64, ch UserChange) (User, error) {
	if err := actor.Require(RoleAdmin); err != nil {
		return User{}, err
	}
	reason, err := input.Reason(ch.Reason)
	if err != nil {
		return User{}, err
	}
	var role Role
	if ch.Role != nil {
		if role, err = ParseRole("role", *ch.Role); err != nil {
			return User{}, err
		}
	}
	var hash string
	if ch.Password != nil {
		if err := CheckPasswordPolicy("password", *ch.Password); err != nil {
			return User{}, err
		}
		if hash, err = HashPassword(*ch.Password); err != nil {
			return User{}, fmt.Errorf("auth: hash password: %w", err)
		}
	}
	var u User
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := lockAdmins(tx.DB, id); err != nil {
			return err
		}
		if err := tx.Preload("Site").Where("id = ?", id).Take(&u).Error; err != nil {
			if db.ErrNoRows(err) {
				return apperr.NotFound("user", fmt.Sprint(id))
			}
			return err
		}
		before := u.record()
		var actions []string
		if ch.Role != nil && role != u.Role {
			u.Role = role
			actions = append(actions, "user.change_role")
		}
		if ch.Site != nil {
			site, err := siteByCode(tx.DB, "site", *ch.Site)
			if err != nil {
				return err
			}
			if site.ID != u.SiteID {
				if err := site.staffable(); err != nil {
					return err
				}
				u.SiteID, u.Site = site.ID, site
				actions = append(actions, "user.change_site")
			}
		}
		if ch.Active != nil && *ch.Active != u.Active {
			u.Active = *ch.Active
			if u.Active {
				actions = append(actions, "user.reactivate")
			} else {
				actions = append(actions, "user.deactivate")
			}
		}
		if ch.Password != nil {
			u.PasswordHash, u.PasswordChangedAt = hash, s.Now()
			u.FailedSignIns, u.LockedUntil = 0, nil
			actions = append(actions, "user.reset_password")
		}
		if ch.Unlock && (u.LockedUntil != nil || u.FailedSignIns > 0) {
			u.FailedSignIns, u.LockedUntil = 0, nil
			actions = append(actions, "user.unlock")
		}
		if len(actions) == 0 {
			return apperr.Invalid("", "Nothing was changed.")
		}
		if before.Role == RoleAdmin && before.Active && (u.Role != RoleAdmin || !u.Active) {
			admins, err := usableAdmins(tx.DB, u.ID, 0)
			if err != nil {
				return err
			}
			if admins == 0 {
				return apperr.Conflict("last_admin", "role", "This is the last active administrator; make another administrator first.")
			}
		}
		if err := tx.Omit(clause.Associations).Save(&u).Error; err != nil {
			return err
		}
		if !u.Active {
			// A deactivated user's API tokens stop working for good; reactivation does not
			// bring them back.
			if err := tx.Exec("UPDATE api_tokens SET revoked_at = now() WHERE user_id = ? AND revoked_at IS NULL", u.ID).Error; err != nil {
				return err
			}
		}
		for _, action := range actions {
			e := actor.Entry(action, "user", u.Username)
			e.Reason, e.Before, e.After = reason, before, u.record()
			tx.Record(e)
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("auth: update user %d: %w", id, err)
	}
	return u, nil
}

// lockAdmins locks the row of every administrator and of user id, in id order. UpdateUser
// and UpdateSite take these locks before anything else, so that two changes that could
// each remove the last administrator (two administrators demoting each other, or closing
// one's site while demoting the other) run one after the other and the second sees the
// first.
func lockAdmins(tx *gorm.DB, id int64) error {
	return tx.Exec("SELECT id FROM users WHERE role = 'admin' OR id = ? ORDER BY id FOR UPDATE", id).Error
}

// usableAdmins counts the administrators who can still sign in and administer (active,
// at an active site), leaving out the user exceptUser and everyone at the site exceptSite.
func usableAdmins(tx *gorm.DB, exceptUser, exceptSite int64) (int64, error) {
	var n int64
	err := tx.Table("users").Joins("JOIN sites ON sites.id = users.site_id").
		Where("users.role = 'admin' AND users.active AND sites.active AND users.id <> ? AND sites.id <> ?", exceptUser, exceptSite).
		Count(&n).Error
	return n, err
}

// Users lists every user with their site, by username.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	var users []User
	if err := s.DB.Gorm.WithContext(ctx).Preload("Site").Order("username").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	return users, nil
}

// UserByID returns one user with their site.
func (s *Service) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	// One query: the user joined with the site (every page request reads it).
	if err := s.DB.Gorm.WithContext(ctx).Joins("Site").Where("users.id = ?", id).Take(&u).Error; err != nil {
		if db.ErrNoRows(err) {
			return User{}, apperr.NotFound("user", fmt.Sprint(id))
		}
		return User{}, fmt.Errorf("auth: user %d: %w", id, err)
	}
	return u, nil
}

// UserByUsername returns one user with their site.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	name, err := normaliseUsername("username", username)
	if err != nil {
		return User{}, err
	}
	var u User
	if err := s.DB.Gorm.WithContext(ctx).Preload("Site").Where("username = ?", name).Take(&u).Error; err != nil {
		if db.ErrNoRows(err) {
			return User{}, apperr.NotFound("user", name)
		}
		return User{}, fmt.Errorf("auth: user %s: %w", name, err)
	}
	return u, nil
}

// ActiveActor returns the actor for a signed-in user's ID, or ErrUnauthenticated when the
// user no longer exists or has been deactivated. The web layer calls it on every request,
// so a deactivation or role change takes effect at once.
func (s *Service) ActiveActor(ctx context.Context, id int64) (Actor, User, error) {
	u, err := s.UserByID(ctx, id)
	if err != nil || !u.Active || !u.Site.Active {
		return Actor{}, User{}, apperr.ErrUnauthenticated
	}
	return u.Actor(), u, nil
}
