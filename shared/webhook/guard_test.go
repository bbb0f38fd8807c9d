package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventhub/eventhub/shared/webhook/webhooktest"
)

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		in      string
		want    string // the entries' String, space-separated
		wantErr string
	}{
		{in: "", want: ""},
		{in: "10.0.0.0/8, fd12::1, 0.0.0.0/0", want: "10.0.0.0/8 fd12::1 0.0.0.0/0"},
		{in: "127.0.0.0/8", wantErr: "never reachable"},
		{in: "127.0.0.1:8080", wantErr: "never reachable"},
		{in: "::1", wantErr: "never reachable"},
		{in: "169.254.169.254", wantErr: "never reachable"},
		{in: "[fd00:ec2::254]:80", wantErr: "never reachable"},
		{in: "169.254.10.0/24", wantErr: "never reachable"},
		{in: "fe80::/64", wantErr: "never reachable"},
		{in: "10.1.2.3:8443,[fd00::/8]:9000 hooks.Internal.:8080 *:8443", want: "10.1.2.3:8443 [fd00::/8]:9000 hooks.internal:8080 *:8443"},
		{in: "10.1.2.9/16", want: "10.1.0.0/16"},
		{in: "hooks.internal", wantErr: "not a CIDR prefix"},
		{in: "10.0.0.1:99999", wantErr: "port"},
		{in: "a/b:80", wantErr: "is not a CIDR prefix, an IP address or a host name"},
	}
	for _, tc := range tests {
		got, err := ParseAllowList(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseAllowList(%q) error = %v; want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllowList(%q) error = %v", tc.in, err)
			continue
		}
		var s []string
		for _, d := range got {
			s = append(s, d.String())
		}
		if strings.Join(s, " ") != tc.want {
			t.Errorf("ParseAllowList(%q) = %q; want %q", tc.in, strings.Join(s, " "), tc.want)
		}
	}
}

func TestGuardAllowList(t *testing.T) {
	allow, err := ParseAllowList("10.9.0.0/16:8080, 192.168.4.0/24, hooks.internal:8080, *:8443")
	if err != nil {
		t.Fatal(err)
	}
	g := Guard{Allow: allow}
	tests := []struct {
		addr string
		ok   bool
	}{
		{"192.168.4.7:9000", true},          // any port on the prefix
		{"[::ffff:192.168.4.7]:9000", true}, // the same address, mapped
		{"192.168.5.7:443", false},          // outside the prefix
		{"10.9.3.4:8080", true},             // listed with its port
		{"10.9.3.4:443", false},             // another port
		{"10.10.0.1:8080", false},           // outside the prefix
		{"93.184.216.34:8443", true},        // *:8443 opens the port for public addresses
		{"169.254.169.254:8443", false},     // ... not for internal ones
		{"[::ffff:10.0.0.1]:8443", false},   // nor mapped ones
		{"93.184.216.34:8444", false},       // other ports stay closed
		{"169.254.169.254:80", false},       // the defaults still apply
	}
	for _, tc := range tests {
		err := g.Check(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("Guard{Allow: %v}.Check(%s) = %v; want allowed %v", allow, tc.addr, err, tc.ok)
		}
	}
	c := g.checker()
	if !c.allowedHost("HOOKS.internal.:8080") || c.allowedHost("hooks.internal:80") || c.allowedHost("other:8080") {
		t.Error("allowedHost: want only hooks.internal on port 8080")
	}
}

// everything is an allow-list that opens every address on every port: what rule 1
// closes stays closed.
var everything = []Destination{{Prefix: netip.MustParsePrefix("0.0.0.0/0")}, {Prefix: netip.MustParsePrefix("::/0")}}

