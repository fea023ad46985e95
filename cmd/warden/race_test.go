//go:build race

package main

// raceEnabled is set when the tests run under the race detector; the
// cluster test then builds its `warden` binary with -race too (it
// reuses the packages the test build compiled, and the replicas are
// race-checked).
const raceEnabled = true
