package pattern

import (
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/pattern/patterntest"
)

// corpus is the conformance corpus, testdata/match.json: events from the
// EventBridge documentation ("Event patterns", "Content filtering", "Matching null
// values and empty strings") and the Event Ruler README that EventBridge's examples
// are drawn from, and patterns with whether each matches. The local EventBridge
// emulator's TestEventPattern answers the same corpus (tests/).
var corpus = func() patterntest.Corpus {
	c, err := patterntest.LoadCorpus("testdata/match.json")
	if err != nil {
		panic(err)
	}
	return c
}()

// The corpus's shared events that other tests use.
var (
	ec2Event         = corpus.Events["ec2"]
	rulerEvent       = corpus.Events["ruler"]
	autoscalingEvent = corpus.Events["autoscaling"]
	macieEvent       = corpus.Events["macie"]
	existsEvent2     = corpus.Events["exists2"]
	s3Event          = corpus.Events["s3"]
)

// matchCase is one case of the conformance corpus.
type matchCase struct {
	name    string
	pattern string
	event   string
	want    bool
}

// matchCases are the corpus's cases: documentation examples and the decisions
// where the documentation leaves room.
var matchCases = func() []matchCase {
	out := make([]matchCase, len(corpus.Cases))
	for i, c := range corpus.Cases {
		out[i] = matchCase{c.Name, c.Pattern, c.Event, c.Match}
	}
	return out
}()

func TestMatchConformance(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.pattern, err)
			}
			got, err := p.Match([]byte(tc.event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Errorf("pattern %s\nevent %s\ngot %v, want %v", tc.pattern, tc.event, got, tc.want)
			}
			// The Set (indexed) must agree with the single-pattern matcher.
			s := NewSet()
			if err := s.Add("p", []byte(tc.pattern)); err != nil {
				t.Fatal(err)
			}
			names, err := s.Match([]byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if (len(names) == 1) != tc.want {
				t.Errorf("Set.Match = %v, want match=%v", names, tc.want)
			}
		})
	}
}

type errCase struct {
	name    string
	pattern string
	want    string // exact error message, or a prefix ending in "…"
}

