package instance_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"biobank/internal/instance"
)

func TestLoadKey_CreatedOnceKeptPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "instance.key")
	k1, err := instance.LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	k2, err := instance.LoadKey("", path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("the second start read another key (%v)", err)
	}
	id := instance.Identity{Name: "lux", Private: k1}
	if pub, err := instance.ParsePublicKey(id.PublicKeyText()); err != nil || !bytes.Equal(pub, id.Public()) {
		t.Errorf("public key round trip: %v", err)
	}
	// The environment variable wins, and must hold a key.
	seed := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	k3, err := instance.LoadKey(seed, path)
	if err != nil || bytes.Equal(k3, k1) {
		t.Errorf("BIOBANK_INSTANCE_KEY not used: %v", err)
	}
	if _, err := instance.LoadKey("not a key", path); err == nil {
		t.Error("a malformed key accepted")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := instance.LoadKey("", path); err == nil {
		t.Error("a garbled key file accepted")
	}
}
