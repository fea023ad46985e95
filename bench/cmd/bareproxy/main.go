// Command bareproxy is a plain net/http/httputil reverse proxy with no
// protection at all, for bench/gateway.sh: its added latency is the cost
// of one more HTTP hop on this machine, the floor under any gateway.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	addrFile := flag.String("addr-file", "", "write the bound address to this `file`")
	upstream := flag.String("upstream", "", "upstream base `URL`, e.g. http://127.0.0.1:9000")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "bareproxy: -upstream must be an absolute URL")
		os.Exit(2)
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) },
		// The same connection pool settings as the gateway's client.
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second},
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(1)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bareproxy:", err)
			os.Exit(1)
		}
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(1)
	}
}