var compileErrCases = []errCase{
	{"not json", `{`, "pattern: invalid JSON at offset 1: expected object key"},
	{"trailing garbage", `{"a":["x"]} x`, "pattern: invalid JSON at offset 12: unexpected data after top-level value"},
	{"not an object", `["a"]`, "pattern: must be a JSON object"},
	{"string top", `"a"`, "pattern: must be a JSON object"},
	{"scalar value", `{"detail":{"severity":"high"}}`, "pattern: detail.severity: value must be an array"},
	{"number value", `{"x":5}`, "pattern: x: value must be an array"},
	{"null value", `{"x":null}`, "pattern: x: value must be an array"},
	{"empty array", `{"detail":{"x":[]}}`, "pattern: detail.x: empty arrays are not allowed"},
	{"nested empty object", `{"detail":{}}`, "pattern: detail: empty object is not allowed"},
	{"duplicate key", `{"a":["1"],"a":["2"]}`, "pattern: a: duplicate key"},
	{"nested array value", `{"x":[["a"]]}`, "pattern: x: match value must be a string, number, boolean, null or operator object"},
	{"unknown operator", `{"detail":{"x":[{"prefixx":"a"}]}}`, `pattern: detail.x: unknown operator "prefixx"`},
	{"exactly not supported", `{"x":[{"exactly":"a"}]}`, `pattern: x: unknown operator "exactly"`},
	{"empty operator", `{"x":[{}]}`, "pattern: x: empty operator object"},
	{"two operators", `{"x":[{"prefix":"a","suffix":"b"}]}`, `pattern: x: only one key allowed in match expression, got 2 ("prefix", "suffix")`},
	{"prefix number", `{"x":[{"prefix":5}]}`, "pattern: x: prefix match pattern must be a string"},
	{"suffix null", `{"x":[{"suffix":null}]}`, "pattern: x: suffix match pattern must be a string"},
	{"prefix bad object", `{"x":[{"prefix":{"wildcard":"a"}}]}`, `pattern: x: unsupported prefix pattern: "wildcard"`},
	{"prefix ignore case number", `{"x":[{"prefix":{"equals-ignore-case":1}}]}`, "pattern: x: equals-ignore-case match pattern must be a string"},
	{"suffix two keys", `{"x":[{"suffix":{"equals-ignore-case":"a","b":"c"}}]}`, "pattern: x: suffix object must contain exactly one key, equals-ignore-case"},
	{"equals-ignore-case number", `{"x":[{"equals-ignore-case":1}]}`, "pattern: x: equals-ignore-case match pattern must be a string"},
	{"exists string", `{"x":[{"exists":"true"}]}`, "pattern: x: exists match pattern must be either true or false"},
	{"cidr malformed", `{"x":[{"cidr":"10.0.0.0/33"}]}`, `pattern: x: malformed cidr "10.0.0.0/33"`},
	{"cidr no prefix length", `{"x":[{"cidr":"10.0.0.1"}]}`, `pattern: x: malformed cidr "10.0.0.1": expected address/prefix-length`},
	{"cidr garbage", `{"x":[{"cidr":"foo/8"}]}`, `pattern: x: malformed cidr "foo/8"`},
	{"cidr ipv6 malformed", `{"x":[{"cidr":"2001:db8:::/64"}]}`, `pattern: x: malformed cidr "2001:db8:::/64"`},
	{"cidr number", `{"x":[{"cidr":10}]}`, "pattern: x: cidr match pattern must be a string"},
	{"wildcard consecutive", `{"x":[{"wildcard":"a**b"}]}`, "pattern: x: wildcard: consecutive wildcard characters at position 1"},
	{"wildcard bad escape", `{"x":[{"wildcard":"a\\b"}]}`, `pattern: x: wildcard: invalid escape character at position 1: only \* and \\ are allowed`},
	{"wildcard trailing backslash", `{"x":[{"wildcard":"a\\"}]}`, `pattern: x: wildcard: invalid escape character at position 1: only \* and \\ are allowed`},
	{"wildcard number", `{"x":[{"wildcard":1}]}`, "pattern: x: wildcard match pattern must be a string"},
	{"numeric not array", `{"x":[{"numeric":5}]}`, "pattern: x: value of numeric must be an array"},
	{"numeric empty", `{"x":[{"numeric":[]}]}`, "pattern: x: numeric expression must not be empty"},
	{"numeric unknown op", `{"x":[{"numeric":["!=",5]}]}`, `pattern: x: numeric: unknown operator "!="`},
	{"numeric first not op", `{"x":[{"numeric":[5,">"]}]}`, "pattern: x: numeric: expected an operator string at position 0"},
	{"numeric string operand", `{"x":[{"numeric":[">","5"]}]}`, `pattern: x: numeric: value of ">" must be a number`},
	{"numeric missing operand", `{"x":[{"numeric":[">"]}]}`, `pattern: x: numeric: missing value for ">"`},
	{"numeric two lower bounds", `{"x":[{"numeric":[">",0,">",5]}]}`, `pattern: x: numeric: a range cannot have two lower bounds (">" then ">")`},
	{"numeric upper then lower", `{"x":[{"numeric":["<",5,">",0]}]}`, `pattern: x: numeric: too many elements; an upper bound ("<") must come last`},
	{"numeric eq extra", `{"x":[{"numeric":["=",5,"<",6]}]}`, `pattern: x: numeric: too many elements after "="`},
	{"numeric eq in range", `{"x":[{"numeric":[">",5,"=",6]}]}`, `pattern: x: numeric: "=" cannot be combined with other operators`},
	{"numeric range unknown second", `{"x":[{"numeric":[">",5,"<>",6]}]}`, `pattern: x: numeric: unknown operator "<>"`},
	{"numeric range too many", `{"x":[{"numeric":[">",0,"<",5,"<",6]}]}`, "pattern: x: numeric: too many elements in range expression"},
	{"numeric bounds inverted", `{"x":[{"numeric":[">",5,"<",1]}]}`, "pattern: x: numeric: lower bound must be less than upper bound"},
	{"numeric bounds equal", `{"x":[{"numeric":[">=",5,"<=",5]}]}`, "pattern: x: numeric: lower bound must be less than upper bound"},
	{"numeric out of range", `{"x":[{"numeric":[">",5.0e10]}]}`, `pattern: x: numeric: value of ">" 5.0e10 is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive`},
	{"numeric out of range negative", `{"x":[{"numeric":["<",-5000000000.000001]}]}`, `pattern: x: numeric: value of "<" -5000000000.000001 is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive`},
	{"numeric too precise", `{"x":[{"numeric":["=",0.0000001]}]}`, `pattern: x: numeric: value of "=" 0.0000001 has too many decimal places: at most 6 digits after the decimal point are supported`},
	{"anything-but bool", `{"x":[{"anything-but":true}]}`, "pattern: x: value of anything-but must be a string, a number, a list of strings or numbers, or an object"},
	{"anything-but null", `{"x":[{"anything-but":null}]}`, "pattern: x: value of anything-but must be a string, a number, a list of strings or numbers, or an object"},
	{"anything-but empty list", `{"x":[{"anything-but":[]}]}`, "pattern: x: anything-but list must not be empty"},
	{"anything-but mixed list", `{"x":[{"anything-but":["a",1]}]}`, "pattern: x: anything-but list must contain only strings or only numbers"},
	{"anything-but list of null", `{"x":[{"anything-but":[null]}]}`, "pattern: x: anything-but list must contain only strings or only numbers"},
	{"anything-but number out of range", `{"x":[{"anything-but":[1e10]}]}`, "pattern: x: anything-but value 1e10 is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive"},
	{"anything-but unknown inner", `{"x":[{"anything-but":{"numeric":[">",1]}}]}`, `pattern: x: unsupported anything-but operator "numeric"`},
	{"anything-but two inner", `{"x":[{"anything-but":{"prefix":"a","suffix":"b"}}]}`, "pattern: x: anything-but object must contain exactly one key, got 2"},
	{"anything-but prefix empty", `{"x":[{"anything-but":{"prefix":""}}]}`, "pattern: x: anything-but prefix value must not be empty"},
	{"anything-but suffix empty in list", `{"x":[{"anything-but":{"suffix":["a",""]}}]}`, "pattern: x: anything-but suffix value must not be empty"},
	{"anything-but prefix number", `{"x":[{"anything-but":{"prefix":1}}]}`, "pattern: x: anything-but prefix value must be a string or a list of strings"},
	{"anything-but prefix list number", `{"x":[{"anything-but":{"prefix":["a",1]}}]}`, "pattern: x: anything-but prefix values must be strings"},
	{"anything-but ignore case empty list", `{"x":[{"anything-but":{"equals-ignore-case":[]}}]}`, "pattern: x: anything-but equals-ignore-case list must not be empty"},
	{"anything-but wildcard bad", `{"x":[{"anything-but":{"wildcard":"a**"}}]}`, "pattern: x: anything-but wildcard: consecutive wildcard characters at position 1"},
	{"$or one alternative", `{"$or":[{"a":["1"]}]}`, "pattern: $or must have at least two alternatives"},
	{"$or zero alternatives", `{"$or":[]}`, "pattern: $or must have at least two alternatives"},
	{"$or nested one alternative", `{"detail":{"$or":[{"a":["1"]}]}}`, "pattern: detail.$or must have at least two alternatives"},
	{"$or not array", `{"$or":{"a":["1"]}}`, "pattern: $or must be an array of objects"},
	{"$or element not object", `{"$or":[{"a":["1"]},["b"]]}`, "pattern: $or[1]: $or alternative must be an object"},
	{"$or empty alternative", `{"$or":[{"a":["1"]},{}]}`, "pattern: $or[1]: empty object is not allowed"},
	{"$or error inside alternative", `{"$or":[{"a":["1"]},{"b":{"c":[{"prefix":1}]}}]}`, "pattern: $or[1].b.c: prefix match pattern must be a string"},
	{"$or reserved keyword", `{"$or":[{"numeric":["1"]},{"b":["2"]}]}`, `pattern: $or[0].numeric: "numeric" is a reserved keyword and cannot be used as a field name inside $or`},
	{"invalid utf8", "{\"x\":[\"\xff\"]}", "pattern: invalid JSON at offset 7: invalid UTF-8 in string"},
	{"bad escape", `{"x":["\q"]}`, `pattern: invalid JSON at offset 7: invalid escape 'q'`},
	{"leading zero number", `{"x":[01]}`, "pattern: invalid JSON at offset 7: expected ',' or ']' in array"},
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range compileErrCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.pattern))
			if err == nil {
				t.Fatalf("Compile(%s): no error, want %q", tc.pattern, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Compile(%s):\n got %q\nwant %q", tc.pattern, err.Error(), tc.want)
			}
			if err := NewSet().Add("x", []byte(tc.pattern)); err == nil {
				t.Errorf("Set.Add accepted invalid pattern")
			}
		})
	}
}

