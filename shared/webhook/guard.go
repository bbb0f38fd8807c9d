package webhook

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// Guard decides at dial time, after DNS resolution, which addresses deliveries may
// reach, so a hostname that resolves to an internal address is refused as well.
type Guard struct {
	// AllowPrivate lets deliveries reach loopback, private and other non-public
	// addresses on any port (the local stack sets it). Otherwise only public unicast
	// addresses on ports 80 and 443 are allowed.
	AllowPrivate bool
}

var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
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
	netip.MustParsePrefix("fc00::/7"),
}

// Check returns an error when the address may not be dialled.
func (g Guard) Check(address string) error {
	host, port, err := net.SplitHostPort(address)
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
	if p, _ := strconv.Atoi(port); p != 80 && p != 443 {
		return fmt.Errorf("destination port %s is not allowed: only 80 and 443", port)
	}
	if ip.Is4In6() {
		return fmt.Errorf("destination %s is an IPv4-mapped IPv6 address", ip)
	}
	ip = ip.WithZone("")
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

// control is a net.Dialer Control function enforcing the guard on every connection.
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	return g.Check(address)
}
