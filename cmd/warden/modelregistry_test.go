package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelRegisterApprovesOnlySignedCleanModels(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"WARDEN_DATA_DIR": filepath.Join(dir, "data")}
	model := filepath.Join(dir, "model")
	os.MkdirAll(model, 0o755)
	// A tiny valid safetensors file: empty header "{}" padded, no tensors.
	header := []byte("{}      ")
	st := append([]byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}, header...)
	os.WriteFile(filepath.Join(model, "model.safetensors"), st, 0o644)
	os.WriteFile(filepath.Join(model, "config.json"), []byte(`{"arch":"tiny"}`), 0o644)
	prefix := filepath.Join(dir, "signer")
	if code, _, errs := runT(t, env, "", "model", "keygen", "--out", prefix); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	if code, _, errs := runT(t, env, "", "model", "sign", "--key", prefix+".key", model); code != 0 {
		t.Fatalf("sign: %s", errs)
	}
	code, out, errs := runT(t, env, "", "model", "register", "--name", "tiny", "--key", prefix+".pub", "--licence", "mit", model)
	if code != 0 || !strings.Contains(out, "tiny approved") {
		t.Fatalf("register: exit %d: %s %s", code, out, errs)
	}
	os.WriteFile(filepath.Join(model, "config.json"), []byte(`{"arch":"tampered"}`), 0o644)
	code, out, _ = runT(t, env, "", "model", "register", "--name", "tiny", "--key", prefix+".pub", model)
	if code != exitFailure || !strings.Contains(out, "NOT approved") {
		t.Fatalf("tampered model: exit %d: %s", code, out)
	}
	_, out, _ = runT(t, env, "", "model", "registry")
	if !strings.Contains(out, "tiny") || !strings.Contains(out, "false") {
		t.Fatalf("registry listing: %s", out)
	}
}
