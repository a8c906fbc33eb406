package httpsyntax

import "testing"

func TestIsToken(t *testing.T) {
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
		if got := IsToken(tc.name); got != tc.want {
			t.Errorf("IsToken(%q) = %v, want %v", tc.name, got, tc.want)
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
		if got := InvalidValueByte(tc.value); got != tc.want {
			t.Errorf("InvalidValueByte(%q) = %d, want %d", tc.value, got, tc.want)
		}
		if got := InvalidValueByte([]byte(tc.value)); got != tc.want {
			t.Errorf("InvalidValueByte([]byte(%q)) = %d, want %d", tc.value, got, tc.want)
		}
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{[]string{"Upgrade"}, true},
		{[]string{"keep-alive, upGRADE"}, true},
		{[]string{"close", " \tupgrade\t "}, true},
		{[]string{"keep-alive,,upgrade,"}, true},
		{nil, false},
		{[]string{""}, false},
		{[]string{"upgrades", "no-upgrade"}, false},
		{[]string{"up grade"}, false},
		{[]string{"upgrade\r"}, false},
		{[]string{"\u017fupgrade"}, false},
	}
	for _, tc := range tests {
		if got := HasToken(tc.values, "upgrade"); got != tc.want {
			t.Errorf("HasToken(%q, upgrade) = %v, want %v", tc.values, got, tc.want)
		}
	}
}
