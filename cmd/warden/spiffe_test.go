package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"

	"github.com/wardenhq/warden/internal/testpki"
)

// fakeWorkloadAPI is a SPIFFE Workload API serving one X.509-SVID, as a
// SPIRE agent does on its socket. (go-spiffe's own fake is internal to
// that module.)
type fakeWorkloadAPI struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	resp *workload.X509SVIDResponse
}

func (f *fakeWorkloadAPI) FetchX509SVID(_ *workload.X509SVIDRequest, stream grpc.ServerStreamingServer[workload.X509SVIDResponse]) error {
	if err := stream.Send(f.resp); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

// startWorkloadAPI serves svid (signed by ca) on a unix socket and
// returns its address.
func startWorkloadAPI(t *testing.T, ca *testpki.CA, svid *testpki.Pair) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := pem.Decode(svid.KeyPEM)
	srv := grpc.NewServer()
	workload.RegisterSpiffeWorkloadAPIServer(srv, &fakeWorkloadAPI{resp: &workload.X509SVIDResponse{Svids: []*workload.X509SVID{{
		SpiffeId: svid.Cert.URIs[0].String(), X509Svid: svid.Cert.Raw, X509SvidKey: kb.Bytes, Bundle: ca.Cert.Raw,
	}}}})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return "unix://" + sock
}

// An upstream behind mTLS accepts the gateway's X.509-SVID, fetched from
// a SPIFFE Workload API socket (tls.spiffe_socket), as its client
// certificate; its expiry is a gauge like a file's.
func TestUpstreamClientCertificateFromSPIFFEWorkloadAPI(t *testing.T) {
	dir := t.TempDir()
	serverCA, trustDomainCA := testpki.NewCA(t, "Upstream CA"), testpki.NewCA(t, "corp.example trust domain")
	up := newTLSUpstream(t, serverCA, trustDomainCA)
	svid := trustDomainCA.Issue(t, testpki.Leaf{CN: "warden-svid", URIs: []string{"spiffe://corp.example/ns/ai/sa/warden"}, Client: true})
	addr := startWorkloadAPI(t, trustDomainCA, svid)
	g := startTLSGateway(t, "upstreams:\n  - name: onprem-llm\n    url: "+up.srv.URL+"/v1\n    zone: onprem\n    tls:\n"+
		"      ca_file: "+yamlQuote(serverCA.WriteCA(t, dir, "ca"))+"\n      spiffe_socket: "+yamlQuote(addr)+"\n")
	if status, code := g.chat(t); status != 200 {
		t.Fatalf("status %d (%s)\n%s", status, code, g.logs.Bytes())
	}
	if seen := up.seen(); len(seen) != 1 || seen[0] != "warden-svid" {
		t.Fatalf("upstream saw client certificates %v", seen)
	}
	// warden tls check prints the SVID with its SPIFFE ID.
	path := filepath.Join(dir, "warden.yaml")
	os.WriteFile(path, []byte("upstreams:\n  - name: onprem-llm\n    url: https://llm.test/v1\n    tls:\n      spiffe_socket: "+yamlQuote(addr)+"\n"), 0o600)
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := runTLS(context.Background(), c, []string{"check", "--config", path}); code != exitOK ||
		!strings.Contains(out.String(), "upstreams[0].tls.spiffe_socket") || !strings.Contains(out.String(), "SANs=[spiffe://corp.example/ns/ai/sa/warden]") {
		t.Fatalf("tls check: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
