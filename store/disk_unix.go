//go:build unix

package store

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// FreeDisk reports the bytes an unprivileged process may still write on
// the file system holding path (a file or a directory): statfs's
// available blocks times the block size. Compare it with
// [DefaultMinFreeDisk]. The error names the errno, not the path.
func FreeDisk(path string) (bytes uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return 0, fmt.Errorf("store: disk check failed: statfs: %w", errno)
		}
		return 0, errors.New("store: disk check failed: statfs failed")
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
