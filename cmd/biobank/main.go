// Command biobank is the biobank LIMS: one binary with subcommands to migrate the
// database, serve the web application, and administer it from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/db"
	"biobank/internal/instance"
	"biobank/internal/sample"
	"biobank/web"
)

const usage = `biobank — sample tracking for a multi-site biobank

Usage:
  biobank migrate                         apply pending database migrations
  biobank serve [--addr A]                migrate, then serve HTTP until SIGTERM/SIGINT
  biobank dev [--addr A]                  development: find or start a database, migrate,
                                          load demo data into an empty database, serve
  biobank site create --code C --name N --country CC [--reason R]
  biobank user create --username U --role R --site C --password-stdin [--reason R]
  biobank token create --username U [--name N]
  biobank seed --demo                     load demonstration data into an empty database
  biobank audit verify                    check the whole audit hash chain
  biobank bench [--samples N] [--events N] [--requests N] [--json] [--keep]
                [--database-url URL [--force]]
                                          measure at scale on a generated data set in a
                                          scratch database (dropped at the end)

Environment:
  DATABASE_URL                  PostgreSQL URL (default: a local development database)
  BIOBANK_ADDR                  listen address (default 127.0.0.1:8080)
  BIOBANK_BASE_URL              public URL (default http:// + address)
  BIOBANK_SECURE_COOKIES        true/false (default true unless the address is loopback)
  BIOBANK_SESSION_IDLE_TIMEOUT  idle time before a session ends (default 30m)
  BIOBANK_SESSION_LIFETIME      longest a session lasts (default 12h)
  BIOBANK_ACCESSION_PREFIX      1-4 symbols starting accession IDs (default AC)
`

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	if len(rest) > 0 && (cmd == "site" || cmd == "user" || cmd == "token" || cmd == "audit") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	commands := map[string]func(context.Context, []string, io.Reader, io.Writer) error{
		"migrate":      cmdMigrate,
		"serve":        cmdServe,
		"dev":          cmdDev,
		"site create":  cmdSiteCreate,
		"user create":  cmdUserCreate,
		"token create": cmdTokenCreate,
		"seed":         cmdSeed,
		"audit verify": cmdAuditVerify,
		"bench":        cmdBench,
	}
	f, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "biobank: unknown command %q\n\n%s", strings.Join(args, " "), usage)
		return 2
	}
	if err := f(ctx, rest, stdin, stdout); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "biobank %s: %v\n", cmd, err)
			return 2
		}
		var ee exitError
		if errors.As(err, &ee) {
			return int(ee)
		}
		fmt.Fprintf(stderr, "biobank %s: %s\n", cmd, message(err))
		return 1
	}
	return 0
}

// message is what a person reads for err: the domain's own sentence for a refusal (bad
// input, a conflict, a missing thing), the whole chain for anything else.
func message(err error) string {
	if v, ok := apperr.AsValidation(err); ok {
		if v.Field != "" {
			return v.Field + ": " + v.Message
		}
		return v.Message
	}
	if c, ok := apperr.AsConflict(err); ok {
		return c.Message
	}
	if f, ok := apperr.AsForbidden(err); ok {
		return f.Message
	}
	if n, ok := apperr.AsNotFound(err); ok {
		return n.Error()
	}
	return err.Error()
}

// usageError is a mistake in the command line itself (exit 2).
type usageError string

func (e usageError) Error() string { return string(e) }

// exitError ends the command with a given exit code, its message already printed.
type exitError int

func (e exitError) Error() string { return "exit " + strconv.Itoa(int(e)) }

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument " + fs.Arg(0))
	}
	return nil
}

// databaseURL is DATABASE_URL, else a local development database found or started as the
// README describes.
func databaseURL(ctx context.Context) (string, error) {
	return db.Locate(ctx, db.LocateOptions{URL: os.Getenv("DATABASE_URL"), Database: "biobank", DataDir: ".data"})
}

// openDB opens and migrates the database, without limits (command-line tools).
func openDB(ctx context.Context) (*db.DB, error) {
	return openDBWith(ctx, db.Limits{})
}

