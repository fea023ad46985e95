package certs_test

import (
	"crypto/tls"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/wardenhq/warden/certs"
)

// A server whose certificate is swapped, for new connections, when its
// files change.
func ExampleLoadPair() {
	pair, err := certs.LoadPair("/etc/warden/tls/server.crt", "/etc/warden/tls/server.key")
	if err != nil {
		log.Fatal(err) // names cert_file or key_file, never their contents
	}
	go func() {
		for range time.Tick(5 * time.Second) {
			if err := pair.Reload(false); err != nil && !errors.Is(err, certs.ErrUnchanged) {
				log.Print("certificate reload refused; keeping the current one: ", err)
			}
		}
	}()
	srv := &http.Server{Addr: ":8443", TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: pair.GetCertificate}}
	log.Fatal(srv.ListenAndServeTLS("", ""))
}
