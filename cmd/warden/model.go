package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wardenhq/warden/modelguard"
	"github.com/wardenhq/warden/modelguard/keyless"
)

const modelUsage = `usage: warden model <subcommand> [flags] [args]

Scan, sign and verify model artifacts before they are served.

subcommands:
  scan    PATH...              scan pickles, PyTorch/NumPy/joblib files, safetensors,
                               GGUF, ONNX and Keras files (directories recursively)
  keygen  --out PREFIX         write an ECDSA P-256 key pair: PREFIX.key (0600) and PREFIX.pub
  sign    --key PREFIX.key DIR sign every file of DIR into DIR/model.sig
                               (OpenSSF model-signing format: Sigstore bundle, DSSE, in-toto)
  verify  --key PREFIX.pub DIR check DIR/model.sig and every file of DIR against it
          --trusted-root FILE --identity SAN --issuer URL DIR
                               the same for Sigstore keyless bundles (checked with sigstore-go)

  register --config F --name M --key K.pub DIR   scan + verify DIR and record it in the model registry
  registry --config F [--revoke M]                 list the registry or withdraw an approval
                               (upstreams with require_approved serve only approved models)

Run 'warden model <subcommand> --help' for its flags.
Exit codes: 0 clean / verified, 1 dangerous, invalid or not verified, 2 usage or I/O error.
`

func runModel(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, modelUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(c.stdout, modelUsage)
		return exitOK
	case "scan":
		return runModelScan(ctx, c, args[1:])
	case "keygen":
		return runModelKeygen(c, args[1:])
	case "sign":
		return runModelSign(ctx, c, args[1:])
	case "verify":
		return runModelVerify(ctx, c, args[1:])
	case "register":
		return runModelRegister(ctx, c, args[1:])
	case "registry":
		return runModelRegistry(ctx, c, args[1:])
	}
	fmt.Fprintf(c.stderr, "warden model: unknown subcommand %q\n\n", args[0])
	fmt.Fprint(c.stderr, modelUsage)
	return exitUsage
}

// newModelFlags makes a FlagSet whose errors and help go to c.stderr.
func newModelFlags(c *cli, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("warden model "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: warden model %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseModelFlags parses args; it returns an exit code and false when the
// command should stop (help asked for, or bad flags).
func parseModelFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runModelScan(ctx context.Context, c *cli, args []string) int {
	fs := newModelFlags(c, "scan", `scan [--json] [--allow module.name]... PATH...

Decodes pickle opcodes without unpickling (plain pickles, PyTorch zip and legacy
files, NumPy .npy/.npz with object dtype, joblib), and judges every imported
callable against an allowlist; validates safetensors and GGUF files strictly;
flags ONNX external data outside the model directory and Keras Lambda layers.
Directories are scanned recursively. Exit 0 if every file is clean, 1 if any is
dangerous or invalid, 2 on usage or I/O errors.`)
	jsonOut := fs.Bool("json", false, "print one JSON document instead of the human summary")
	var allow stringList
	fs.Var(&allow, "allow", "also allow this pickle callable, as module.name (repeatable)")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	s, err := modelguard.New(modelguard.Config{Allow: allow})
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model scan:", err)
		return exitUsage
	}
	var reports []modelguard.FileReport
	for _, p := range fs.Args() {
		rs, err := s.ScanPath(ctx, p)
		if err != nil {
			fmt.Fprintf(c.stderr, "warden model scan: %s: %v\n", p, ioErrText(err))
			return exitUsage
		}
		reports = append(reports, rs...)
	}
	counts := map[modelguard.Verdict]int{}
	for _, r := range reports {
		counts[r.Verdict]++
	}
	if *jsonOut {
		out := struct {
			Files   []modelguard.FileReport    `json:"files"`
			Summary map[modelguard.Verdict]int `json:"summary"`
		}{reports, map[modelguard.Verdict]int{
			modelguard.VerdictClean:     counts[modelguard.VerdictClean],
			modelguard.VerdictDangerous: counts[modelguard.VerdictDangerous],
			modelguard.VerdictInvalid:   counts[modelguard.VerdictInvalid],
		}}
		if out.Files == nil {
			out.Files = []modelguard.FileReport{}
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return exitUsage
		}
	} else {
		printScan(c.stdout, reports)
		fmt.Fprintf(c.stdout, "%d files: %d clean, %d dangerous, %d invalid\n", len(reports),
			counts[modelguard.VerdictClean], counts[modelguard.VerdictDangerous], counts[modelguard.VerdictInvalid])
	}
	if counts[modelguard.VerdictDangerous]+counts[modelguard.VerdictInvalid] > 0 {
		return exitFailure
	}
	return exitOK
}

func printScan(w io.Writer, reports []modelguard.FileReport) {
	for _, r := range reports {
		fmt.Fprintf(w, "%s: %s (%s", r.Path, strings.ToUpper(string(r.Verdict)), r.Format)
		if r.Tensors > 0 {
			fmt.Fprintf(w, ", %d tensors", r.Tensors)
		}
		fmt.Fprintln(w, ")")
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %s\n", f)
		}
		for _, t := range r.Templates {
			fmt.Fprintf(w, "  chat template %s: sha256 %s (%d bytes)\n", t.Key, t.SHA256, t.Length)
		}
	}
}

