//go:build unix && !linux

package emulators

import "syscall"

// sysProcAttr puts the child in its own process group, so Stop signals the group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
