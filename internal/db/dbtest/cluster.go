package dbtest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"biobank/internal/db"
)

// Cluster is a private PostgreSQL server of one test (db.StartCluster in a temporary
// directory), for tests that stop, freeze or restart the database.
type Cluster struct {
	Dir  string
	Port int
}

// NewCluster returns an empty directory and a free port for a private cluster, which is
// stopped (and thawed first, if frozen) when the test ends. It does not start it.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	dir := tb.TempDir()
	// When the tests run as root the cluster runs as the postgres user, which must be
	// able to reach dir: t.TempDir makes it and its parent private (0700).
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	c := &Cluster{Dir: dir, Port: FreePort(tb)}
	tb.Cleanup(func() {
		c.signal(tb, syscall.SIGCONT)
		if err := db.StopCluster(context.Background(), dir); err != nil {
			tb.Errorf("stop cluster: %v", err)
		}
	})
	return c
}

// PGData is the cluster's data directory.
func (c *Cluster) PGData() string { return filepath.Join(c.Dir, "pg") }

// Start starts (or finds running) the cluster and returns its maintenance URL.
func (c *Cluster) Start(ctx context.Context) (string, error) {
	return db.StartCluster(ctx, c.Dir, c.Port)
}

// Stop stops the cluster as an operator would (pg_ctl stop).
func (c *Cluster) Stop(ctx context.Context) error {
	return db.StopCluster(ctx, c.Dir)
}

// Freeze stops every process of the running cluster with SIGSTOP: connections stay open
// and new ones are accepted by the kernel, but nothing answers (a hung server, a full
// disk, a network partition). Thaw undoes it.
func (c *Cluster) Freeze(tb testing.TB) { c.signal(tb, syscall.SIGSTOP) }

// Thaw resumes a frozen cluster.
func (c *Cluster) Thaw(tb testing.TB) { c.signal(tb, syscall.SIGCONT) }

// signal sends sig to the postmaster and its children, when a server runs.
func (c *Cluster) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	pid, ok := PostmasterPID(c.PGData())
	if !ok {
		return
	}
	pids := append([]int{pid}, children(pid)...)
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil && err != syscall.ESRCH {
			tb.Errorf("signal %v to process %d: %v", sig, p, err)
		}
	}
}

// PostmasterPID reads the process id of the server running in pgdata.
func PostmasterPID(pgdata string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return pid, err == nil
}

// children lists the processes whose parent is pid (from /proc).
func children(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after the last ')'.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) >= 2 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// FreePort returns a TCP port nothing listens on at the moment.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
