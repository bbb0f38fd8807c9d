//go:build !unix

package lambda

import (
	"os"
	"os/exec"
)

// Without process groups only the bootstrap itself can be killed.
func setProcessGroup(*exec.Cmd) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
