package sample_test

import (
	"sort"
	"strings"
	"testing"

	"biobank/internal/apperr"
	"biobank/internal/sample"
)

var allActions = []sample.Action{sample.ActReceive, sample.ActUndoReceive, sample.ActPlace, sample.ActCheckOut,
	sample.ActCheckIn, sample.ActAliquot, sample.ActProcess, sample.ActDispatch, sample.ActArrive, sample.ActConsume,
	sample.ActDestroy, sample.ActLose}

// designMachine is the status machine of DESIGN.md, written out independently of the
// package's table: from each status, the allowed actions and where they lead.
func designMachine() map[sample.Status]map[sample.Action]sample.Status {
	ends := func(m map[sample.Action]sample.Status) map[sample.Action]sample.Status {
		m[sample.ActConsume], m[sample.ActDestroy], m[sample.ActLose] = sample.Consumed, sample.Destroyed, sample.Lost
		return m
	}
	return map[sample.Status]map[sample.Action]sample.Status{
		sample.Collected: ends(map[sample.Action]sample.Status{sample.ActReceive: sample.Received}),
		sample.Received: ends(map[sample.Action]sample.Status{sample.ActUndoReceive: sample.Collected, sample.ActPlace: sample.Stored,
			sample.ActAliquot: sample.Received, sample.ActProcess: sample.Received, sample.ActDispatch: sample.InTransit}),
		sample.Stored: ends(map[sample.Action]sample.Status{sample.ActCheckOut: sample.CheckedOut, sample.ActPlace: sample.Stored,
			sample.ActAliquot: sample.Stored, sample.ActProcess: sample.Stored, sample.ActDispatch: sample.InTransit}),
		sample.CheckedOut: ends(map[sample.Action]sample.Status{sample.ActCheckIn: sample.Stored}),
		sample.InTransit:  ends(map[sample.Action]sample.Status{sample.ActArrive: sample.Received}),
		sample.Consumed:   {},
		sample.Destroyed:  {},
		sample.Lost:       {},
	}
}

// heldBlocks are the actions a hold forbids (DESIGN.md: a held sample can be viewed and moved
// but not aliquoted, checked out or shipped).
var heldBlocks = map[sample.Action]bool{sample.ActAliquot: true, sample.ActCheckOut: true, sample.ActDispatch: true}

// allowedInMessage reads the "Allowed now: a, b." list of a wrong_status message.
func allowedInMessage(msg string) []string {
	i := strings.Index(msg, "Allowed now: ")
	if i < 0 {
		return nil
	}
	list := strings.TrimSuffix(strings.TrimSpace(msg[i+len("Allowed now: "):]), ".")
	return strings.Split(list, ", ")
}

func TestNext_EveryStatusAndAction(t *testing.T) {
	machine := designMachine()
	if len(machine) != len(sample.Statuses) {
		t.Fatalf("the test covers %d statuses, the package has %d", len(machine), len(sample.Statuses))
	}
	for _, st := range sample.Statuses {
		for _, act := range allActions {
			for _, held := range []bool{false, true} {
				name := string(st) + "/" + string(act)
				if held {
					name += "/held"
				}
				t.Run(name, func(t *testing.T) {
					s := sample.Sample{Accession: "AC00000001XY", Status: st}
					if held {
						s.Hold, s.HoldKind, s.HoldReason = true, sample.HoldQuality, "haemolysed"
					}
					next, err := sample.Next(s, act)
					want, allowed := machine[st][act]
					switch {
					case allowed && held && heldBlocks[act]:
						c, ok := apperr.AsConflict(err)
						if !ok || c.Code != "sample_on_hold" {
							t.Fatalf("Next = %q, %v; want conflict sample_on_hold", next, err)
						}
						if !strings.Contains(c.Message, s.Accession) || !strings.Contains(c.Message, "haemolysed") {
							t.Errorf("hold message %q should name the sample and the hold", c.Message)
						}
					case allowed:
						if err != nil || next != want {
							t.Fatalf("Next = %q, %v; want %q", next, err, want)
						}
					default:
						c, ok := apperr.AsConflict(err)
						if !ok || c.Code != "wrong_status" {
							t.Fatalf("Next = %q, %v; want conflict wrong_status", next, err)
						}
						if !strings.Contains(c.Message, st.Label()) {
							t.Errorf("message %q does not name the status %q", c.Message, st.Label())
						}
						var wantList []string
						for a := range machine[st] {
							wantList = append(wantList, string(a))
						}
						sort.Strings(wantList)
						got := allowedInMessage(c.Message)
						if len(wantList) == 0 {
							if got != nil || !strings.Contains(c.Message, "life has ended") {
								t.Errorf("terminal message %q should say nothing more can be done", c.Message)
							}
							return
						}
						if strings.Join(got, "|") != strings.Join(wantList, "|") {
							t.Errorf("message %q allows %q, want %q", c.Message, got, wantList)
						}
					}
				})
			}
		}
	}
}

func TestNext_HoldBlocksOnlyAliquotCheckOutAndDispatch(t *testing.T) {
	held := func(st sample.Status) sample.Sample {
		return sample.Sample{Accession: "AC00000001XY", Status: st, Hold: true, HoldKind: sample.HoldConsent, HoldReason: "letter"}
	}
	cases := []struct {
		status  sample.Status
		action  sample.Action
		blocked bool
	}{
		{sample.Received, sample.ActAliquot, true},
		{sample.Stored, sample.ActAliquot, true},
		{sample.Stored, sample.ActCheckOut, true},
		{sample.Received, sample.ActDispatch, true},
		{sample.Stored, sample.ActDispatch, true},
		{sample.Collected, sample.ActReceive, false},
		{sample.Received, sample.ActProcess, false},
		{sample.Stored, sample.ActProcess, false},
		{sample.Received, sample.ActPlace, false},
		{sample.Stored, sample.ActPlace, false},
		{sample.CheckedOut, sample.ActCheckIn, false},
		{sample.InTransit, sample.ActArrive, false},
		{sample.Stored, sample.ActDestroy, false},
		{sample.Stored, sample.ActLose, false},
	}
	for _, c := range cases {
		t.Run(string(c.status)+"/"+string(c.action), func(t *testing.T) {
			_, err := sample.Next(held(c.status), c.action)
			if c.blocked {
				wantConflict(t, err, "sample_on_hold")
			} else if err != nil {
				t.Fatalf("a held sample should allow %s: %v", c.action, err)
			}
		})
	}
}

func TestNext_TerminalStatusesAllowNothing(t *testing.T) {
	for _, st := range []sample.Status{sample.Consumed, sample.Destroyed, sample.Lost} {
		if !st.Terminal() {
			t.Errorf("%s should be terminal", st)
		}
		for _, act := range allActions {
			next, err := sample.Next(sample.Sample{Accession: "AC00000001XY", Status: st}, act)
			if c := wantConflict(t, err, "wrong_status"); !strings.Contains(c.Message, st.Label()) {
				t.Errorf("%s/%s: message %q does not name the status", st, act, c.Message)
			}
			if next != "" {
				t.Errorf("%s/%s: next %q", st, act, next)
			}
		}
	}
	for _, st := range []sample.Status{sample.Collected, sample.Received, sample.Stored, sample.CheckedOut, sample.InTransit} {
		if st.Terminal() {
			t.Errorf("%s should not be terminal", st)
		}
	}
}
