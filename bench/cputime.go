package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// atClkTck is the auxiliary-vector key of the kernel's clock tick rate
// (sysconf(_SC_CLK_TCK) reads the same value).
const atClkTck = 17

// clockTicks returns the unit of the CPU times in /proc/PID/stat, in ticks
// per second: AT_CLKTCK from the process's auxiliary vector, which is what
// sysconf(_SC_CLK_TCK) (and getconf CLK_TCK) return, without cgo. It falls
// back to 100, the value on every mainstream Linux architecture.
func clockTicks() (hz int64, source string) {
	data, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100, "assumed (no /proc/self/auxv)"
	}
	word := strconv.IntSize / 8
	for i := 0; i+2*word <= len(data); i += 2 * word {
		var key, val uint64
		if word == 8 {
			key = binary.NativeEndian.Uint64(data[i:])
			val = binary.NativeEndian.Uint64(data[i+word:])
		} else {
			key = uint64(binary.NativeEndian.Uint32(data[i:]))
			val = uint64(binary.NativeEndian.Uint32(data[i+word:]))
		}
		if key == atClkTck && val > 0 {
			return int64(val), "AT_CLKTCK"
		}
		if key == 0 { // AT_NULL ends the vector
			break
		}
	}
	return 100, "assumed (no AT_CLKTCK)"
}

// cpuClock reads processes' CPU time (user + system, all threads).
type cpuClock struct{ hz int64 }

// cpuTime returns the CPU time pid has used so far; pid 0 means this
// process.
func (c cpuClock) cpuTime(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from the last ')'. Field 3 (state) is then the first;
	// utime and stime are fields 14 and 15 of proc(5).
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	return time.Duration((utime + stime) * int64(time.Second) / c.hz), nil
}

// machineBusy returns the CPU time all CPUs of the machine have spent not
// idle so far (the first line of /proc/stat), and the number of CPUs.
func (c cpuClock) machineBusy() (time.Duration, int, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	var busy int64
	cpus := 0
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			cpus++
			continue
		}
		if i != 0 || len(f) < 9 {
			return 0, 0, fmt.Errorf("/proc/stat: unexpected format")
		}
		// user nice system idle iowait irq softirq steal: all but idle
		// and iowait are busy.
		for j, v := range f[1:9] {
			if j == 3 || j == 4 {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/stat: %v", err)
			}
			busy += n
		}
	}
	return time.Duration(busy * int64(time.Second) / c.hz), cpus, nil
}
