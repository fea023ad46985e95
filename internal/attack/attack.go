// Package attack is Warden's catalogue of attacks on the protection
// boundary and the runner that throws them at a gateway: values hidden
// in fields, keys, numbers and opaque blobs, split across parts, dressed
// in Unicode or encodings, requests a provider would read otherwise than
// the gateway, and model output that leaks. The gateway's security tests
// (cmd/warden) and `warden probe` use this one list, so what CI checks
// is what an operator can check against a running gateway.
//
// Each attack is a request (and, for response-side attacks, the reply a
// scripted upstream gives) with the raw values that must not get through
// and the outcome a sealed boundary gives: the request passes with every
// raw value replaced (Protected), is refused (Refused), or the caller
// receives the model's answer with the leaked values rewritten (Masked).
package attack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Outcome is what a sealed boundary does with an attack.
type Outcome int

const (
	// Protected: the request reaches the upstream with none of the raw
	// values in it.
	Protected Outcome = iota
	// Refused: the request is refused with a 4xx and nothing reaches the
	// upstream.
	Refused
	// Masked: the upstream's reply reaches the caller with none of the
	// raw values in it.
	Masked
)

func (o Outcome) String() string {
	return [...]string{"protected", "refused", "masked"}[o]
}

// Attack is one attempt to get a value across the boundary.
type Attack struct {
	// Class groups attacks by the gap they probe (fields, keys, unicode …).
	Class string
	// Name says what the attack does, as a test name
	// ("email in a tool description").
	Name string
	// Path is the API path below the base URL (/v1/chat/completions).
	Path string
	// Body is the request body; {{MODEL}} is replaced by the model the
	// runner uses for the path's API.
	Body string
	// Header are extra request headers.
	Header map[string]string
	// Raw are the values that must not get through: to the upstream
	// (Protected, Refused) or to the caller (Masked).
	Raw []string
	// Want is the outcome a sealed boundary gives.
	Want Outcome
	// Reply, for Masked attacks, is what the scripted upstream answers.
	Reply *Reply
}

// Reply is a scripted upstream answer.
type Reply struct {
	ContentType string // default application/json
	Body        string
}

// Result is what happened to one attack.
type Result struct {
	Attack *Attack
	// Pass says the boundary held.
	Pass bool
	// Skipped says the target cannot judge this attack (a remote
	// gateway without a view of its upstream, or a scripted reply).
	Skipped bool
	// Why explains a failure or a skip, naming no raw value.
	Why    string
	Status int
}

// Target is a gateway to probe.
type Target struct {
	// BaseURL is the gateway's URL without /v1 (http://127.0.0.1:8080).
	BaseURL string
	// Key is an API key the gateway accepts, with the models below.
	Key string
	// ChatModel, MessagesModel are the models used for OpenAI- and
	// Anthropic-shaped attacks. Default gpt-4o-mini and claude-sonnet-4-5.
	ChatModel, MessagesModel string
	// Upstream, when set, tells what the upstream received since the
	// last call and scripts its next reply. Without it, Protected and
	// Masked attacks are skipped: only refusals can be judged.
	Upstream Upstream
	// Client sends the requests. Default a client with a 30 s timeout.
	Client *http.Client
}

// Upstream is the probe's view of the gateway's upstream.
type Upstream interface {
	// Script sets the reply to the next request (nil: the stand-in's
	// own answer) and forgets what was received so far.
	Script(r *Reply)
	// Received returns the bodies and header values the upstream got
	// since Script.
	Received() [][]byte
	// CanScript reports whether Script's reply is honoured.
	CanScript() bool
}

// Run throws every attack at the target, one at a time, and returns a
// result for each.
func Run(ctx context.Context, t Target, attacks []Attack) []Result {
	if t.ChatModel == "" {
		t.ChatModel = "gpt-4o-mini"
	}
	if t.MessagesModel == "" {
		t.MessagesModel = "claude-sonnet-4-5"
	}
	if t.Client == nil {
		t.Client = &http.Client{Timeout: 30 * time.Second}
	}
	out := make([]Result, 0, len(attacks))
	for i := range attacks {
		out = append(out, runOne(ctx, t, &attacks[i]))
	}
	return out
}

func runOne(ctx context.Context, t Target, a *Attack) Result {
	res := Result{Attack: a}
	if t.Upstream == nil && a.Want != Refused {
		res.Skipped, res.Why = true, "needs a view of the upstream (--upstream-record or the in-process stand-in)"
		return res
	}
	if a.Reply != nil && (t.Upstream == nil || !t.Upstream.CanScript()) {
		res.Skipped, res.Why = true, "needs a scripted upstream (the in-process stand-in)"
		return res
	}
	if t.Upstream != nil {
		t.Upstream.Script(a.Reply)
	}
	model := t.ChatModel
	if strings.HasPrefix(a.Path, "/v1/messages") {
		model = t.MessagesModel
	}
	body := strings.ReplaceAll(a.Body, "{{MODEL}}", model)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.BaseURL+a.Path, strings.NewReader(body))
	if err != nil {
		res.Why = "building the request: " + err.Error()
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(a.Path, "/v1/messages") {
		req.Header.Set("X-Api-Key", t.Key)
		req.Header.Set("Anthropic-Version", "2023-06-01")
	} else {
		req.Header.Set("Authorization", "Bearer "+t.Key)
	}
	for k, v := range a.Header {
		req.Header.Set(k, v)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		res.Why = "the request failed: " + err.Error()
		return res
	}
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	res.Status = resp.StatusCode
	var upstream [][]byte
	if t.Upstream != nil {
		upstream = t.Upstream.Received()
	}
	switch a.Want {
	case Refused:
		switch {
		case resp.StatusCode < 400 || resp.StatusCode >= 500:
			res.Why = fmt.Sprintf("want a 4xx refusal, got %d", resp.StatusCode)
		case len(upstream) > 0:
			res.Why = "refused, but the upstream was called"
		default:
			res.Pass = true
		}
	case Protected:
		switch {
		case len(upstream) == 0:
			res.Why = fmt.Sprintf("nothing reached the upstream (status %d): protected requests should pass", resp.StatusCode)
		default:
			if i := rawIn(a.Raw, upstream...); i >= 0 {
				res.Why = fmt.Sprintf("raw value #%d reached the upstream", i+1)
			} else {
				res.Pass = true
			}
		}
	case Masked:
		switch {
		case resp.StatusCode >= 300:
			// Refusing the whole answer also keeps the value in; it is a
			// pass, though a rough one.
			res.Pass, res.Why = true, fmt.Sprintf("answered %d", resp.StatusCode)
		default:
			if i := rawIn(a.Raw, got); i >= 0 {
				res.Why = fmt.Sprintf("raw value #%d reached the caller", i+1)
			} else {
				res.Pass = true
			}
		}
	}
	return res
}

// rawIn returns the index of the first raw value found in any of bufs,
// literally or JSON-escaped, or -1.
func rawIn(raw []string, bufs ...[]byte) int {
	for i, r := range raw {
		esc, _ := json.Marshal(r)
		esc = esc[1 : len(esc)-1]
		for _, b := range bufs {
			if bytes.Contains(b, []byte(r)) || bytes.Contains(b, esc) {
				return i
			}
		}
	}
	return -1
}

// Canaries returns every raw value of the attacks, for checking logs,
// metrics, traces and audit entries afterwards.
func Canaries(attacks []Attack) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range attacks {
		for _, r := range a.Raw {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}
