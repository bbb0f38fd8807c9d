package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PackageInit is one package's initialisation in a bootstrap's start.
type PackageInit struct {
	Package string  `json:"package"`
	Ms      float64 `json:"ms"`
}

// InitTrace is what GODEBUG=inittrace=1 shows of a bootstrap's package
// initialisation, which runs before main on every cold start: the median total over
// runs and the slowest packages of the median run.
type InitTrace struct {
	TotalMs float64            `json:"total_ms"`
	AWSMs   float64            `json:"aws_sdk_ms"` // of which the AWS SDK's packages (aws-sdk-go-v2, smithy-go)
	Top     []PackageInit      `json:"top"`
	all     map[string]float64 // every package of the median run
}

// traceInits runs the bootstrap n times with GODEBUG=inittrace=1 and no Runtime API
// (it stops at its first request) and returns its package initialisation profile.
func traceInits(ctx context.Context, bin string, n int) (*InitTrace, error) {
	var runs []InitTrace
	for range n {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cmd := exec.CommandContext(cctx, bin)
		cmd.Env = []string{"GODEBUG=inittrace=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "PATH=/usr/bin:/bin"}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run() // it fails without a Runtime API; the trace is printed before main
		cancel()
		var t InitTrace
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			// init <package> @<start> ms, <clock> ms clock, <bytes> bytes, <allocs> allocs
			f := strings.Fields(sc.Text())
			if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				continue
			}
			t.TotalMs += v
			if strings.Contains(f[1], "/aws-sdk-go-v2") || strings.Contains(f[1], "/smithy-go") {
				t.AWSMs += v
			}
			t.Top = append(t.Top, PackageInit{Package: f[1], Ms: v})
		}
		runs = append(runs, t)
	}
	slices.SortFunc(runs, func(a, b InitTrace) int {
		switch {
		case a.TotalMs < b.TotalMs:
			return -1
		case a.TotalMs > b.TotalMs:
			return 1
		}
		return 0
	})
	med := runs[len(runs)/2]
	med.all = map[string]float64{}
	for _, p := range med.Top {
		med.all[p.Package] += p.Ms
	}
	slices.SortFunc(med.Top, func(a, b PackageInit) int {
		switch {
		case a.Ms > b.Ms:
			return -1
		case a.Ms < b.Ms:
			return 1
		}
		return strings.Compare(a.Package, b.Package)
	})
	med.Top = med.Top[:min(len(med.Top), 6)]
	med.TotalMs, med.AWSMs = round(med.TotalMs, 3), round(med.AWSMs, 3)
	return &med, nil
}
