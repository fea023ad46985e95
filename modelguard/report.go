// Package modelguard checks model artifacts before they are served: it
// decodes pickle opcode streams (plain pickles, PyTorch zip archives, NumPy
// .npy/.npz, joblib) without ever unpickling them and judges every imported
// callable against an allowlist; it validates safetensors and GGUF files
// strictly and within bounds; it identifies ONNX and Keras/HDF5 files and
// flags external data and Lambda layers; and it signs and verifies model
// directories in the OpenSSF model-signing layout (a Sigstore bundle holding
// a DSSE envelope with an in-toto statement).
//
// Nothing here executes, imports or loads the model: every parser streams
// its input with bounded memory, and every limit is part of [Config].
//
// Key-signed bundles are verified here with the standard library; bundles
// signed keylessly (Sigstore certificates) are verified by the opt-in
// package modelguard/keyless, which links sigstore-go.
package modelguard

import "fmt"

// Kind says what a finding means for the verdict.
type Kind string

// Finding kinds.
const (
	// KindDangerous marks content that can run code or reach outside the
	// artifact when loaded (a non-allowlisted import, an extension-registry
	// reference, a Lambda layer, a path-traversing external reference).
	KindDangerous Kind = "dangerous"
	// KindInvalid marks malformed or out-of-bounds content: the artifact
	// cannot be judged and is refused.
	KindInvalid Kind = "invalid"
	// KindNotice is informational and does not change the verdict.
	KindNotice Kind = "notice"
)

// Severity ranks a finding.
type Severity string

// Severities, lowest first.
const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Verdict is the outcome for one file.
type Verdict string

// Verdicts.
const (
	VerdictClean     Verdict = "clean"
	VerdictDangerous Verdict = "dangerous"
	VerdictInvalid   Verdict = "invalid"
)

// Format names a recognised artifact format.
type Format string

// Formats.
const (
	FormatPickle      Format = "pickle"
	FormatZip         Format = "zip" // PyTorch archive, .npz, .keras
	FormatNumPy       Format = "npy"
	FormatSafetensors Format = "safetensors"
	FormatGGUF        Format = "gguf"
	FormatONNX        Format = "onnx"
	FormatHDF5        Format = "hdf5"
	FormatUnknown     Format = "unknown"
)

// Finding is one observation about an artifact. It never holds model bytes:
// only names of callables, members and fields, and byte offsets.
type Finding struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Rule is a stable identifier such as "pickle.import" or "zip.traversal".
	Rule string `json:"rule"`
	// Member is the archive member the finding is in, if any.
	Member string `json:"member,omitempty"`
	// Offset is the byte offset in the file (or member) where the problem
	// was seen; -1 when it does not apply.
	Offset int64 `json:"offset"`
	// Callable is the imported callable, "module.name", for import findings.
	Callable string `json:"callable,omitempty"`
	Message  string `json:"message"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s %s %s", f.Severity, f.Kind, f.Rule)
	if f.Member != "" {
		s += " member=" + f.Member
	}
	if f.Offset >= 0 {
		s += fmt.Sprintf(" offset=%d", f.Offset)
	}
	if f.Callable != "" {
		s += " callable=" + f.Callable
	}
	return s + ": " + f.Message
}

// Template is a chat template found in model metadata. Chat templates are
// code (Jinja): a policy can allowlist them by hash.
type Template struct {
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
	Length int64  `json:"length"`
}

// FileReport is the result of scanning one file.
type FileReport struct {
	Path     string    `json:"path"`
	Format   Format    `json:"format"`
	Size     int64     `json:"size"`
	Verdict  Verdict   `json:"verdict"`
	Findings []Finding `json:"findings,omitempty"`
	// Imports lists the allowlisted callables the pickles import, sorted
	// and deduplicated.
	Imports []string `json:"imports,omitempty"`
	// Templates lists chat templates with their SHA-256.
	Templates []Template `json:"templates,omitempty"`
	// Tensors counts the tensors described (safetensors, GGUF).
	Tensors int64 `json:"tensors,omitempty"`
}

// finish computes the verdict from the findings.
func (r *FileReport) finish() {
	r.Verdict = VerdictClean
	for _, f := range r.Findings {
		switch f.Kind {
		case KindDangerous:
			r.Verdict = VerdictDangerous
		case KindInvalid:
			if r.Verdict == VerdictClean {
				r.Verdict = VerdictInvalid
			}
		}
	}
}
