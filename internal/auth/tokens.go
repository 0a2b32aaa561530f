package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"biobank/internal/apperr"
	"biobank/internal/db"
	"biobank/internal/input"
)

// TokenPrefix starts every API token, so that a leaked token is easy to recognise in a
// log or a secret scanner.
const TokenPrefix = "bbk_"

// Token is an API token's record. The secret itself is never stored, only its SHA-256.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"-"`
	Name       string     `json:"name"`
	TokenHash  []byte     `json:"-"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// TableName is the token table.
func (Token) TableName() string { return "api_tokens" }

func hashToken(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}

// CreateToken makes an API token for the user named username and returns the secret,
// which is shown once and cannot be recovered. Administrators may make tokens for anyone;
// other users only for themselves.
func (s *Service) CreateToken(ctx context.Context, actor Actor, username, name string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 100 {
		return "", Token{}, apperr.Invalid("name", "A token name may have at most 100 characters.")
	}
	u, err := s.UserByUsername(ctx, username)
	if err != nil {
		return "", Token{}, err
	}
	if !actor.Is(RoleAdmin) && actor.UserID != u.ID {
		return "", Token{}, apperr.Forbidden("Only administrators make API tokens for other users.")
	}
	if !u.Active {
		return "", Token{}, apperr.Conflict("user_inactive", "username", fmt.Sprintf("The user %s is deactivated.", u.Username))
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", Token{}, fmt.Errorf("auth: token: %w", err)
	}
	plain := TokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret))
	t := Token{UserID: u.ID, Name: name, TokenHash: hashToken(plain), Prefix: plain[:len(TokenPrefix)+6]}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
		e := actor.Entry("token.create", "user", u.Username)
		e.After = t.record()
		tx.Record(e)
		return nil
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("auth: create token for %s: %w", u.Username, err)
	}
	return plain, t, nil
}

// Authenticate returns the actor whose token plain is, or ErrUnauthenticated for an unknown,
// revoked or malformed token or a deactivated user.
func (s *Service) Authenticate(ctx context.Context, plain string) (Actor, error) {
	plain = strings.TrimSpace(plain)
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 100 {
		return Actor{}, apperr.ErrUnauthenticated
	}
	// One query: the token with its user and site (a request's budget is three queries,
	// authentication included).
	var row struct {
		TokenID                int64
		LastUsedAt             *time.Time
		UserID                 int64
		Username               string
		Role                   Role
		SiteID                 int64
		SiteCode               string
		UserActive, SiteActive bool
	}
	err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT t.id AS token_id, t.last_used_at, u.id AS user_id, u.username, u.role, u.site_id,
		si.code AS site_code, u.active AS user_active, si.active AS site_active
		FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN sites si ON si.id = u.site_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL`, hashToken(plain)).Scan(&row).Error
	if err != nil {
		return Actor{}, fmt.Errorf("auth: token: %w", err)
	}
	if row.TokenID == 0 || !row.UserActive || !row.SiteActive {
		return Actor{}, apperr.ErrUnauthenticated
	}
	// Record use at most once a minute, so a busy script does not write on every call.
	now := s.Now()
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) > time.Minute {
		s.DB.Gorm.WithContext(ctx).Model(&Token{}).Where("id = ?", row.TokenID).Update("last_used_at", now)
	}
	return Actor{UserID: row.UserID, Username: row.Username, Role: row.Role, SiteID: row.SiteID, SiteCode: row.SiteCode}, nil
}

// Tokens lists a user's tokens, newest first.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	var ts []Token
	if err := s.DB.Gorm.WithContext(ctx).Where("user_id = ?", userID).Order("id DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("auth: tokens of user %d: %w", userID, err)
	}
	return ts, nil
}

// RevokeToken ends a token's use for good. Administrators may revoke any token; other
// users only their own.
func (s *Service) RevokeToken(ctx context.Context, actor Actor, tokenID int64, reason string) error {
	reason, err := input.Reason(reason)
	if err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *db.Tx) error {
		var t Token
		// Lock the row so that concurrent revocations of one token succeed (and are
		// audited) once; the others then see revoked_at and get a conflict.
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", tokenID).Take(&t).Error; err != nil {
			if db.ErrNoRows(err) {
				return apperr.NotFound("API token", fmt.Sprint(tokenID))
			}
			return err
		}
		if !actor.Is(RoleAdmin) && actor.UserID != t.UserID {
			return apperr.Forbidden("Only administrators revoke other users' tokens.")
		}
		if t.RevokedAt != nil {
			return apperr.Conflict("already_revoked", "", "This token was already revoked.")
		}
		if err := tx.Model(&Token{}).Where("id = ?", t.ID).Update("revoked_at", s.Now()).Error; err != nil {
			return err
		}
		var owner string
		if err := tx.Raw("SELECT username FROM users WHERE id = ?", t.UserID).Scan(&owner).Error; err != nil {
			return err
		}
		e := actor.Entry("token.revoke", "user", owner)
		e.Reason, e.Before = reason, t.record()
		tx.Record(e)
		return nil
	})
}

// tokenRecord is what the audit trail keeps of a token: never the secret or its hash.
type tokenRecord struct {
	TokenID int64  `json:"token_id"`
	Name    string `json:"name"`
	Prefix  string `json:"prefix"`
}

// AuditPayload marks tokenRecord as an audit payload.
func (tokenRecord) AuditPayload() {}

func (t Token) record() tokenRecord {
	return tokenRecord{TokenID: t.ID, Name: t.Name, Prefix: t.Prefix}
}
