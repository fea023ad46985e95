package modelguard

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Config sets the scanner's limits. The zero value of every field selects
// the documented default.
type Config struct {
	// Allow adds callables ("module.name") to the pickle import allowlist.
	Allow []string
	// MaxPickleOps bounds the opcodes decoded per pickle stream (default 100,000,000).
	MaxPickleOps int64
	// MaxPickleStack bounds the unpickler stack depth (default 100,000).
	MaxPickleStack int
	// MaxPickleMemo bounds the number of memo entries (default 1,000,000).
	MaxPickleMemo int
	// MaxHeaderSize bounds a safetensors JSON header and a .npy header (default 100 MiB).
	MaxHeaderSize int64
	// MaxZipEntries bounds the members of one archive (default 100,000).
	MaxZipEntries int
	// MaxZipEntrySize bounds one member's uncompressed size (default 64 GiB).
	MaxZipEntrySize int64
	// MaxZipRatio bounds the uncompressed/compressed ratio of a deflated
	// member larger than 1 MiB that is decoded in full (a pickle or .npy
	// member) (default 200): a higher ratio is a zip bomb. Other members
	// are only sniffed, never fully decompressed.
	MaxZipRatio int64
	// MaxGGUFString bounds one GGUF string (default 64 MiB).
	MaxGGUFString int64
	// MaxGGUFCount bounds GGUF metadata, tensor and array counts (default 100,000,000).
	MaxGGUFCount uint64
}

func (c Config) withDefaults() Config {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxPickleOps, 100_000_000)
	def(&c.MaxHeaderSize, 100<<20)
	def(&c.MaxZipEntrySize, 64<<30)
	def(&c.MaxZipRatio, 200)
	def(&c.MaxGGUFString, 64<<20)
	if c.MaxPickleStack <= 0 {
		c.MaxPickleStack = 100_000
	}
	if c.MaxPickleMemo <= 0 {
		c.MaxPickleMemo = 1_000_000
	}
	if c.MaxZipEntries <= 0 {
		c.MaxZipEntries = 100_000
	}
	if c.MaxGGUFCount == 0 {
		c.MaxGGUFCount = 100_000_000
	}
	return c
}

// Scanner scans model artifacts. It is safe for concurrent use.
type Scanner struct {
	cfg   Config
	allow allowlist
}

// New returns a Scanner for cfg. It fails if an Allow entry is not of the
// form "module.name".
func New(cfg Config) (*Scanner, error) {
	for i, a := range cfg.Allow {
		if !validAllowEntry(a) {
			return nil, fmt.Errorf("modelguard: Allow[%d] is not a dotted module.name", i)
		}
	}
	cfg = cfg.withDefaults()
	return &Scanner{cfg: cfg, allow: newAllowlist(cfg.Allow)}, nil
}

func (s *Scanner) pickleLimits() pickleLimits {
	return pickleLimits{maxOps: s.cfg.MaxPickleOps, maxStack: s.cfg.MaxPickleStack, maxMemo: s.cfg.MaxPickleMemo}
}

// ScanPath scans a file, or every regular file under a directory
// (recursively, in lexical order; symbolic links are reported, not
// followed). The error is for I/O failures only; what is wrong with the
// artifacts is in the reports.
func (s *Scanner) ScanPath(ctx context.Context, path string) ([]FileReport, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		r, err := s.ScanFile(ctx, path)
		if err != nil {
			return nil, err
		}
		return []FileReport{*r}, nil
	}
	var out []FileReport
	err = filepath.WalkDir(path, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		if de.Type()&fs.ModeSymlink != 0 {
			r := FileReport{Path: p, Format: FormatUnknown, Findings: []Finding{{Kind: KindNotice, Severity: SeverityLow,
				Rule: "file.symlink", Offset: -1, Message: "symbolic link not followed"}}}
			r.finish()
			out = append(out, r)
			return nil
		}
		if !de.Type().IsRegular() {
			return nil
		}
		r, err := s.ScanFile(ctx, p)
		if err != nil {
			return err
		}
		out = append(out, *r)
		return nil
	})
	return out, err
}

// pickleExts are extensions whose files are loaded with pickle by common
// tools; unrecognised content in them is refused.
var pickleExts = map[string]bool{
	".pkl": true, ".pickle": true, ".pt": true, ".pth": true, ".ckpt": true,
	".joblib": true, ".dill": true, ".sav": true, ".npy": true, ".npz": true,
}

// ScanFile scans one file. The error is for I/O failures only.
func (s *Scanner) ScanFile(ctx context.Context, path string) (*FileReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rep := &FileReport{Path: path, Size: fi.Size(), Format: FormatUnknown}
	if err := s.scanOpen(ctx, f, fi.Size(), strings.ToLower(filepath.Ext(path)), rep); err != nil {
		return nil, err
	}
	sort.Strings(rep.Imports)
	rep.Imports = dedup(rep.Imports)
	rep.finish()
	return rep, nil
}

