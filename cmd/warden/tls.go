package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/certs"
	"github.com/wardenhq/warden/gateway"
)

// ClientTLSConfig is how the gateway connects to one upstream or MCP
// server over https://. Its zero value is the system roots, no client
// certificate, TLS 1.2 or later.
type ClientTLSConfig struct {
	// CAFile is a PEM bundle of the CAs that may sign the server's
	// certificate (a private CA). Reloaded when it changes, like
	// cert_file. Default: the system roots.
	CAFile string `yaml:"ca_file"`
	// SystemRoots trusts the system roots as well as ca_file. Default
	// false: with ca_file set, only its CAs are trusted, so no public CA
	// can stand in for the private one.
	SystemRoots bool `yaml:"system_roots"`
	// CertFile and KeyFile are the client certificate chain (leaf
	// first) and key, PEM, presented when the server asks (mTLS).
	// Reloaded when they change, like server.tls. Default none.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name sent in SNI and verified in the server's
	// certificate. Default: the URL's host.
	ServerName string `yaml:"server_name"`
	// MinVersion is the lowest TLS version accepted: "1.2" (default) or
	// "1.3".
	MinVersion string `yaml:"min_version"`
	// SPIFFESocket is a SPIFFE Workload API address
	// (unix:///run/spire/sockets/agent.sock, or tcp://host:port): the
	// client certificate is the workload's X.509-SVID from it, rotated by
	// the agent, instead of cert_file and key_file. The server is still
	// verified against ca_file (the trust domain's bundle) or the system
	// roots. Default none.
	SPIFFESocket string `yaml:"spiffe_socket"`
}

func (t ClientTLSConfig) isZero() bool { return t == ClientTLSConfig{} }

// checkTransport applies the transport policy to one upstream or MCP
// server (key is its config key, what names it for messages): plain
// http:// only to a loopback host unless insecure, never in a zone of
// server.require_tls_zones; tls settings only with https://. The URL is
// never echoed (it may carry credentials).
func checkTransport(key, what, rawURL, zone string, insecure bool, t ClientTLSConfig, requireZones []string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%s.url: not a URL (%s)", key, what)
	}
	if u.Scheme == "http" {
		if !t.isZero() {
			return fmt.Errorf("%s.tls: set for a plain http:// URL; use https:// (%s)", key, what)
		}
		if slices.Contains(requireZones, zone) {
			return fmt.Errorf("%s.url: plain http:// in zone %s, which server.require_tls_zones requires TLS for; use https:// (%s)", key, zone, what)
		}
		if !isLoopbackHost(u.Hostname()) && !insecure {
			return fmt.Errorf("%s.url: plain http:// to a host that is not loopback; use https://, or set %s.insecure: true to send in the clear (%s)", key, key, what)
		}
		return nil
	}
	if insecure {
		return fmt.Errorf("%s.insecure: only for a plain http:// URL; it never turns off certificate checks (%s)", key, what)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("%s.tls: cert_file and key_file go together (%s)", key, what)
	}
	if t.SPIFFESocket != "" {
		if t.CertFile != "" {
			return fmt.Errorf("%s.tls.spiffe_socket: the client certificate comes from cert_file or from the Workload API, not both (%s)", key, what)
		}
		if !strings.HasPrefix(t.SPIFFESocket, "unix://") && !strings.HasPrefix(t.SPIFFESocket, "tcp://") {
			return fmt.Errorf("%s.tls.spiffe_socket: want a unix:///path or tcp://host:port Workload API address (%s)", key, what)
		}
	}
	if t.SystemRoots && t.CAFile == "" {
		return fmt.Errorf("%s.tls.system_roots: only with ca_file (without it the system roots are used anyway) (%s)", key, what)
	}
	switch t.MinVersion {
	case "", "1.2", "1.3":
	default:
		return fmt.Errorf("%s.tls.min_version: %q is not 1.2 or 1.3 (%s)", key, t.MinVersion, what)
	}
	if strings.ContainsAny(t.ServerName, " /:") {
		return fmt.Errorf("%s.tls.server_name: want a host name (%s)", key, what)
	}
	return nil
}

