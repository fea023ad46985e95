package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArtifactSignVerifyRejectsTamperedBinary signs a file and an image
// digest with a key from 'warden model keygen', verifies both, and checks
// that one changed byte of the file, another digest, another key and a
// changed signature bundle all fail with exit 1.
func TestArtifactSignVerifyRejectsTamperedBinary(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	if code, _, errs := runT(t, nil, "", "model", "keygen", "--out", prefix); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	other := filepath.Join(dir, "other")
	if code, _, errs := runT(t, nil, "", "model", "keygen", "--out", other); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	bin := filepath.Join(dir, "warden")
	data := []byte("\x7fELF pretend static binary")
	os.WriteFile(bin, data, 0o755)

	code, out, errs := runT(t, nil, "", "artifact", "sign", "--key", prefix+".key", bin)
	if code != exitOK || !strings.Contains(out, bin+".sigstore.json") {
		t.Fatalf("sign: exit %d: %s %s", code, out, errs)
	}
	want := fmt.Sprintf("verified: warden sha256:%x", sha256.Sum256(data))
	code, out, errs = runT(t, nil, "", "artifact", "verify", "--key", prefix+".pub", bin)
	if code != exitOK || !strings.Contains(out, want) {
		t.Fatalf("verify: exit %d: %q %s", code, out, errs)
	}
	if code, out, _ = runT(t, nil, "", "artifact", "verify", "--key", other+".pub", "--bundle", bin+".sigstore.json", bin); code != exitFailure || !strings.Contains(out, "NOT VERIFIED") {
		t.Fatalf("another key: exit %d: %s", code, out)
	}

	tampered := filepath.Join(dir, "warden-tampered")
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 0x01
	os.WriteFile(tampered, bad, 0o755)
	code, out, _ = runT(t, nil, "", "artifact", "verify", "--key", prefix+".pub", "--bundle", bin+".sigstore.json", tampered)
	if code != exitFailure || !strings.Contains(out, "NOT VERIFIED") {
		t.Fatalf("tampered binary: exit %d: %s", code, out)
	}

	sig, _ := os.ReadFile(bin + ".sigstore.json")
	i := strings.Index(string(sig), `"sig": "`) + len(`"sig": "`)
	forged := append([]byte(nil), sig...)
	if forged[i] == 'M' {
		forged[i] = 'N'
	} else {
		forged[i] = 'M'
	}
	os.WriteFile(bin+".forged.json", forged, 0o644)
	if code, out, _ = runT(t, nil, "", "artifact", "verify", "--key", prefix+".pub", "--bundle", bin+".forged.json", bin); code != exitFailure {
		t.Fatalf("changed signature: exit %d: %s", code, out)
	}

	digest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("manifest")))
	imgSig := filepath.Join(dir, "image.sigstore.json")
	if code, out, errs = runT(t, nil, "", "artifact", "sign", "--key", prefix+".key", "--name", "warden", "--digest", digest, "--out", imgSig); code != exitOK {
		t.Fatalf("sign digest: exit %d: %s %s", code, out, errs)
	}
	if code, out, errs = runT(t, nil, "", "artifact", "verify", "--key", prefix+".pub", "--bundle", imgSig, "--digest", digest); code != exitOK || !strings.Contains(out, "verified: warden "+digest) {
		t.Fatalf("verify digest: exit %d: %s %s", code, out, errs)
	}
	otherDigest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("manifest2")))
	if code, out, _ = runT(t, nil, "", "artifact", "verify", "--key", prefix+".pub", "--bundle", imgSig, "--digest", otherDigest); code != exitFailure {
		t.Fatalf("other digest: exit %d: %s", code, out)
	}
}

func TestArtifactUsageErrors(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "k")
	runT(t, nil, "", "model", "keygen", "--out", prefix)
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("x"), 0o644)
	for name, args := range map[string][]string{
		"no subcommand":       {"artifact"},
		"unknown subcommand":  {"artifact", "seal"},
		"no key":              {"artifact", "sign", f},
		"file and digest":     {"artifact", "sign", "--key", prefix + ".key", "--name", "n", "--out", f + ".b", "--digest", "sha256:00", f},
		"digest without name": {"artifact", "sign", "--key", prefix + ".key", "--digest", "sha256:" + strings.Repeat("0", 64), "--out", f + ".b"},
		"bad digest":          {"artifact", "sign", "--key", prefix + ".key", "--name", "n", "--digest", "md5:00", "--out", f + ".b"},
		"missing file":        {"artifact", "sign", "--key", prefix + ".key", filepath.Join(dir, "absent")},
		"public key to sign":  {"artifact", "sign", "--key", prefix + ".pub", f},
		"missing bundle":      {"artifact", "verify", "--key", prefix + ".pub", f},
	} {
		if code, _, _ := runT(t, nil, "", args...); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", name, code, exitUsage)
		}
	}
}