// ioErrText names an I/O failure without echoing file content.
func ioErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

func runModelKeygen(c *cli, args []string) int {
	fs := newModelFlags(c, "keygen", `keygen --out PREFIX [--force]

Writes an ECDSA P-256 key pair for 'warden model sign': PREFIX.key (PKCS#8 PEM,
mode 0600) and PREFIX.pub (PKIX PEM). The same keys work with the model-signing
reference tool ('model_signing sign key' / 'verify key').`)
	out := fs.String("out", "", "path prefix of the key files (required)")
	force := fs.Bool("force", false, "overwrite existing key files")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	priv, pub, err := modelguard.GenerateKey()
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model keygen: cannot generate key")
		return exitUsage
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{*out + ".key", priv, 0o600}, {*out + ".pub", pub, 0o644}} {
		if err := writeFileMode(f.path, f.data, flags, f.mode); err != nil {
			fmt.Fprintf(c.stderr, "warden model keygen: %s: %v\n", f.path, ioErrText(err))
			return exitUsage
		}
	}
	fmt.Fprintf(c.stdout, "wrote %s.key (private, keep it secret) and %s.pub\n", *out, *out)
	return exitOK
}

func writeFileMode(path string, data []byte, flags int, mode os.FileMode) error {
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runModelSign(ctx context.Context, c *cli, args []string) int {
	fs := newModelFlags(c, "sign", `sign --key PREFIX.key DIR

Hashes every file under DIR (SHA-256, in parallel, streamed; model.sig itself is
excluded; symbolic links are refused) and writes DIR/model.sig: a Sigstore bundle
with a DSSE envelope holding an in-toto statement of predicate type
https://model_signing/signature/v1.0 that lists every file's path and digest.`)
	keyPath := fs.String("key", "", "PEM private key (ECDSA P-256/384/521 or Ed25519) (required)")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	if *keyPath == "" || fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	dir := fs.Arg(0)
	keyPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden model sign: %s: %v\n", *keyPath, ioErrText(err))
		return exitUsage
	}
	key, err := modelguard.ParsePrivateKey(keyPEM)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model sign:", err)
		return exitUsage
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fmt.Fprintf(c.stderr, "warden model sign: %s is not a directory\n", dir)
		return exitUsage
	}
	bundle, err := modelguard.Sign(ctx, dir, key)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model sign:", ioErrText(err))
		return exitUsage
	}
	sigPath := filepath.Join(dir, modelguard.SignatureFile)
	tmp := sigPath + ".tmp"
	if err := writeFileMode(tmp, bundle, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
		fmt.Fprintf(c.stderr, "warden model sign: %s: %v\n", tmp, ioErrText(err))
		return exitUsage
	}
	if err := os.Rename(tmp, sigPath); err != nil {
		os.Remove(tmp)
		fmt.Fprintf(c.stderr, "warden model sign: %v\n", ioErrText(err))
		return exitUsage
	}
	fmt.Fprintf(c.stdout, "wrote %s\n", sigPath)
	return exitOK
}

