package fakeclock

import (
	"testing"
	"time"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	c := New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("got %v, want %v", got, start)
	}
	c.Advance(time.Second)
	if got, want := c.Now(), start.Add(time.Second); !got.Equal(want) {
		t.Errorf("after Advance: got %v, want %v", got, want)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after Set: got %v, want %v", got, start)
	}
}
