package attack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/wardenhq/warden/internal/standin"
)

// Scripted is an upstream for probing: it records every request (body
// and header values) and answers with the scripted reply, or, with none
// scripted, as the echo stand-in does. It is an http.Handler and an
// Upstream.
type Scripted struct {
	echo  http.Handler
	mu    sync.Mutex
	reply *Reply
	got   [][]byte
}

var _ Upstream = (*Scripted)(nil)

// NewScripted returns a scripted upstream that serves models.
func NewScripted(models ...string) *Scripted {
	return &Scripted{echo: standin.New(standin.Options{Models: models})}
}

// CanScript reports that replies can be scripted.
func (s *Scripted) CanScript() bool { return true }

// Script sets the next reply and forgets what was received.
func (s *Scripted) Script(r *Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply, s.got = r, nil
}

// Received returns what the upstream got since Script: each request's
// body, then its header values.
func (s *Scripted) Received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

// ServeHTTP records the request and answers it.
func (s *Scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	s.mu.Lock()
	s.got = append(s.got, body, headerText(r.Header))
	reply := s.reply
	s.mu.Unlock()
	if reply == nil || r.Method != http.MethodPost {
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.echo.ServeHTTP(w, r)
		return
	}
	ct := reply.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	io.WriteString(w, reply.Body)
}

func headerText(h http.Header) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(k + ": " + strings.Join(h[k], ", ") + "\n")
	}
	return b.Bytes()
}

// RecordFile is the view of a remote gateway's upstream that a stand-in
// recording to a JSONL file gives (e2e/cmd/standin -record FILE): each
// line one request with its header and body. It cannot script replies,
// so response-side attacks are skipped against it.
type RecordFile struct {
	Path string
	off  int64
}

// CanScript reports that replies cannot be scripted.
func (f *RecordFile) CanScript() bool { return false }

// Script remembers where the file ends now; scripted replies are not
// supported (Run skips attacks that need one).
func (f *RecordFile) Script(*Reply) {
	if st, err := os.Stat(f.Path); err == nil {
		f.off = st.Size()
	}
}

// Received returns the requests recorded since Script.
func (f *RecordFile) Received() [][]byte {
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	if _, err := fh.Seek(f.off, io.SeekStart); err != nil {
		return nil
	}
	var out [][]byte
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var rec struct {
			Header map[string][]string `json:"header"`
			Body   string              `json:"body"`
		}
		line := append([]byte(nil), sc.Bytes()...)
		if json.Unmarshal(line, &rec) != nil {
			out = append(out, line)
			continue
		}
		out = append(out, []byte(rec.Body), headerText(rec.Header))
	}
	return out
}
