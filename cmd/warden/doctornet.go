package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The network checks of `warden doctor`: upstreams, MCP servers, Redis.

// endpoint is one upstream or MCP server for checkNetwork.
type endpoint struct {
	name     string // check name
	key      string // config key: upstreams[0]
	use      string // certSet use: upstream:NAME
	rawURL   string
	tls      ClientTLSConfig
	insecure bool
	method   string
	path     string
	header   http.Header
	keyEnv   string // the variable holding the credential, for hints
	keySet   bool
}

// checkNetwork checks upstreams, MCP servers and Redis, at once.
func (d *doctor) checkNetwork(ctx context.Context) {
	var eps []endpoint
	if len(d.cfg.Upstreams) == 0 {
		d.add("upstream echo", statusOK, "the built-in echo upstream (no network)", "")
	}
	for i, u := range d.cfg.Upstreams {
		if u.URL == "" {
			d.add("upstream "+u.Name, statusOK, "the built-in echo upstream (no network)", "")
			continue
		}
		h := http.Header{}
		key := ""
		if u.KeyEnv != "" {
			key = d.c.getenv(u.KeyEnv)
		}
		if key != "" {
			switch u.Auth {
			case "x-api-key":
				h.Set("x-api-key", key)
				h.Set("anthropic-version", "2023-06-01")
			case "api-key":
				h.Set("api-key", key)
			default:
				h.Set("Authorization", "Bearer "+key)
			}
		}
		eps = append(eps, endpoint{name: "upstream " + u.Name, key: fmt.Sprintf("upstreams[%d]", i), use: "upstream:" + u.Name, rawURL: u.URL,
			tls: u.TLS, insecure: u.Insecure, method: http.MethodGet, path: "/models", header: h, keyEnv: u.KeyEnv, keySet: key != ""})
	}
	for i, s := range d.cfg.MCP.Servers {
		k := fmt.Sprintf("mcp.servers[%d]", i)
		if s.URL == "" {
			if path, err := exec.LookPath(s.Command[0]); err != nil {
				d.add("mcp "+s.Name, statusFail, "the stdio command "+s.Command[0]+" is not found", "install it, or fix "+k+".command")
			} else {
				d.add("mcp "+s.Name, statusOK, "stdio command found at "+path+" ('warden mcp run --server "+s.Name+"' starts it)", "")
			}
			continue
		}
		h := http.Header{}
		keySet := false
		if s.Auth.KeyEnv != "" {
			if v := d.c.getenv(s.Auth.KeyEnv); v != "" {
				keySet = true
				name := s.Auth.Header
				if name == "" {
					name = "Authorization"
				}
				if strings.EqualFold(name, "Authorization") && !strings.Contains(v, " ") {
					v = "Bearer " + v
				}
				h.Set(name, v)
			}
		}
		eps = append(eps, endpoint{name: "mcp " + s.Name, key: k, use: "mcp:" + s.Name, rawURL: s.URL, tls: s.TLS, insecure: s.Insecure,
			method: http.MethodHead, header: h, keyEnv: s.Auth.KeyEnv, keySet: keySet})
	}
	cs := newCertSet(slog.New(slog.DiscardHandler), nil, 0)
	defer cs.close()
	type result struct {
		check doctorCheck
		clock *clockSample
	}
	results := make([]result, len(eps)+1)
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, clk := d.probe(ctx, cs, ep)
			results[i] = result{ch, clk}
		}()
	}
	if d.cfg.Server.Limits.Redis != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[len(eps)] = result{check: d.checkRedis(ctx)}
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.check.Name != "" {
			d.checks = append(d.checks, r.check)
		}
		if r.clock != nil {
			d.clocks = append(d.clocks, *r.clock)
		}
	}
}

