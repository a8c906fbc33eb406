package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestSecretNeverPrintsItself(t *testing.T) {
	s := Secret(canary)
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10.3s", "%-20v"} {
		t.Run(verb, func(t *testing.T) {
			got := fmt.Sprintf(verb, s)
			if strings.Contains(got, canary) || !strings.Contains(got, redacted) {
				t.Errorf("Sprintf(%q) = %q, want %q and never the value", verb, got, redacted)
			}
		})
	}
	t.Run("inside a struct", func(t *testing.T) {
		v := struct {
			Name  string
			Value Secret
		}{"x", s}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			if got := fmt.Sprintf(verb, v); strings.Contains(got, canary) {
				t.Errorf("Sprintf(%q, struct) = %q, want no value", verb, got)
			}
		}
	})
	t.Run("Sprint and Sprintln", func(t *testing.T) {
		for _, got := range []string{fmt.Sprint(s), fmt.Sprintln(s), fmt.Sprint([]Secret{s})} {
			if strings.Contains(got, canary) {
				t.Errorf("got %q, want no value", got)
			}
		}
	})
}

func TestSecretJSON(t *testing.T) {
	s := Secret(canary)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"secret", s, `"[redacted]"`},
		{"pointer", &s, `"[redacted]"`},
		{"struct field", struct{ Token Secret }{s}, `{"Token":"[redacted]"}`},
		{"map value", map[string]Secret{"k": s}, `{"k":"[redacted]"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSecretInLogrusFields(t *testing.T) {
	tests := []struct {
		name      string
		formatter logrus.Formatter
	}{
		{"text", &logrus.TextFormatter{DisableTimestamp: true}},
		{"text forced quoting", &logrus.TextFormatter{DisableTimestamp: true, ForceQuote: true}},
		{"json", &logrus.JSONFormatter{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := logrus.New()
			l.SetOutput(&buf)
			l.SetFormatter(tc.formatter)
			s := Secret(canary)
			l.WithField("secret", s).WithField("holder", struct{ S Secret }{s}).Info("injecting")
			got := buf.String()
			if strings.Contains(got, canary) || !strings.Contains(got, redacted) {
				t.Errorf("log line = %q, want %q and never the value", got, redacted)
			}
		})
	}
}
