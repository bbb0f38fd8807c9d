package jsonobject

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// ContentID returns an id derived from a JSON value's content: member order and
// insignificant whitespace do not change it. It is the hex of the first 16 bytes of
// the SHA-256 of the value as encoding/json writes what json.Decoder with UseNumber
// reads from it (members sorted by name, strings escaped as json.Marshal escapes them,
// numbers as sent) followed by a 0 byte; invalid JSON is digested as it is. This is not
// RFC 8785's canonical form: it is the form eventhub's ids have always hashed, so that
// a resend is stored once across versions.
func ContentID(raw []byte) string {
	var buf [32]byte
	return string(AppendContentID(buf[:0], raw))
}

// AppendContentID appends ContentID(raw).
func AppendContentID(dst, raw []byte) []byte {
	scratch := getScratch()
	defer putScratch(scratch)
	if canon, ok := appendCanonical((*scratch)[:0], raw); ok {
		*scratch = canon
		return AppendDigestOwned(dst, canon)
	}
	// Invalid JSON, or a name repeated (encoding/json keeps the last): encoding/json
	// writes the form itself.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return AppendDigestOf(dst, raw)
	}
	canon, err := json.Marshal(v) // map keys sorted
	if err != nil {
		return AppendDigestOf(dst, raw)
	}
	return AppendDigestOf(dst, canon)
}

// AppendDigestOf appends a stable id made from b: the hex of the first 16 bytes of the
// SHA-256 of b and a 0 byte. An id of several parts digests them joined by 0 bytes.
func AppendDigestOf(dst, b []byte) []byte {
	if len(b) < 256 {
		var buf [256]byte
		return AppendDigestOwned(dst, append(buf[:0], b...))
	}
	scratch := getScratch()
	defer putScratch(scratch)
	*scratch = append((*scratch)[:0], b...)
	return AppendDigestOwned(dst, *scratch)
}

// AppendDigestOwned is AppendDigestOf for a b whose spare capacity may be written:
// it digests b without copying it.
func AppendDigestOwned(dst, b []byte) []byte {
	sum := sha256.Sum256(append(b, 0)) // Digest's separator
	return hex.AppendEncode(dst, sum[:16])
}

// scratchPool holds the buffers content ids are written in.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getScratch() *[]byte { return scratchPool.Get().(*[]byte) }

func putScratch(b *[]byte) {
	if cap(*b) <= 1<<20 {
		*b = (*b)[:0]
		scratchPool.Put(b)
	}
}

// AppendContentID appends the ContentID of the object, ContentID(o.Compose()),
// from the object's text as sent when it has it (the form ContentID hashes does not
// depend on whitespace or escapes), without composing it.
func (o *Object) AppendContentID(dst []byte) []byte {
	if o.unescaped {
		return AppendContentID(dst, o.Compose())
	}
	return AppendContentID(dst, o.raw)
}
