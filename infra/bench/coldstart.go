package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/eventhub/eventhub/infra/local/lambda"
)

// ColdStart is one bootstrap's init time under the local Runtime API.
type ColdStart struct {
	InitMs      float64 `json:"init_ms"`      // median init: process start to the first /next
	Ratio       float64 `json:"ratio"`        // median of the per-round ratios to hello's init
	BinaryBytes int64   `json:"binary_bytes"` // the linux/arm64 deployment build
	HostBytes   int64   `json:"host_bytes"`   // the build that was measured
	Samples     int     `json:"samples"`
	// Inits is the package initialisation part of InitMs (GODEBUG=inittrace=1).
	Inits *InitTrace `json:"package_inits,omitempty"`
}

// measureColdStarts starts each bootstrap (and hello-world) rounds times, in a new
// order each round, with the environment the template gives the function (hello gets
// the first function's), and records each instance's init.
func measureColdStarts(ctx context.Context, bs []*bootstrap, configs map[string]lambda.Config, rounds int, logf func(string, ...any)) (map[string]*ColdStart, error) {
	var base lambda.Config
	for _, b := range bs {
		if c, ok := configs[b.Name]; ok {
			base = c
			break
		}
	}
	once := func(b *bootstrap) (time.Duration, error) {
		cfg, ok := configs[b.Name]
		if !ok {
			cfg = base
			cfg.Name = "HelloFunction"
		}
		cfg.Binary = b.Host
		cfg.MaxConcurrency = 1
		cfg.Stdout, cfg.Stderr, cfg.Logger = nil, nil, nil
		var mu sync.Mutex
		var init time.Duration
		cfg.Report = func(r lambda.Report) {
			if r.RequestID == "" {
				mu.Lock()
				init = r.InitDuration
				mu.Unlock()
			}
		}
		fn, err := lambda.New(cfg)
		if err != nil {
			return 0, err
		}
		defer fn.Close()
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := fn.Warm(wctx); err != nil {
			return 0, fmt.Errorf("cold start of %s: %w", b.Short, err)
		}
		mu.Lock()
		defer mu.Unlock()
		return init, nil
	}
	// One start each first, unmeasured: the binaries into the page cache.
	for _, b := range bs {
		if _, err := once(b); err != nil {
			return nil, err
		}
	}
	inits := map[string][]float64{}
	ratios := map[string][]float64{}
	order := append([]*bootstrap(nil), bs...)
	for r := range rounds {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		got := map[string]float64{}
		for _, b := range order {
			d, err := once(b)
			if err != nil {
				return nil, err
			}
			got[b.Short] = ms(d)
			inits[b.Short] = append(inits[b.Short], ms(d))
		}
		for name, v := range got {
			ratios[name] = append(ratios[name], v/got["hello"])
		}
		if (r+1)%5 == 0 || r+1 == rounds {
			logf("cold starts: round %d/%d", r+1, rounds)
		}
	}
	out := map[string]*ColdStart{}
	var err error
	for _, b := range bs {
		out[b.Short] = &ColdStart{
			InitMs:      round(median(inits[b.Short]), 3),
			Ratio:       round(median(ratios[b.Short]), 3),
			BinaryBytes: fileSize(b.Arm64),
			HostBytes:   fileSize(b.Host),
			Samples:     len(inits[b.Short]),
		}
		if out[b.Short].Inits, err = traceInits(ctx, b.Host, 7); err != nil {
			return nil, err
		}
	}
	return out, nil
}
