package filters

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// BasicAuthName is the route name of the filter that checks the client's HTTP Basic
// credentials against an htpasswd file.
const BasicAuthName = "basicAuth"

// defaultRealm is the realm basicAuth names when the route gives none, as Skipper's.
const defaultRealm = "Basic Realm"

type basicAuthSpec struct{ log logrus.FieldLogger }

type basicAuthFilter struct {
	file      *htpasswd
	challenge string // the WWW-Authenticate value of a refusal
}

var (
	_ Spec   = (*basicAuthSpec)(nil)
	_ Filter = (*basicAuthFilter)(nil)
)

// NewBasicAuth returns the spec of Skipper's basicAuth(file[, realm]): the client must send
// "Authorization: Basic" credentials of a user in the htpasswd file, whose hash (bcrypt,
// MD5-crypt or SHA-1) its password matches; any other request is answered 401 with
// `WWW-Authenticate: Basic realm="realm"` (default "Basic Realm"), and goes no further.
//
// The file is read again when it changes; a file that does not exist refuses every request
// until it does, and one that fails to read or parse keeps the users last read; either is
// logged to log (if not nil), never a hash or a password.
//
// Unlike Skipper, the client's Authorization header is not forwarded once checked: it holds a
// password for this proxy, which the backend has no business seeing. A credential filter may
// still set one.
func NewBasicAuth(log logrus.FieldLogger) Spec { return &basicAuthSpec{log: log} }

func (*basicAuthSpec) Name() string { return BasicAuthName }

func (s *basicAuthSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(BasicAuthName, args, 1, "htpasswd file", "realm")
	if err != nil {
		return nil, err
	}
	if a[0] == "" {
		return nil, argsErrorf("%s: argument 1 (htpasswd file) must not be empty", BasicAuthName)
	}
	realm := defaultRealm
	if len(a) == 2 {
		realm = a[1]
		if strings.ContainsAny(realm, "\"\\\t") || httpsyntax.InvalidValueByte(realm) >= 0 {
			return nil, argsErrorf("%s: argument 2 (realm) must not hold quotes, backslashes or control characters", BasicAuthName)
		}
	}
	file, err := loadHtpasswd(a[0], s.log)
	if err != nil {
		return nil, argsErrorf("%s: htpasswd file: %v", BasicAuthName, err)
	}
	return &basicAuthFilter{file: file, challenge: `Basic realm="` + realm + `"`}, nil
}

// Request checks the credentials the client sent, whatever the filters before changed, and
// removes them from the outgoing request unless a filter has replaced them.
func (f *basicAuthFilter) Request(r *http.Request) error {
	in := Incoming(r)
	sent := in.Header[headerAuthorization]
	user, password, ok := in.BasicAuth() // Go's reading of the field, not one of our own
	if len(sent) != 1 || !ok || !f.allowed(user, password) {
		// Two Authorization fields could be read two ways: refused as none.
		return &Reply{Status: http.StatusUnauthorized, Header: http.Header{"Www-Authenticate": {f.challenge}}}
	}
	if slices.Equal(r.Header[headerAuthorization], sent) {
		delete(r.Header, headerAuthorization)
	}
	return nil
}

// allowed reports whether user is a user of the file and password its password.
func (f *basicAuthFilter) allowed(user, password string) bool {
	hash, ok := f.file.current()[user]
	return ok && verify(hash, password)
}
