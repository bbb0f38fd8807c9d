// Package webhooktest holds what the SSRF tests of the webhook sender share: sample
// addresses of every special-purpose range a delivery must never reach.
package webhooktest

import (
	"net/netip"

	"code.dny.dev/ssrf"
)

// Outside2000 are IPv6 ranges outside global unicast (2000::/3), which the guard
// refuses as a whole: the IPv4-embedding forms among them included.
var Outside2000 = []netip.Prefix{
	netip.MustParsePrefix("::/8"),            // unspecified, loopback, IPv4-compatible (::7f00:1)
	netip.MustParsePrefix("::ffff:0:0/96"),   // IPv4-mapped
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (RFC 2765)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("4000::/3"),        // unassigned
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

// Ranges returns every range of the IANA IPv4 and IPv6 special-purpose registries that
// code.dny.dev/ssrf refuses, then Outside2000.
func Ranges() []netip.Prefix {
	var out []netip.Prefix
	out = append(out, ssrf.IPv4DeniedPrefixes...)
	out = append(out, ssrf.IPv6DeniedPrefixes...)
	return append(out, Outside2000...)
}

// Samples returns two addresses (the second and the last) of every range of Ranges.
func Samples() []netip.Addr {
	var out []netip.Addr
	for _, p := range Ranges() {
		out = append(out, p.Addr().Next(), Last(p))
	}
	return out
}

// Last returns the last address of p.
func Last(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
