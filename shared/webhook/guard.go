package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Guard decides at dial time, after DNS resolution, which addresses deliveries may
// reach, so a hostname that resolves to an internal address is refused as well.
//
// The checks, in order:
//
//  1. Never reachable, whatever the settings: the instance metadata service
//     (169.254.169.254, fd00:ec2::254), link-local ranges (169.254.0.0/16,
//     fe80::/10), the unspecified addresses, the addresses in Deny (the Lambda
//     Runtime API), and loopback unless AllowLoopback. IPv6 forms that embed an IPv4
//     address (mapped, compatible, translated, NAT64, 6to4) are judged by that IPv4
//     address too.
//  2. AllowLoopback: loopback addresses on any port (the local stack only: in AWS,
//     Lambda's Runtime API listens on loopback).
//  3. Allow: the operator's allow-list.
//  4. AllowPrivate: private ranges (RFC 1918, RFC 6598 shared space, IPv6 unique
//     local) on any port.
//  5. Otherwise code.dny.dev/ssrf decides, with the IANA IPv4 and IPv6
//     special-purpose registries: public unicast addresses only (for IPv6, global
//     unicast 2000::/3 outside the registry's ranges), on ports 80 and 443 and the
//     ports "*:port" entries of Allow open.
type Guard struct {
	// AllowPrivate lets deliveries reach private addresses on any port (a VPC's
	// own services). Metadata, link-local and loopback stay unreachable.
	AllowPrivate bool
	// AllowLoopback lets deliveries reach loopback addresses: only the local stack
	// sets it (ALLOW_LOOPBACK_DESTINATIONS, which template.yaml never sets).
	AllowLoopback bool
	// Allow is an explicit allow-list of destinations that are reachable although
	// rules 4 and 5 refuse them; it cannot open what rule 1 closes.
	Allow []Destination
	// Deny lists addresses that are never reachable, such as the Lambda Runtime API
	// (AWS_LAMBDA_RUNTIME_API), which would let a subscription answer invocations.
	Deny []netip.AddrPort
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
// addresses ("10.1.0.0/16", "fd12::1") allow any port; "10.1.2.3:8443",
// "[fd00::/8]:9000", "hooks.internal:8080" and "*:8443" name one port. Host names are
// matched as given in the subscription's URL, before DNS resolution; what they
// resolve to is still held to the addresses that are never reachable. An entry that
// lies wholly inside those (the metadata service, link-local, loopback) is refused:
// it could never take effect.
func ParseAllowList(s string) ([]Destination, error) {
	var out []Destination
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		d, err := parseDestination(f)
		if err == nil && d.Prefix.IsValid() {
			if r, ok := closed(d.Prefix); ok {
				err = fmt.Errorf("%s is never reachable (inside %s: %s)", d.Prefix, r, never(d.Prefix.Addr(), false))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("allowed destination %q: %w", f, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// neverPrefixes are the ranges rule 1 closes, for checking allow-list entries.
var neverPrefixes = []netip.Prefix{
	netip.PrefixFrom(metadataV4, 32), netip.PrefixFrom(metadataV6, 128), linkLocalV4, linkLocalV6,
	thisNetwork, netip.PrefixFrom(unspecified6, 128), loopbackV4, netip.PrefixFrom(loopbackV6, 128),
}

// closed returns the range of rule 1 that holds all of p, if one does.
func closed(p netip.Prefix) (netip.Prefix, bool) {
	for _, r := range neverPrefixes {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return r, true
		}
	}
	return netip.Prefix{}, false
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

// Addresses that are never reachable (rule 1), and the private ranges of rule 4.
var (
	metadataV4   = netip.MustParseAddr("169.254.169.254")
	metadataV6   = netip.MustParseAddr("fd00:ec2::254")
	linkLocalV4  = netip.MustParsePrefix("169.254.0.0/16")
	linkLocalV6  = netip.MustParsePrefix("fe80::/10")
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8") // 0.0.0.0 reaches the host itself on Linux
	loopbackV4   = netip.MustParsePrefix("127.0.0.0/8")
	loopbackV6   = netip.MustParseAddr("::1")
	unspecified6 = netip.IPv6Unspecified()

	private = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("fc00::/7"),
	}

	// IPv6 ranges whose addresses carry an IPv4 address in their last 32 bits.
	embedding = []netip.Prefix{
		netip.MustParsePrefix("::ffff:0:0/96"),   // IPv4-mapped
		netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
		netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (RFC 2765)
		ssrf.IPv6NAT64Prefix,                     // 64:ff9b::/96
		netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	}
	sixToFour = netip.MustParsePrefix("2002::/16") // the IPv4 address in bits 16-48
)

// embeddedIPv4 returns the IPv4 address an IPv6 address carries, if it has one.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() || ip == loopbackV6 || ip == unspecified6 { // in ::/96, but not IPv4-compatible
		return netip.Addr{}, false
	}
	b := ip.As16()
	if sixToFour.Contains(ip) {
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	for _, p := range embedding {
		if p.Contains(ip) {
			return netip.AddrFrom4([4]byte(b[12:16])), true
		}
	}
	return netip.Addr{}, false
}

// never returns why ip is never reachable, or "" (rule 1, Deny aside).
func never(ip netip.Addr, allowLoopback bool) string {
	check := func(a netip.Addr) string {
		switch {
		case a == metadataV4 || a == metadataV6:
			return "the instance metadata service"
		case linkLocalV4.Contains(a) || linkLocalV6.Contains(a):
			return "link-local"
		case thisNetwork.Contains(a) || a == unspecified6:
			return "unspecified"
		case !allowLoopback && (loopbackV4.Contains(a) || a == loopbackV6):
			return "loopback"
		}
		return ""
	}
	if why := check(ip); why != "" {
		return why
	}
	if v4, ok := embeddedIPv4(ip); ok {
		return check(v4)
	}
	return ""
}

// checker is a Guard ready for use: the ssrf guardian built once.
type checker struct {
	Guard
	guardian *ssrf.Guardian
}

func (g Guard) checker() *checker {
	ports := []uint16{80, 443}
	for _, d := range g.Allow {
		if !d.Prefix.IsValid() && d.Host == "" && d.Port != 0 {
			ports = append(ports, uint16(d.Port))
		}
	}
	return &checker{Guard: g, guardian: ssrf.New(ssrf.WithPorts(ports...))}
}

// Check returns an error when the address (IP:port, as dialled) may not be reached.
func (g Guard) Check(address string) error { return g.checker().check("", address) }

// errRefused is wrapped by every refusal of the guard.
var errRefused = errors.New("destination refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errRefused}, args...)...)
}

// check applies the rules to an address the dialer is about to connect to over
// network ("" when unknown: tests).
func (c *checker) check(network, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refuse("%s is not an IP address and port", address)
	}
	ip, port := ap.Addr().WithZone(""), int(ap.Port())
	if network != "" && network != "tcp4" && network != "tcp6" {
		return refuse("network %s is not allowed", network)
	}
	if why := c.neverReachable(ip, port); why != "" {
		return refuse("%s is %s: never reachable", ip, why)
	}
	if c.AllowLoopback {
		if a := ip.Unmap(); loopbackV4.Contains(a) || a == loopbackV6 {
			return nil
		}
	}
	for _, d := range c.Allow {
		if d.Prefix.IsValid() && (d.Port == 0 || d.Port == port) && (d.Prefix.Contains(ip) || d.Prefix.Contains(ip.Unmap())) {
			return nil // explicitly allowed, address and port
		}
	}
	if c.AllowPrivate {
		for _, p := range private {
			if p.Contains(ip.Unmap()) {
				return nil
			}
		}
	}
	if err := c.guardian.SafeAddrPort(netip.AddrPortFrom(ip, uint16(port))); err != nil {
		if errors.Is(err, ssrf.ErrProhibitedPort) {
			return refuse("port %d is not allowed: only 80 and 443 and the ports the allow-list opens", port)
		}
		return refuse("%s is not a public address (%v)", ip, err)
	}
	return nil
}

// neverReachable returns why ip:port may never be reached, or "".
func (c *checker) neverReachable(ip netip.Addr, port int) string {
	if slices.ContainsFunc(c.Deny, func(d netip.AddrPort) bool {
		return int(d.Port()) == port && d.Addr().Unmap() == ip.Unmap()
	}) {
		return "reserved (the Lambda Runtime API)"
	}
	return never(ip, c.AllowLoopback)
}

// Client returns an HTTP client for other HTTP targets than webhooks (the local
// EventBridge emulator's API destinations): every connection obeys the guard,
// redirects are not followed, and a request gives up after timeout.
func (g Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         g.checker().dialer(net.Dialer{Timeout: timeout}, nil),
			MaxIdleConnsPerHost: 10,
			IdleConnTimeout:     60 * time.Second,
			TLSHandshakeTimeout: timeout,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// allowedHost reports whether an allow-list entry names the host of a dial address
// ("hooks.internal:8080"); such a connection is held only to rule 1 after resolution.
func (c *checker) allowedHost(address string) bool {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	port, _ := strconv.Atoi(portText)
	for _, d := range c.Allow {
		if d.Host != "" && d.Host == host && (d.Port == 0 || d.Port == port) {
			return true
		}
	}
	return false
}

// dialer returns the DialContext of the sender's transport: every connection is checked
// by the guard when its address is known, after DNS resolution and before connecting.
// then, when set, runs after the guard approved (tests use it as a safety net).
func (c *checker) dialer(base net.Dialer, then func(network, address string, rc syscall.RawConn) error) func(ctx context.Context, network, address string) (net.Conn, error) {
	next := func(network, address string, rc syscall.RawConn) error {
		if then != nil {
			return then(network, address, rc)
		}
		return nil
	}
	checked := base
	checked.Control = func(network, address string, rc syscall.RawConn) error {
		if err := c.check(network, address); err != nil {
			return err
		}
		return next(network, address, rc)
	}
	named := base
	named.Control = func(network, address string, rc syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return refuse("%s is not an IP address and port", address)
		}
		if why := c.neverReachable(ap.Addr().WithZone(""), int(ap.Port())); why != "" {
			return refuse("%s is %s: never reachable", ap.Addr(), why)
		}
		return next(network, address, rc)
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if c.allowedHost(address) {
			return named.DialContext(ctx, network, address)
		}
		return checked.DialContext(ctx, network, address)
	}
}
