//go:build unix

package keys

import (
	"fmt"
	"os"
	"syscall"
)

// withFileLock runs fn holding an exclusive advisory lock on path+".lock",
// so processes sharing a keyring create and rotate it one at a time.
func withFileLock(path string, fn func() error) error {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("keys: keyring lock: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("keys: keyring lock: %w", err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}
