package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"biobank/internal/app"
	"biobank/internal/audit"
	"biobank/internal/auth"
	"biobank/internal/bench"
	"biobank/internal/db"
	"biobank/internal/seed"
	"biobank/web"
)

func cmdMigrate(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	if err := parseFlags(newFlags("migrate"), args); err != nil {
		return err
	}
	d, err := openDB(ctx)
	if err != nil {
		return err
	}
	d.Close()
	fmt.Fprintln(out, "the database schema is current")
	return nil
}

func cmdServe(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("serve")
	addr := fs.String("addr", "", "listen address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return serve(ctx, *addr, out, nil)
}

// cmdDev is `make run`: everything a developer needs from a fresh clone.
func cmdDev(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("dev")
	addr := fs.String("addr", "", "listen address")
	size := fs.Int("demo-participants", seed.ParticipantsPerStudySite, "demo participants per study and site")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return serve(ctx, *addr, out, &seed.Options{ParticipantsPerStudySite: *size})
}

// serve migrates and serves; with demo set (biobank dev) it first loads the demonstration
// data into an empty database and prints the logins.
func serve(ctx context.Context, addr string, out io.Writer, demo *seed.Options) error {
	dev := demo != nil
	cfg, err := webConfig(addr)
	if err != nil {
		return err
	}
	limits, err := dbLimits()
	if err != nil {
		return err
	}
	if cfg.Identity, err = identity(cfg); err != nil {
		return err
	}
	if dev {
		if err := loadDemo(ctx, out, *demo); err != nil {
			return err
		}
	}
	d, err := openDBWith(ctx, limits)
	if err != nil {
		return err
	}
	defer d.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set BIOBANK_ADDR or --addr to use another address)", cfg.Addr, err)
	}
	srv := web.New(cfg, d)
	if err := srv.Recover(ctx); err != nil {
		return err
	}
	if dev {
		fmt.Fprintf(out, "\nBiobank is running at %s\n", cfg.BaseURL)
		fmt.Fprintf(out, "Sign in as admin / %s  (demo accounts, all with that password:", seed.DemoPassword)
		for _, l := range seed.DemoLogins {
			fmt.Fprintf(out, " %s", l.Username)
		}
		fmt.Fprint(out, ")\nPress Ctrl+C to stop.\n\n")
	}
	slog.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL)
	return srv.Serve(ctx, ln)
}

// loadDemo loads the demonstration data when the database is empty, on a connection
// without the web server's statement timeout.
func loadDemo(ctx context.Context, out io.Writer, demo seed.Options) error {
	d, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	empty, err := seed.Empty(ctx, d)
	if err != nil || !empty {
		return err
	}
	fmt.Fprintln(out, "loading the demonstration data into the empty database…")
	sum, err := seed.DemoWith(ctx, d, demo)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, sum)
	return nil
}

func cmdSiteCreate(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("site create")
	var in auth.SiteInput
	fs.StringVar(&in.Code, "code", "", "site code")
	fs.StringVar(&in.Name, "name", "", "site name")
	fs.StringVar(&in.Country, "country", "", "ISO country code")
	fs.StringVar(&in.Reason, "reason", "created from the command line", "reason for the audit trail")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "code", "name", "country"); err != nil {
		return err
	}
	d, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	site, err := app.New(d, app.Config{}).Auth.CreateSite(ctx, auth.CommandLine, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "site %s created\n", site.Code)
	return nil
}

func cmdUserCreate(ctx context.Context, args []string, stdin io.Reader, out io.Writer) error {
	fs := newFlags("user create")
	var in auth.NewUser
	fs.StringVar(&in.Username, "username", "", "username")
	fs.StringVar(&in.Role, "role", "", "admin, manager, technician or nurse")
	fs.StringVar(&in.Site, "site", "", "site code")
	fs.StringVar(&in.Reason, "reason", "created from the command line", "reason for the audit trail")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "username", "role", "site"); err != nil {
		return err
	}
	if !*pwStdin {
		return usageError("--password-stdin is required: the password is read from standard input, never from the command line")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	in.Password = strings.TrimRight(line, "\r\n")
	d, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := app.New(d, app.Config{}).Auth.CreateUser(ctx, auth.CommandLine, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s (%s at %s) created\n", u.Username, u.Role, u.Site.Code)
	return nil
}

func cmdTokenCreate(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("token create")
	username := fs.String("username", "", "user the token acts as")
	name := fs.String("name", "", "what the token is for")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "username"); err != nil {
		return err
	}
	d, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	secret, _, err := app.New(d, app.Config{}).Auth.CreateToken(ctx, auth.CommandLine, *username, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, secret)
	return nil
}

func cmdSeed(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("seed")
	demo := fs.Bool("demo", false, "load the demonstration data set")
	size := fs.Int("participants", seed.ParticipantsPerStudySite, "demo participants per study and site")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*demo {
		return usageError("say what to load: --demo")
	}
	d, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	sum, err := seed.DemoWith(ctx, d, seed.Options{ParticipantsPerStudySite: *size})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, sum)
	return nil
}

func cmdAuditVerify(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	if err := parseFlags(newFlags("audit verify"), args); err != nil {
		return err
	}
	d, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := audit.Verify(ctx, d.Pool)
	if err != nil {
		return err
	}
	if !res.OK {
		fmt.Fprintf(out, "audit trail BROKEN at event %d: %s (%d events read)\n", res.FirstBad, res.Problem, res.Events)
		return exitError(1)
	}
	fmt.Fprintf(out, "audit trail intact: %d events, every hash recomputed and linked\n", res.Events)
	return nil
}

// required returns a usage error naming the first listed flag that was not given.
func required(fs *flag.FlagSet, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, n := range names {
		if !set[n] {
			return usageError("--" + n + " is required")
		}
	}
	return nil
}

func cmdBench(ctx context.Context, args []string, _ io.Reader, out io.Writer) error {
	fs := newFlags("bench")
	samples := fs.Int("samples", 1_000_000, "samples to generate")
	events := fs.Int("events", 1_000_000, "audit events to generate")
	requests := fs.Int("requests", 500, "requests per figure")
	dbURL := fs.String("database-url", "", "an empty database to use instead of a scratch one")
	keep := fs.Bool("keep", false, "keep the scratch database")
	force := fs.Bool("force", false, "use --database-url even though it holds data (it will be changed)")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *samples < 100 || *samples > 50_000_000:
		return usageError("--samples is from 100 to 50,000,000")
	case *events < 0 || *events > 100_000_000:
		return usageError("--events is from 0 to 100,000,000")
	case *requests < 5 || *requests > 1_000_000:
		return usageError("--requests is from 5 to 1,000,000")
	}
	o := bench.Options{DatabaseURL: *dbURL, Samples: *samples, Events: *events, Requests: *requests, Keep: *keep, Force: *force, JSON: *asJSON}
	if o.DatabaseURL == "" {
		server, err := benchServer(ctx)
		if err != nil {
			return err
		}
		o.ServerURL = server
	}
	_, err := bench.Run(ctx, o, out)
	return err
}

// benchServer is the maintenance database of DATABASE_URL's server, or of the local
// development server found or started as for make run.
func benchServer(ctx context.Context) (string, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		parsed, err := url.Parse(u)
		if err != nil {
			return "", usageError("DATABASE_URL is not a URL")
		}
		parsed.Path = "/postgres"
		return parsed.String(), nil
	}
	return db.Locate(ctx, db.LocateOptions{Database: "postgres", DataDir: ".data"})
}
