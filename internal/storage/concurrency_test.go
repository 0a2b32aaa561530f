package storage_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"biobank/internal/apperr"
	"biobank/internal/storage"
)

// placeAll runs one placement per goroutine, all released at the same moment, and returns
// the results in input order.
func placeAll(n int, place func(i int) (storage.Placed, error)) ([]storage.Placed, []error) {
	placed, errs := make([]storage.Placed, n), make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			placed[i], errs[i] = place(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return placed, errs
}

func TestPlace_ConcurrentScansIntoOnePositionOneWins(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX1", "F1", "R1", 9, 9)
	tubes := w.mustAliquots(t, 10)
	_, errs := placeAll(len(tubes), func(i int) (storage.Placed, error) {
		return w.store.Place(ctx, w.tech, "BOX1", "E5", tubes[i].Accession)
	})
	winner := ""
	for i, err := range errs {
		if err == nil {
			if winner != "" {
				t.Fatalf("both %s and %s were placed at E5", winner, tubes[i].Accession)
			}
			winner = tubes[i].Accession
		}
	}
	if winner == "" {
		t.Fatalf("nobody was placed: %v", errs)
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		c, ok := apperr.AsConflict(err)
		if !ok || c.Code != "position_occupied" || !strings.Contains(c.Message, winner) {
			t.Errorf("%s: %v; want position_occupied naming %s", tubes[i].Accession, err, winner)
		}
		if got := w.where(t, tubes[i].Accession); got != "" {
			t.Errorf("loser %s is at %s", tubes[i].Accession, got)
		}
	}
	if got := w.occupant(t, "BOX1", "E5"); got != winner {
		t.Fatalf("E5 holds %q, want %s", got, winner)
	}
	var events int64
	if err := w.db.Gorm.Raw("SELECT count(*) FROM audit_events WHERE action = 'sample.place'").Scan(&events).Error; err != nil || events != 1 {
		t.Fatalf("%d place events, %v; want 1", events, err)
	}
}

func TestPlace_ConcurrentNextFreeNeverDoubleBooks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "BOX5", "F1", "", 5, 5)
	tubes := w.mustAliquots(t, 20)
	placed, errs := placeAll(len(tubes), func(i int) (storage.Placed, error) {
		return w.store.Place(ctx, w.tech, "BOX5", "", tubes[i].Accession)
	})
	seen := map[storage.Position]string{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", tubes[i].Accession, err)
		}
		p := placed[i].Position
		if other, dup := seen[p]; dup {
			t.Fatalf("%s and %s both at %s", other, tubes[i].Accession, p)
		}
		seen[p] = tubes[i].Accession
		if got := w.where(t, tubes[i].Accession); got != "BOX5 "+p.String() {
			t.Fatalf("%s reported at %s, stored at %q", tubes[i].Accession, p, got)
		}
	}
	// Row by row: the first 20 positions of the box, A1 … D5.
	for r := 1; r <= 4; r++ {
		for c := 1; c <= 5; c++ {
			if seen[storage.Position{Row: r, Col: c}] == "" {
				t.Fatalf("%s left empty: %v", storage.Position{Row: r, Col: c}, seen)
			}
		}
	}
	g, err := w.store.Grid(ctx, w.tech, "BOX5")
	if err != nil || g.Free != 5 {
		t.Fatalf("grid free %d %v", g.Free, err)
	}
}

func TestPlace_SameTubeIntoSeveralBoxesAtOnceEndsInOnePosition(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	boxes := []string{"BOX-A", "BOX-B", "BOX-C", "BOX-D"}
	for _, b := range boxes {
		w.mustBox(t, b, "F1", "", 9, 9)
	}
	for round := range 5 {
		tube := w.mustAliquots(t, 1)[0]
		position := storage.Position{Row: 1, Col: round + 1}.String()
		placed, errs := placeAll(len(boxes), func(i int) (storage.Placed, error) {
			return w.store.Place(ctx, w.tech, boxes[i], position, tube.Accession)
		})
		var count int64
		if err := w.db.Gorm.Raw("SELECT count(*) FROM sample_positions WHERE sample_id = ?", tube.ID).Scan(&count).Error; err != nil || count != 1 {
			t.Fatalf("round %d: %s has %d positions, %v", round, tube.Accession, count, err)
		}
		at := w.where(t, tube.Accession)
		// The placements went through one after the other, each later one a move; the
		// last to commit says where the tube is.
		moves := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: into %s: %v", round, boxes[i], err)
			}
			if placed[i].From != nil {
				moves++
			}
		}
		if moves != len(boxes)-1 {
			t.Fatalf("round %d: %d moves; want one place and %d moves", round, moves, len(boxes)-1)
		}
		last := location(t, w.onlyEvent(t, "sample.place", tube.Accession).After, "location")
		for _, e := range w.events(t, "sample.move", tube.Accession) {
			if from := location(t, e.Before, "location"); from != last {
				t.Fatalf("round %d: a move from %+v, but the tube was at %+v", round, from, last)
			}
			last = location(t, e.After, "location")
		}
		if at != last.Box+" "+last.Position {
			t.Fatalf("round %d: the tube is at %s but the last audit event put it at %s", round, at, last)
		}
	}
}

func TestImportRack_AgainstConcurrentScansIsAllOrNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.mustBox(t, "RACK1", "F1", "R1", 8, 12)
	tubes := w.mustAliquots(t, 17)
	imported, scanned := tubes[:12], tubes[12:]
	var b strings.Builder
	for i, smp := range imported {
		fmt.Fprintf(&b, "RACK1,A%d,%s\n", i+1, smp.Accession)
	}
	f, err := storage.ParseRackFile([]byte(b.String()), storage.RackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var importErr error
	_, errs := placeAll(len(scanned)+1, func(i int) (storage.Placed, error) {
		if i == len(scanned) {
			_, importErr = w.store.ImportRack(ctx, w.tech, f)
			return storage.Placed{}, nil
		}
		return w.store.Place(ctx, w.tech, "RACK1", "", scanned[i].Accession)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("scan %d: %v", i, err)
		}
	}
	placed := 0
	for i, smp := range imported {
		if at := w.where(t, smp.Accession); at != "" {
			placed++
			if at != fmt.Sprintf("RACK1 A%d", i+1) {
				t.Fatalf("%s imported to %s", smp.Accession, at)
			}
		}
	}
	switch c, _ := apperr.AsConflict(importErr); {
	case importErr == nil && placed == len(imported):
	case importErr != nil && placed == 0 && c != nil && (c.Code == "rack_not_clean" || c.Code == "position_occupied"):
	default:
		t.Fatalf("import: %v with %d of %d wells placed", importErr, placed, len(imported))
	}
	g, err := w.store.Grid(ctx, w.tech, "RACK1")
	if err != nil || g.Free != 96-len(scanned)-placed {
		t.Fatalf("grid free %d %v", g.Free, err)
	}
}
