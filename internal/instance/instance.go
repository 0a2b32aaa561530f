// Package instance is this installation's identity in a federation: its name, its
// accession prefix and its Ed25519 key pair, whose public half partners register and whose
// private half signs shipment manifests. The private key never goes into the database and
// no endpoint exports it: it comes from BIOBANK_INSTANCE_KEY (the base64 of the 32-byte
// seed) or from a key file, created with mode 0600 on first start.
package instance

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Identity is an instance's name, prefix and key pair.
type Identity struct {
	Name            string
	AccessionPrefix string
	BaseURL         string
	Private         ed25519.PrivateKey
}

// Public is the public half of the key.
func (id Identity) Public() ed25519.PublicKey { return id.Private.Public().(ed25519.PublicKey) }

// PublicKeyText is the public key as partners paste it: base64.
func (id Identity) PublicKeyText() string { return KeyText(id.Public()) }

// KeyText writes a public key as partners paste it: base64.
func KeyText(key ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(key) }

// Ephemeral is an identity with a key made for this process only (tests).
func Ephemeral(name, prefix string) Identity {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return Identity{Name: name, AccessionPrefix: prefix, Private: priv}
}

// LoadKey reads the private key: from envSeed (base64 of the 32-byte seed) when it is set,
// else from the file at path, which is created with a new key (mode 0600, its directory
// 0700) when it does not exist.
func LoadKey(envSeed, path string) (ed25519.PrivateKey, error) {
	if envSeed = strings.TrimSpace(envSeed); envSeed != "" {
		return parseSeed(envSeed, "BIOBANK_INSTANCE_KEY")
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return parseSeed(string(b), path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("instance: read key %s: %w", path, err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("instance: key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process made it first
		return LoadKey("", path)
	}
	if err != nil {
		return nil, fmt.Errorf("instance: create key %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(seed) + "\n"); err != nil {
		return nil, fmt.Errorf("instance: write key %s: %w", path, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func parseSeed(text, from string) (ed25519.PrivateKey, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("instance: %s does not hold a key (the base64 of %d bytes)", from, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey reads a partner's public key as pasted (base64 of 32 bytes).
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("a public key is the base64 of 32 bytes")
	}
	return ed25519.PublicKey(b), nil
}
