package modelguard

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzzers feed arbitrary bytes to each parser of untrusted input. The
// limits are small so every input finishes quickly; the property checked
// is no panic, and a verdict for every input. Seeds come from testdata and
// run as regular tests.

func fuzzScanner(t testing.TB) *Scanner {
	s, err := New(Config{MaxPickleOps: 100_000, MaxPickleStack: 1000, MaxPickleMemo: 1000,
		MaxHeaderSize: 1 << 20, MaxZipEntries: 100, MaxGGUFString: 1 << 20, MaxGGUFCount: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func addSeeds(f *testing.F, suffixes ...string) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		for _, s := range suffixes {
			if !e.IsDir() && strings.HasSuffix(e.Name(), s) {
				b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
}

func FuzzPickle(f *testing.F) {
	addSeeds(f, ".pkl", ".joblib")
	f.Add([]byte("\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93."))
	f.Add([]byte("((((((((((((((((((((((((((((((((((((((((((("))
	f.Add([]byte("\x80\x05\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8e\xff\xff\xff\xff\xff\xff\xff\x7f."))
	s := fuzzScanner(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res := scanPickleStream(bytes.NewReader(data), s.allow, s.pickleLimits(), "", 0)
		for _, fd := range res.findings {
			if fd.Offset < 0 || fd.Offset > int64(len(data)) {
				t.Fatalf("finding offset %d outside input of %d bytes", fd.Offset, len(data))
			}
		}
	})
}

func FuzzZip(f *testing.F) {
	addSeeds(f, ".pt", ".keras")
	s := fuzzScanner(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := &FileReport{}
		s.scanZip(context.Background(), bytes.NewReader(data), int64(len(data)), rep)
		rep.finish()
	})
}

func FuzzSafetensors(f *testing.F) {
	addSeeds(f, ".safetensors")
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	s := fuzzScanner(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := &FileReport{}
		s.scanSafetensors(bytes.NewReader(data), int64(len(data)), rep)
		rep.finish()
		if rep.Verdict == VerdictClean && len(data) < 8 {
			t.Fatal("short input judged clean")
		}
	})
}

func FuzzGGUF(f *testing.F) {
	addSeeds(f, ".gguf")
	s := fuzzScanner(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := &FileReport{}
		s.scanGGUF(bytes.NewReader(data), int64(len(data)), rep)
		rep.finish()
	})
}

func FuzzNpy(f *testing.F) {
	addSeeds(f, ".npy")
	s := fuzzScanner(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := &FileReport{}
		s.scanNpy(bufioReader(data), "", rep)
	})
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
