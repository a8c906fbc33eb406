package filters

import "testing"

func TestControlReason(t *testing.T) {
	for c, want := range map[byte]string{0: "0x00", '\r': "0x0d", 0x1f: "0x1f", 0x7f: "0x7f"} {
		if got := controlReason(c); got != "value contains control character "+want {
			t.Errorf("controlReason(%#x) = %q, want ... %s", c, got, want)
		}
	}
}
