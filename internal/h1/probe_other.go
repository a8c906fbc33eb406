//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package h1

import "net"

// probe cannot look at an idle connection on this system: the retry rule alone covers
// idempotent requests, and the others never take a pooled connection.
type probe struct{}

func (p *probe) init(net.Conn) {}

func (p *probe) usable() (ok, known bool) { return false, false }