// insecureWarning logs, at start, an upstream or MCP server called in
// the clear off this machine.
func insecureWarning(log *slog.Logger, key, what, rawURL string) {
	if u, err := url.Parse(rawURL); err == nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		log.Warn("plain HTTP to a host that is not loopback ("+key+".insecure: true): requests and answers travel unencrypted", "target", what)
	}
}

// certSet is the TLS material a gateway process holds: each configured
// certificate pair and CA bundle by use (server, upstream:NAME,
// mcp:NAME), reloaded when its files change or on SIGHUP; pairs are
// reported as a metric and checked by /readyz.
type certSet struct {
	log      *slog.Logger
	audit    adminRecorder // nil: reloads are only logged
	metrics  *gateway.Metrics
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	entries  []*certEntry
	gen      int         // the generation entries are added to now
	server   *certs.Pair // server.tls, when set
	clientCA *certs.Pool // server.tls.client_ca, when set
	sources  map[string]*workloadapi.X509Source
	stop     func()
	done     chan struct{}
	kick     chan struct{}
}

// adminRecorder is the audit log, as certSet records reloads.
type adminRecorder interface {
	RecordAdmin(ctx context.Context, ev audit.AdminEvent) (int64, error)
}

type certEntry struct {
	use   string
	key   string      // config key, for messages
	pair  *certs.Pair // a pair from files; nil for an SVID or a CA bundle
	svid  svidSource  // the Workload API's SVID, which its agent rotates
	pool  *certs.Pool // a CA bundle (key names its file's key: …tls.ca_file)
	after func()      // run after a reload (close a transport's idle connections)
	gen   int         // the config generation that added it; 0: the server's own
}

// svidSource is the Workload API client's view of the current SVID.
type svidSource interface {
	GetX509SVID() (*x509svid.SVID, error)
}

// leaf is the certificate in use (nil: the Workload API gave none).
func (e *certEntry) leaf() *x509.Certificate {
	if e.pair != nil {
		return e.pair.Leaf()
	}
	if sv, err := e.svid.GetX509SVID(); err == nil && len(sv.Certificates) > 0 {
		return sv.Certificates[0]
	}
	return nil
}

func newCertSet(log *slog.Logger, metrics *gateway.Metrics, interval time.Duration) *certSet {
	if interval == 0 {
		interval = 5 * time.Second
	}
	return &certSet{log: log, metrics: metrics, interval: interval, now: time.Now, kick: make(chan struct{}, 1)}
}

// add loads a pair for use; key names it in errors ("upstreams[0].tls").
func (s *certSet) add(use, key, certFile, keyFile string) (*certs.Pair, error) {
	p, err := certs.LoadPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s.%w", key, err)
	}
	s.mu.Lock()
	e := &certEntry{use: use, key: key, pair: p, gen: s.gen}
	s.entries = append(s.entries, e)
	s.mu.Unlock()
	if s.metrics != nil {
		s.metrics.CertificateExpiry(use, p.Leaf().NotAfter)
	}
	return p, nil
}

// addPool loads a CA bundle for use; key names its file's key
// ("upstreams[0].tls.ca_file", "server.tls.client_ca").
func (s *certSet) addPool(use, key, file string, system bool) (*certs.Pool, error) {
	p, err := certs.LoadPool(file, system)
	if err != nil {
		return nil, poolError(key, err)
	}
	s.mu.Lock()
	s.entries = append(s.entries, &certEntry{use: use, key: key, pool: p, gen: s.gen})
	s.mu.Unlock()
	return p, nil
}

// poolError names key in a certs.Pool error, which names ca_file.
func poolError(key string, err error) error {
	return fmt.Errorf("%s: %s", key, strings.TrimPrefix(err.Error(), "ca_file: "))
}

