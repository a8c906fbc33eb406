package secrets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkRotationLatency measures how long a rotated secret takes to become visible: the time
// from the rename that installs a new value, or from the close of a prompt writer that rewrote
// the file in place, to the first Get that returns it, with a running Store whose ticker never
// fires. It reports the median and 99th percentile.
func BenchmarkRotationLatency(b *testing.B) {
	b.Run("rename", func(b *testing.B) {
		stage := b.TempDir()
		rotationLatency(b, func(name, v string) error { return renameInto(stage, name, v) })
	})
	b.Run("write in place", func(b *testing.B) {
		rotationLatency(b, func(name, v string) error { return os.WriteFile(name, []byte(v), 0o600) })
	})
}

func rotationLatency(b *testing.B, rotate func(name, value string) error) {
	dir := b.TempDir()
	name := filepath.Join(dir, "token")
	if err := rotate(name, "v0\n"); err != nil {
		b.Fatal(err)
	}
	s, err := NewStore(Options{Paths: []string{dir}, Tick: make(chan time.Time)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	poll := time.NewTicker(100 * time.Microsecond)
	defer poll.Stop()
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		want := fmt.Sprintf("v%d", i+1)
		if err := rotate(name, want+"\n"); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		deadline := start.Add(5 * time.Second)
		for {
			if v, _ := s.Get(name); string(v) == want {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("rotation %d not visible after 5s", i+1)
			}
			<-poll.C
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkGet measures the request-path lookup; it must not allocate.
func BenchmarkGet(b *testing.B) {
	dir := b.TempDir()
	name := filepath.Join(dir, "token")
	if err := renameInto(b.TempDir(), name, "v\n"); err != nil {
		b.Fatal(err)
	}
	s, err := NewStore(Options{Paths: []string{dir}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Get(name); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
