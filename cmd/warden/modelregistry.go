package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/wardenhq/warden/modelguard"
)

// runModelRegister scans and verifies a model directory and records the
// result in the registry; the gateway serves models that upstreams mark
// require_approved only when the record says approved.
func runModelRegister(ctx context.Context, c *cli, args []string) int {
	fs := newModelFlags(c, "register", `register --config F --name MODEL --key PREFIX.pub [--source S] [--licence L] DIR

Scans every file of DIR, verifies DIR/model.sig with the key, and records the
model in the registry: approved when the scan is clean and the signature
holds, recorded as not approved otherwise. Exit 0 approved, 1 not approved.`)
	configPath := fs.String("config", "", "config `file`")
	name := fs.String("name", "", "model name as callers and upstreams use it")
	keyPath := fs.String("key", "", "PEM public key the directory is signed with")
	source := fs.String("source", "", "where the artifacts came from (hub URL, registry)")
	licence := fs.String("licence", "", "licence identifier (e.g. apache-2.0)")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	if *name == "" || *keyPath == "" || fs.NArg() != 1 {
		fmt.Fprintln(c.stderr, "warden model register: --name, --key and one DIR are required")
		fs.Usage()
		return exitUsage
	}
	dir := fs.Arg(0)
	cfg, err := loadConfig(*configPath, c.getenv)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model register:", err)
		return exitUsage
	}
	pubPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden model register: %s: %v\n", *keyPath, ioErrText(err))
		return exitUsage
	}
	pub, err := modelguard.ParsePublicKey(pubPEM)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model register:", err)
		return exitUsage
	}
	signer, err := modelguard.KeyFingerprint(pub)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model register:", err)
		return exitUsage
	}
	sc, err := modelguard.New(modelguard.Config{})
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model register:", err)
		return exitUsage
	}
	reports, err := sc.ScanPath(ctx, dir)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model register:", ioErrText(err))
		return exitUsage
	}
	verdict := modelguard.VerdictClean
	for _, r := range reports {
		if filepath.Base(r.Path) == modelguard.SignatureFile {
			continue
		}
		if r.Verdict == modelguard.VerdictDangerous || (r.Verdict != modelguard.VerdictClean && verdict == modelguard.VerdictClean) {
			verdict = r.Verdict
		}
	}
	reg := modelguard.Registration{Name: *name, Signer: signer, Verdict: verdict, Source: *source, Licence: *licence}
	bundle, err := os.ReadFile(filepath.Join(dir, modelguard.SignatureFile))
	var why string
	if err != nil {
		why = "no signature: " + ioErrText(err)
	} else if v, err := modelguard.Verify(ctx, dir, bundle, pub); err != nil {
		why = "signature does not verify: " + err.Error()
	} else {
		reg.RootDigest, reg.Files = v.RootDigest, v.Files
	}
	reg.Approved = why == "" && verdict == modelguard.VerdictClean
	if verdict != modelguard.VerdictClean {
		why = "scan verdict " + string(verdict)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model register:", err)
		return exitUsage
	}
	defer db.Close()
	if err := modelguard.NewRegistry(db).Put(ctx, reg); err != nil {
		fmt.Fprintln(c.stderr, "warden model register:", err)
		return exitUsage
	}
	if !reg.Approved {
		fmt.Fprintf(c.stdout, "%s recorded as NOT approved: %s\n", *name, why)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "%s approved: %d files, root %s, signer %s\n", *name, reg.Files, reg.RootDigest, signer)
	return exitOK
}

func runModelRegistry(ctx context.Context, c *cli, args []string) int {
	fs := newModelFlags(c, "registry", `registry --config F [--json] [--revoke MODEL]

Lists the model registry, or withdraws one model's approval.`)
	configPath := fs.String("config", "", "config `file`")
	jsonOut := fs.Bool("json", false, "print JSON")
	revoke := fs.String("revoke", "", "withdraw this model's approval")
	if code, ok := parseModelFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(*configPath, c.getenv)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model registry:", err)
		return exitUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model registry:", err)
		return exitUsage
	}
	defer db.Close()
	r := modelguard.NewRegistry(db)
	if *revoke != "" {
		if err := r.Revoke(ctx, *revoke); err != nil {
			fmt.Fprintln(c.stderr, "warden model registry:", err)
			return exitFailure
		}
		fmt.Fprintf(c.stdout, "%s: approval withdrawn\n", *revoke)
		return exitOK
	}
	list, err := r.List(ctx)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden model registry:", err)
		return exitUsage
	}
	if *jsonOut {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(list)
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tAPPROVED\tVERDICT\tFILES\tSIGNER\tSOURCE\tLICENCE")
	for _, m := range list {
		fmt.Fprintf(tw, "%s\t%v\t%s\t%d\t%.23s\t%s\t%s\n", m.Name, m.Approved, m.Verdict, m.Files, m.Signer, m.Source, m.Licence)
	}
	tw.Flush()
	return exitOK
}
