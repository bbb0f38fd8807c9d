package member

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestAppendRFC3339(t *testing.T) {
	times := []time.Time{
		time.Unix(0, 0), time.UnixMilli(1603942730123), time.UnixMilli(1603942730120), time.UnixMilli(1603942730100),
		time.Unix(253402300799, 999999999), time.Unix(1, 1), time.Unix(-62135596800, 0), time.Unix(-62135596801, 5),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(r.Int64N(253402300800), r.Int64N(1e9)), time.UnixMilli(r.Int64N(253402300799999)))
	}
	for _, tm := range times {
		tm = tm.UTC()
		if got, want := string(AppendRFC3339(nil, tm)), tm.Format(time.RFC3339Nano); got != want {
			t.Fatalf("AppendRFC3339(%v) = %s; want %s", tm, got, want)
		}
	}
	local := time.Unix(1603942730, 0).In(time.FixedZone("x", 3600))
	if got, want := string(AppendRFC3339(nil, local)), local.Format(time.RFC3339Nano); got != want {
		t.Errorf("AppendRFC3339(%v) = %s; want %s", local, got, want)
	}
}

func TestDigests(t *testing.T) {
	long := make([]byte, 3000)
	for _, b := range [][]byte{nil, []byte("a"), []byte("appId\x00x\x00ts\x00"), long} {
		if got, want := string(AppendDigestOf(nil, b)), Digest(string(b)); got != want {
			t.Errorf("AppendDigestOf(%q) = %s; Digest %s", b, got, want)
		}
	}
}

var objects = []string{
	`{}`, ` {} `, `{"a":1}`, `{"a": 1}`, `{"a":[1, 2]}`, `{"a":"x y","b":{"c":null}}`, `{"<":1}`, `{"é":1}`,
	`{"appId":"ANONYMOUS_CLUSTER","ts":"1603942730123","sourceID":"USER","eventType":"ADD_AFTER","userObject":"1603942730000"}`,
	"{\"a\":1,\n\"b\":2}", `{"a\u0062":1}`, `{"a":"\u003c"}`, "{\"\x7f\":true}", `{"a":1,"a":2}`,
}

// TestComposeShortcut checks that Compose without sets gives what writing the members
// gives, when it returns the object's own text as well.
func TestComposeShortcut(t *testing.T) {
	for _, in := range objects {
		checkCompose(t, []byte(in))
	}
}

func FuzzCompose(f *testing.F) {
	for _, in := range objects {
		f.Add([]byte(in))
	}
	f.Fuzz(checkCompose)
}

func checkCompose(t *testing.T, in []byte) {
	o, err := Decode(in)
	if err != nil {
		return
	}
	got := o.Compose()
	written := *o
	written.text = nil
	if want := written.Compose(); string(got) != string(want) {
		t.Fatalf("Compose(%q) = %s; written member by member %s", in, got, want)
	}
	if d, err := o.Object("a", false); err == nil && d != nil {
		checkCompose(t, d.Compose())
	}
}
