package forward

import "net/netip"

// deniedRanges lists the address ranges a client-chosen destination may not reach unless the
// allow list opens them. Addresses are unmapped (::ffff:a.b.c.d becomes a.b.c.d) and stripped of
// their zone before they are checked, so the IPv4 entries also cover IPv4-mapped IPv6.
// More specific entries come first so that they give the more useful reason.
//
//	IPv4
//	  169.254.169.254/32  cloud metadata (AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle)
//	  168.63.129.16/32    cloud metadata (Azure WireServer; a public address only Azure hosts reach)
//	  0.0.0.0/8           "this network", includes the unspecified 0.0.0.0 (RFC 1122)
//	  10.0.0.0/8          private (RFC 1918)
//	  100.64.0.0/10       shared address space, carrier-grade NAT (RFC 6598); Alibaba metadata
//	  127.0.0.0/8         loopback
//	  169.254.0.0/16      link-local (RFC 3927)
//	  172.16.0.0/12       private (RFC 1918)
//	  192.0.0.0/24        IETF protocol assignments (RFC 6890); includes Oracle's 192.0.0.192
//	  192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24   documentation (RFC 5737)
//	  192.168.0.0/16      private (RFC 1918)
//	  198.18.0.0/15       benchmarking (RFC 2544)
//	  224.0.0.0/4         multicast
//	  240.0.0.0/4         reserved, includes the limited broadcast 255.255.255.255
//	IPv6
//	  fd00:ec2::254/128   cloud metadata (AWS IMDS over IPv6)
//	  ::/128              unspecified
//	  ::1/128             loopback
//	  ::/96               IPv4-compatible (deprecated, RFC 4291)
//	  64:ff9b:1::/48      local-use NAT64 (RFC 8215)
//	  100::/64            discard-only (RFC 6666)
//	  2001::/32           Teredo: carries an obfuscated IPv4 address, refused as a whole
//	  2001:db8::/32       documentation (RFC 3849)
//	  fc00::/7            unique local (RFC 4193)
//	  fe80::/10           link-local
//	  fec0::/10           site-local (deprecated, RFC 3879)
//	  ff00::/8            multicast
//
// embeddingRanges adds two IPv6 ranges that carry an IPv4 address the network translates to:
// NAT64 64:ff9b::/96 (RFC 6052) and 6to4 2002::/16 (RFC 3056). Their addresses are refused when
// the IPv4 address inside is refused, and allowed otherwise, so IPv6-only hosts still reach the
// public IPv4 internet through NAT64.
func deniedRanges() []deniedRange {
	const metadata = "cloud metadata"
	return []deniedRange{
		{netip.MustParsePrefix("169.254.169.254/32"), metadata},
		{netip.MustParsePrefix("168.63.129.16/32"), metadata},
		{netip.MustParsePrefix("0.0.0.0/8"), "this network (RFC 1122)"},
		{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
		{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (RFC 6598)"},
		{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
		{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
		{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
		{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"},
		{netip.MustParsePrefix("192.0.2.0/24"), "documentation (RFC 5737)"},
		{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
		{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
		{netip.MustParsePrefix("198.51.100.0/24"), "documentation (RFC 5737)"},
		{netip.MustParsePrefix("203.0.113.0/24"), "documentation (RFC 5737)"},
		{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved or broadcast"},

		{netip.MustParsePrefix("fd00:ec2::254/128"), metadata},
		{netip.MustParsePrefix("::/128"), "unspecified"},
		{netip.MustParsePrefix("::1/128"), "loopback"},
		{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
		{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 (RFC 8215)"},
		{netip.MustParsePrefix("100::/64"), "discard-only (RFC 6666)"},
		{netip.MustParsePrefix("2001::/32"), "Teredo"},
		{netip.MustParsePrefix("2001:db8::/32"), "documentation (RFC 3849)"},
		{netip.MustParsePrefix("fc00::/7"), "unique local (RFC 4193)"},
		{netip.MustParsePrefix("fe80::/10"), "link-local"},
		{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
		{netip.MustParsePrefix("ff00::/8"), "multicast"},
	}
}

// embeddingRanges lists the IPv6 ranges that carry a translated IPv4 address; see deniedRanges.
func embeddingRanges() []embeddingRange {
	return []embeddingRange{
		{netip.MustParsePrefix("64:ff9b::/96"), "NAT64", func(a netip.Addr) netip.Addr {
			b := a.As16()
			return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		}},
		{netip.MustParsePrefix("2002::/16"), "6to4", func(a netip.Addr) netip.Addr {
			b := a.As16()
			return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}},
	}
}