func TestCompileValid(t *testing.T) {
	// Patterns EventBridge accepts that are easy to reject by mistake.
	valid := []string{
		`{}`,
		`{"x":[{"prefix":""}]}`,
		`{"x":[{"suffix":""}]}`,
		`{"x":[{"equals-ignore-case":""}]}`,
		`{"x":[{"wildcard":""}]}`,
		`{"x":[{"wildcard":"*"}]}`,
		`{"x":[{"numeric":["=",-5e9]}]}`,
		`{"x":[{"numeric":["<=",5000000000]}]}`,
		`{"x":[{"numeric":[">",-1,"<=",1.123456]}]}`,
		`{"x":[{"numeric":[">",0,"<",0.000001]}]}`,
		`{"x":[{"anything-but":[1,2.5,-3]}]}`,
		`{"x":[{"anything-but":{"equals-ignore-case":["a","B"]}}]}`,
		`{"x":[{"cidr":"::/0"}]}`,
		`{"x":[1e400, 0.0000001, 123456789012345678901234567890]}`,
		`{"$or":[{"a":["1"]},{"b":["2"]},{"c":{"$or":[{"d":["3"]},{"e":["4"]}]}}]}`,
		`{"numeric":["1"],"prefix":["a"]}`, // operator names are ordinary field names outside $or
		` { "a" : [ "b" ] } `,
	}
	for _, p := range valid {
		if _, err := Compile([]byte(p)); err != nil {
			t.Errorf("Compile(%s): %v", p, err)
		}
	}
}

