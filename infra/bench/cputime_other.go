//go:build !linux

package main

import "time"

var processStart = time.Now()

// processCPU falls back to wall time where getrusage is not used.
func processCPU() time.Duration { return time.Since(processStart) }
