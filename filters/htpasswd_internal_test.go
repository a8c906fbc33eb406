package filters

import (
	"crypto/rand"
	"os/exec"
	"strings"
	"testing"
)

// TestMD5CryptKnownAnswers checks md5Crypt against hashes made by openssl passwd.
func TestMD5CryptKnownAnswers(t *testing.T) {
	for _, tc := range []struct{ password, hash string }{
		{"apr-pass", "$apr1$Xy7pQ2aZ$3JqnGzHNaI.OuznYBB0AA."},
		{"md5-pass", "$1$abc$V5TKgwOods.IJKD73Gy0.0"},
		{"ü:x", "$apr1$s$Mm25MRa03I2RjLVMkSpAU."},
	} {
		if !verify(tc.hash, tc.password) {
			t.Errorf("verify(%q, %q) = false, want true", tc.hash, tc.password)
		}
		if verify(tc.hash, tc.password+"x") || verify(tc.hash, "") {
			t.Errorf("verify(%q) accepts a wrong password", tc.hash)
		}
	}
}

// TestMD5CryptAgainstOpenSSL compares md5Crypt with openssl passwd on random passwords and
// salts of every length, when openssl is installed.
func TestMD5CryptAgainstOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not in PATH")
	}
	for n := range 40 {
		password := rand.Text()[:n%26+1] + strings.Repeat("é", n/26)
		salt := rand.Text()[:n%8+1]
		magic := "-apr1"
		if n%2 == 1 {
			magic = "-1"
		}
		out, err := exec.Command(bin, "passwd", magic, "-salt", salt, password).Output()
		if err != nil {
			t.Fatalf("openssl passwd: %v", err)
		}
		want := strings.TrimSpace(string(out))
		m := "$" + magic[1:] + "$"
		if got := string(md5Crypt([]byte(password), []byte(salt), []byte(m))); got != want {
			t.Errorf("md5Crypt(%q, %q, %q) = %q, openssl says %q", password, salt, m, got, want)
		}
	}
}
