package proxy

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
)

// fakeIdentity is a ClientCertifier whose identity the test replaces; nil fails.
type fakeIdentity struct {
	id atomic.Pointer[filters.ClientIdentity]
}

func (f *fakeIdentity) ClientIdentity() (*filters.ClientIdentity, error) {
	if id := f.id.Load(); id != nil {
		return id, nil
	}
	return nil, errors.New("unusable")
}

func newFake(key string) *fakeIdentity {
	f := &fakeIdentity{}
	f.id.Store(&filters.ClientIdentity{Key: key})
	return f
}

func (ids *identities) count() int {
	if m := ids.live.Load(); m != nil {
		return len(*m)
	}
	return 0
}

func TestIdentitiesAreReplacedRetiredAndBounded(t *testing.T) {
	base := NewTransport(TransportOptions{})
	a, b := newFake("a"), newFake("b")
	ta, err := base.forIdentity(a)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := base.forIdentity(a); again != ta {
		t.Error("the same identity got a second transport")
	}
	if tb, _ := base.forIdentity(b); tb == ta {
		t.Error("two identities share a transport")
	}
	a.id.Store(&filters.ClientIdentity{Key: "a"}) // rotated
	if ta2, _ := base.forIdentity(a); ta2 == ta {
		t.Error("a rotated identity kept its transport")
	}
	if n := base.ids.count(); n != 2 {
		t.Errorf("%d identities live, want 2", n)
	}

	// The check retires what became unusable, then what went unused for the idle time.
	b.id.Store(nil)
	base.ids.check(time.Hour)
	if n := base.ids.count(); n != 1 {
		t.Errorf("after b became unusable: %d identities live, want 1", n)
	}
	base.ids.check(0)
	if n := base.ids.count(); n != 0 {
		t.Errorf("after the idle time: %d identities live, want 0", n)
	}

	for i := range maxIdentities + 10 {
		if _, err := base.forIdentity(newFake(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := base.ids.count(); n != maxIdentities {
		t.Errorf("%d identities live, want the bound %d", n, maxIdentities)
	}
}
