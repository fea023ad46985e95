//go:build !unix

package keys

// withFileLock runs fn. Without flock, processes must not create or
// rotate one keyring at the same moment.
func withFileLock(path string, fn func() error) error { return fn() }
