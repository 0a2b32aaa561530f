// Package printtest is a ZPL label printer for tests: a real TCP listener that answers the
// host status query (~HS) as a printer does — or, as told, never answers, or reports paper
// out — and keeps every byte of the labels it receives.
package printtest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Modes of a Printer.
const (
	Ready    = "ready"
	Silent   = "silent"    // accepts connections, never answers
	PaperOut = "paper_out" // answers that it is out of paper
	Reset    = "reset"     // answers, then resets the connection instead of taking labels
)

// Printer is a fake label printer listening on a loopback port.
type Printer struct {
	ln      net.Listener
	mode    string
	mu      sync.Mutex
	jobs    [][]byte
	arrived chan struct{}
}

// New starts a printer in mode; it stops when the test ends.
func New(tb testing.TB, mode string) *Printer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Printer{ln: ln, mode: mode, arrived: make(chan struct{}, 64)}
	tb.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

// Addr is the printer's host:port.
func (p *Printer) Addr() string { return p.ln.Addr().String() }

func (p *Printer) serve() {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(conn)
	}
}

// status is a ~HS answer: three STX … ETX strings; the second field of the first is the
// paper-out flag.
func status(paperOut bool) string {
	flag := "0"
	if paperOut {
		flag = "1"
	}
	return "\x02030," + flag + ",0,1245,000,0,0,0,000,0,0,0\x03\r\n\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n"
}

func (p *Printer) handle(conn net.Conn) {
	defer conn.Close()
	probe := make([]byte, 3)
	if _, err := io.ReadFull(conn, probe); err != nil || string(probe) != "~HS" {
		return
	}
	switch p.mode {
	case Silent:
		time.Sleep(10 * time.Second)
		return
	case PaperOut:
		_, _ = conn.Write([]byte(status(true)))
		return
	}
	if _, err := conn.Write([]byte(status(false))); err != nil {
		return
	}
	if p.mode == Reset {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		return
	}
	// The labels, then a status query that asks for the printer's acknowledgement.
	var body []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := conn.Read(buf)
		body = append(body, buf[:n]...)
		if bytes.HasSuffix(body, []byte("~HS")) {
			body = body[:len(body)-3]
			if _, err := conn.Write([]byte(status(false))); err != nil {
				return
			}
		}
		if err != nil {
			break
		}
	}
	p.mu.Lock()
	p.jobs = append(p.jobs, body)
	p.mu.Unlock()
	p.arrived <- struct{}{}
}

// Received waits (up to 10 s) for the next job the printer gets and returns its bytes.
func (p *Printer) Received(tb testing.TB) []byte {
	tb.Helper()
	select {
	case <-p.arrived:
	case <-time.After(10 * time.Second):
		tb.Fatal("the printer received nothing")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jobs[len(p.jobs)-1]
}
