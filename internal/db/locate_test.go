package db_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"biobank/internal/db"
)

func TestLocate_UsesURLFirst(t *testing.T) {
	// Nothing listens there: Locate must return the URL as given, without connecting,
	// looking for a local server or starting a cluster.
	const url = "postgres://someone:secret@db.example.invalid:6543/biobank?sslmode=require"
	dataDir := t.TempDir()
	got, err := db.Locate(context.Background(), db.LocateOptions{URL: url, Database: "other", DataDir: dataDir})
	if err != nil {
		t.Fatalf("Locate: %v", err)
	}
	if got != url {
		t.Errorf("Locate = %s, want the given URL %s", got, url)
	}
}

func TestLocate_FindsLocalServerAndCreatesDatabase(t *testing.T) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		t.Skipf("no PostgreSQL server on 127.0.0.1:5432 to find: %v", err)
	}
	conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniqueName("biobank_locate_test_")
	opts := db.LocateOptions{Database: name, DataDir: t.TempDir()}
	url, err := db.Locate(ctx, opts)
	if err != nil {
		t.Fatalf("Locate: %v", err)
	}
	server, err := db.WithDatabase(url, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropDatabase(t, server, name) })

	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to located database %s: %v", db.Redact(url), err)
	}
	defer c.Close(ctx)
	var current, addr string
	var port int
	if err := c.QueryRow(ctx, "SELECT current_database(), host(inet_server_addr()), inet_server_port()").Scan(&current, &addr, &port); err != nil {
		t.Fatal(err)
	}
	if current != name || addr != "127.0.0.1" || port != 5432 {
		t.Errorf("Locate connected to database %s on %s:%d, want %s on 127.0.0.1:5432", current, addr, port, name)
	}

	// Found again, it is reused rather than created a second time.
	again, err := db.Locate(ctx, opts)
	if err != nil {
		t.Fatalf("Locate with the database present: %v", err)
	}
	if again != url {
		t.Errorf("second Locate = %s, want %s", again, url)
	}
}
