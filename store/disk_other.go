//go:build !unix

package store

import "errors"

// FreeDisk is not implemented on this platform: it always fails, so a
// gateway that checks it reports the check, not a guess.
func FreeDisk(path string) (bytes uint64, err error) {
	return 0, errors.New("store: disk check failed: free space is not known on this platform")
}
