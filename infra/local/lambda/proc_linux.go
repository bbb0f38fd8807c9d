package lambda

import "syscall"

// setParentDeathSignal makes the kernel kill the bootstrap if this process dies
// without calling Close (a crash or SIGKILL of the local stack).
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
