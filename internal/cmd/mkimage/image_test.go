package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// shells are base names that must not be anywhere in the image.
var shells = map[string]bool{
	"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true,
	"csh": true, "tcsh": true, "fish": true, "busybox": true, "toybox": true,
}

// fakeELF returns a minimal ELF64 executable header for EM_X86_64, with a
// PT_INTERP program header when dynamic is set.
func fakeELF(dynamic bool, payload string) []byte {
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	b.Write(make([]byte, 8))
	phnum := uint16(0)
	phoff := uint64(0)
	if dynamic {
		phnum, phoff = 1, 64
	}
	le := binary.LittleEndian
	for _, v := range []any{uint16(elf.ET_EXEC), uint16(elf.EM_X86_64), uint32(1), uint64(0x401000), phoff, uint64(0),
		uint32(0), uint16(64), uint16(56), phnum, uint16(64), uint16(0), uint16(0)} {
		binary.Write(&b, le, v)
	}
	if dynamic {
		for _, v := range []any{uint32(elf.PT_INTERP), uint32(4), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(1)} {
			binary.Write(&b, le, v)
		}
	}
	b.WriteString(payload)
	return b.Bytes()
}

func testSpec(payload string) Spec {
	return Spec{
		Binary:   fakeELF(false, payload),
		Epoch:    time.Unix(1764000000, 0).UTC(),
		Arch:     "amd64",
		Version:  "v1.2.3-4-gabcdef0",
		Revision: "abcdef0123456789abcdef0123456789abcdef01",
		Source:   "https://github.com/wardenhq/warden",
		Licenses: "NOASSERTION",
	}
}

func digestOf(t *testing.T, sp Spec) v1.Hash {
	t.Helper()
	img, err := Build(sp)
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBuildIsReproducible(t *testing.T) {
	sp := testSpec("warden")
	d1, d2 := digestOf(t, sp), digestOf(t, sp)
	if d1 != d2 {
		t.Fatalf("same spec, two digests: %s %s", d1, d2)
	}
	for name, change := range map[string]func(*Spec){
		"epoch":    func(s *Spec) { s.Epoch = s.Epoch.Add(time.Second) },
		"binary":   func(s *Spec) { s.Binary = fakeELF(false, "warden2") },
		"revision": func(s *Spec) { s.Revision = strings.Repeat("1", 40) },
	} {
		sp2 := testSpec("warden")
		change(&sp2)
		if digestOf(t, sp2) == d1 {
			t.Errorf("changing %s kept the digest", name)
		}
	}
}

func TestBuildRefusesDynamicBinary(t *testing.T) {
	sp := testSpec("")
	sp.Binary = fakeELF(true, "")
	if _, err := Build(sp); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("dynamic binary: err = %v", err)
	}
	sp.Binary = []byte("#!/bin/sh\n")
	if _, err := Build(sp); err == nil {
		t.Fatal("a script was accepted as the binary")
	}
}