func runModelVerify(ctx context.Context, c *cli, args []string) int {
	fs := newModelFlags(c, "verify", `verify --key PREFIX.pub [--sig FILE] [--json] DIR
       warden model verify --trusted-root trusted_root.json --identity SAN --issuer URL DIR

Checks the signature in DIR/model.sig, then re-hashes every file under DIR and
fails on any changed, added, removed or renamed file.

With --key, the bundle must be signed with that key ('warden model sign', or the
model-signing reference tool's 'sign key'). With --trusted-root, the bundle must
be a Sigstore keyless bundle ('model_signing sign sigstore'): the certificate is
checked with sigstore-go against the given trusted root (no network), must name
the signer identity and OIDC issuer given (exactly, or by regexp), and must come
with a transparency-log entry and SCT unless --no-transparency is set.`)
	keyPath := fs.String("key", "", "PEM public key, for key-signed bundles")
	sigPath := fs.String("sig", "", "signature bundle (default DIR/model.sig)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	rootPath := fs.String("trusted-root", "", "Sigstore trusted_root.json, for keyless (certificate) bundles")
	var pol keyless.Policy
	fs.StringVar(&pol.SAN, "identity", "", "keyless: exact certificate identity (SAN: e-mail or URI)")
	fs.StringVar(&pol.SANRegexp, "identity-regexp", "", "keyless: regexp the certificate identity must match")
	fs.StringVar(&pol.Issuer, "issuer", "", "keyless: exact OIDC issuer in the certificate")
	fs.StringVar(&pol.IssuerRegexp, "issuer-regexp", "", "keyless: regexp the OIDC issuer must match")
	fs.BoolVar(&pol.NoTransparency, "no-transparency", false, "keyless: do not require a transparency-log entry and SCT (private CAs only)")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	if (*keyPath == "") == (*rootPath == "") || fs.NArg() != 1 {
		fmt.Fprintln(c.stderr, "warden model verify: give exactly one of --key and --trusted-root, and one DIR")
		fs.Usage()
		return exitUsage
	}
	dir := fs.Arg(0)
	if *sigPath == "" {
		*sigPath = filepath.Join(dir, modelguard.SignatureFile)
	}
	bundle, err := os.ReadFile(*sigPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden model verify: %s: %v\n", *sigPath, ioErrText(err))
		return exitUsage
	}
	var v *modelguard.Verified
	if *rootPath != "" {
		rootJSON, err := os.ReadFile(*rootPath)
		if err != nil {
			fmt.Fprintf(c.stderr, "warden model verify: %s: %v\n", *rootPath, ioErrText(err))
			return exitUsage
		}
		v, err = keyless.Verify(ctx, dir, bundle, rootJSON, pol)
		if errors.Is(err, keyless.ErrPolicy) {
			fmt.Fprintln(c.stderr, "warden model verify:", err)
			return exitUsage
		}
		return reportVerify(c, v, err, *jsonOut)
	}
	pubPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden model verify: %s: %v\n", *keyPath, ioErrText(err))
		return exitUsage
	}
	pub, err := modelguard.ParsePublicKey(pubPEM)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model verify:", err)
		return exitUsage
	}
	v, err = modelguard.Verify(ctx, dir, bundle, pub)
	return reportVerify(c, v, err, *jsonOut)
}

// reportVerify prints the outcome of a verification and returns the exit code.
func reportVerify(c *cli, v *modelguard.Verified, err error, jsonOut bool) int {
	type result struct {
		Verified   bool     `json:"verified"`
		Model      string   `json:"model,omitempty"`
		Files      int      `json:"files,omitempty"`
		RootDigest string   `json:"root_digest,omitempty"`
		Error      string   `json:"error,omitempty"`
		Changed    []string `json:"changed,omitempty"`
		Added      []string `json:"added,omitempty"`
		Removed    []string `json:"removed,omitempty"`
	}
	var res result
	code := exitOK
	var mm *modelguard.MismatchError
	switch {
	case err == nil:
		res = result{Verified: true, Model: v.Model, Files: v.Files, RootDigest: v.RootDigest}
	case errors.As(err, &mm):
		res = result{Error: "model does not match its signature", Changed: mm.Changed, Added: mm.Added, Removed: mm.Removed}
		code = exitFailure
	case errors.Is(err, modelguard.ErrBadSignature), errors.Is(err, modelguard.ErrKeyless),
		errors.Is(err, modelguard.ErrMalformedBundle), errors.Is(err, keyless.ErrNotVerified):
		res = result{Error: err.Error()}
		code = exitFailure
	default:
		fmt.Fprintln(c.stderr, "warden model verify:", ioErrText(err))
		return exitUsage
	}
	if jsonOut {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return exitUsage
		}
		return code
	}
	if res.Verified {
		fmt.Fprintf(c.stdout, "verified: %s, %d files, root sha256 %s\n", res.Model, res.Files, res.RootDigest)
		return code
	}
	fmt.Fprintln(c.stdout, "NOT VERIFIED:", res.Error)
	for _, l := range []struct {
		what  string
		names []string
	}{{"changed", res.Changed}, {"added", res.Added}, {"removed", res.Removed}} {
		for _, n := range l.names {
			fmt.Fprintf(c.stdout, "  %s: %s\n", l.what, n)
		}
	}
	return code
}
