package db_test

import (
	"strings"
	"testing"

	"biobank/internal/db"
)

func TestRedact_HidesPasswords(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"URL with password", "postgres://app:s3cret@db:5432/biobank?sslmode=disable", "postgres://app:xxxxx@db:5432/biobank?sslmode=disable"},
		{"URL without password", "postgres://app@db/biobank", "postgres://app@db/biobank"},
		{"URL without user", "postgres://db/biobank", "postgres://db/biobank"},
		{"password parameter", "postgres://app@db/biobank?password=s3cret&sslmode=disable", "postgres://app@db/biobank?password=xxxxx&sslmode=disable"},
		{"keyword/value", "host=db user=app password=s3cret dbname=biobank", "host=db user=app password=xxxxx dbname=biobank"},
		{"keyword/value quoted", "host=db password='s3 cr\\'et' dbname=biobank", "host=db password=xxxxx dbname=biobank"},
		{"malformed URL", "postgres://app:s3%zzcret@db/biobank", "postgres://app:xxxxx@db/biobank"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := db.Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Contains(got, "s3") {
				t.Errorf("Redact(%q) = %q still shows the password", tt.in, got)
			}
		})
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, in, db, want string
	}{
		{"replaces the database", "postgres://app:pw@db:5432/postgres?sslmode=disable", "biobank", "postgres://app:pw@db:5432/biobank?sslmode=disable"},
		{"adds a database", "postgres://app@db", "biobank", "postgres://app@db/biobank"},
		{"postgresql scheme", "postgresql://db/x", "y", "postgresql://db/y"},
		{"escapes the name", "postgres://db/postgres", "odd name", "postgres://db/odd%20name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.WithDatabase(tt.in, tt.db)
			if err != nil {
				t.Fatalf("WithDatabase(%q, %q): %v", tt.in, tt.db, err)
			}
			if got != tt.want {
				t.Errorf("WithDatabase(%q, %q) = %q, want %q", tt.in, tt.db, got, tt.want)
			}
		})
	}
}

func TestWithDatabase_RefusesWhatIsNotAURL(t *testing.T) {
	for _, in := range []string{
		"host=db password=s3cret dbname=postgres",
		"postgres://app:s3%zzcret@db/postgres",
	} {
		got, err := db.WithDatabase(in, "biobank")
		if err == nil {
			t.Errorf("WithDatabase(%q) = %q, want an error", in, got)
			continue
		}
		if strings.Contains(err.Error(), "s3") {
			t.Errorf("WithDatabase(%q) error %q shows the password", in, err)
		}
	}
}
