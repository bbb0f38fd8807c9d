package emulators

import "syscall"

// sysProcAttr puts the child in its own process group (Stop signals the group) and
// has the kernel kill it if this process dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