// onReload runs f after each successful reload of use's pair or CA
// bundle.
func (s *certSet) onReload(use string, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.use == use && e.gen == s.gen {
			e.after = f
		}
	}
}

// start polls the files every interval until close; reload asks at
// once (SIGHUP).
func (s *certSet) start() {
	if !s.has() || s.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.reloadAll(ctx, false)
			case <-s.kick:
				s.reloadAll(ctx, true)
			}
		}
	}()
}

// nextGeneration starts a config generation: the upstream and MCP pairs
// and bundles added from now on belong to it.
func (s *certSet) nextGeneration() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	return s.gen
}

// retire forgets the entries of the generations drop selects (a
// generation replaced by a reload, or one whose build failed): they are
// no longer watched, reported or checked by /readyz. Transports of an
// old generation still serving requests in flight keep their pairs.
func (s *certSet) retire(drop func(gen int) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.entries[:0]
	for _, e := range s.entries {
		if e.gen == 0 || !drop(e.gen) {
			kept = append(kept, e)
		}
	}
	clear(s.entries[len(kept):])
	s.entries = kept
}

// has reports whether any pair or bundle is in use.
func (s *certSet) has() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries) > 0
}

// reload asks the poller to read every pair again now.
func (s *certSet) reload() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *certSet) close() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, src := range s.sources {
		src.Close()
	}
	s.sources = nil
}

