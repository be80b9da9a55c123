package main

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the child if the benchmark dies
// without stopping it (SIGKILL from a user, a crash), so no gateway or
// backend outlives a run.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
