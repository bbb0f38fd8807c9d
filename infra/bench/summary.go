package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

func printSummary(w io.Writer, r *Result, out string) {
	fmt.Fprintf(w, "\neventhub bench — %s, %s, %d CPUs, load average %v → %v, %.0f s\n\n",
		r.GeneratedAt, r.Go, r.Host.CPUs, r.Host.LoadStart, r.Host.LoadEnd, r.Seconds)

	if hello, ok := r.ColdStart["hello"]; ok {
		fmt.Fprintf(w, "Cold start (process start to first Runtime API /next, median of %d)\n", hello.Samples)
	}
	var names []string
	for n := range r.ColdStart {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := r.ColdStart[n]
		fmt.Fprintf(w, "  %-10s %7.2f ms  ×%.2f of hello   arm64 %s", n, c.InitMs, c.Ratio, mb(c.BinaryBytes))
		if c.Inits != nil && len(c.Inits.Top) > 0 {
			fmt.Fprintf(w, "   package inits %.2f ms (AWS SDK %.2f ms)", c.Inits.TotalMs, c.Inits.AWSMs)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Normalize, CPU per event (baseline: %s)\n", r.NormalizeBase)
	var formats []string
	for f := range r.Normalize {
		formats = append(formats, f)
	}
	sort.Strings(formats)
	for _, f := range formats {
		n := r.Normalize[f]
		fmt.Fprintf(w, "  %-12s %7.0f ns vs %7.0f ns  ×%.2f  (%d-byte event)\n", f, n.NsPerEvent, n.BaselineNs, n.Ratio, n.SampleBytes)
	}
	fmt.Fprintf(w, "Match one event against 1,000 subscription patterns: %.0f ns\n\n", r.Match1000Ns)

	fmt.Fprintf(w, "Chain, POST → stored → delivered (%d producers, %d events per round, every event accounted for: %v)\n",
		r.Chain.Producers, r.Chain.EventsPerRound, r.Chain.Lost == 0 && r.Latency.Lost == 0)
	fmt.Fprintf(w, "  %.1f events/s vs DynamoDB Local's %.0f raw conditional puts/s\n", r.Chain.EventsPerS, r.Chain.RawPutsPerS)
	fmt.Fprintf(w, "  latency at %.0f events/s: p50 %.1f ms, p99 %.1f ms\n\n", r.Latency.RatePerS, r.ChainP50Ms, r.ChainP99Ms)

	fmt.Fprintf(w, "Cost of a million events, %s list prices of %s: $%.2f\n", r.Cost.Region, r.Cost.PricesDate, r.CostPerMillionUSD)
	for _, l := range r.Cost.Lines {
		if l.USDPerMillion == 0 && l.PerEvent == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-40s %10.4g %-20s $%7.3f\n", l.Item, l.PerEvent, l.Unit+"/event", l.USDPerMillion)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "Targets")
	for _, t := range r.Targets {
		mark := "met"
		if !t.Met {
			mark = "NOT MET"
		}
		fmt.Fprintf(w, "  %-22s %14s  goal %-28s %s\n", t.Key, trim(t.Value), t.Goal, mark)
	}
	fmt.Fprintf(w, "\nwritten to %s\n", out)
}

func mb(b int64) string { return fmt.Sprintf("%.2f MB", float64(b)/1e6) }

func trim(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
