package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"biobank/internal/audit"
	"biobank/internal/db"
)

// Lock-out policy: after MaxFailedSignIns wrong passwords in a row an account is locked
// for LockoutPeriod.
const (
	MaxFailedSignIns = 5
	LockoutPeriod    = 15 * time.Minute
)

// ErrBadCredentials is the one answer to every refused sign-in: an unknown username, a
// wrong password, a locked or deactivated account. It never says which, so the sign-in
// form cannot be used to find out who has an account.
var ErrBadCredentials = errors.New("wrong username or password, or the account is locked")

// SignInMessage is what a person sees when a sign-in is refused.
const SignInMessage = "Sign-in failed: the username or password is wrong, or the account is locked. " +
	"After five failed attempts an account is locked for 15 minutes."

// SignIn checks a username and password. Every attempt is audited; wrong passwords count
// towards the lock-out, and the counter and the audit event commit even though the sign-in
// is refused. from is the client's address, kept in the audit event.
func (s *Service) SignIn(ctx context.Context, username, password, from string) (User, error) {
	name := signInName(username)
	var (
		u      User
		refuse string
	)
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		now := s.Now()
		err := tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "users"}}).
			Joins("Site").Where("username = ?", name).Take(&u).Error
		if db.ErrNoRows(err) {
			passwordMatches(password, dummyHash) // same cost as a real check
			refuse = "unknown username"
			return s.auditSignIn(tx, nil, name, "", "auth.sign_in_failed", refuse, from)
		}
		if err != nil {
			return err
		}
		matches := passwordMatches(password, u.PasswordHash)
		switch {
		case u.LockedAt(now):
			refuse = "account locked"
		case !u.Active:
			refuse = "account deactivated"
		case !u.Site.Active:
			refuse = "site deactivated"
		case !matches:
			refuse = "wrong password"
		}
		if refuse == "" {
			u.FailedSignIns, u.LockedUntil, u.LastSignInAt = 0, nil, &now
			if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
				"failed_sign_ins": 0, "locked_until": nil, "last_sign_in_at": now}).Error; err != nil {
				return err
			}
			return s.auditSignIn(tx, &u, u.Username, u.Site.Code, "auth.sign_in", "", from)
		}
		if refuse == "wrong password" {
			u.FailedSignIns++
			if u.FailedSignIns >= MaxFailedSignIns {
				until := now.Add(LockoutPeriod)
				u.FailedSignIns, u.LockedUntil = 0, &until
			}
			if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
				"failed_sign_ins": u.FailedSignIns, "locked_until": u.LockedUntil}).Error; err != nil {
				return err
			}
		}
		if err := s.auditSignIn(tx, &u, u.Username, u.Site.Code, "auth.sign_in_failed", refuse, from); err != nil {
			return err
		}
		if refuse == "wrong password" && u.LockedUntil != nil && u.LockedUntil.After(now) {
			return s.auditSignIn(tx, &u, u.Username, u.Site.Code, "auth.account_locked",
				fmt.Sprintf("%d failed sign-ins in a row", MaxFailedSignIns), from)
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("auth: sign in: %w", err)
	}
	if refuse != "" {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// signInName is the username as looked up and audited. Whatever was typed, it must be
// something PostgreSQL text accepts (valid UTF-8 without NUL, so truncation keeps whole
// characters) and not empty (an audit event needs an entity id); otherwise an odd entry
// would become an internal error instead of an audited refusal.
func signInName(username string) string {
	name := strings.ToLower(strings.TrimSpace(strings.ToValidUTF8(username, "\uFFFD")))
	name = strings.ReplaceAll(name, "\x00", "\uFFFD")
	if r := []rune(name); len(r) > 64 {
		name = string(r[:64])
	}
	if name == "" {
		name = "(empty)" // cannot clash with a real username, which starts with a letter or digit
	}
	return name
}

// signInEvent is what a sign-in event keeps: the client's address.
type signInEvent struct {
	From string `json:"from"`
}

// AuditPayload marks signInEvent as an audit payload.
func (signInEvent) AuditPayload() {}

func (s *Service) auditSignIn(tx *db.Tx, u *User, username, site, action, reason, from string) error {
	e := audit.Entry{Actor: username, Site: site, Action: action, EntityType: "user", EntityID: username, Reason: reason,
		After: signInEvent{From: from}}
	if u != nil {
		id := u.ID
		e.ActorID = &id
	} else {
		e.Actor = "anonymous"
	}
	tx.Record(e)
	return nil
}

// SignOut records that a user ended their session.
func (s *Service) SignOut(ctx context.Context, actor Actor) error {
	return s.DB.Tx(ctx, func(tx *db.Tx) error {
		tx.Record(actor.Entry("auth.sign_out", "user", actor.Username))
		return nil
	})
}
