package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		in      string
		want    string // the entries' String, space-separated
		wantErr string
	}{
		{in: "", want: ""},
		{in: "127.0.0.0/8, ::1", want: "127.0.0.0/8 ::1"},
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
	allow, err := ParseAllowList("127.0.0.0/8, 10.9.0.0/16:8080, hooks.internal:8080, *:8443")
	if err != nil {
		t.Fatal(err)
	}
	g := Guard{Allow: allow}
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:9000", true},          // any port on the prefix
		{"[::ffff:127.0.0.1]:9000", true}, // the same address, mapped
		{"[::1]:9000", false},             // not listed
		{"10.9.3.4:8080", true},           // listed with its port
		{"10.9.3.4:443", false},           // another port
		{"10.10.0.1:8080", false},         // outside the prefix
		{"93.184.216.34:8443", true},      // *:8443 opens the port for public addresses
		{"169.254.169.254:8443", false},   // ... not for internal ones
		{"[::ffff:10.0.0.1]:8443", false}, // nor mapped ones
		{"93.184.216.34:8444", false},     // other ports stay closed
		{"169.254.169.254:80", false},     // the defaults still apply
	}
	for _, tc := range tests {
		err := g.Check(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("Guard{Allow: %v}.Check(%s) = %v; want allowed %v", allow, tc.addr, err, tc.ok)
		}
	}
	if !g.allowedHost("HOOKS.internal.:8080") || g.allowedHost("hooks.internal:80") || g.allowedHost("other:8080") {
		t.Error("allowedHost: want only hooks.internal on port 8080")
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
		{"cloud metadata", Guard{}, "http://169.254.169.254/latest/meta-data/", "not a public address"},
		{"private", Guard{}, "https://10.0.0.1/hook", "not a public address"},
		{"IPv4-mapped loopback", Guard{}, "http://[::ffff:127.0.0.1]/hook", "127.0.0.1 is not a public address"},
		{"name resolving to loopback", Guard{}, "http://localhost/hook", "not a public address"},
		// The port is allowed for public addresses, so only the address can refuse.
		{"name resolving to loopback, port opened", Guard{Allow: []Destination{{Port: atoi(port)}}}, "http://localhost:" + port + "/hook", "not a public address"},
		{"loopback on another port", Guard{}, srv.URL, "port " + port + " is not allowed"},
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
	// And the allow-list lets the local receiver through.
	ok := newSender(Guard{Allow: []Destination{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}}}, (&safetyNet{}).check).Send(context.Background(), Message{
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
