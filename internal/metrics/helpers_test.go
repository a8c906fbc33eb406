package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sample is one line of the text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// key returns the sample's series as `name{a="x",b="y"}` with labels sorted, for lookups.
func (s sample) key() string { return seriesKey(s.name, s.labels) }

func seriesKey(name string, labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// scrape is one scrape of /metrics: its raw body and its samples by series key.
type scrape struct {
	body    string
	samples []sample
	byKey   map[string]float64
}

// value returns the value of the series name{labels...}, labels given as name, value pairs,
// and whether it was exposed.
func (s scrape) value(name string, labels ...string) (float64, bool) {
	l := make(map[string]string, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	v, ok := s.byKey[seriesKey(name, l)]
	return v, ok
}

// scrapeMetrics serves m.Handler on a loopback server and GETs /metrics in the text format.
func scrapeMetrics(t *testing.T, m *Metrics) scrape {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("scraping: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading scrape: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape status: got %d, want 200; body:\n%s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape Content-Type: got %q, want text/plain", ct)
	}
	sc := scrape{body: string(body), byKey: map[string]float64{}}
	for i, line := range strings.Split(sc.body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			t.Fatalf("scrape line %d %q: %v", i+1, line, err)
		}
		sc.samples = append(sc.samples, s)
		sc.byKey[s.key()] = s.value
	}
	return sc
}

// parseSample parses `name{a="x",b="y"} value` or `name value`; timestamps are not used here.
func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, errf("no metric name")
	}
	s.name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			eq := strings.Index(rest, "=")
			if eq <= 0 || len(rest) < eq+2 || rest[eq+1] != '"' {
				return s, errf("bad label")
			}
			name := rest[:eq]
			val, n, err := unquoteLabel(rest[eq+1:])
			if err != nil {
				return s, err
			}
			s.labels[name] = val
			rest = strings.TrimPrefix(rest[eq+1+n:], ",")
		}
		rest = rest[1:]
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
	if err != nil {
		return s, err
	}
	s.value = v
	return s, nil
}

// unquoteLabel reads a quoted label value at the start of s, with the exposition format's
// escapes (\\, \", \n), and returns it and the number of bytes it took.
func unquoteLabel(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			i++
			if i == len(s) {
				return "", 0, errf("unterminated escape")
			}
			if s[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errf("unterminated label value")
}

type parseError string

func (e parseError) Error() string { return string(e) }

func errf(msg string) error { return parseError(msg) }
