package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"biobank/internal/apperr"
	"biobank/internal/auth"
	"biobank/internal/db"
	"biobank/internal/sample"
)

// Job statuses.
const (
	Running   = "running"
	Done      = "done"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// insertChunk is how many samples one insert statement of the real run writes; progress
// and cancellation are seen between chunks.
const insertChunk = 5_000

// Service imports legacy collections.
type Service struct {
	DB      *db.DB
	Samples *sample.Service
	Now     func() time.Time

	mu   sync.Mutex
	jobs map[int64]*job
}

// NewService returns the import service on d.
func NewService(d *db.DB, samples *sample.Service) *Service {
	return &Service{DB: d, Samples: samples, Now: func() time.Time { return time.Now().UTC() }, jobs: map[int64]*job{}}
}

// Report is a dry run's outcome: how many rows the file has and every problem found.
type Report struct {
	Rows   int        `json:"rows"`
	Errors []RowError `json:"errors"`
}

// Job is an import as its page and the API show it.
type Job struct {
	ID       int64         `json:"job"`
	Status   string        `json:"status"`
	FileName string        `json:"file_name"`
	Rows     int           `json:"rows"`
	Done     int           `json:"done"`
	Rate     float64       `json:"rate"`
	Left     time.Duration `json:"-"`
	LeftS    int           `json:"seconds_left"`
	Error    string        `json:"error,omitempty"`
	Errors   []RowError    `json:"errors"`
}

// job is a running import's state, shared with its goroutine.
type job struct {
	Job
	started time.Time
	cancel  context.CancelFunc
}

var importRoles = []auth.Role{auth.RoleManager, auth.RoleAdmin}

// DryRun validates every row of a file — its format, then what it refers to, in SQL over
// the staged rows — and writes nothing.
func (s *Service) DryRun(ctx context.Context, actor auth.Actor, data []byte) (Report, error) {
	if err := actor.Require(importRoles...); err != nil {
		return Report{}, err
	}
	rows, errs, err := parse(data)
	if err != nil {
		return Report{}, apperr.Invalid("file", fmt.Sprintf("The file has more than %d rows: split it.", MaxRows))
	}
	rep := Report{Rows: len(rows) + countLines(errs), Errors: errs}
	if len(rows) > 0 {
		err = s.DB.Tx(ctx, func(tx *db.Tx) error {
			if err := tx.Exec("SET LOCAL statement_timeout = '2min'").Error; err != nil {
				return err
			}
			if err := stage(tx, rows, nil); err != nil {
				return err
			}
			found, err := validate(tx, actor)
			rep.Errors = append(rep.Errors, found...)
			if err != nil {
				return err
			}
			return errDryRun
		})
		if !errors.Is(err, errDryRun) {
			return Report{}, err
		}
	}
	if rep.Errors == nil {
		rep.Errors = []RowError{}
	}
	sortErrors(rep.Errors)
	return rep, nil
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("bulk: dry run")

// countLines is how many distinct data lines have problems (the header's do not count).
func countLines(errs []RowError) int {
	lines := map[int]bool{}
	for _, e := range errs {
		if e.Line > 1 {
			lines[e.Line] = true
		}
	}
	return len(lines)
}

// Start validates a file and, when it has no problem, imports it as a job running in the
// background; with problems it is refused (422) and nothing starts.
func (s *Service) Start(ctx context.Context, actor auth.Actor, fileName string, data []byte) (Job, error) {
	rep, err := s.DryRun(ctx, actor, data)
	if err != nil {
		return Job{}, err
	}
	if len(rep.Errors) > 0 {
		return Job{}, &RefusedError{Report: rep}
	}
	rows, _, _ := parse(data)
	j := &job{Job: Job{Status: Running, FileName: fileName, Rows: len(rows), Errors: []RowError{}}, started: time.Now()}
	err = s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Raw("INSERT INTO import_jobs (file_name, rows, created_by) VALUES (?, ?, ?) RETURNING id", fileName, len(rows), actor.ID()).
			Scan(&j.ID).Error; err != nil {
			return err
		}
		e := actor.Entry("import.start", "import_job", fmt.Sprint(j.ID))
		e.After = jobEvent{File: fileName, Rows: len(rows), Status: Running}
		tx.Record(e)
		return nil
	})
	if err != nil {
		return Job{}, fmt.Errorf("bulk: start: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	j.cancel = cancel
	s.mu.Lock()
	s.jobs[j.ID] = j
	s.mu.Unlock()
	go s.run(runCtx, actor, j, rows)
	return s.view(j), nil
}

// RefusedError is a real run refused because the file's dry run found problems.
type RefusedError struct{ Report Report }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("The file has %d problems: run the dry run, fix them, and import again.", len(e.Report.Errors))
}

type jobEvent struct {
	File    string `json:"file"`
	Rows    int    `json:"rows"`
	Done    int    `json:"done,omitempty"`
	Status  string `json:"status"`
	Problem string `json:"problem,omitempty"`
}

// AuditPayload marks jobEvent as an audit payload.
func (jobEvent) AuditPayload() {}

// run imports the rows in one transaction and records how the job ended.
func (s *Service) run(ctx context.Context, actor auth.Actor, j *job, rows []row) {
	err := s.DB.Tx(ctx, func(tx *db.Tx) error { return s.write(tx, actor, j, rows) })
	status, problem := Done, ""
	switch {
	case err == nil:
	case ctx.Err() != nil:
		status, problem = Cancelled, "cancelled: nothing was imported"
	default:
		status, problem = Failed, "failed, nothing was imported: "+errorText(err)
		slog.Error("import failed", "job", j.ID, "error", err)
	}
	s.mu.Lock()
	j.Status, j.Error = status, problem
	if status != Done {
		j.Done = 0
	}
	done := j.Done
	s.mu.Unlock()
	finish := func(tx *db.Tx) error {
		if err := tx.Exec("UPDATE import_jobs SET status = ?, done = ?, error = ?, finished_at = now() WHERE id = ?", status, done, problem, j.ID).Error; err != nil {
			return err
		}
		e := actor.Entry("import.finish", "import_job", fmt.Sprint(j.ID))
		e.After = jobEvent{File: j.FileName, Rows: j.Rows, Done: done, Status: status, Problem: problem}
		tx.Record(e)
		return nil
	}
	if err := s.DB.Tx(context.Background(), finish); err != nil {
		slog.Error("import: recording the end of the job failed", "job", j.ID, "error", err)
	}
	if j.cancel != nil {
		j.cancel()
	}
}

func errorText(err error) string {
	if v, ok := apperr.AsValidation(err); ok {
		return v.Message
	}
	if c, ok := apperr.AsConflict(err); ok {
		return c.Message
	}
	return "a database error (logged)"
}

// Job returns an import's state: from memory while this server runs it, else from its row.
func (s *Service) Job(ctx context.Context, actor auth.Actor, id int64) (Job, error) {
	if err := actor.Require(importRoles...); err != nil {
		return Job{}, err
	}
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if ok {
		return s.view(j), nil
	}
	var out Job
	err := s.DB.Gorm.WithContext(ctx).Raw("SELECT id, status, file_name, rows, done, error FROM import_jobs WHERE id = ?", id).
		Row().Scan(&out.ID, &out.Status, &out.FileName, &out.Rows, &out.Done, &out.Error)
	if db.ErrNoRows(err) {
		return Job{}, apperr.NotFound("import job", fmt.Sprint(id))
	}
	if err != nil {
		return Job{}, fmt.Errorf("bulk: job %d: %w", id, err)
	}
	out.Errors = []RowError{}
	return out, nil
}

// view is a snapshot of a job with its rate and time left.
func (s *Service) view(j *job) Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := j.Job
	if secs := time.Since(j.started).Seconds(); secs > 0 && v.Done > 0 {
		v.Rate = float64(v.Done) / secs
		if v.Status == Running {
			v.Left = time.Duration(float64(v.Rows-v.Done) / v.Rate * float64(time.Second))
			v.LeftS = int(v.Left.Seconds() + 0.5)
		}
	}
	return v
}

