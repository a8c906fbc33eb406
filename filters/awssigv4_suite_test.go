package filters_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

// TestAWSSigV4TestSuite signs the requests of AWS's published SigV4 test vectors
// (testdata/aws-sig-v4-test-suite, see its README) with awsSigv4FromSecrets and compares the
// Authorization it makes with the published one.
func TestAWSSigV4TestSuite(t *testing.T) {
	files, err := filepath.Glob("testdata/aws-sig-v4-test-suite/*.txt")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d vectors (%v), want at least 10", len(files), err)
	}
	src := filtertest.Secrets{
		"/s/id": "AKIDEXAMPLE", "/s/key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"/s/token": "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
	}
	signingTime := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			req, want := readVector(t, file)
			args := []any{"service", "us-east-1", "/s/id", "/s/key"}
			if strings.Contains(want, "x-amz-security-token") {
				args = append(args, "/s/token")
			}
			f := filtertest.Create(t, filters.NewAWSSigV4FromSecrets(src, 0), args...)
			filters.SetSigV4Clock(f, func() time.Time { return signingTime }, strings.Contains(want, "x-amz-content-sha256"))
			if err := f.(filters.EgressFilter).Egress(req); err != nil {
				t.Fatalf("Egress: %v", err)
			}
			checkHeader(t, req.Header, "Authorization", want)
			checkHeader(t, req.Header, "X-Amz-Date", "20150830T123600Z")
		})
	}
}

// readVector reads a signed request of the suite and returns it without its signature fields,
// and the expected Authorization.
func readVector(t *testing.T, file string) (*http.Request, string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(string(data), "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	sc.Scan()
	line := strings.Fields(sc.Text())
	req, err := http.NewRequest(line[0], "http://example.amazonaws.com"+line[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
	}
	var want string
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch strings.ToLower(k) {
		case "authorization":
			want = v
		case "host":
			req.Host = v
		case "x-amz-date", "x-amz-content-sha256", "content-length":
			// made by the signer
		default:
			req.Header.Add(k, v)
		}
	}
	return req, want
}
