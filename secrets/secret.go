package secrets

import (
	"errors"
	"fmt"
	"io"
)

// ErrNotFound is returned, wrapped with the secret's name, when no usable value is loaded for a
// secret: the file is missing, was never readable, or has only ever been empty.
var ErrNotFound = errors.New("secret not found")

const redacted = "[redacted]"

// Secret is the content of one secret file, with one trailing newline trimmed. It cannot print
// itself: every fmt verb and every text or JSON encoder sees "[redacted]". Convert it with
// string(s) only at the point of injection. A Secret handed out by a Store is shared and must
// not be modified.
type Secret []byte

// Format writes "[redacted]" for every verb, so %s, %v, %#v, %x and %q all hide the value.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (Secret) GoString() string { return redacted }

// MarshalText returns "[redacted]", which also covers encoding/json and logrus' JSON formatter.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON returns the JSON string "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
