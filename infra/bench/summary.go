package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

func printSummary(w io.Writer, r *Result, out string) {
	fmt.Fprintf(w, "\neventhub bench — %s, %s, %d CPUs, load average %v → %v, %.0f s\n\n",
		r.GeneratedAt, r.Go, r.Host.CPUs, r.Host.LoadStart, r.Host.LoadEnd, r.Seconds)

	if hello, ok := r.ColdStart["hello"]; ok {
		fmt.Fprintf(w, "Cold start: init + first invocation, median of %d (floor: a hello-world with the function's SDK clients making the same requests; hello: bare, %.2f ms)\n",
			hello.Samples, hello.TotalMs)
		var names []string
		for n := range r.ColdStart {
			if n != "hello" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			c := r.ColdStart[n]
			fmt.Fprintf(w, "  %-10s %6.2f + %6.2f = %6.2f ms", n, c.InitMs, c.FirstMs, c.TotalMs)
			if c.Floor != nil {
				fmt.Fprintf(w, "  floor %5.2f + %5.2f = %6.2f ms  ×%.2f of floor", c.Floor.InitMs, c.Floor.FirstMs, c.Floor.TotalMs, c.Ratio)
			}
			fmt.Fprintf(w, "  ×%.2f of hello  %s\n", c.BareRatio, strings.Join(c.Requests, " "))
		}
		for _, n := range names {
			if c := r.ColdStart[n]; c.Reason != "" {
				fmt.Fprintf(w, "  over 1.15: %s\n", c.Reason)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Largest linux/arm64 bootstrap: %s, %s\n", r.BinaryMaxName, mb(r.BinaryMaxBytes))
	if r.BinaryMaxReason != "" {
		fmt.Fprintf(w, "  %s\n", r.BinaryMaxReason)
	}
	fmt.Fprintln(w)

	if len(r.Normalize) > 0 {
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
		fmt.Fprintf(w, "Match one event against 1,000 subscription patterns: %.0f ns; 10,000: %.0f ns (10,000 all different: %.0f ns)\n\n",
			r.Match1000Ns, r.Match10000Ns, r.Match10000DistinctNs)
	}

	if r.Chain.EventsPerS > 0 || r.Latency.Events > 0 {
		fmt.Fprintf(w, "Chain, POST → stored → delivered (%d producers, %d events per round, every event accounted for: %v)\n",
			r.Chain.Producers, r.Chain.EventsPerRound, r.Chain.Lost == 0 && r.Latency.Lost == 0)
		fmt.Fprintf(w, "  %.1f events/s vs %.1f events/s for its own requests straight at the emulators (%s per event)\n",
			r.Chain.EventsPerS, r.Chain.MixPerS, mixString(r.Chain.Mix))
		fmt.Fprintf(w, "  CPU per event: chain %s\n", groups(r.Chain.CPUMsPerEvent))
		fmt.Fprintf(w, "                 mix   %s\n", groups(r.Chain.CPUMsPerMixEvent))
		fmt.Fprintf(w, "  eventhub's four functions: %.2f ms CPU per event (%s)\n", r.FunctionsCPUMsPerEvent, groups(r.Chain.FunctionsCPUMs))
		if r.Chain.ProfileNote != "" {
			fmt.Fprintf(w, "  (no profile of the functions: %s)\n", r.Chain.ProfileNote)
		}
		for _, fn := range pipelineFunctions {
			p := r.Chain.Profile[fn]
			if p == nil {
				continue
			}
			fmt.Fprintf(w, "    %-9s perf: eventhub %.2f, SDK %.2f, aws-lambda-go %.2f, net/http connections %.2f, Go runtime %.2f ms per event; eventhub's most: %s\n", fn,
				p.MsPerEvent[layerEventhub], p.MsPerEvent[layerSDK], p.MsPerEvent[layerLambda], p.MsPerEvent[layerHTTP], p.MsPerEvent[layerRuntime], topString(p.TopEventhub))
		}
		fmt.Fprintf(w, "  latency at %.0f events/s: p50 %.1f ms, p99 %.1f ms\n\n", r.Latency.RatePerS, r.ChainP50Ms, r.ChainP99Ms)

		fmt.Fprintf(w, "Cost of a million events, %s list prices of %s: $%.2f; the design's floor $%.2f\n", r.Cost.Region, r.Cost.PricesDate, r.CostPerMillionUSD, r.CostFloorUSD)
		for _, l := range r.Cost.Lines {
			if l.USDPerMillion == 0 && l.PerEvent == 0 {
				continue
			}
			fmt.Fprintf(w, "  %-40s %10.4g %-20s $%7.3f\n", l.Item, l.PerEvent, l.Unit+"/event", l.USDPerMillion)
		}
		fmt.Fprintln(w, "  the floor:")
		for _, l := range r.Cost.Floor {
			fmt.Fprintf(w, "    $%6.3f  %s (%g %s)\n", l.USDPerMillion, l.Item, l.PerEvent, l.Unit)
		}
		fmt.Fprintln(w, "  above the floor, by what it pays for:")
		for _, l := range r.Cost.AboveFloor {
			fmt.Fprintf(w, "    $%6.3f  %s (%.4g %s)\n", l.USDPerMillion, l.Item, l.PerEvent, l.Unit)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, "Targets")
	for _, t := range r.Targets {
		mark := "met"
		if !t.Met {
			mark = "NOT MET"
		}
		fmt.Fprintf(w, "  %-26s %14s  goal %-28s %s\n", t.Key, trim(t.Value), t.Goal, mark)
		if t.Why != "" {
			fmt.Fprintf(w, "      why: %s\n", t.Why)
		}
	}
	fmt.Fprintf(w, "\nwritten to %s\n", out)
}

// mixString lists requests per event by service and operation.
func mixString(m map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func mb(b int64) string { return fmt.Sprintf("%.2f MB", float64(b)/1e6) }

func trim(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func topString(ps []PackageInit) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%s %.2f", p.Package, p.Ms)
	}
	return strings.Join(parts, ", ")
}
