package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/wardenhq/warden/certs"
)

const tlsHelp = `usage: warden tls check [--config FILE]

Reads every certificate the config names — server.tls (the serving pair
and client_ca), and each upstream's and MCP server's tls (ca_file, the
cert_file/key_file pair presented for mTLS, or the X.509-SVID of
spiffe_socket) — and prints each chain:
subject and issuer common names, subject alternative names, the expiry
and the days left. Key files are read only to check that they match
their certificate; nothing of a key is printed.

Exit codes: 0 every certificate readable and unexpired, 1 one is expired
or cannot be read (or its key does not match), 2 usage or configuration
error.

Flags:
`

// runTLS is `warden tls`.
func runTLS(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(c.stderr, tlsHelp)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	fs := flag.NewFlagSet("tls check", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	configPath := fs.String("config", "", "config `file`")
	fs.Usage = func() { fmt.Fprint(c.stderr, tlsHelp); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(c.stderr, "warden tls check: unexpected argument")
		return exitUsage
	}
	cfg, err := loadConfig(*configPath, c.getenv)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden tls check:", err)
		return exitUsage
	}
	now := time.Now()
	items := tlsItems(ctx, cfg)
	if len(items) == 0 {
		fmt.Fprintln(c.stdout, "no certificates configured")
		return exitOK
	}
	bad := 0
	for _, it := range items {
		fmt.Fprintf(c.stdout, "%s: %s %s\n", it.use, it.key, it.file)
		chain, err := it.read()
		if err != nil {
			fmt.Fprintf(c.stdout, "  UNREADABLE: %v\n", err)
			bad++
			continue
		}
		for i, crt := range chain {
			fmt.Fprintf(c.stdout, "  [%d] %s\n", i, describeCert(crt, now))
			if now.After(crt.NotAfter) {
				bad++
			}
		}
	}
	if bad > 0 {
		fmt.Fprintf(c.stdout, "%d problem(s): expired or unreadable certificates\n", bad)
		return exitFailure
	}
	return exitOK
}

// tlsItem is one certificate file the config names.
type tlsItem struct {
	use, key, file string
	read           func() ([]*x509.Certificate, error)
}

func tlsItems(ctx context.Context, cfg *Config) []tlsItem {
	var out []tlsItem
	pair := func(use, key, certFile, keyFile string) {
		out = append(out, tlsItem{use: use, key: key + ".cert_file", file: certFile, read: func() ([]*x509.Certificate, error) {
			// LoadPair checks the key matches; the chain is printed whole.
			if _, err := certs.LoadPair(certFile, keyFile); err != nil {
				return nil, fmt.Errorf("%s.%w", key, err)
			}
			chain, err := certs.ReadChain(certFile)
			if err != nil {
				return nil, fmt.Errorf("%s.cert_file: %w", key, err)
			}
			return chain, nil
		}})
	}
	bundle := func(use, key, file string) {
		out = append(out, tlsItem{use: use, key: key, file: file, read: func() ([]*x509.Certificate, error) {
			chain, err := certs.ReadChain(file)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			return chain, nil
		}})
	}
	client := func(use, key string, t ClientTLSConfig) {
		if t.CAFile != "" {
			bundle(use, key+".ca_file", t.CAFile)
		}
		if t.CertFile != "" {
			pair(use, key, t.CertFile, t.KeyFile)
		}
		if addr := t.SPIFFESocket; addr != "" {
			out = append(out, tlsItem{use: use, key: key + ".spiffe_socket", file: addr, read: func() ([]*x509.Certificate, error) {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				sv, err := workloadapi.FetchX509SVID(wctx, workloadapi.WithAddr(addr))
				if err != nil {
					return nil, fmt.Errorf("%s.spiffe_socket: no X.509-SVID from the Workload API: %w", key, err)
				}
				return sv.Certificates, nil
			}})
		}
	}
	if t := cfg.Server.TLS; t.CertFile != "" {
		pair("server", "server.tls", t.CertFile, t.KeyFile)
		if t.ClientCA != "" {
			bundle("server", "server.tls.client_ca", t.ClientCA)
		}
	}
	for i, u := range cfg.Upstreams {
		client("upstream:"+u.Name, fmt.Sprintf("upstreams[%d].tls", i), u.TLS)
	}
	for i, s := range cfg.MCP.Servers {
		client("mcp:"+s.Name, fmt.Sprintf("mcp.servers[%d].tls", i), s.TLS)
	}
	return out
}