func TestGuard(t *testing.T) {
	runtimeAPI := netip.MustParseAddrPort("127.0.0.1:9001")
	var (
		deflt    = Guard{}
		priv     = Guard{AllowPrivate: true}
		loopback = Guard{AllowLoopback: true, Deny: []netip.AddrPort{runtimeAPI}}
		wide     = Guard{AllowPrivate: true, AllowLoopback: true, Allow: everything, Deny: []netip.AddrPort{runtimeAPI}}
	)
	tests := []struct {
		addr                        string
		deflt, priv, loopback, wide bool // allowed by each guard
	}{
		{"93.184.216.34:443", true, true, true, true},
		{"93.184.216.34:80", true, true, true, true},
		{"93.184.216.34:8080", false, false, false, true},
		{"[2606:4700::1111]:443", true, true, true, true},
		{"[::ffff:93.184.216.34]:443", false, false, false, true},
		{"10.0.0.1:443", false, true, false, true},
		{"10.0.0.1:8080", false, true, false, true},
		{"172.16.3.4:443", false, true, false, true},
		{"192.168.1.1:80", false, true, false, true},
		{"100.64.0.1:443", false, true, false, true},
		{"[fd00::1]:443", false, true, false, true},
		{"[::ffff:10.0.0.1]:443", false, true, false, true},
		// never reachable
		{"169.254.169.254:80", false, false, false, false},
		{"[fd00:ec2::254]:80", false, false, false, false},
		{"169.254.1.1:443", false, false, false, false},
		{"[fe80::1]:443", false, false, false, false},
		{"[fe80::1%eth0]:443", false, false, false, false},
		{"[::ffff:169.254.169.254]:80", false, false, false, false},
		{"[::a9fe:a9fe]:80", false, false, false, false},        // IPv4-compatible metadata
		{"[::ffff:0:a9fe:a9fe]:80", false, false, false, false}, // IPv4-translated metadata
		{"[64:ff9b::a9fe:a9fe]:80", false, false, false, false}, // NAT64 metadata
		{"[2002:a9fe:a9fe::]:80", false, false, false, false},   // 6to4 metadata
		{"0.0.0.0:443", false, false, false, false},
		{"[::]:443", false, false, false, false},
		// loopback: only with AllowLoopback, never the Runtime API
		{"127.0.0.1:443", false, false, true, true},
		{"127.8.9.10:8080", false, false, true, true},
		{"[::1]:443", false, false, true, true},
		{"[::ffff:127.0.0.1]:443", false, false, true, true},
		{"[::7f00:1]:80", false, false, false, true}, // IPv4-compatible loopback: only the wide allow-list opens it
		{"127.0.0.1:9001", false, false, false, false},
		{"[::ffff:127.0.0.1]:9001", false, false, false, false},
		// the IANA registries
		{"[fec0::1]:443", false, false, false, true},
		{"[::ffff:0:7f00:1]:443", false, false, false, true},
		{"224.0.0.1:443", false, false, false, true},
		{"255.255.255.255:443", false, false, false, true},
		{"[64:ff9b::a00:1]:443", false, false, false, true},
		{"[2002:a00:1::]:443", false, false, false, true},
		{"[2001:db8::1]:443", false, false, false, true},
		{"192.0.2.1:443", false, false, false, true},
	}
	for _, tc := range tests {
		for _, g := range []struct {
			name  string
			guard Guard
			want  bool
		}{{"default", deflt, tc.deflt}, {"private", priv, tc.priv}, {"loopback", loopback, tc.loopback}, {"wide", wide, tc.wide}} {
			err := g.guard.Check(tc.addr)
			if (err == nil) != g.want {
				t.Errorf("%s guard: Check(%s) = %v; want allowed %v", g.name, tc.addr, err, g.want)
			}
			if err != nil && !errors.Is(err, errRefused) {
				t.Errorf("%s guard: Check(%s) = %v; want an errRefused", g.name, tc.addr, err)
			}
		}
	}
}

// safetyNet is the last check of a test sender's connections: it lets only loopback
// addresses through, so that a guard bug can never send a packet elsewhere, and
// records what the guard let through.
type safetyNet struct {
	mu     sync.Mutex
	passed []string
}

var errSafetyNet = errors.New("safety net: the guard let a non-loopback address through")

func (s *safetyNet) check(_, address string, _ syscall.RawConn) error {
	s.mu.Lock()
	s.passed = append(s.passed, address)
	s.mu.Unlock()
	host, _, _ := net.SplitHostPort(address)
	if ip, err := netip.ParseAddr(host); err != nil || !ip.Unmap().IsLoopback() {
		return errSafetyNet
	}
	return nil
}

