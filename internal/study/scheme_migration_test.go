package study_test

import (
	"context"
	"testing"

	"biobank/internal/db/dbtest"
)

// TestMigration_PseudonymCheckBecomesAScheme: migration 00008 turns the boolean check of
// existing studies into a scheme that accepts exactly what the study accepted before.
func TestMigration_PseudonymCheckBecomesAScheme(t *testing.T) {
	d := dbtest.NewEmpty(t)
	ctx := context.Background()
	if err := d.MigrateTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	_, err := d.Pool.Exec(ctx, `INSERT INTO studies (code, name, pseudonym_pattern, pseudonym_check) VALUES
		('CHECKED', 'checked, built-in only', '', true),
		('CHECKEDEXT', 'checked, with a pattern', 'X[0-9A-Z]{9}', true),
		('TTP', 'unchecked, with a pattern', 'TTP-[0-9]{6}', false),
		('PLAIN', 'unchecked, no pattern: generated pseudonyms only', '', false)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CHECKED": "biobank-v1", "CHECKEDEXT": "biobank-v1", "TTP": "none", "PLAIN": "biobank-v1"}
	rows, err := d.Pool.Query(ctx, "SELECT code, pseudonym_scheme FROM studies")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var code, scheme string
		if err := rows.Scan(&code, &scheme); err != nil {
			t.Fatal(err)
		}
		n++
		if scheme != want[code] {
			t.Errorf("study %s migrated to %q, want %q", code, scheme, want[code])
		}
	}
	if n != len(want) {
		t.Errorf("%d studies after the migration, want %d", n, len(want))
	}
	// A new study defaults to Mainzelliste; the database refuses an unknown scheme and an
	// unchecked study without a pattern.
	var scheme string
	if err := d.Pool.QueryRow(ctx, "INSERT INTO studies (code, name) VALUES ('NEW', 'new') RETURNING pseudonym_scheme").Scan(&scheme); err != nil || scheme != "mainzelliste" {
		t.Errorf("a new study's scheme: %q, %v; want mainzelliste", scheme, err)
	}
	for _, bad := range []string{
		"INSERT INTO studies (code, name, pseudonym_scheme) VALUES ('BAD1', 'x', 'luhn')",
		"INSERT INTO studies (code, name, pseudonym_scheme) VALUES ('BAD2', 'x', 'none')",
	} {
		if _, err := d.Pool.Exec(ctx, bad); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
}
