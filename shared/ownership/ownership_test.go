package ownership

import "testing"

func TestAllows(t *testing.T) {
	set := Defaults(Identity{ID: "src_1", DataID: 1500001, AppID: "NODE"}).Union(Set{Exact: []string{"acs.mse"}, Prefixes: []string{"/shop/"}})
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"acs.mse", true},
		{"acs.mse2", false},
		{"acs", false},
		{"/shop/orders", true},
		{"/shop/", true},
		{"/shop", false},
		{"/sources/src_1", true},
		{"/sources/src_1/x", true},
		{"/sources/src_10", false},
		{"bkmonitor/1500001", true},
		{"bkmonitor/1500001/2", true},
		{"bkmonitor/15000012", false},
		{"bkmonitor", false},
		{"iuap/NODE", true},
		{"iuap/NODE2", false},
		{"", false},
	} {
		if got := set.Allows(tc.v); got != tc.want {
			t.Errorf("Allows(%q) = %v; want %v", tc.v, got, tc.want)
		}
	}
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b Set
		want string
	}{
		{"disjoint", Set{Exact: []string{"a"}, Prefixes: []string{"/x/"}}, Set{Exact: []string{"b"}, Prefixes: []string{"/y/"}}, ""},
		{"same exact", Set{Exact: []string{"a"}}, Set{Exact: []string{"a"}}, "a"},
		{"exact under prefix", Set{Exact: []string{"/x/1"}}, Set{Prefixes: []string{"/x/"}}, "/x/1"},
		{"prefix over exact", Set{Prefixes: []string{"/x/"}}, Set{Exact: []string{"/x/1"}}, "/x/1"},
		{"nested prefixes", Set{Prefixes: []string{"/x/"}}, Set{Prefixes: []string{"/x/y/"}}, "/x/y/*"},
		{"nested prefixes, other way", Set{Prefixes: []string{"/x/y/"}}, Set{Prefixes: []string{"/x/"}}, "/x/y/*"},
		{"sibling prefixes", Set{Prefixes: []string{"/x/"}}, Set{Prefixes: []string{"/xy/"}}, ""},
		{"defaults of two sources", Defaults(Identity{ID: "src_1"}), Defaults(Identity{ID: "src_10"}), ""},
		{"two sources of one data id", Defaults(Identity{ID: "a", DataID: 7}), Defaults(Identity{ID: "b", DataID: 7}), "bkmonitor/7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Overlap(tc.a, tc.b)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Overlap = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	long := make([]byte, MaxLen+1)
	for i := range long {
		long[i] = 'a'
	}
	many := Set{}
	for i := 0; i <= MaxValues; i++ {
		many.Exact = append(many.Exact, string(rune('a'+i%26))+string(rune('0'+i/26)))
	}
	for _, tc := range []struct {
		name string
		set  Set
		path string // "" with ok: accepted
		ok   bool
	}{
		{"ordinary", Set{Exact: []string{"acs.mse"}, Prefixes: []string{"/shop/", "juno/"}}, "", true},
		{"empty value", Set{Exact: []string{""}}, "exact[0]", false},
		{"too long", Set{Exact: []string{string(long)}}, "exact[0]", false},
		{"control character", Set{Prefixes: []string{"a\nb"}}, "prefixes[0]", false},
		{"invalid UTF-8", Set{Exact: []string{"\xff"}}, "exact[0]", false},
		{"iuap value", Set{Exact: []string{"ok", "iuap/NODE"}}, "exact[1]", false},
		{"iuap exact", Set{Exact: []string{"iuap"}}, "exact[0]", false},
		{"prefix over iuap", Set{Prefixes: []string{"iu"}}, "prefixes[0]", false},
		{"prefix over everything", Set{Prefixes: []string{"/"}}, "prefixes[0]", false},
		{"another source's path", Set{Exact: []string{"/sources/src_x"}}, "exact[0]", false},
		{"bkmonitor namespace", Set{Prefixes: []string{"bkmonitor/"}}, "prefixes[0]", false},
		{"twice", Set{Exact: []string{"a", "a"}}, "exact[1]", false},
		{"too many", many, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, reason := tc.set.Check()
			if (reason == "") != tc.ok || path != tc.path {
				t.Errorf("Check = %q, %q; want path %q, ok %v", path, reason, tc.path, tc.ok)
			}
		})
	}
}
