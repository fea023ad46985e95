package modelguard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func scanFixture(t *testing.T, name string) *FileReport {
	t.Helper()
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.ScanFile(context.Background(), filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("ScanFile(%s): %v", name, err)
	}
	return r
}

func hasFinding(r *FileReport, rule, callable string) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && (callable == "" || f.Callable == callable) {
			return true
		}
	}
	return false
}

// TestScanFixtures runs every fixture made by testdata/gen.py.
func TestScanFixtures(t *testing.T) {
	tests := []struct {
		file     string
		format   Format
		verdict  Verdict
		rule     string // a finding that must be present, if set
		callable string
	}{
		{"plain_p0.pkl", FormatPickle, VerdictClean, "", ""},
		{"plain_p1.pkl", FormatPickle, VerdictClean, "", ""},
		{"plain_p2.pkl", FormatPickle, VerdictClean, "", ""},
		{"plain_p3.pkl", FormatPickle, VerdictClean, "", ""},
		{"plain_p4.pkl", FormatPickle, VerdictClean, "", ""},
		{"plain_p5.pkl", FormatPickle, VerdictClean, "", ""},
		{"evil_system_p0.pkl", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"evil_system_p1.pkl", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"evil_system_p2.pkl", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"evil_system_p3.pkl", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"evil_system_p4.pkl", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"evil_system_p5.pkl", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"evil_eval_p4.pkl", FormatPickle, VerdictDangerous, "pickle.import", "builtins.eval"},
		{"evil_memo_stackglobal.pkl", FormatPickle, VerdictDangerous, "pickle.import", "os.system"},
		{"evil_bytes_operand.pkl", FormatPickle, VerdictDangerous, "pickle.unresolvable-import", ""},
		{"evil_inst.pkl", FormatPickle, VerdictDangerous, "pickle.import", "os.system"},
		{"evil_ext.pkl", FormatPickle, VerdictDangerous, "pickle.extension", "ext:1"},
		{"truncated.pkl", FormatPickle, VerdictInvalid, "pickle.malformed", ""},
		{"torch_clean.pt", FormatZip, VerdictClean, "", ""},
		{"zip64_clean.pt", FormatZip, VerdictClean, "", ""},
		{"zip_descriptor_clean.pt", FormatZip, VerdictClean, "", ""},
		{"torch_evil.pt", FormatZip, VerdictDangerous, "pickle.import", "posix.system"},
		{"torch_hidden.pt", FormatZip, VerdictDangerous, "pickle.import", "posix.system"},
		{"zip_traversal.pt", FormatZip, VerdictInvalid, "zip.traversal", ""},
		{"zip_duplicate.pt", FormatZip, VerdictInvalid, "zip.duplicate", ""},
		{"zip_bomb.pt", FormatZip, VerdictInvalid, "zip.bomb", ""},
		{"zip_local_mismatch.pt", FormatZip, VerdictInvalid, "zip.malformed", ""},
		{"array_f4.npy", FormatNumPy, VerdictClean, "", ""},
		{"array_object_plain.npy", FormatNumPy, VerdictClean, "", ""},
		{"array_object_evil.npy", FormatNumPy, VerdictDangerous, "pickle.import", "posix.system"},
		{"model_evil.joblib", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"model_plain.joblib", FormatPickle, VerdictClean, "", ""},
		{"model_plain_gz.pkl", FormatPickle, VerdictClean, "", ""},
		{"ok.safetensors", FormatSafetensors, VerdictClean, "", ""},
		{"shape_mismatch.safetensors", FormatSafetensors, VerdictInvalid, "safetensors.invalid", ""},
		{"gap.safetensors", FormatSafetensors, VerdictInvalid, "safetensors.invalid", ""},
		{"trailing.safetensors", FormatSafetensors, VerdictInvalid, "safetensors.invalid", ""},
		{"dup_key.safetensors", FormatSafetensors, VerdictInvalid, "safetensors.invalid", ""},
		{"bad_dtype.safetensors", FormatSafetensors, VerdictInvalid, "safetensors.invalid", ""},
		{"tiny.gguf", FormatGGUF, VerdictClean, "", ""},
		{"tensor_oob.gguf", FormatGGUF, VerdictInvalid, "gguf.invalid", ""},
		{"lambda.keras", FormatZip, VerdictDangerous, "keras.lambda", ""},
		{"lambda.h5", FormatHDF5, VerdictDangerous, "keras.lambda", ""},
		{"external_ok.onnx", FormatONNX, VerdictClean, "onnx.external-data", ""},
		{"external_traversal.onnx", FormatONNX, VerdictDangerous, "onnx.external-traversal", ""},
		{"archive.7z.pt", FormatUnknown, VerdictInvalid, "container.unsupported", ""},
		{"legacy_clean.pt", FormatPickle, VerdictClean, "", ""},
		{"legacy_evil.pt", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"evil.npz", FormatZip, VerdictDangerous, "pickle.import", "posix.system"},
		{"signed/model/weights.bin", FormatUnknown, VerdictClean, "", ""},
		{"noext_evil_p0", FormatPickle, VerdictDangerous, "pickle.import", "posix.system"},
		{"readme_like.txt", FormatUnknown, VerdictClean, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			r := scanFixture(t, tc.file)
			if r.Format != tc.format || r.Verdict != tc.verdict {
				t.Fatalf("format %s verdict %s, want %s %s; findings %v", r.Format, r.Verdict, tc.format, tc.verdict, r.Findings)
			}
			if tc.rule != "" && !hasFinding(r, tc.rule, tc.callable) {
				t.Fatalf("no %s finding for %q; findings %v", tc.rule, tc.callable, r.Findings)
			}
		})
	}
}