// TestSSRFGuardRefusesInternalDestinations sends real requests through the sender with
// the production guard (no AllowPrivate) and checks that each is refused by the guard
// when the address is known, after DNS resolution, before any packet leaves.
func TestSSRFGuardRefusesInternalDestinations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	tests := []struct {
		name  string
		guard Guard
		url   string
		want  string
	}{
		{"cloud metadata", Guard{}, "http://169.254.169.254/latest/meta-data/", "instance metadata service: never reachable"},
		{"cloud metadata, private allowed", Guard{AllowPrivate: true, Allow: everything}, "http://169.254.169.254/latest/meta-data/", "never reachable"},
		{"cloud metadata over IPv6", Guard{AllowPrivate: true}, "http://[fd00:ec2::254]/latest/meta-data/", "never reachable"},
		{"metadata, IPv4-compatible", Guard{AllowLoopback: true, AllowPrivate: true}, "http://[::a9fe:a9fe]/", "never reachable"},
		{"private", Guard{}, "https://10.0.0.1/hook", "not a public address"},
		{"IPv4-mapped loopback", Guard{}, "http://[::ffff:127.0.0.1]/hook", "127.0.0.1 is loopback"},
		{"IPv4-compatible loopback", Guard{}, "http://[::7f00:1]/hook", "loopback: never reachable"},
		{"IPv4-translated loopback", Guard{AllowLoopback: true}, "http://[::ffff:0:7f00:1]/hook", "not a public address"},
		{"site-local", Guard{AllowPrivate: true}, "http://[fec0::1]/hook", "not a public address"},
		{"name resolving to loopback", Guard{}, "http://localhost/hook", "loopback: never reachable"},
		{"name resolving to loopback, private allowed", Guard{AllowPrivate: true, Allow: everything}, "http://localhost:" + port + "/hook", "loopback: never reachable"},
		// The port is allowed for public addresses, so only the address can refuse.
		{"public port opened", Guard{Allow: []Destination{{Port: atoi(port)}}}, "http://[::ffff:10.0.0.1]:" + port + "/hook", "not a public address"},
		{"the Lambda Runtime API", Guard{AllowLoopback: true, Deny: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:" + port)}}, srv.URL, "Lambda Runtime API"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net := &safetyNet{}
			res := newSender(tc.guard, net.check).Send(context.Background(), Message{
				URL: tc.url, ID: "msg_1", Body: []byte(`{}`), ContentType: "application/json", Secrets: []string{NewSecret()},
			})
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
				t.Errorf("Send(%s) = %+v; want refused: %q", tc.url, res, tc.want)
			}
			if errors.Is(res.Err, errSafetyNet) || len(net.passed) > 0 {
				t.Errorf("the guard let %v through", net.passed)
			}
		})
	}
	// And AllowLoopback (the local stack) lets the local receiver through.
	ok := newSender(Guard{AllowLoopback: true}, (&safetyNet{}).check).Send(context.Background(), Message{
		URL: "http://localhost:" + port + "/hook", ID: "msg_1", Body: []byte(`{}`), Secrets: []string{NewSecret()},
	})
	if !ok.OK() {
		t.Errorf("Send to an allow-listed loopback receiver = %+v; want delivered", ok)
	}
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(s, &n)
	return n
}

// TestSSRFGuardRefusesIANARegistries sends a real request through the sender to two
// addresses of every special-purpose range, with the production guard and with
// private destinations allowed: each is refused by the guard before any packet
// leaves (the safety net sees none).
func TestSSRFGuardRefusesIANARegistries(t *testing.T) {
	for _, g := range []struct {
		name  string
		guard Guard
	}{{"default", Guard{}}, {"private allowed", Guard{AllowPrivate: true}}} {
		for _, ip := range webhooktest.Samples() {
			addr := netip.AddrPortFrom(ip, 443).String()
			if g.guard.AllowPrivate && slices.ContainsFunc(private, func(p netip.Prefix) bool { return p.Contains(ip.Unmap()) }) {
				continue // what AllowPrivate is for
			}
			net := &safetyNet{}
			res := newSender(g.guard, net.check).Send(context.Background(), Message{
				URL: "https://" + addr + "/hook", ID: "msg_1", Body: []byte(`{}`), Secrets: []string{NewSecret()}, Timeout: 2 * time.Second,
			})
			if res.Err == nil || !errors.Is(res.Err, errRefused) {
				t.Errorf("%s guard: Send(https://%s/hook) = %+v; want refused by the guard", g.name, addr, res)
			}
			if len(net.passed) > 0 {
				t.Errorf("%s guard: let %v through", g.name, net.passed)
			}
		}
	}
}
