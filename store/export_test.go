package store

import "io/fs"

// ParseMigrations exposes parseMigrations' versions to tests.
func ParseMigrations(fsys fs.FS, dir string) ([]int, error) {
	ms, err := parseMigrations(fsys, dir)
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.version)
	}
	return vs, err
}

// MigrationCount is how many migrations engine has.
func MigrationCount(engine Engine) int {
	ms, _ := migrations(engine)
	return len(ms)
}
