package modelguard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Resource is one file of a model manifest: its path relative to the model
// directory (slash-separated) and the SHA-256 of its content.
type Resource struct {
	Name   string
	SHA256 [32]byte
}

// SignatureFile is the name of the signature inside a model directory; it
// is never part of the manifest.
const SignatureFile = "model.sig"

// ignored reports whether rel (slash-separated) is excluded by ignore.
func ignored(rel string, ignore []string) bool {
	for _, p := range ignore {
		p = strings.Trim(p, "/")
		if p != "" && (rel == p || strings.HasPrefix(rel, p+"/")) {
			return true
		}
	}
	return false
}

// HashDir computes the manifest of dir: every regular file except those
// under an ignore path, sorted by name. Files are hashed in parallel
// (GOMAXPROCS workers) and streamed, so a file of any size costs a fixed
// buffer. Symbolic links and other non-regular files are an error, as in
// the model-signing "files" serialization with allow_symlinks false.
func HashDir(ctx context.Context, dir string, ignore []string) ([]Resource, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignored(rel, ignore) {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case de.IsDir():
			return nil
		case de.Type().IsRegular():
			names = append(names, rel)
			return nil
		default:
			return fmt.Errorf("modelguard: %s is not a regular file (symbolic links are not allowed)", rel)
		}
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Resource, len(names))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	workers := min(runtime.GOMAXPROCS(0), max(len(names), 1))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for i := range jobs {
				sum, err := hashFile(ctx, filepath.Join(dir, filepath.FromSlash(names[i])), buf)
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					continue
				}
				out[i] = Resource{Name: names[i], SHA256: sum}
			}
		}()
	}
feed:
	for i := range names {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ctxReader stops a long copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func hashFile(ctx context.Context, path string, buf []byte) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, ctxReader{ctx, f}, buf); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// rootDigest is SHA-256 over the concatenated raw digests in manifest
// order: the in-toto subject digest of the model-signing format.
func rootDigest(rs []Resource) string {
	h := sha256.New()
	for _, r := range rs {
		h.Write(r.SHA256[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