func TestMalformedEvents(t *testing.T) {
	p, err := Compile([]byte(`{"a":["b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet()
	if err := s.Add("p", []byte(`{"a":["b"]}`)); err != nil {
		t.Fatal(err)
	}
	bad := []string{
		``, ` `, `{`, `}`, `{"a":}`, `{"a":"b"`, `{"a" "b"}`, `{"a":"b",}`, `[1,]`, `{"a":tru}`,
		`{"a":nul}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":"\x"}`,
		`{"a":"\u12"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xc3\"}", `{"a":"b"} {}`, `{a:"b"}`, `{"a":'b'}`,
		`{"a":NaN}`, `{"a":Infinity}`, `{"a":+1}`,
		strings.Repeat("[", maxDepth+10) + strings.Repeat("]", maxDepth+10),
	}
	for _, ev := range bad {
		if _, err := p.Match([]byte(ev)); err == nil {
			t.Errorf("Pattern.Match(%q): no error", ev)
		}
		if _, err := s.Match([]byte(ev)); err == nil {
			t.Errorf("Set.Match(%q): no error", ev)
		}
	}
	// Deep but within limits is fine.
	deep := strings.Repeat(`{"a":`, 500) + `"b"` + strings.Repeat(`}`, 500)
	if _, err := p.Match([]byte(deep)); err != nil {
		t.Errorf("deep event: %v", err)
	}
}

func TestParseFixed(t *testing.T) {
	cases := []struct {
		in    string
		micro int64
		flags uint8
	}{
		{"0", 0, numInRange | numExact},
		{"-0", 0, numInRange | numExact},
		{"5", 5_000_000, numInRange | numExact},
		{"5.0", 5_000_000, numInRange | numExact},
		{"5e0", 5_000_000, numInRange | numExact},
		{"0.5e1", 5_000_000, numInRange | numExact},
		{"500e-2", 5_000_000, numInRange | numExact},
		{"3.018e2", 301_800_000, numInRange | numExact},
		{"-1.5", -1_500_000, numInRange | numExact},
		{"0.000001", 1, numInRange | numExact},
		{"0.0000011", 1, numInRange},
		{"-0.0000011", -2, numInRange},
		{"-0.0000001", -1, numInRange},
		{"5000000000", 5_000_000_000_000_000, numInRange | numExact},
		{"-5e9", -5_000_000_000_000_000, numInRange | numExact},
		{"5000000000.000001", 0, 0},
		{"1e10", 0, 0},
		{"1e400", 0, 0},
		{"1e-400", 0, numInRange},
		{"0e99999999999999", 0, numInRange | numExact},
		{"123456789.123456", 123_456_789_123_456, numInRange | numExact},
		{"1.00000000000000000000000000000000000000000000000001", 1_000_000, numInRange},
		{"1.00000000000000000000000000000000000000000000000000", 1_000_000, numInRange | numExact},
	}
	for _, c := range cases {
		m, f := parseFixed([]byte(c.in))
		if m != c.micro || f != c.flags {
			t.Errorf("parseFixed(%s) = %d, %b; want %d, %b", c.in, m, f, c.micro, c.flags)
		}
	}
}

func TestFoldHelpers(t *testing.T) {
	if !foldHasPrefix([]byte("ÉCOLE normale"), foldString("école"), false) {
		t.Error("fold prefix")
	}
	if !foldHasSuffix([]byte("photo.PNG"), foldString(".png")) {
		t.Error("fold suffix")
	}
	if foldHasPrefix([]byte("ab"), foldString("abc"), false) {
		t.Error("fold prefix longer")
	}
	if foldHasSuffix([]byte("b"), foldString("ab")) {
		t.Error("fold suffix longer")
	}
	if foldString("\u212a") != "k" || foldString("ſ") != "s" {
		t.Errorf("fold canonical: %q %q", foldString("\u212a"), foldString("ſ"))
	}
}

func TestHasSpecial(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }
	check := func(b [8]byte) {
		want := false
		for _, c := range b {
			want = want || special(c)
		}
		w := uint64(0)
		for i := 7; i >= 0; i-- {
			w = w<<8 | uint64(b[i])
		}
		if got := hasSpecial(w); got != want {
			t.Fatalf("hasSpecial(%q) = %v, want %v", b[:], got, want)
		}
	}
	// Every byte value in every position, among ordinary neighbours.
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := [8]byte{'a', 'b', 'c', 'd', '!', '#', '~', ' '}
			b[pos] = byte(c)
			check(b)
			b2 := [8]byte{0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21}
			b2[pos] = byte(c)
			check(b2)
		}
	}
}

// TestAdversarialInputs guards against super-linear behaviour on large
// inputs (EventBridge events are at most 256 KB).
func TestAdversarialInputs(t *testing.T) {
	long := strings.Repeat("a", 256<<10)
	wc := `{"k":[{"wildcard":"` + strings.Repeat("a*", 100) + `b"},{"anything-but":{"wildcard":"*aaaaaaaaaaaaaaaab*"}},{"suffix":{"equals-ignore-case":"ÄB"}}]}`
	p, err := Compile([]byte(wc))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := p.Match([]byte(`{"k":"` + long + `"}`))
	if err != nil || !ok { // anything-but wildcard holds
		t.Fatalf("Match = %v, %v", ok, err)
	}
	// Deeply nested arrays against a nested pattern with $or and absence.
	deep := strings.Repeat(`{"a":[`, 1000) + `1` + strings.Repeat(`]}`, 1000)
	p2, err := Compile([]byte(`{"a":{"a":{"$or":[{"a":[{"exists":false}]},{"b":[1]}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Match([]byte(deep)); err != nil {
		t.Fatal(err)
	}
	// Wide arrays of objects.
	wide := `{"a":[` + strings.Repeat(`{"b":{"c":[1,2,3]},"d":"x"},`, 5000) + `{"b":{"c":4}}]}`
	p3, err := Compile([]byte(`{"a":{"b":{"c":[4]},"d":[{"exists":false}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p3.Match([]byte(wide)); err != nil || !ok {
		t.Fatalf("wide: %v, %v", ok, err)
	}
}

func TestCompileErrorEmptyKey(t *testing.T) {
	_, err := Compile([]byte(`{"":{"":"x"}}`))
	if err == nil || err.Error() != `pattern: ""."": value must be an array` {
		t.Fatalf("err = %v", err)
	}
}
