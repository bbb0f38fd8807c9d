package pattern

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestSetBasics(t *testing.T) {
	s := NewSet()
	if s.Len() != 0 {
		t.Fatal("new set not empty")
	}
	names, err := s.Match([]byte(ec2Event))
	if err != nil || len(names) != 0 {
		t.Fatalf("empty set Match = %v, %v", names, err)
	}
	if _, err := s.Match([]byte(`{`)); err == nil {
		t.Fatal("empty set accepted malformed event")
	}
	must := func(name, p string) {
		t.Helper()
		if err := s.Add(name, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	must("zeta", `{"source":["aws.ec2"]}`)
	must("alpha", `{"detail":{"state":["terminated"]}}`)
	must("mid", `{"source":["aws.s3"]}`)
	must("all", `{}`)
	if s.Len() != 4 {
		t.Fatalf("Len = %d", s.Len())
	}
	check := func(want ...string) {
		t.Helper()
		got, err := s.Match([]byte(ec2Event))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Match = %v, want %v", got, want)
		}
	}
	check("all", "alpha", "zeta")
	// Replace an existing name.
	must("mid", `{"region":["us-west-1"]}`)
	if s.Len() != 4 {
		t.Fatalf("Len after replace = %d", s.Len())
	}
	check("all", "alpha", "mid", "zeta")
	// A failed Add leaves the set unchanged.
	if err := s.Add("mid", []byte(`{"x":1}`)); err == nil {
		t.Fatal("invalid pattern accepted")
	}
	check("all", "alpha", "mid", "zeta")
	s.Remove("alpha")
	s.Remove("nonexistent")
	check("all", "mid", "zeta")
	if s.Len() != 3 {
		t.Fatalf("Len after remove = %d", s.Len())
	}
	s.Remove("all")
	s.Remove("mid")
	s.Remove("zeta")
	check()
}

// TestSetIdenticalPatterns checks that patterns stored under several names, in
// different spellings, are all reported, and that removing one name keeps the
// others.
func TestSetIdenticalPatterns(t *testing.T) {
	s := NewSet()
	for name, p := range map[string]string{
		"a":  `{"source":["aws.ec2"],"detail":{"state":["running"]}}`,
		"b":  `{ "detail": {"state": ["running"]}, "source": ["aws.ec2"] }`,
		"c":  `{"source":["aws.ec2"],"detail":{"state":["running"]}}`,
		"d":  `{"source":["aws.ec2"],"detail":{"state":["stopped"]}}`,
		"e":  `{"detail":{"c-count":[{"numeric":[">",0]}]}}`,
		"f":  `{"detail":{"c-count":[{"numeric":[">",0]}]}}`,
		"g":  `{"detail":{"c-count":[{"numeric":[">",0]}],"state":[{"exists":true}]}}`,
		"h":  `{"$or":[{"source":["aws.ec2"]},{"source":["aws.s3"]}]}`,
		"h2": `{"$or":[{"source":["aws.ec2"]},{"source":["aws.s3"]}]}`,
	} {
		if err := s.Add(name, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	ev := []byte(`{"source":"aws.ec2","detail":{"state":"running","c-count":5}}`)
	for _, tc := range []struct {
		remove string
		want   []string
	}{
		{"", []string{"a", "b", "c", "e", "f", "g", "h", "h2"}},
		{"b", []string{"a", "c", "e", "f", "g", "h", "h2"}},
		{"e", []string{"a", "c", "f", "g", "h", "h2"}},
		{"a", []string{"c", "f", "g", "h", "h2"}},
	} {
		if tc.remove != "" {
			s.Remove(tc.remove)
		}
		got, err := s.Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("after removing %q: Match = %v; want %v", tc.remove, got, tc.want)
		}
		sn := s.current()
		if len(sn.roots) >= len(sn.names) {
			t.Errorf("after removing %q: %d unique patterns for %d names; want identical ones merged", tc.remove, len(sn.roots), len(sn.names))
		}
	}
}

func TestSetAnchorsOnMultipleValues(t *testing.T) {
	// A pattern anchored on a field reached through several values must be
	// reported once.
	s := NewSet()
	if err := s.Add("p", []byte(`{"tags":["a","b"]}`)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Match([]byte(`{"tags":["a","b","a"]}`))
	if err != nil || !slices.Equal(got, []string{"p"}) {
		t.Fatalf("Match = %v, %v", got, err)
	}
}

func TestSetConcurrent(t *testing.T) {
	s := NewSet()
	pats := realisticPatterns(200, 7)
	for i, p := range pats {
		if err := s.Add(fmt.Sprintf("p%03d", i), []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.Match([]byte(mseEvent))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				got, err := s.Match([]byte(mseEvent))
				if err != nil {
					t.Error(err)
					return
				}
				// Concurrent writers only touch names outside want's range
				// of interest: "extra-*" patterns never match.
				got = slices.DeleteFunc(got, func(n string) bool { return strings.HasPrefix(n, "extra") })
				if !slices.Equal(got, want) {
					t.Errorf("concurrent Match = %v, want %v", got, want)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			name := fmt.Sprintf("extra-%d", i%10)
			if i%3 == 0 {
				s.Remove(name)
			} else if err := s.Add(name, []byte(`{"type":["never"]}`)); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
}

// TestSetMatchesBruteForce checks the indexed Set against evaluating every
// pattern on its own, over random patterns and events drawn from a small
// vocabulary so that matches are frequent.
func TestSetMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	keys := []string{"a", "b", "c"}
	strs := []string{`"x"`, `"X"`, `"xy"`, `"yx"`, `""`, `"10.0.0.1"`, `"2001:db8::1"`, `"é"`, `"É"`}
	nums := []string{"0", "1", "1.0", "-1", "2.5", "1e0"}
	scalar := func() string {
		switch r.Intn(4) {
		case 0:
			return strs[r.Intn(len(strs))]
		case 1:
			return nums[r.Intn(len(nums))]
		case 2:
			return []string{"true", "false", "null"}[r.Intn(3)]
		default:
			return strs[r.Intn(len(strs))]
		}
	}
	var eventValue func(depth int) string
	eventValue = func(depth int) string {
		switch k := r.Intn(6); {
		case k < 3 || depth > 2:
			return scalar()
		case k == 3:
			n := r.Intn(3)
			parts := make([]string, n)
			for i := range parts {
				parts[i] = eventValue(depth + 1)
			}
			return "[" + strings.Join(parts, ",") + "]"
		default:
			return eventObject(r, keys, depth+1, eventValue)
		}
	}
	str := func() string { return strs[r.Intn(len(strs))] }
	operand := func() string {
		switch r.Intn(14) {
		case 0:
			return `{"prefix":` + str() + `}`
		case 1:
			return `{"suffix":` + str() + `}`
		case 2:
			return `{"prefix":{"equals-ignore-case":` + str() + `}}`
		case 3:
			return `{"suffix":{"equals-ignore-case":` + str() + `}}`
		case 4:
			return `{"equals-ignore-case":` + str() + `}`
		case 5:
			return `{"anything-but":` + str() + `}`
		case 6:
			return `{"numeric":[">",` + nums[r.Intn(len(nums))] + `]}`
		case 7:
			return `{"exists":` + []string{"true", "false"}[r.Intn(2)] + `}`
		case 8:
			return `{"wildcard":"*x*"}`
		case 9:
			return `{"cidr":"10.0.0.0/8"}`
		default:
			return scalar()
		}
	}
	var patternObject func(depth int) string
	patternObject = func(depth int) string {
		n := 1 + r.Intn(2)
		used := map[string]bool{}
		var fields []string
		for i := 0; i < n; i++ {
			k := keys[r.Intn(len(keys))]
			if used[k] {
				continue
			}
			used[k] = true
			if depth < 2 && r.Intn(4) == 0 {
				fields = append(fields, fmt.Sprintf("%q:%s", k, patternObject(depth+1)))
				continue
			}
			m := 1 + r.Intn(2)
			vals := make([]string, m)
			for j := range vals {
				vals[j] = operand()
			}
			fields = append(fields, fmt.Sprintf("%q:[%s]", k, strings.Join(vals, ",")))
		}
		if depth < 2 && r.Intn(6) == 0 {
			fields = append(fields, fmt.Sprintf(`"$or":[%s,%s]`, patternObject(depth+1), patternObject(depth+1)))
		}
		return "{" + strings.Join(fields, ",") + "}"
	}

	const nPatterns = 300
	s := NewSet()
	compiled := make([]*Pattern, nPatterns)
	names := make([]string, nPatterns)
	for i := range compiled {
		src := patternObject(0)
		p, err := Compile([]byte(src))
		if err != nil {
			t.Fatalf("Compile(%s): %v", src, err)
		}
		compiled[i] = p
		names[i] = fmt.Sprintf("p%03d", i)
		if err := s.Add(names[i], []byte(src)); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for e := 0; e < 400; e++ {
		ev := eventObject(r, keys, 0, eventValue)
		var want []string
		for i, p := range compiled {
			ok, err := p.Match([]byte(ev))
			if err != nil {
				t.Fatalf("Match(%s): %v", ev, err)
			}
			if ok {
				want = append(want, names[i])
			}
		}
		got, err := s.Match([]byte(ev))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("event %s\nSet.Match = %v\nbrute     = %v", ev, got, want)
		}
		total += len(got)
	}
	if total == 0 {
		t.Fatal("no matches at all: test vocabulary is too sparse")
	}
	t.Logf("%d matches in total", total)
}

func eventObject(r *rand.Rand, keys []string, depth int, value func(int) string) string {
	n := r.Intn(len(keys) + 1)
	var fields []string
	for _, k := range r.Perm(len(keys))[:n] {
		fields = append(fields, fmt.Sprintf("%q:%s", keys[k], value(depth)))
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func TestSetScalesSublinearly(t *testing.T) {
	// The number of fully evaluated patterns must stay far below the number
	// of patterns in the set.
	for _, n := range []int{100, 1000, 10000} {
		s := NewSet()
		for i, p := range realisticPatterns(n, 1) {
			if err := s.Add(fmt.Sprintf("sub-%05d", i), []byte(p)); err != nil {
				t.Fatal(err)
			}
		}
		sn := s.current()
		sc := sn.scratch.Get().(*scratch)
		root, err := sc.d.parse([]byte(mseEvent))
		if err != nil {
			t.Fatal(err)
		}
		sc.epoch++
		sc.cands = sc.cands[:0]
		sn.index.walk(sc, &sc.d, root)
		evaluated := len(sc.cands) + len(sn.residual)
		t.Logf("patterns=%d candidates=%d residual=%d", n, len(sc.cands), len(sn.residual))
		if evaluated*5 > n {
			t.Errorf("patterns=%d: %d patterns evaluated, want < 20%%", n, evaluated)
		}
	}
}