// TestBuildWritesLayoutAndTarball runs the command as scripts/image.sh
// does, then checks that the layout and the docker tarball hold the same
// image, that `digest` validates the layout, and that a changed byte in a
// layout blob is caught.
func TestBuildWritesLayoutAndTarball(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "warden")
	os.WriteFile(bin, fakeELF(false, "warden"), 0o755)
	lay, tarPath := filepath.Join(dir, "image"), filepath.Join(dir, "warden-image.tar")
	args := []string{"build", "-binary", bin, "-version", "v0.0.1", "-revision", strings.Repeat("a", 40), "-layout", lay, "-tarball", tarPath}
	env := func(k string) string { return map[string]string{"SOURCE_DATE_EPOCH": "1764000000"}[k] }
	var out, errb bytes.Buffer
	if code := run(args, env, &out, &errb); code != 0 {
		t.Fatalf("build: exit %d: %s", code, errb.String())
	}
	built := strings.TrimSpace(out.String())
	out.Reset()
	if code := run(args, env, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != built {
		t.Fatalf("rebuild over the layout: exit %d, digest %s, first %s: %s", code, out.String(), built, errb.String())
	}
	img := inspectLayout(t, lay, built)
	cf, _ := img.ConfigFile()
	if cf.Config.Labels["org.opencontainers.image.created"] != "2025-11-24T16:00:00Z" {
		t.Errorf("created label = %q", cf.Config.Labels["org.opencontainers.image.created"])
	}
	sameImage(t, img, tarPath)

	out.Reset()
	if code := run([]string{"digest", lay}, env, &out, &errb); code != 0 || strings.TrimSpace(out.String()) != built {
		t.Fatalf("digest: exit %d: %s %s", code, out.String(), errb.String())
	}
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	blob := filepath.Join(lay, "blobs", ld.Algorithm, ld.Hex)
	data, _ := os.ReadFile(blob)
	data[len(data)/2] ^= 0x01
	os.WriteFile(blob, data, 0o644)
	errb.Reset()
	if code := run([]string{"digest", lay}, env, &out, &errb); code != 1 {
		t.Fatalf("tampered layer blob: exit %d: %s", code, errb.String())
	}

	os.WriteFile(filepath.Join(dir, "precious"), []byte("x"), 0o644)
	args[len(args)-3] = dir // -layout pointing at a directory that is not a layout
	if code := run(args, env, &out, &errb); code == 0 {
		t.Fatal("build replaced a directory that is not an OCI layout")
	}
	if _, err := os.Stat(filepath.Join(dir, "precious")); err != nil {
		t.Fatal("build removed a directory that is not an OCI layout")
	}
}

// TestBuiltImage inspects the image scripts/image.sh built (it sets
// WARDEN_TEST_IMAGE to the OCI layout and WARDEN_TEST_IMAGE_DIGEST to the
// digest it printed), including running the binary from the layer.
func TestBuiltImage(t *testing.T) {
	dir := os.Getenv("WARDEN_TEST_IMAGE")
	if dir == "" {
		t.Skip("WARDEN_TEST_IMAGE is not set: run scripts/image.sh --check to build and inspect the image")
	}
	img := inspectLayout(t, dir, os.Getenv("WARDEN_TEST_IMAGE_DIGEST"))
	if tarPath := os.Getenv("WARDEN_TEST_IMAGE_TAR"); tarPath != "" {
		sameImage(t, img, tarPath)
	}
	cf, _ := img.ConfigFile()
	files := layerFiles(t, img)
	bin := filepath.Join(t.TempDir(), "warden")
	if err := os.WriteFile(bin, files[strings.TrimPrefix(BinaryPath, "/")], 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has program header %v: not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
	f.Close()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", BinaryPath, err)
	}
	want := "warden " + cf.Config.Labels["org.opencontainers.image.version"] + "\n"
	if string(out) != want {
		t.Fatalf("%s version printed %q, want %q", BinaryPath, out, want)
	}
}

// sameImage checks that the docker tarball at tarPath holds img: the same
// config and layer blobs (a docker tarball stores no manifest, so the
// manifest digest is not comparable).
func sameImage(t *testing.T, img v1.Image, tarPath string) {
	t.Helper()
	fromTar, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := img.ConfigName()
	c2, err := fromTar.ConfigName()
	if err != nil || c1 != c2 {
		t.Fatalf("tarball config %s (%v), layout config %s", c2, err, c1)
	}
	l1, _ := img.Layers()
	l2, err := fromTar.Layers()
	if err != nil || len(l1) != len(l2) {
		t.Fatalf("tarball has %d layers (%v), layout %d", len(l2), err, len(l1))
	}
	for i := range l1 {
		d1, _ := l1[i].Digest()
		if d2, _ := l2[i].Digest(); d1 != d2 {
			t.Fatalf("layer %d: tarball %s, layout %s", i, d2, d1)
		}
	}
}