// reloadAll reloads each changed pair and CA bundle (each one, with
// force), logs and audits what happened. A refused one leaves the old
// one in use.
func (s *certSet) reloadAll(ctx context.Context, force bool) {
	s.mu.Lock()
	entries := append([]*certEntry(nil), s.entries...)
	s.mu.Unlock()
	for _, e := range entries {
		if e.pool != nil {
			s.reloadPool(ctx, e, force)
			continue
		}
		if e.pair == nil {
			// The agent rotates an SVID; only its expiry is followed.
			if l := e.leaf(); l != nil && s.metrics != nil {
				s.metrics.CertificateExpiry(e.use, l.NotAfter)
			}
			continue
		}
		err := e.pair.Reload(force)
		if errors.Is(err, certs.ErrUnchanged) {
			continue
		}
		certFile, _ := e.pair.Files()
		leaf := e.pair.Leaf()
		ev := audit.AdminEvent{Action: "tls.reload", Actor: "warden", Target: e.use,
			Details: map[string]string{"cert_file": certFile}}
		if err != nil {
			s.log.Error("certificate reload refused; the current one stays in use", "use", e.use, "error", fmt.Sprintf("%s.%v", e.key, err),
				"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
			ev.Details["result"] = "refused"
		} else {
			s.log.Info("certificate reloaded: new connections use it", "use", e.use, "serial", leaf.SerialNumber.Text(16),
				"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
			ev.Details["result"] = "reloaded"
			ev.Details["serial"] = leaf.SerialNumber.Text(16)
			ev.Details["not_after"] = leaf.NotAfter.UTC().Format(time.RFC3339)
			if s.metrics != nil {
				s.metrics.CertificateExpiry(e.use, leaf.NotAfter)
			}
			if e.after != nil {
				e.after()
			}
		}
		s.record(ctx, e.use, ev)
	}
}

// reloadPool reloads one CA bundle if it changed (with force, always),
// logs and audits what happened: the file's name and how many
// certificates it holds, never its contents.
func (s *certSet) reloadPool(ctx context.Context, e *certEntry, force bool) {
	err := e.pool.Reload(force)
	if errors.Is(err, certs.ErrUnchanged) {
		return
	}
	ev := audit.AdminEvent{Action: "tls.reload", Actor: "warden", Target: e.use,
		Details: map[string]string{"ca_file": e.pool.File()}}
	if err != nil {
		s.log.Error("CA bundle reload refused; the current one stays in use", "use", e.use, "error", poolError(e.key, err).Error(),
			"certificates", e.pool.Len())
		ev.Details["result"] = "refused"
	} else {
		if e.after != nil {
			e.after() // before the log line: once it is written, idle connections are gone
		}
		n := e.pool.Len()
		s.log.Info("CA bundle reloaded: new connections are verified against it", "use", e.use, "ca_file", e.pool.File(), "certificates", n)
		ev.Details["result"] = "reloaded"
		ev.Details["certificates"] = strconv.Itoa(n)
	}
	s.record(ctx, e.use, ev)
}

// record writes a reload to the audit log, if there is one.
func (s *certSet) record(ctx context.Context, use string, ev audit.AdminEvent) {
	if s.audit == nil {
		return
	}
	if _, aerr := s.audit.RecordAdmin(ctx, ev); aerr != nil && ctx.Err() == nil {
		s.log.Warn("certificate reload could not be recorded in the audit log", "use", use, "error", aerr.Error())
	}
}

// check is /readyz's certificates check: failing while a certificate in
// use has expired.
func (s *certSet) check(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var expired []string
	for _, e := range s.entries {
		if e.pool != nil {
			continue // a CA's expiry shows in the chains it no longer verifies
		}
		if l := e.leaf(); l == nil || now.After(l.NotAfter) {
			expired = append(expired, e.use)
		}
	}
	if len(expired) > 0 {
		return fmt.Errorf("expired certificate in use: %s", strings.Join(expired, ", "))
	}
	return nil
}

// clientTransport is the transport of one upstream or MCP server (at
// rawURL) with tls settings; nil (the gateway's shared transport)
// without any. use names its client certificate and CA bundle in the
// certSet.
func (s *certSet) clientTransport(ctx context.Context, key, use, rawURL string, t ClientTLSConfig) (*rotatingTransport, error) {
	if t.isZero() {
		return nil, nil
	}
	tc, err := s.clientTLS(ctx, key, use, rawURL, t)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
		TLSClientConfig:     tc,
	}
	rt := &rotatingTransport{}
	rt.cur.Store(tr)
	if t.CertFile != "" || t.CAFile != "" {
		// After a rotation no connection made with the old certificate,
		// or verified against the old CAs, carries another request:
		// requests in flight keep theirs, new ones handshake again.
		s.onReload(use, rt.rotate)
	}
	return rt, nil
}

// rotatingTransport sends each request through its current transport.
// rotate starts a fresh one (same settings, no connections): closing
// idle connections alone is not enough, since a request in flight at
// the rotation returns its connection to the idle pool afterwards and,
// under steady load, such a connection could be reused for ever. The
// old transport gets no new requests; its connections are closed as
// they fall idle.
type rotatingTransport struct {
	cur atomic.Pointer[http.Transport]
}

func (r *rotatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.cur.Load().RoundTrip(req)
}

// CloseIdleConnections closes the current transport's idle connections.
func (r *rotatingTransport) CloseIdleConnections() { r.cur.Load().CloseIdleConnections() }

func (r *rotatingTransport) rotate() {
	old := r.cur.Load()
	r.cur.Store(old.Clone())
	old.CloseIdleConnections()
	go func() {
		// Connections of requests that were in flight, as they finish;
		// IdleConnTimeout closes any left after the last pass.
		for _, d := range []time.Duration{50 * time.Millisecond, 500 * time.Millisecond, 5 * time.Second, 60 * time.Second} {
			time.Sleep(d)
			old.CloseIdleConnections()
		}
	}()
}

// clientTLS is the tls.Config of one upstream or MCP server. With
// ca_file, the server is verified against the bundle in use at each
// handshake (it may have been reloaded): crypto/tls's own check, which
// reads a fixed RootCAs, is replaced by VerifyConnection, which checks
// the same things (chain to a trusted CA, the name — server_name or the
// URL's host —, server authentication, validity dates) and fails the
// handshake otherwise.
func (s *certSet) clientTLS(ctx context.Context, key, use, rawURL string, t ClientTLSConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.MinVersion == "1.3" {
		tc.MinVersion = tls.VersionTLS13
	}
	if t.CAFile != "" {
		name := t.ServerName
		if name == "" {
			u, err := url.Parse(rawURL)
			if err != nil || u.Hostname() == "" {
				return nil, fmt.Errorf("%s.url: no host to verify the server's certificate for", key)
			}
			name = u.Hostname()
		}
		pool, err := s.addPool(use, key+".tls.ca_file", t.CAFile, t.SystemRoots)
		if err != nil {
			return nil, err
		}
		tc.InsecureSkipVerify = true // verified by VerifyConnection, against the current bundle
		tc.VerifyConnection = pool.VerifyServer(name)
	}
	if t.CertFile != "" {
		p, err := s.add(use, key+".tls", t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		tc.GetClientCertificate = p.GetClientCertificate
	}
	if t.SPIFFESocket != "" {
		src, err := s.workloadSource(ctx, t.SPIFFESocket)
		if err != nil {
			return nil, fmt.Errorf("%s.tls.spiffe_socket: no X.509-SVID from the Workload API: %w", key, err)
		}
		s.mu.Lock()
		e := &certEntry{use: use, key: key + ".tls", svid: src, gen: s.gen}
		s.entries = append(s.entries, e)
		s.mu.Unlock()
		if l := e.leaf(); l != nil && s.metrics != nil {
			s.metrics.CertificateExpiry(use, l.NotAfter)
		}
		tc.GetClientCertificate = tlsconfig.GetClientCertificate(src)
	}
	return tc, nil
}

// workloadSource connects to a Workload API and waits (up to 10s) for
// the first SVID. One source per address is shared; close closes them.
func (s *certSet) workloadSource(ctx context.Context, addr string) (*workloadapi.X509Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src := s.sources[addr]; src != nil {
		return src, nil
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	src, err := workloadapi.NewX509Source(wctx, workloadapi.WithClientOptions(workloadapi.WithAddr(addr)))
	if err != nil {
		return nil, err
	}
	if s.sources == nil {
		s.sources = map[string]*workloadapi.X509Source{}
	}
	s.sources[addr] = src
	return src, nil
}

// serverTLS is the listener's TLS config: the current pair of
// server.tls at each handshake and, with clientCA (server.tls.client_ca),
// client certificates verified against the bundle in use at that
// handshake: GetConfigForClient hands crypto/tls a copy of the config
// with the current ClientCAs, all else equal. NextProtos is set here
// because http.Server adds its protocols only to its own copy of the
// config, not to the one GetConfigForClient returns.
func serverTLS(pair *certs.Pair, clientCA *certs.Pool) *tls.Config {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: pair.GetCertificate}
	if clientCA == nil {
		return tc
	}
	tc.NextProtos = []string{"h2", "http/1.1"}
	tc.ClientCAs = clientCA.CertPool()
	tc.ClientAuth = tls.VerifyClientCertIfGiven
	base := tc.Clone()
	tc.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.ClientCAs = clientCA.CertPool()
		return c, nil
	}
	return tc
}

// describeCert is a certificate's description for `warden tls check`:
// names and dates, never key material.
func describeCert(c *x509.Certificate, now time.Time) string {
	var sans []string
	sans = append(sans, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	for _, u := range c.URIs {
		sans = append(sans, u.String())
	}
	sans = append(sans, c.EmailAddresses...)
	left := c.NotAfter.Sub(now)
	days := int(left.Hours() / 24)
	state := fmt.Sprintf("%d days left", days)
	if left < 0 {
		state = "EXPIRED"
	}
	return fmt.Sprintf("subject CN=%q issuer CN=%q SANs=[%s] not_after=%s (%s)", c.Subject.CommonName, c.Issuer.CommonName,
		strings.Join(sans, " "), c.NotAfter.UTC().Format(time.RFC3339), state)
}