// Cancel stops a running import: its transaction rolls back and nothing of it stays.
func (s *Service) Cancel(ctx context.Context, actor auth.Actor, id int64) (Job, error) {
	if err := actor.Require(importRoles...); err != nil {
		return Job{}, err
	}
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if !ok {
		cur, err := s.Job(ctx, actor, id)
		if err != nil {
			return Job{}, err
		}
		return Job{}, apperr.Conflict("not_running", "job", fmt.Sprintf("Import %d is %s: there is nothing to cancel.", id, cur.Status))
	}
	if v := s.view(j); v.Status != Running {
		return Job{}, apperr.Conflict("not_running", "job", fmt.Sprintf("Import %d is %s: there is nothing to cancel.", id, v.Status))
	}
	j.cancel()
	return s.view(j), nil
}

// Wait blocks until the job is no longer running here (tests and the command line).
func (s *Service) Wait(ctx context.Context, id int64) (Job, error) {
	for {
		s.mu.Lock()
		j, ok := s.jobs[id]
		s.mu.Unlock()
		if !ok {
			return Job{}, apperr.NotFound("import job", fmt.Sprint(id))
		}
		if v := s.view(j); v.Status != Running {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return Job{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// RecoverInterrupted marks failed the jobs a stopped server left running: their
// transaction died with the server, so nothing of them was written.
func (s *Service) RecoverInterrupted(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.DB.Gorm.WithContext(ctx).Raw("SELECT id FROM import_jobs WHERE status = 'running'").Scan(&ids).Error; err != nil || len(ids) == 0 {
		return 0, err
	}
	ids = nil
	err := s.DB.Tx(ctx, func(tx *db.Tx) error {
		if err := tx.Raw(`UPDATE import_jobs SET status = 'failed', done = 0, finished_at = now(),
			error = 'interrupted: the server stopped during the import; nothing of it was written' WHERE status = 'running' RETURNING id`).
			Scan(&ids).Error; err != nil {
			return err
		}
		for _, id := range ids {
			e := auth.CommandLine.Entry("import.interrupted", "import_job", fmt.Sprint(id))
			e.After = jobEvent{Status: Failed, Problem: "interrupted"}
			tx.Record(e)
		}
		return nil
	})
	return len(ids), err
}
