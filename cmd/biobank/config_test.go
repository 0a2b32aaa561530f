package main

import (
	"strings"
	"testing"
	"time"

	"biobank/internal/db"
	"biobank/web"
)

func TestWebConfig_Defaults(t *testing.T) {
	clearConfig(t)
	cfg, err := webConfig("")
	if err != nil {
		t.Fatal(err)
	}
	want := web.Config{Addr: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", SecureCookies: false,
		IdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour}
	if cfg != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestWebConfig_FromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		flag string // --addr
		want web.Config
	}{
		{"all interfaces get secure cookies", map[string]string{"BIOBANK_ADDR": "0.0.0.0:8080"}, "",
			web.Config{Addr: "0.0.0.0:8080", BaseURL: "http://0.0.0.0:8080", SecureCookies: true}},
		{"a non-loopback host gets secure cookies", map[string]string{"BIOBANK_ADDR": "lims.example.org:8080"}, "",
			web.Config{Addr: "lims.example.org:8080", BaseURL: "http://lims.example.org:8080", SecureCookies: true}},
		{"a LAN address gets secure cookies", map[string]string{"BIOBANK_ADDR": "10.1.2.3:80"}, "",
			web.Config{Addr: "10.1.2.3:80", BaseURL: "http://10.1.2.3:80", SecureCookies: true}},
		{"an empty host listens everywhere", map[string]string{"BIOBANK_ADDR": ":8080"}, "",
			web.Config{Addr: ":8080", BaseURL: "http://:8080", SecureCookies: true}},
		{"localhost is loopback", map[string]string{"BIOBANK_ADDR": "localhost:9000"}, "",
			web.Config{Addr: "localhost:9000", BaseURL: "http://localhost:9000", SecureCookies: false}},
		{"IPv6 loopback", map[string]string{"BIOBANK_ADDR": "[::1]:8080"}, "",
			web.Config{Addr: "[::1]:8080", BaseURL: "http://[::1]:8080", SecureCookies: false}},
		{"--addr wins over BIOBANK_ADDR", map[string]string{"BIOBANK_ADDR": "0.0.0.0:8080"}, "127.0.0.1:9999",
			web.Config{Addr: "127.0.0.1:9999", BaseURL: "http://127.0.0.1:9999", SecureCookies: false}},
		{"base URL as given", map[string]string{"BIOBANK_ADDR": "127.0.0.1:8080", "BIOBANK_BASE_URL": "https://biobank.example.org"}, "",
			web.Config{Addr: "127.0.0.1:8080", BaseURL: "https://biobank.example.org", SecureCookies: false}},
		{"secure cookies forced on behind a TLS proxy on loopback", map[string]string{"BIOBANK_SECURE_COOKIES": "true"}, "",
			web.Config{Addr: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", SecureCookies: true}},
		{"secure cookies switched off", map[string]string{"BIOBANK_ADDR": "0.0.0.0:8080", "BIOBANK_SECURE_COOKIES": "false"}, "",
			web.Config{Addr: "0.0.0.0:8080", BaseURL: "http://0.0.0.0:8080", SecureCookies: false}},
		{"session times", map[string]string{"BIOBANK_SESSION_IDLE_TIMEOUT": "10m", "BIOBANK_SESSION_LIFETIME": "8h"}, "",
			web.Config{Addr: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", IdleTimeout: 10 * time.Minute, SessionLifetime: 8 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearConfig(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := webConfig(tc.flag)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want.IdleTimeout == 0 {
				want.IdleTimeout = 30 * time.Minute
			}
			if want.SessionLifetime == 0 {
				want.SessionLifetime = 12 * time.Hour
			}
			if cfg != want {
				t.Errorf("\n got %+v\nwant %+v", cfg, want)
			}
		})
	}
}

func TestWebConfig_RefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name, variable, value string
	}{
		{"address without port", "BIOBANK_ADDR", "8080"},
		{"secure cookies not a boolean", "BIOBANK_SECURE_COOKIES", "maybe"},
		{"idle timeout without unit", "BIOBANK_SESSION_IDLE_TIMEOUT", "30"},
		{"idle timeout in words", "BIOBANK_SESSION_IDLE_TIMEOUT", "half an hour"},
		{"idle timeout zero", "BIOBANK_SESSION_IDLE_TIMEOUT", "0s"},
		{"idle timeout negative", "BIOBANK_SESSION_IDLE_TIMEOUT", "-5m"},
		{"lifetime bad", "BIOBANK_SESSION_LIFETIME", "forever"},
		{"base URL bad", "BIOBANK_BASE_URL", "http://[::1"},
		{"request timeout bad", "BIOBANK_REQUEST_TIMEOUT", "10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearConfig(t)
			t.Setenv(tc.variable, tc.value)
			_, err := webConfig("")
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.variable, tc.value)
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("the error %q does not name %s", err, tc.variable)
			}
			if _, ok := err.(usageError); !ok {
				t.Errorf("want a usage error (exit 2), got %T", err)
			}
		})
	}
}

func TestDBLimits(t *testing.T) {
	clearConfig(t)
	l, err := dbLimits()
	if err != nil || l != db.DefaultLimits {
		t.Errorf("defaults: %+v, %v; want %+v", l, err, db.DefaultLimits)
	}
	t.Setenv("BIOBANK_DB_STATEMENT_TIMEOUT", "2s")
	t.Setenv("BIOBANK_DB_POOL_WAIT", "500ms")
	if l, err = dbLimits(); err != nil || l != (db.Limits{StatementTimeout: 2 * time.Second, PoolWait: 500 * time.Millisecond}) {
		t.Errorf("configured: %+v, %v", l, err)
	}
	for _, v := range []string{"BIOBANK_DB_STATEMENT_TIMEOUT", "BIOBANK_DB_POOL_WAIT"} {
		clearConfig(t)
		t.Setenv(v, "0s")
		if _, err := dbLimits(); err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("%s=0s: %v, want a usage error naming it", v, err)
		}
	}
}

// A bad setting stops `serve` before it touches the database, with exit 2 and the
// variable named.
func TestServe_BadConfigurationExitsTwo(t *testing.T) {
	newDatabase(t)
	t.Setenv("BIOBANK_SESSION_IDLE_TIMEOUT", "soon")
	wantExit(t, runCmd(t, "", "serve"), 2, "BIOBANK_SESSION_IDLE_TIMEOUT")
	wantExit(t, runCmd(t, "", "serve", "--addr", "127.0.0.1:0", "--verbose"), 2, "verbose")
}
