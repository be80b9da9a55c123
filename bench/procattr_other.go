//go:build !linux

package main

import "os/exec"

// setProcAttr does nothing outside Linux; children are still stopped by
// the benchmark on a normal exit, an error or SIGINT.
func setProcAttr(*exec.Cmd) {}