// inspectLayout opens the one image of the OCI layout at dir, checks its
// digest (when want is set) and everything that must hold of any Warden
// image, and returns it.
func inspectLayout(t *testing.T, dir, want string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("layout holds %d manifests, want 1", len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if want != "" && im.Manifests[0].Digest.String() != want {
		t.Fatalf("layout image is %s, want %s", im.Manifests[0].Digest, want)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532 (numeric, not root)", c.User)
	}
	if len(c.Entrypoint) != 1 || path.Base(c.Entrypoint[0]) != "warden" || c.Entrypoint[0] != BinaryPath {
		t.Errorf("Entrypoint = %q, want [%s]", c.Entrypoint, BinaryPath)
	}
	if len(c.Cmd) != 1 || c.Cmd[0] != "serve" {
		t.Errorf("Cmd = %q, want [serve]", c.Cmd)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v, want 8080/tcp", c.ExposedPorts)
	}
	env := strings.Join(c.Env, "\n")
	for _, e := range []string{"WARDEN_DATA_DIR=" + DataDir, "WARDEN_LISTEN=:8080"} {
		if !strings.Contains(env, e) {
			t.Errorf("Env lacks %s: %q", e, c.Env)
		}
	}
	for _, l := range []string{"source", "revision", "version", "created", "licenses"} {
		if c.Labels["org.opencontainers.image."+l] == "" {
			t.Errorf("label org.opencontainers.image.%s is missing", l)
		}
	}
	if !strings.HasPrefix(c.Labels["org.opencontainers.image.source"], "https://") {
		t.Errorf("source label = %q", c.Labels["org.opencontainers.image.source"])
	}
	if r := c.Labels["org.opencontainers.image.revision"]; len(r) != 40 {
		t.Errorf("revision label = %q, want a full commit hash", r)
	}
	created, err := time.Parse(time.RFC3339, c.Labels["org.opencontainers.image.created"])
	if err != nil || !cf.Created.Time.Equal(created) {
		t.Errorf("created label %q, config created %v", c.Labels["org.opencontainers.image.created"], cf.Created)
	}

	files := layerFiles(t, img)
	execs := 0
	for _, h := range tarHeaders(t, img) {
		if shells[path.Base(h.Name)] {
			t.Errorf("shell in the image: %s", h.Name)
		}
		if top := strings.SplitN(h.Name, "/", 2)[0]; top == "bin" || top == "sbin" {
			t.Errorf("%s in the image: no /bin or /sbin expected", h.Name)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			t.Errorf("%s: tar type %q (links and devices are not expected)", h.Name, h.Typeflag)
		}
		if h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 {
			execs++
			if "/"+h.Name != BinaryPath {
				t.Errorf("executable %s besides %s", h.Name, BinaryPath)
			}
		}
		if !h.ModTime.Equal(created) {
			t.Errorf("%s: mtime %v, want SOURCE_DATE_EPOCH %v", h.Name, h.ModTime, created)
		}
		if h.Mode&0o002 != 0 && h.Name != "tmp/" {
			t.Errorf("%s is world-writable", h.Name)
		}
		if h.Name == strings.TrimPrefix(DataDir, "/")+"/" && (h.Uid != UID || h.Gid != GID) {
			t.Errorf("%s owned by %d:%d, want %d:%d", h.Name, h.Uid, h.Gid, UID, GID)
		}
		if h.Name == strings.TrimPrefix(BinaryPath, "/") && h.Uid != 0 {
			t.Errorf("%s owned by uid %d: the process must not own its binary", h.Name, h.Uid)
		}
	}
	if execs != 1 {
		t.Errorf("%d executables in the image, want 1 (%s)", execs, BinaryPath)
	}
	if !strings.Contains(string(files["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user 65532: %q", files["etc/passwd"])
	}
	if !strings.Contains(string(files["etc/group"]), "nonroot:x:65532:") {
		t.Errorf("/etc/group has no nonroot group 65532: %q", files["etc/group"])
	}
	return img
}

func tarHeaders(t *testing.T, img v1.Image) []*tar.Header {
	t.Helper()
	var hs []*tar.Header
	walkLayers(t, img, func(h *tar.Header, _ io.Reader) { hs = append(hs, h) })
	return hs
}

func layerFiles(t *testing.T, img v1.Image) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	walkLayers(t, img, func(h *tar.Header, r io.Reader) {
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
		}
	})
	return files
}

func walkLayers(t *testing.T, img v1.Image, fn func(*tar.Header, io.Reader)) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			fn(h, tr)
		}
		rc.Close()
	}
}