// openDBWith opens and migrates the database with the given limits (the web server).
func openDBWith(ctx context.Context, limits db.Limits) (*db.DB, error) {
	u, err := databaseURL(ctx)
	if err != nil {
		return nil, err
	}
	d, err := db.OpenWith(ctx, u, limits)
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// webConfig reads the server configuration from the environment; addr overrides
// BIOBANK_ADDR when set.
func webConfig(addr string) (web.Config, error) {
	cfg := web.Config{Addr: addr}
	if cfg.Addr == "" {
		cfg.Addr = os.Getenv("BIOBANK_ADDR")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return cfg, usageError(fmt.Sprintf("BIOBANK_ADDR %q is not host:port", cfg.Addr))
	}
	cfg.BaseURL = os.Getenv("BIOBANK_BASE_URL")
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.Addr
	}
	if _, err := url.Parse(cfg.BaseURL); err != nil {
		return cfg, usageError("BIOBANK_BASE_URL is not a URL")
	}
	loopback := host == "localhost" || (net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback())
	cfg.SecureCookies = !loopback
	if v := os.Getenv("BIOBANK_SECURE_COOKIES"); v != "" {
		if cfg.SecureCookies, err = strconv.ParseBool(v); err != nil {
			return cfg, usageError("BIOBANK_SECURE_COOKIES must be true or false")
		}
	}
	if cfg.IdleTimeout, err = envDuration("BIOBANK_SESSION_IDLE_TIMEOUT", 30*time.Minute); err != nil {
		return cfg, err
	}
	if cfg.SessionLifetime, err = envDuration("BIOBANK_SESSION_LIFETIME", 12*time.Hour); err != nil {
		return cfg, err
	}
	if os.Getenv("BIOBANK_REQUEST_TIMEOUT") != "" {
		if cfg.RequestTimeout, err = envDuration("BIOBANK_REQUEST_TIMEOUT", 0); err != nil {
			return cfg, err
		}
	}
	if cfg.AccessionPrefix = os.Getenv("BIOBANK_ACCESSION_PREFIX"); cfg.AccessionPrefix != "" {
		if err := sample.CheckPrefix(cfg.AccessionPrefix); err != nil {
			return cfg, usageError("BIOBANK_ACCESSION_PREFIX: " + err.Error())
		}
	}
	return cfg, nil
}

// identity is this instance's name and signing key: BIOBANK_INSTANCE (default biobank- and
// the accession prefix), and the key from BIOBANK_INSTANCE_KEY or the file BIOBANK_KEY_FILE
// (default .data/instance.key, created on first start).
func identity(cfg web.Config) (*instance.Identity, error) {
	name := strings.TrimSpace(os.Getenv("BIOBANK_INSTANCE"))
	if name == "" {
		prefix := cfg.AccessionPrefix
		if prefix == "" {
			prefix = sample.DefaultPrefix
		}
		name = "biobank-" + strings.ToLower(prefix)
	}
	path := os.Getenv("BIOBANK_KEY_FILE")
	if path == "" {
		path = filepath.Join(".data", "instance.key")
	}
	key, err := instance.LoadKey(os.Getenv("BIOBANK_INSTANCE_KEY"), path)
	if err != nil {
		return nil, usageError(err.Error())
	}
	return &instance.Identity{Name: name, Private: key}, nil
}

// dbLimits reads the web server's database limits from the environment.
func dbLimits() (db.Limits, error) {
	var l db.Limits
	var err error
	if l.StatementTimeout, err = envDuration("BIOBANK_DB_STATEMENT_TIMEOUT", db.DefaultLimits.StatementTimeout); err != nil {
		return l, err
	}
	if l.PoolWait, err = envDuration("BIOBANK_DB_POOL_WAIT", db.DefaultLimits.PoolWait); err != nil {
		return l, err
	}
	return l, nil
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageError(fmt.Sprintf("%s must be a positive duration such as 30m or 1h", name))
	}
	return d, nil
}
