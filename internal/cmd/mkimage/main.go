// Command mkimage assembles Warden's container image from a static warden
// binary, without Docker and without a base image: one layer built here
// byte for byte (the binary, /etc/passwd and /etc/group for the nonroot
// user 65532, and empty /tmp, /home/nonroot and /var/lib/warden), and an
// OCI config naming the entrypoint, user, environment and labels. Every
// timestamp is SOURCE_DATE_EPOCH, entries are sorted and owners fixed, so
// the same binary and flags give the same image digest.
//
// There is no shell, no package manager and no CA bundle file in the
// image: the warden binary embeds its fallback roots
// (golang.org/x/crypto/x509roots/fallback), which Go uses when no system
// bundle exists; mount one at /etc/ssl/certs/ca-certificates.crt (or set
// SSL_CERT_FILE) to use your own.
//
// scripts/image.sh builds the binary and runs this. Usage:
//
//	mkimage build -binary dist/warden -epoch N -version V -revision R \
//	    -layout dist/image -tarball dist/warden-image.tar
//	mkimage digest dist/image
//
// build prints the image digest (sha256:…). digest checks every blob of an
// OCI layout against its digest and size and prints the digest of its one
// image, so a signature can be checked against what is on disk.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// Fixed facts of the image.
const (
	// BinaryPath is where the warden binary lives in the image.
	BinaryPath = "/usr/bin/warden"
	// DataDir is WARDEN_DATA_DIR in the image, owned by the nonroot user.
	DataDir = "/var/lib/warden"
	// UID and GID of the nonroot user the image runs as.
	UID = 65532
	GID = 65532
	// Port is the exposed port; WARDEN_LISTEN binds it on all interfaces.
	Port = 8080
)

// Spec is everything an image is built from.
type Spec struct {
	// Binary is the warden binary's content (a static Linux ELF).
	Binary []byte
	// Epoch is SOURCE_DATE_EPOCH: every file time, the config's created
	// time and the created label.
	Epoch time.Time
	// Arch is the GOARCH of the binary (amd64, arm64).
	Arch string
	// Version, Revision, Source and Licenses become the OCI labels
	// org.opencontainers.image.{version,revision,source,licenses}.
	Version, Revision, Source, Licenses string
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: mkimage build [flags] | mkimage digest LAYOUT_DIR")
		return 2
	}
	switch args[0] {
	case "build":
		return runBuild(args[1:], getenv, stdout, stderr)
	case "digest":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: mkimage digest LAYOUT_DIR")
			return 2
		}
		d, err := layoutDigest(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "mkimage digest:", err)
			return 1
		}
		fmt.Fprintln(stdout, d)
		return 0
	}
	fmt.Fprintf(stderr, "mkimage: unknown subcommand %q\n", args[0])
	return 2
}

func runBuild(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mkimage build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binary := fs.String("binary", "", "static warden binary (required)")
	epoch := fs.String("epoch", getenv("SOURCE_DATE_EPOCH"), "seconds since 1970 for every timestamp (default $SOURCE_DATE_EPOCH; required)")
	arch := fs.String("arch", "", "GOARCH of the binary (default: read from the ELF header)")
	var sp Spec
	fs.StringVar(&sp.Version, "version", "", "org.opencontainers.image.version and the tarball's tag (required)")
	fs.StringVar(&sp.Revision, "revision", "", "org.opencontainers.image.revision: the git commit (required)")
	fs.StringVar(&sp.Source, "source", "https://github.com/wardenhq/warden", "org.opencontainers.image.source")
	fs.StringVar(&sp.Licenses, "licenses", "NOASSERTION", "org.opencontainers.image.licenses (SPDX expression)")
	layoutDir := fs.String("layout", "", "write an OCI image layout to this directory (replaced)")
	tarPath := fs.String("tarball", "", "write a docker-loadable tarball to this file")
	repo := fs.String("repo", "warden", "repository of the tarball's tag (REPO:VERSION)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *binary == "" || *epoch == "" || sp.Version == "" || sp.Revision == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "mkimage build: -binary, -epoch (or SOURCE_DATE_EPOCH), -version and -revision are required")
		fs.Usage()
		return 2
	}
	secs, err := strconv.ParseInt(*epoch, 10, 64)
	if err != nil || secs < 0 {
		fmt.Fprintln(stderr, "mkimage build: -epoch must be whole seconds since 1970")
		return 2
	}
	sp.Epoch = time.Unix(secs, 0).UTC()
	if sp.Binary, err = os.ReadFile(*binary); err != nil {
		fmt.Fprintln(stderr, "mkimage build:", err)
		return 2
	}
	sp.Arch = *arch
	if sp.Arch == "" {
		if sp.Arch, err = elfArch(sp.Binary); err != nil {
			fmt.Fprintln(stderr, "mkimage build:", err)
			return 2
		}
	}
	img, err := Build(sp)
	if err != nil {
		fmt.Fprintln(stderr, "mkimage build:", err)
		return 1
	}
	if *layoutDir != "" {
		if err := writeLayout(*layoutDir, img, sp.Version); err != nil {
			fmt.Fprintln(stderr, "mkimage build:", err)
			return 1
		}
	}
	if *tarPath != "" {
		tag, err := name.NewTag(*repo + ":" + sp.Version)
		if err != nil {
			fmt.Fprintln(stderr, "mkimage build: -repo and -version do not make an image tag:", err)
			return 2
		}
		if err := tarball.WriteToFile(*tarPath, tag, img); err != nil {
			fmt.Fprintln(stderr, "mkimage build:", err)
			return 1
		}
	}
	d, err := img.Digest()
	if err != nil {
		fmt.Fprintln(stderr, "mkimage build:", err)
		return 1
	}
	fmt.Fprintln(stdout, d)
	return 0
}

