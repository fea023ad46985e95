package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/wardenhq/warden/internal/artifact"
	"github.com/wardenhq/warden/modelguard"
)

const artifactUsage = `usage: warden artifact <subcommand> [flags] [FILE]

Sign and verify release artifacts (the warden binary, its SBOM, a container
image digest) with the keys and Sigstore bundle format of 'warden model sign':
a DSSE envelope holding an in-toto statement of predicate type
https://sigstore.dev/cosign/sign/v1 naming the artifact's SHA-256.

subcommands:
  sign   --key K.key [--out B] FILE                       write FILE.sigstore.json (or B)
  sign   --key K.key --name NAME --digest sha256:HEX --out B   sign an image digest
  verify --key K.pub --bundle B FILE | --digest sha256:HEX     check B signs FILE (or the digest)

Keys come from 'warden model keygen'. Exit codes: 0 signed / verified,
1 not verified, 2 usage or I/O error.
`

func runArtifact(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, artifactUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(c.stdout, artifactUsage)
		return exitOK
	case "sign":
		return runArtifactSign(ctx, c, args[1:])
	case "verify":
		return runArtifactVerify(ctx, c, args[1:])
	}
	fmt.Fprintf(c.stderr, "warden artifact: unknown subcommand %q\n\n", args[0])
	fmt.Fprint(c.stderr, artifactUsage)
	return exitUsage
}

func newArtifactFlags(c *cli, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("warden artifact "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: warden artifact %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// artifactSubject is the subject named by exactly one of a FILE argument
// and --digest (with the name it is signed under).
func artifactSubject(ctx context.Context, fs *flag.FlagSet, digest, name string) (artifact.Subject, error) {
	switch {
	case fs.NArg() == 1 && digest == "":
		s, err := artifact.FileSubject(ctx, fs.Arg(0))
		if err != nil {
			return s, fmt.Errorf("%s: %s", fs.Arg(0), ioErrText(err))
		}
		if name != "" {
			s.Name = name
		}
		return s, nil
	case fs.NArg() == 0 && digest != "":
		d, err := artifact.ParseDigest(digest)
		return artifact.Subject{Name: name, SHA256: d}, err
	}
	return artifact.Subject{}, errors.New("give exactly one of FILE and --digest")
}

func runArtifactSign(ctx context.Context, c *cli, args []string) int {
	fs := newArtifactFlags(c, "sign", `sign --key K.key [--name NAME] [--out BUNDLE] FILE
       warden artifact sign --key K.key --name NAME --digest sha256:HEX --out BUNDLE

Signs FILE's SHA-256 (or the given digest, e.g. a container image's manifest
digest) and writes a Sigstore bundle: FILE.sigstore.json unless --out is given.`)
	keyPath := fs.String("key", "", "PEM private key (ECDSA P-256/384/521 or Ed25519) (required)")
	out := fs.String("out", "", "bundle to write (default FILE.sigstore.json; required with --digest)")
	name := fs.String("name", "", "subject name (default FILE's base name; required with --digest)")
	digest := fs.String("digest", "", "sign this sha256:HEX digest instead of a file")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	if *keyPath == "" || (*digest != "" && (*name == "" || *out == "")) {
		fs.Usage()
		return exitUsage
	}
	s, err := artifactSubject(ctx, fs, *digest, *name)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden artifact sign:", err)
		return exitUsage
	}
	if *out == "" {
		*out = fs.Arg(0) + ".sigstore.json"
	}
	keyPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden artifact sign: %s: %v\n", *keyPath, ioErrText(err))
		return exitUsage
	}
	key, err := modelguard.ParsePrivateKey(keyPEM)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden artifact sign:", err)
		return exitUsage
	}
	bundle, err := artifact.Sign(s, key)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden artifact sign:", err)
		return exitUsage
	}
	tmp := *out + ".tmp"
	if err := writeFileMode(tmp, bundle, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
		fmt.Fprintf(c.stderr, "warden artifact sign: %s: %v\n", tmp, ioErrText(err))
		return exitUsage
	}
	if err := os.Rename(tmp, *out); err != nil {
		os.Remove(tmp)
		fmt.Fprintf(c.stderr, "warden artifact sign: %v\n", ioErrText(err))
		return exitUsage
	}
	fmt.Fprintf(c.stdout, "wrote %s: %s %s\n", *out, s.Name, s.Digest())
	return exitOK
}

func runArtifactVerify(ctx context.Context, c *cli, args []string) int {
	fs := newArtifactFlags(c, "verify", `verify --key K.pub --bundle BUNDLE FILE
       warden artifact verify --key K.pub --bundle BUNDLE --digest sha256:HEX

Checks that BUNDLE is signed by the key and names FILE's SHA-256 (or the given
digest). A changed byte of FILE, of the statement or of the signature fails.`)
	keyPath := fs.String("key", "", "PEM public key (required)")
	bundlePath := fs.String("bundle", "", "Sigstore bundle (default FILE.sigstore.json)")
	digest := fs.String("digest", "", "verify against this sha256:HEX digest instead of a file")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	if *keyPath == "" || (*digest != "" && *bundlePath == "") {
		fs.Usage()
		return exitUsage
	}
	s, err := artifactSubject(ctx, fs, *digest, "")
	if err != nil {
		fmt.Fprintln(c.stderr, "warden artifact verify:", err)
		return exitUsage
	}
	if *bundlePath == "" {
		*bundlePath = fs.Arg(0) + ".sigstore.json"
	}
	bundle, err := os.ReadFile(*bundlePath)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden artifact verify: %s: %v\n", *bundlePath, ioErrText(err))
		return exitUsage
	}
	pubPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden artifact verify: %s: %v\n", *keyPath, ioErrText(err))
		return exitUsage
	}
	pub, err := modelguard.ParsePublicKey(pubPEM)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden artifact verify:", err)
		return exitUsage
	}
	signed, err := artifact.Verify(bundle, pub, s.SHA256)
	switch {
	case err == nil:
		fmt.Fprintf(c.stdout, "verified: %s %s\n", signed.Name, signed.Digest())
		return exitOK
	case errors.Is(err, artifact.ErrDigestMismatch), errors.Is(err, modelguard.ErrBadSignature),
		errors.Is(err, modelguard.ErrKeyless), errors.Is(err, modelguard.ErrMalformedBundle):
		fmt.Fprintf(c.stdout, "NOT VERIFIED: %v (artifact %s)\n", err, s.Digest())
		return exitFailure
	}
	fmt.Fprintln(c.stderr, "warden artifact verify:", err)
	return exitUsage
}