// probe connects to one endpoint (TCP, then TLS) and sends it one
// request; the credential goes in its header and is never printed, nor
// is the URL's user info or query.
func (d *doctor) probe(ctx context.Context, cs *certSet, ep endpoint) (doctorCheck, *clockSample) {
	fail := func(msg, fix string) (doctorCheck, *clockSample) {
		return doctorCheck{Name: ep.name, Status: statusFail, Message: msg, Fix: fix}, nil
	}
	u, err := url.Parse(ep.rawURL)
	if err != nil || u.Host == "" {
		return fail("not a URL", "fix "+ep.key+".url")
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	pctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	start := time.Now()
	conn, err := d.dial(pctx, "tcp", addr)
	if err != nil {
		return fail(fmt.Sprintf("%s: cannot connect to %s: %s", shown, addr, netReason(err)),
			"is it running, and reachable from here (DNS, firewall, NetworkPolicy egress)? check "+ep.key+".url")
	}
	connected := time.Since(start)
	var tc *tls.Config
	tlsNote := ""
	if u.Scheme == "https" {
		if ep.tls.isZero() {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		} else if tc, err = cs.clientTLS(pctx, ep.key, ep.use, ep.rawURL, ep.tls); err != nil {
			conn.Close()
			return fail(err.Error(), "fix "+ep.key+".tls (run 'warden tls check"+d.cfgFlag+"')")
		}
		tc = tc.Clone()
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(pctx); err != nil {
			tconn.Close()
			return fail(fmt.Sprintf("%s: TCP connects, but the TLS handshake failed: %v", shown, err),
				"check "+ep.key+".tls: ca_file (a private CA), server_name, min_version, the client certificate")
		}
		st := tconn.ConnectionState()
		tlsNote = ", " + tls.VersionName(st.Version)
		if len(st.PeerCertificates) > 0 {
			tlsNote += fmt.Sprintf(" (certificate valid %d more days)", int(time.Until(st.PeerCertificates[0].NotAfter).Hours()/24))
		}
		conn = tconn
	}
	conn.Close()
	tr := &http.Transport{Proxy: nil, DialContext: d.dial, TLSClientConfig: tc, ForceAttemptHTTP2: tc != nil, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	target := *u
	target.Path = strings.TrimRight(u.Path, "/") + ep.path
	target.RawPath = ""
	req, err := http.NewRequestWithContext(pctx, ep.method, target.String(), nil)
	if err != nil {
		return fail("cannot build a request", "fix "+ep.key+".url")
	}
	req.Header = ep.header.Clone()
	req.Header.Set("User-Agent", "warden-doctor/"+version)
	what := strings.TrimSpace(ep.method + " " + ep.path)
	t0 := time.Now()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return fail(fmt.Sprintf("%s: connects%s, but %s failed: %s", shown, tlsNote, what, netReason(err)), "check that "+ep.key+".url is the API's base URL")
	}
	rtt := time.Since(t0)
	resp.Body.Close()
	var clk *clockSample
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		// Date has whole seconds: the server's clock was in [t, t+1s).
		clk = &clockSample{source: ep.name + " Date header", skew: t.Add(500 * time.Millisecond).Sub(t0.Add(rtt / 2)), within: 500*time.Millisecond + rtt/2}
	}
	msg := fmt.Sprintf("%s: connects in %s%s; %s answered %d", shown, shortDuration(connected), tlsNote, what, resp.StatusCode)
	status, fix := statusOK, ""
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		status = statusWarn
		if ep.keySet {
			msg += ": the credential was refused"
			fix = "check the key in $" + ep.keyEnv + " (not shown)"
		} else {
			msg += ": it wants a credential"
			fix = "set the variable the config's key_env names"
			if ep.keyEnv != "" {
				fix = "set $" + ep.keyEnv + " (it is empty)"
			}
		}
	case code == http.StatusTooManyRequests:
		status, fix = statusWarn, "the upstream is rate limiting this key"
	case code >= 500:
		status, fix = statusWarn, "the server reports an error of its own: check its status"
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		status = statusWarn
		msg += "; plain http:// to a host that is not loopback (" + ep.key + ".insecure): requests and answers travel unencrypted"
		if fix == "" {
			fix = "use https://"
		}
	}
	return doctorCheck{Name: ep.name, Status: status, Message: msg, Fix: fix}, clk
}

// netReason is a network error's cause without the request URL (which
// may carry a key in its query).
func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// checkRedis pings server.limits.redis.
func (d *doctor) checkRedis(ctx context.Context) doctorCheck {
	opt, err := redis.ParseURL(d.cfg.Server.Limits.Redis)
	if err != nil {
		return doctorCheck{Name: "redis", Status: statusFail, Message: "server.limits.redis is not a redis:// URL", Fix: "write it as redis://[user:password@]host:port/db"}
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries, opt.DialerRetries = d.timeout, d.timeout, d.timeout, -1, 1
	rctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	downFix := "is Redis running and reachable from here? check server.limits.redis (its password is not shown)"
	// Connect first: a refused dial is said here, not logged by the
	// client's pool on stderr.
	conn, err := d.dial(rctx, "tcp", opt.Addr)
	if err != nil {
		return doctorCheck{Name: "redis", Status: statusFail, Message: "cannot reach Redis at " + opt.Addr + ": " + netReason(err), Fix: downFix}
	}
	conn.Close()
	rc := redis.NewClient(opt)
	defer rc.Close()
	start := time.Now()
	if err := rc.Ping(rctx).Err(); err != nil {
		reason := netReason(err)
		if p := opt.Password; p != "" {
			reason = strings.ReplaceAll(reason, p, "xxxxx")
		}
		return doctorCheck{Name: "redis", Status: statusFail, Message: "Redis at " + opt.Addr + " does not answer PING: " + reason, Fix: downFix}
	}
	l := d.cfg.Server.Limits
	if l.Default == (Limit{}) && len(l.Principals) == 0 && len(l.Models) == 0 {
		return doctorCheck{Name: "redis", Status: statusWarn, Message: "Redis at " + opt.Addr + " answers PING, but no limit is configured, so it is not used",
			Fix: "set server.limits.default, principals or models, or drop server.limits.redis"}
	}
	return doctorCheck{Name: "redis", Status: statusOK, Message: fmt.Sprintf("Redis at %s answers PING in %s", opt.Addr, shortDuration(time.Since(start)))}
}