// Build assembles the image described by sp.
func Build(sp Spec) (v1.Image, error) {
	if sp.Arch == "" || sp.Version == "" || sp.Revision == "" || sp.Source == "" || sp.Licenses == "" {
		return nil, errors.New("spec needs arch, version, revision, source and licenses")
	}
	if err := checkStatic(sp.Binary); err != nil {
		return nil, err
	}
	layerTar, err := rootFS(sp)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: sp.Epoch}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   created,
			CreatedBy: "internal/cmd/mkimage: " + BinaryPath + ", /etc/passwd, /etc/group, " + DataDir,
			Comment:   "warden " + sp.Version,
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS = "linux"
	cf.Architecture = sp.Arch
	cf.Author = ""
	user := strconv.Itoa(UID) + ":" + strconv.Itoa(GID)
	cf.Config = v1.Config{
		User:       user,
		Entrypoint: []string{BinaryPath},
		Cmd:        []string{"serve"},
		WorkingDir: DataDir,
		Env: []string{
			"PATH=/usr/bin",
			"HOME=/home/nonroot",
			"WARDEN_DATA_DIR=" + DataDir,
			"WARDEN_LISTEN=:" + strconv.Itoa(Port),
		},
		ExposedPorts: map[string]struct{}{strconv.Itoa(Port) + "/tcp": {}},
		StopSignal:   "SIGTERM",
		Labels: map[string]string{
			"org.opencontainers.image.title":       "warden",
			"org.opencontainers.image.description": "Warden: the data-security gateway between applications and AI models",
			"org.opencontainers.image.source":      sp.Source,
			"org.opencontainers.image.url":         sp.Source,
			"org.opencontainers.image.revision":    sp.Revision,
			"org.opencontainers.image.version":     sp.Version,
			"org.opencontainers.image.created":     sp.Epoch.Format(time.RFC3339),
			"org.opencontainers.image.licenses":    sp.Licenses,
		},
	}
	return mutate.ConfigFile(img, cf)
}

// entry is one file or directory of the root filesystem.
type entry struct {
	name     string // without a leading slash; directories end in /
	mode     int64
	uid, gid int
	data     []byte
}

// rootFS returns the uncompressed layer: a tar whose every header is
// fixed (USTAR, sorted names, numeric owners, mtime = epoch).
func rootFS(sp Spec) ([]byte, error) {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, GID)
	group := "root:x:0:\n" + fmt.Sprintf("nonroot:x:%d:\n", GID)
	entries := []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: UID, gid: GID},
		{name: "tmp/", mode: 0o1777},
		{name: "usr/", mode: 0o755},
		{name: "usr/bin/", mode: 0o755},
		{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, data: sp.Binary},
		{name: "var/", mode: 0o755},
		{name: "var/lib/", mode: 0o755},
		{name: strings.TrimPrefix(DataDir, "/") + "/", mode: 0o700, uid: UID, gid: GID},
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: sp.Epoch,
			Format:  tar.FormatUSTAR,
		}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkStatic refuses a binary that is not a Linux ELF executable without
// an interpreter and shared libraries: there is no libc in the image.
func checkStatic(bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return errors.New("binary is not an ELF executable")
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return errors.New("binary is dynamically linked: build it with CGO_ENABLED=0")
		}
	}
	return nil
}

// elfArch maps the ELF machine of bin to a GOARCH.
func elfArch(bin []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", errors.New("binary is not an ELF executable")
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_RISCV:
		return "riscv64", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	}
	return "", fmt.Errorf("binary's ELF machine %v has no GOARCH here: give -arch", f.Machine)
}

// writeLayout writes img as the one image of an OCI layout at dir,
// replacing a layout that is there (and refusing anything else).
func writeLayout(dir string, img v1.Image, version string) error {
	if _, err := os.Stat(dir); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("%s exists and is not an OCI layout: not replacing it", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": version,
	})); err != nil {
		return err
	}
	// Blobs are written through temporary files (mode 0600): make the
	// layout readable by a scanner running as another user.
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chmod(p, 0o644)
	})
}

// layoutDigest validates the one image of the OCI layout at dir (every
// blob's digest and size, layer diff IDs, config) and returns its digest.
func layoutDigest(dir string) (v1.Hash, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return v1.Hash{}, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	if len(im.Manifests) != 1 {
		return v1.Hash{}, fmt.Errorf("%s holds %d manifests, want 1", dir, len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := validate.Image(img); err != nil {
		return v1.Hash{}, fmt.Errorf("%s does not match its digests: %w", dir, err)
	}
	return img.Digest()
}
