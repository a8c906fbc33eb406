package filters

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"
)

// htpasswd is an htpasswd file (Apache's format: one "user:hash" per line), read again when its
// size or modification time changes, as Skipper's basicAuth does. It is safe for concurrent use.
type htpasswd struct {
	path string
	log  logrus.FieldLogger

	mu  sync.Mutex // serializes reloads
	cur atomic.Pointer[htpasswdState]
}

// htpasswdState is what one read of the file found. A missing or unreadable file has no users.
type htpasswdState struct {
	mod    time.Time
	size   int64
	gone   bool              // the file did not exist
	noStat bool              // the file could not be looked at (gone or another error)
	users  map[string]string // user name -> hash
}

// loadHtpasswd reads path for a new filter. A file that is missing is not an error, as a
// secret mounted later is not: until it appears every request is refused. A file that exists
// but cannot be read or parsed is one, so that a route check reports it.
func loadHtpasswd(path string, log logrus.FieldLogger) (*htpasswd, error) {
	h := &htpasswd{path: path, log: log}
	st, err := readHtpasswd(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if st.gone {
		h.warn(err, "htpasswd file missing, every request is refused")
	}
	h.cur.Store(st)
	return h, nil
}

// readHtpasswd reads and parses the file at path. The state it returns is usable even with an
// error: that of a missing file, or one with no users.
func readHtpasswd(path string) (*htpasswdState, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return &htpasswdState{gone: errors.Is(err, fs.ErrNotExist), noStat: true}, err
	}
	st := &htpasswdState{mod: fi.ModTime(), size: fi.Size()}
	data, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	st.users, err = parseHtpasswd(data)
	return st, err
}

// parseHtpasswd reads "user:hash" lines; blank lines and lines starting with # are skipped. Only
// the hash schemes Skipper accepts are: bcrypt ($2a$, $2b$, $2x$, $2y$), MD5-crypt ($apr1$,
// $1$) and SHA-1 ({SHA}). Errors name the line, never a hash.
func parseHtpasswd(data []byte) (map[string]string, error) {
	users := make(map[string]string)
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("line %d: want user:hash", i+1)
		}
		if hashScheme(hash) == "" {
			return nil, fmt.Errorf("line %d: the hash of user %q is none of bcrypt, MD5 ($apr1$, $1$) or SHA-1 ({SHA})", i+1, user)
		}
		users[user] = hash
	}
	return users, nil
}

// hashScheme names the scheme of an htpasswd hash, "" if it is none that is accepted.
func hashScheme(hash string) string {
	switch {
	case strings.HasPrefix(hash, "{SHA}"):
		return "sha1"
	case len(hash) > 4 && hash[0] == '$' && hash[1] == '2' && strings.ContainsRune("abxy", rune(hash[2])) && hash[3] == '$':
		return "bcrypt"
	case strings.HasPrefix(hash, "$apr1$"), strings.HasPrefix(hash, "$1$"):
		return "md5"
	}
	return ""
}

// current returns the users of the file as it is now, reading it again when it changed. A file
// that went missing has no users; one that fails to read or parse keeps the users last read.
func (h *htpasswd) current() map[string]string {
	st := h.cur.Load()
	fi, err := os.Stat(h.path)
	if err == nil && !st.noStat && fi.ModTime().Equal(st.mod) && fi.Size() == st.size {
		return st.users
	}
	if err != nil && st.noStat {
		return st.users // still not there: warned once already
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if st2 := h.cur.Load(); st2 != st {
		return st2.users // another request reloaded it meanwhile
	}
	next, err := readHtpasswd(h.path)
	switch {
	case next.gone:
		h.warn(err, "htpasswd file missing, every request is refused")
	case err != nil:
		h.warn(err, "htpasswd file unusable, keeping the users last read")
		next.users = st.users
	}
	h.cur.Store(next)
	return next.users
}

func (h *htpasswd) warn(err error, msg string) {
	if h.log != nil {
		h.log.WithField("file", h.path).WithError(err).Warn(msg)
	}
}

// verify reports whether password matches hash. Comparisons of the computed hash take constant
// time; bcrypt's does too.
func verify(hash, password string) bool {
	switch hashScheme(hash) {
	case "bcrypt":
		// The $2x$ and $2a$ variants differ from $2y$ only for 8-bit passwords, and are checked
		// as $2y$, as Skipper (go-http-auth) does.
		b := []byte(hash)
		b[2] = 'y'
		return bcrypt.CompareHashAndPassword(b, []byte(password)) == nil
	case "sha1":
		sum := sha1.Sum([]byte(password))
		want := []byte(base64.StdEncoding.EncodeToString(sum[:]))
		return subtle.ConstantTimeCompare(want, []byte(hash[len("{SHA}"):])) == 1
	case "md5":
		magic := "$1$"
		if strings.HasPrefix(hash, "$apr1$") {
			magic = "$apr1$"
		}
		salt, _, ok := strings.Cut(hash[len(magic):], "$")
		if !ok {
			return false
		}
		return subtle.ConstantTimeCompare(md5Crypt([]byte(password), []byte(salt), []byte(magic)), []byte(hash)) == 1
	}
	return false
}

// itoa64 is the alphabet of crypt(3)'s base-64 encoding.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// md5Crypt is Poul-Henning Kamp's MD5-based crypt, as FreeBSD's crypt(3) ($1$) and Apache's
// htpasswd ($apr1$, the same algorithm under another magic) compute it. It returns
// magic + salt + "$" + hash. The salt is at most 8 bytes.
func md5Crypt(password, salt, magic []byte) []byte {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	alt := md5.New()
	alt.Write(password)
	alt.Write(salt)
	alt.Write(password)
	mix := alt.Sum(nil)

	d := md5.New()
	d.Write(password)
	d.Write(magic)
	d.Write(salt)
	for i := len(password); i > 0; i -= 16 {
		d.Write(mix[:min(16, i)])
	}
	for i := len(password); i > 0; i >>= 1 {
		if i&1 == 1 {
			d.Write([]byte{0})
		} else {
			d.Write(password[:1])
		}
	}
	final := d.Sum(nil)
	for i := range 1000 {
		r := md5.New()
		if i&1 == 1 {
			r.Write(password)
		} else {
			r.Write(final)
		}
		if i%3 != 0 {
			r.Write(salt)
		}
		if i%7 != 0 {
			r.Write(password)
		}
		if i&1 == 1 {
			r.Write(final)
		} else {
			r.Write(password)
		}
		final = r.Sum(final[:0])
	}
	var out bytes.Buffer
	out.Write(magic)
	out.Write(salt)
	out.WriteByte('$')
	to64 := func(v uint32, n int) {
		for range n {
			out.WriteByte(itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	to64(uint32(final[11]), 2)
	return out.Bytes()
}
