package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOTLPClientIsBoundedByAStuckOrTalkativeCollector holds the OTLP client to its bounds: a
// collector that never answers costs OTEL_EXPORTER_OTLP_TIMEOUT, one that answers an endless
// body is read no further than maxResponse.
func TestOTLPClientIsBoundedByAStuckOrTalkativeCollector(t *testing.T) {
	stuck := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stuck:
		}
	}))
	defer hang.Close()
	defer close(stuck)
	const endless = 256 << 20
	wrote := make(chan int64, 1)
	talk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := []byte(strings.Repeat("x", 32<<10))
		var n int64
		for n < endless { // far more than any bound, should the client read it all
			m, err := w.Write(line)
			n += int64(m)
			if err != nil {
				break
			}
		}
		wrote <- n
	}))
	defer talk.Close()

	for _, srv := range []*httptest.Server{hang, talk} {
		// The talkative collector gets a minute: only maxResponse may stop the reading.
		t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", map[*httptest.Server]string{hang: "300", talk: "60000"}[srv])
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", srv.URL+"/v1/traces")
		c, err := (&Options{}).newOTLPHTTP()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = c.UploadTraces(context.Background(), nil)
		c.Stop(context.Background()) //nolint:errcheck // never fails
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: UploadTraces took %v", srv.URL, d)
		}
		if srv == hang && err == nil {
			t.Error("a collector that never answers: no error")
		}
		if srv == talk {
			if n := <-wrote; n >= endless {
				t.Errorf("the client read the endless body whole: %d bytes", n)
			}
		}
	}
}
