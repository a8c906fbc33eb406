package filters

import "testing"

func TestValidHeaderName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"X-Api-Key", true},
		{"x_y.z~1!#$%&'*+^`|", true},
		{"", false},
		{"X Key", false},
		{"X:Key", false},
		{":authority", false},
		{"X(Key)", false},
		{"X\"Key", false},
		{"Kéy", false},
		{"X\x7f", false},
		{"X\tKey", false},
	}
	for _, tc := range tests {
		if got := validHeaderName(tc.name); got != tc.want {
			t.Errorf("validHeaderName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestInvalidValueByte(t *testing.T) {
	tests := []struct {
		value string
		want  int
	}{
		{"", -1},
		{"Bearer abc.def-ghi_~+/=", -1},
		{"a\tb c", -1},
		{"\x80\xffü", -1},
		{"\x00", 0},
		{"ab\r\n", 2},
		{"a\nb", 1},
		{"a\x1f", 1},
		{"a\x7f", 1},
	}
	for _, tc := range tests {
		if got := invalidValueByte(tc.value); got != tc.want {
			t.Errorf("invalidValueByte(%q) = %d, want %d", tc.value, got, tc.want)
		}
		if got := invalidValueByte([]byte(tc.value)); got != tc.want {
			t.Errorf("invalidValueByte([]byte(%q)) = %d, want %d", tc.value, got, tc.want)
		}
	}
}

func TestControlReason(t *testing.T) {
	for c, want := range map[byte]string{0: "0x00", '\r': "0x0d", 0x1f: "0x1f", 0x7f: "0x7f"} {
		if got := controlReason(c); got != "value contains control character "+want {
			t.Errorf("controlReason(%#x) = %q, want ... %s", c, got, want)
		}
	}
}
