package filters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/oauth2/clientcredentials"
)

// OAuth2RefreshTokenName is the route name of the filter that sets "Authorization: Bearer
// <token>" with a token from the refresh-token grant.
const OAuth2RefreshTokenName = "oauth2RefreshToken"

// NewOAuth2RefreshToken returns the spec of oauth2RefreshToken(tokenURL, clientIDSecret,
// clientSecretSecret, refreshTokenSecret[, scopes]), which works as oauth2ClientCredentials
// but gets its token with the refresh-token grant (RFC 6749 §6): grant_type refresh_token,
// the refresh token, and the scopes when given, the client authenticating with HTTP Basic.
//
// When the server answers with a new refresh token (rotation, RFC 9700 §4.14.2), that one is
// used from then on, and, with TokenManagerOptions.StateDir, kept there so that a restart
// resumes with it. The refresh token file stays the operator's: when its value changes, the
// new value is used, and replaces whatever the server had issued before.
func NewOAuth2RefreshToken(m *TokenManager) Spec { return &oauth2Spec{m: m, grant: grantRefreshToken} }

func refreshTokenArgs(args []any) (tokenKey, error) {
	const name = OAuth2RefreshTokenName
	a, err := stringArgs(name, args, 4, "token URL", "client ID secret name", "client secret secret name",
		"refresh token secret name", "scopes")
	if err != nil {
		return tokenKey{}, err
	}
	if err := checkTokenURL(name, a[0]); err != nil {
		return tokenKey{}, err
	}
	for i, what := range []string{"client ID secret name", "client secret secret name", "refresh token secret name"} {
		if err := checkSecretName(name, i+2, what, a[i+1]); err != nil {
			return tokenKey{}, err
		}
	}
	k := tokenKey{grant: grantRefreshToken, tokenURL: a[0], clientID: a[1], clientSecret: a[2], refreshToken: a[3]}
	if len(a) > 4 {
		if k.scopes, err = normalizeScopes(name, 5, a[4]); err != nil {
			return tokenKey{}, err
		}
	}
	return k, nil
}

// refreshState is the refresh token a refresh-token grant sends next. The manager keeps it
// per token key for its whole life, not per entry: an entry dropped while idle must not take
// the only copy of a rotated refresh token with it. mu is held across each token request, so
// that a refresh token is never sent twice.
type refreshState struct {
	mu       sync.Mutex
	loaded   bool     // StateDir has been read
	fileHash [32]byte // SHA-256 of the refresh token file's value that issued is descended from
	issued   string   // the latest refresh token the server issued; empty: the file's is current
}

// refreshStateFile is the JSON of a refreshState in StateDir.
type refreshStateFile struct {
	FileSHA256   string `json:"refresh_token_file_sha256"`
	RefreshToken string `json:"refresh_token"`
}

func (m *TokenManager) refreshStateOf(k tokenKey) *refreshState {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.refresh[k]
	if !ok {
		st = &refreshState{}
		m.refresh[k] = st
	}
	return st
}

// refreshGrant runs the refresh-token grant for e and keeps a rotated refresh token.
func (m *TokenManager) refreshGrant(ctx context.Context, e *tokenEntry) (*cachedToken, error) {
	k := e.key
	conf := &clientcredentials.Config{TokenURL: k.tokenURL, Scopes: strings.Fields(k.scopes)}
	if err := m.clientCredentials(e, conf); err != nil {
		return nil, err
	}
	file, err := secretValue(m.secrets, k.grant.filterName(), k.refreshToken)
	if err != nil {
		return nil, secretError(e, err)
	}
	st := m.refreshStateOf(k)
	st.mu.Lock()
	defer st.mu.Unlock()
	m.loadRefreshState(e, st)
	used := st.current(file)
	conf.EndpointParams = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {used}}
	tok, start, err := m.send(ctx, e, conf)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" && tok.RefreshToken != used {
		st.issued = tok.RefreshToken
		m.saveRefreshState(e, st)
	}
	return m.newCachedToken(e, tok, start)
}

// current returns the refresh token to send, given the file's value: the one the server
// issued last, unless the file has changed since that one's line began, in which case the
// operator has put a new one there and it wins.
func (st *refreshState) current(file []byte) string {
	h := sha256.Sum256(file)
	if st.issued != "" && h == st.fileHash {
		return st.issued
	}
	st.fileHash, st.issued = h, ""
	return string(file)
}

// statePath is where e's refresh token is kept in StateDir: named by a hash of the token
// URL, the secret names and the scopes, which tells routes apart and holds no secret.
func (m *TokenManager) statePath(e *tokenEntry) string {
	k := e.key
	h := sha256.Sum256([]byte(strings.Join([]string{k.tokenURL, k.clientID, k.clientSecret, k.refreshToken, k.scopes}, "\x00")))
	return filepath.Join(m.stateDir, "oauth2-refresh-"+hex.EncodeToString(h[:16])+".json")
}

// loadRefreshState reads e's kept refresh token once, when there is a StateDir. A file that
// is missing or unreadable leaves the refresh token file's value in use.
func (m *TokenManager) loadRefreshState(e *tokenEntry, st *refreshState) {
	if st.loaded || m.stateDir == "" {
		return
	}
	st.loaded = true
	path := m.statePath(e)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var f refreshStateFile
	if err == nil {
		err = json.NewDecoder(bytes.NewReader(data)).Decode(&f)
	}
	h, herr := hex.DecodeString(f.FileSHA256)
	if err != nil || herr != nil || len(h) != sha256.Size || f.RefreshToken == "" {
		// The decoder's error could quote the file; say only that it is unusable.
		m.log.WithFields(e.logFields()).WithField("path", path).
			Warn("OAuth2 refresh token state unusable, using the refresh token file")
		return
	}
	copy(st.fileHash[:], h)
	st.issued = f.RefreshToken
}

// saveRefreshState writes st to StateDir, when there is one: to a new file, mode 0600, synced
// and renamed over the old one, so a crash leaves the old state or the new, never half of it.
// A failure is logged: the new refresh token stays in use in memory.
func (m *TokenManager) saveRefreshState(e *tokenEntry, st *refreshState) {
	log := m.log.WithFields(e.logFields())
	if m.stateDir == "" {
		log.Debug("OAuth2 refresh token rotated")
		return
	}
	path := m.statePath(e)
	data, err := json.Marshal(refreshStateFile{FileSHA256: hex.EncodeToString(st.fileHash[:]), RefreshToken: st.issued})
	if err == nil {
		err = writeFileAtomic(path, data)
	}
	if err != nil {
		log.WithField("path", path).WithField(fieldError, err.Error()).
			Warn("OAuth2 refresh token rotated, but could not be kept: a restart will use the refresh token file")
		return
	}
	log.WithField("path", path).Debug("OAuth2 refresh token rotated and kept")
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".oauth2-refresh-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
