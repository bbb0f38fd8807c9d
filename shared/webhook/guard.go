package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Guard decides at dial time, after DNS resolution, which addresses deliveries may
// reach, so a hostname that resolves to an internal address is refused as well.
//
// By default only public unicast addresses on ports 80 and 443 are allowed: loopback,
// private, link-local (169.254.169.254 included), multicast, reserved, documentation
// and IPv4-embedding IPv6 addresses (mapped, NAT64, 6to4, Teredo) are refused.
type Guard struct {
	// AllowPrivate lets deliveries reach any address on any port (a local stack on a
	// developer's machine). Keep it false in AWS: Allow is the precise tool.
	AllowPrivate bool
	// Allow is an explicit allow-list of destinations that are reachable although
	// the rules above refuse them.
	Allow []Destination
}

// Destination is one allow-list entry: addresses in Prefix, or the host name Host, on
// Port (0: any port). A Prefix-less, Host-less entry with a port ("*:8443") lets
// public addresses be reached on that port too.
type Destination struct {
	Prefix netip.Prefix
	Host   string
	Port   int
}

func (d Destination) String() string {
	host := "*"
	switch {
	case d.Host != "":
		host = d.Host
	case d.Prefix.IsValid() && d.Prefix.IsSingleIP():
		host = d.Prefix.Addr().String()
	case d.Prefix.IsValid():
		host = d.Prefix.String()
	}
	if d.Port == 0 {
		return host
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(d.Port)
}

// ParseAllowList reads a comma- or space-separated allow-list: CIDR prefixes or IP
// addresses ("10.1.0.0/16", "::1") allow any port; "10.1.2.3:8443",
// "[fd00::/8]:9000", "hooks.internal:8080" and "*:8443" name one port. Host names are
// matched as given in the subscription's URL, before DNS resolution.
func ParseAllowList(s string) ([]Destination, error) {
	var out []Destination
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		d, err := parseDestination(f)
		if err != nil {
			return nil, fmt.Errorf("allowed destination %q: %w", f, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func parseDestination(s string) (Destination, error) {
	if p, err := parsePrefix(s); err == nil {
		return Destination{Prefix: p}, nil
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Destination{}, fmt.Errorf("not a CIDR prefix, an IP address or host:port")
	}
	host, portText := strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]"), s[i+1:]
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return Destination{}, fmt.Errorf("port %q is not a number between 1 and 65535", portText)
	}
	if host == "*" {
		return Destination{Port: port}, nil
	}
	if p, err := parsePrefix(host); err == nil {
		return Destination{Prefix: p, Port: port}, nil
	}
	if host == "" || strings.ContainsAny(host, "/[]:*") {
		return Destination{}, fmt.Errorf("host %q is not a CIDR prefix, an IP address or a host name", host)
	}
	return Destination{Host: strings.ToLower(strings.TrimSuffix(host, ".")), Port: port}, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.88.99.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("3fff::/20"),
	netip.MustParsePrefix("5f00::/16"),
	netip.MustParsePrefix("fc00::/7"),
}

// Check returns an error when the address (IP:port, as dialled) may not be reached.
func (g Guard) Check(address string) error {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("destination %s: %w", address, err)
	}
	if g.AllowPrivate {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("destination %s is not an IP address", host)
	}
	ip = ip.WithZone("")
	port, _ := strconv.Atoi(portText)
	portOK := port == 80 || port == 443
	for _, d := range g.Allow {
		if d.Port != 0 && d.Port != port {
			continue
		}
		switch {
		case d.Prefix.IsValid() && (d.Prefix.Contains(ip) || d.Prefix.Contains(ip.Unmap())):
			return nil // explicitly allowed, address and port
		case !d.Prefix.IsValid() && d.Host == "":
			portOK = true // "*:port": the address must still be public
		}
	}
	if !portOK {
		return fmt.Errorf("destination port %s is not allowed: only 80 and 443", portText)
	}
	if ip.Is4In6() {
		return fmt.Errorf("destination %s is an IPv4-mapped IPv6 address", ip)
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return fmt.Errorf("destination %s is not a public address", ip)
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return fmt.Errorf("destination %s is in the reserved range %s", ip, p)
		}
	}
	return nil
}

// Client returns an HTTP client for other HTTP targets than webhooks (the local
// EventBridge emulator's API destinations): every connection obeys the guard,
// redirects are not followed, and a request gives up after timeout.
func (g Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         g.dialer(net.Dialer{Timeout: timeout}, nil),
			MaxIdleConnsPerHost: 10,
			IdleConnTimeout:     60 * time.Second,
			TLSHandshakeTimeout: timeout,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// allowedHost reports whether an allow-list entry names the host of a dial address
// ("hooks.internal:8080"); such a connection is not checked after resolution.
func (g Guard) allowedHost(address string) bool {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	port, _ := strconv.Atoi(portText)
	for _, d := range g.Allow {
		if d.Host != "" && d.Host == host && (d.Port == 0 || d.Port == port) {
			return true
		}
	}
	return false
}

// dialer returns the DialContext of the sender's transport: every connection is checked
// by the guard when its address is known, after DNS resolution and before connecting.
// then, when set, runs after the guard approved (tests use it as a safety net).
func (g Guard) dialer(base net.Dialer, then func(network, address string, c syscall.RawConn) error) func(ctx context.Context, network, address string) (net.Conn, error) {
	checked := base
	checked.Control = func(network, address string, c syscall.RawConn) error {
		if err := g.Check(address); err != nil {
			return err
		}
		if then != nil {
			return then(network, address, c)
		}
		return nil
	}
	named := base
	named.Control = then
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if g.allowedHost(address) {
			return named.DialContext(ctx, network, address)
		}
		return checked.DialContext(ctx, network, address)
	}
}
