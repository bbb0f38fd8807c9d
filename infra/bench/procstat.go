package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on Linux).
const clockTick = 100

// procCPU returns the CPU time (user and system) used so far by this process and by
// every process below it, grouped: "harness" (this process: the emulators of the
// bus, the HTTP API and the Runtime API, the meters, the producers and the
// receiver), "dynamodb-local", "sqs" and each function's bootstraps by name. Where
// there is no /proc it returns nil.
func procCPU() map[string]time.Duration {
	procs := readProcs()
	if procs == nil {
		return nil
	}
	self := os.Getpid()
	out := map[string]time.Duration{"harness": procs[self].cpu}
	for pid := range below(procs, self) {
		out[groupOf(pid)] += procs[pid].cpu
	}
	return out
}

// proc is what /proc/<pid>/stat says of a process.
type proc struct {
	ppid int
	cpu  time.Duration
}

// readProcs reads every process's parent and CPU time; nil where there is no /proc.
func readProcs() map[int]proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	procs := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		procs[pid] = proc{ppid, time.Duration(ut+st) * time.Second / clockTick}
	}
	return procs
}

// below returns the processes whose ancestors include root.
func below(procs map[int]proc, root int) map[int]bool {
	out := map[int]bool{}
	for pid, p := range procs {
		for q, n := p.ppid, 0; q > 1 && n < 64; q, n = procs[q].ppid, n+1 {
			if q == root {
				out[pid] = true
				break
			}
		}
	}
	return out
}

// descendants are the processes below this one.
func descendants() map[int]bool { return below(readProcs(), os.Getpid()) }

func groupOf(pid int) string {
	exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	switch {
	case strings.Contains(string(cmd), "DynamoDBLocal"):
		return "dynamodb-local"
	case strings.Contains(string(cmd), "fauxqs") || strings.HasSuffix(exe, "/node"):
		return "sqs"
	case strings.HasSuffix(exe, "/bootstrap"):
		return short(filepath.Base(filepath.Dir(exe)))
	}
	return "other"
}

// cpuSince returns the CPU used since before, by group.
func cpuSince(before map[string]time.Duration) map[string]time.Duration {
	now := procCPU()
	out := map[string]time.Duration{}
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}