func TestTorchCleanImports(t *testing.T) {
	r := scanFixture(t, "torch_clean.pt")
	want := "collections.OrderedDict torch.FloatStorage torch._utils._rebuild_tensor_v2"
	if got := strings.Join(r.Imports, " "); got != want {
		t.Fatalf("imports %q, want %q", got, want)
	}
}

func TestGGUFTemplateHash(t *testing.T) {
	r := scanFixture(t, "tiny.gguf")
	// sha256 of the template string in gen.py.
	const want = "2f3f666573313d2b0849e1037ccb379ce3a75eb687eccf69f077257e055b93bd"
	if len(r.Templates) != 1 || r.Templates[0].Key != "tokenizer.chat_template" || r.Templates[0].Length != 50 || r.Templates[0].SHA256 != want {
		t.Fatalf("templates %+v", r.Templates)
	}
}

func TestFindingOffsets(t *testing.T) {
	// "(S'id'\n" is 7 bytes: INST is at offset 7.
	r := scanFixture(t, "evil_inst.pkl")
	if len(r.Findings) != 1 || r.Findings[0].Offset != 7 || r.Findings[0].Severity != SeverityCritical {
		t.Fatalf("findings %v, want one critical at offset 7", r.Findings)
	}
}

func TestScanPathRecursive(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(filepath.Join("testdata", src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("ok.safetensors", "model.safetensors")
	copyFile("evil_system_p4.pkl", "sub/deeper/optimizer.pt")
	if err := os.Symlink("model.safetensors", filepath.Join(dir, "link.safetensors")); err != nil {
		t.Fatal(err)
	}
	s, _ := New(Config{})
	reps, err := s.ScanPath(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Verdict{}
	for _, r := range reps {
		rel, _ := filepath.Rel(dir, r.Path)
		got[filepath.ToSlash(rel)] = r.Verdict
	}
	want := map[string]Verdict{"model.safetensors": VerdictClean, "sub/deeper/optimizer.pt": VerdictDangerous, "link.safetensors": VerdictClean}
	if len(got) != len(want) {
		t.Fatalf("reports %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("reports %v, want %v", got, want)
		}
	}
}
