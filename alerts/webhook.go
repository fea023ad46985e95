package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/drift"
)

// Webhook is one place alerts are POSTed to.
type Webhook struct {
	// Name identifies the webhook in the outbox, in logs and in the
	// warden_alert_deliveries_total metric. Required and unique.
	Name string
	// URL is where payloads are POSTed. It may hold a secret (Slack's
	// and Teams' do): it is never logged or put in an error.
	URL string
	// Format is FormatSlack, FormatTeams or FormatGeneric.
	Format string
	// Header is sent with every request (tokens for the receiver). Its
	// values are never logged.
	Header http.Header
	// Secret, when set, signs every body: the header
	// Warden-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(Secret,
	// "<t>." || body)>.
	Secret []byte
	// Client sends the requests; the caller gives it the transport and
	// TLS rules of its upstreams. Default: a client with no proxy.
	// Redirects are never followed.
	Client *http.Client
	// Timeout bounds one attempt. Default 5s.
	Timeout time.Duration
	// MinSeverity is the lowest severity sent. Default info (all).
	MinSeverity drift.Severity
}

// wants reports whether the webhook takes alerts of severity s.
func (w *Webhook) wants(s string) bool {
	return drift.Severity(s).Rank() >= w.MinSeverity.Rank()
}

// outcome of one attempt.
type outcome int

const (
	delivered outcome = iota
	retry             // try again later
	refused           // the receiver refused it for good (4xx other than 408, 429)
)

// errRedirect stops the client at a redirect.
var errRedirect = errors.New("the webhook answered with a redirect")

// send POSTs a to the webhook once. The error never names the URL.
func (w *Webhook) send(ctx context.Context, a Alert, now time.Time) (outcome, int, time.Duration, error) {
	body, err := payload(w.Format, a)
	if err != nil {
		return refused, 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return refused, 0, 0, errors.New("the webhook URL is not valid")
	}
	for k, vs := range w.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "warden-alerts")
	if len(w.Secret) > 0 {
		ts := strconv.FormatInt(now.Unix(), 10)
		m := hmac.New(sha256.New, w.Secret)
		m.Write([]byte(ts + "."))
		m.Write(body)
		req.Header.Set("Warden-Signature", "t="+ts+",v1="+hex.EncodeToString(m.Sum(nil)))
	}
	c := *w.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the URL
		}
		if errors.Is(err, errRedirect) {
			return refused, 0, 0, errRedirect
		}
		if ctx.Err() != nil {
			return retry, 0, 0, fmt.Errorf("no answer within %s", w.Timeout)
		}
		return retry, 0, 0, fmt.Errorf("send failed: %s", redactURL(err.Error(), w.URL))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return delivered, resp.StatusCode, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return retry, resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), now), fmt.Errorf("the webhook answered %d", resp.StatusCode)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return refused, resp.StatusCode, 0, errRedirect
	}
	return refused, resp.StatusCode, 0, fmt.Errorf("the webhook refused the alert (%d)", resp.StatusCode)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); 0
// when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redactURL removes u (and its host) from msg.
func redactURL(msg, u string) string {
	if u != "" {
		msg = strings.ReplaceAll(msg, u, "(webhook URL)")
	}
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		msg = strings.ReplaceAll(msg, p.Host, "(webhook host)")
	}
	return msg
}