func (s *Scanner) scanOpen(ctx context.Context, f *os.File, size int64, ext string, rep *FileReport) error {
	var head [16]byte
	n, err := f.ReadAt(head[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	h := head[:n]
	invalid := func(rule, msg string) {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: rule, Offset: 0, Message: msg})
	}
	switch {
	case bytes.HasPrefix(h, []byte("PK\x03\x04")) || bytes.HasPrefix(h, []byte("PK\x05\x06")):
		rep.Format = FormatZip
		s.scanZip(ctx, f, size, rep)
	case bytes.HasPrefix(h, []byte("\x93NUMPY")):
		rep.Format = FormatNumPy
		s.scanNpy(bufio.NewReader(io.NewSectionReader(f, 0, size)), "", rep)
	case bytes.HasPrefix(h, []byte("GGUF")):
		rep.Format = FormatGGUF
		s.scanGGUF(io.NewSectionReader(f, 0, size), size, rep)
	case bytes.HasPrefix(h, []byte("\x89HDF\r\n\x1a\n")):
		rep.Format = FormatHDF5
		s.scanHDF5(io.NewSectionReader(f, 0, size), rep)
	case bytes.HasPrefix(h, []byte("7z\xbc\xaf\x27\x1c")), bytes.HasPrefix(h, []byte("Rar!\x1a\x07")):
		invalid("container.unsupported", "7z and RAR containers are not scanned: unpack them first")
	case ext == ".safetensors" || looksSafetensors(h, size):
		rep.Format = FormatSafetensors
		s.scanSafetensors(f, size, rep)
	case ext == ".onnx":
		rep.Format = FormatONNX
		s.scanONNX(io.NewSectionReader(f, 0, size), rep)
	case len(h) >= 2 && h[0] == opProto && h[1] <= 5:
		rep.Format = FormatPickle
		s.addPickle(scanPickleStream(io.NewSectionReader(f, 0, size), s.allow, s.pickleLimits(), "", 0), true, "", rep)
	case ext == ".bin":
		// Raw weights (GGML, custom loaders) as often as pytorch_model.bin:
		// decode a protocol 0/1 pickle in probe mode, otherwise leave it.
		if isPickleStart(h) {
			res := scanPickleStream(io.NewSectionReader(f, 0, size), s.allow, s.pickleLimits(), "", 0)
			if res.err == nil || res.suspect {
				rep.Format = FormatPickle
			}
			s.addPickle(res, false, "", rep)
		}
	case pickleExts[ext] && isPickleStart(h):
		rep.Format = FormatPickle
		s.addPickle(scanPickleStream(io.NewSectionReader(f, 0, size), s.allow, s.pickleLimits(), "", 0), true, "", rep)
	case pickleExts[ext]:
		rep.Format = FormatPickle
		s.scanCompressedPickle(io.NewSectionReader(f, 0, size), h, rep)
	case ext == ".h5" || ext == ".hdf5" || ext == ".keras":
		invalid("format.mismatch", "extension says HDF5/Keras but the content is not")
	case isPickleStart(h):
		// Any other file that decodes as a complete protocol 0/1 pickle is
		// judged as one (text files rarely do).
		res := scanPickleStream(io.NewSectionReader(f, 0, size), s.allow, s.pickleLimits(), "", 0)
		if res.err == nil {
			rep.Format = FormatPickle
			s.addPickle(res, true, "", rep)
		}
	}
	return nil
}

// scanCompressedPickle handles joblib-style compressed pickles.
func (s *Scanner) scanCompressedPickle(r io.Reader, h []byte, rep *FileReport) {
	var zr io.Reader
	var err error
	switch {
	case bytes.HasPrefix(h, []byte{0x1f, 0x8b}):
		zr, err = gzip.NewReader(r)
	case len(h) >= 2 && h[0] == 0x78 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0:
		zr, err = zlib.NewReader(r)
	case bytes.HasPrefix(h, []byte("BZh")):
		zr = bzip2.NewReader(r)
	case bytes.HasPrefix(h, []byte("ZF0x")):
		// joblib < 0.10: "ZF0x" + 16 hex digits of length + zlib stream.
		if _, err := io.CopyN(io.Discard, r, 4+16); err != nil {
			break
		}
		zr, err = zlib.NewReader(r)
	case bytes.HasPrefix(h, []byte("\xfd7zXZ")), bytes.HasPrefix(h, []byte{0x5d, 0, 0}), bytes.HasPrefix(h, []byte{0x04, 0x22, 0x4d, 0x18}):
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "pickle.compressed",
			Offset: 0, Message: "xz, lzma or lz4 compressed pickle: cannot be scanned, decompress it first"})
		return
	default:
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "pickle.unrecognised",
			Offset: 0, Message: "file has a pickle extension but is neither a pickle, a zip archive nor a known compressed stream"})
		return
	}
	if err != nil {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "pickle.compressed",
			Offset: 0, Message: "malformed compressed stream"})
		return
	}
	rep.Format = FormatPickle
	res := scanPickleStream(zr, s.allow, s.pickleLimits(), "", 0)
	for i := range res.findings {
		res.findings[i].Message += " (offset in the decompressed stream)"
	}
	s.addPickle(res, true, "", rep)
}

// addPickle merges a pickle result. In strict mode a decoding error makes
// the file invalid; in probe mode (a member that only looks like a pickle)
// a failed decode means "not a pickle" unless it already imported
// something by name.
func (s *Scanner) addPickle(res pickleResult, strict bool, member string, rep *FileReport) {
	if !strict && res.err != nil && !res.suspect {
		return
	}
	rep.Findings = append(rep.Findings, res.findings...)
	rep.Imports = append(rep.Imports, res.imports...)
	if res.err != nil {
		f := Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "pickle.malformed", Member: member, Offset: -1, Message: "malformed pickle"}
		var pe *pickleError
		if errors.As(res.err, &pe) {
			f.Offset, f.Message = pe.off, pe.msg
		}
		rep.Findings = append(rep.Findings, f)
	}
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
