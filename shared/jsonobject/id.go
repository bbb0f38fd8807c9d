package jsonobject

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
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

// canonical are the options under which jsontext writes a value as ContentID hashes
// it, but for the order of names (see sameOrder).
var canonical = []jsontext.Options{
	jsontext.EscapeForHTML(true),
	jsontext.EscapeForJS(true),
	jsontext.ReorderRawObjects(true),
}

// AppendContentID appends ContentID(raw).
func AppendContentID(dst, raw []byte) []byte {
	scratch := getScratch()
	defer putScratch(scratch)
	canon, err := jsontext.AppendFormat((*scratch)[:0], raw, canonical...)
	if err == nil && sameOrder(canon) {
		*scratch = canon
		return appendDigestOwned(dst, canon)
	}
	// Names that RFC 8785 and encoding/json order differently, or duplicate names
	// (which encoding/json resolves to the last): encoding/json writes the form itself.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return AppendDigestOf(dst, raw)
	}
	if canon, err = json.Marshal(v); err != nil { // map keys sorted
		return AppendDigestOf(dst, raw)
	}
	return AppendDigestOf(dst, canon)
}

// sameOrder reports whether the names in the JSON text canon are sure to be in the
// same order by RFC 8785 (UTF-16 code units, as jsontext sorts them) as by
// encoding/json (UTF-8 bytes). The two orders differ only between characters from
// U+E000 to U+FFFF (encoded with a first byte 0xEE or 0xEF) and those above U+FFFF
// (0xF0 to 0xF4): text without one of the two kinds sorts alike.
func sameOrder(canon []byte) bool {
	high := false
	for _, c := range canon {
		if c >= 0xEE {
			high = true
			break
		}
	}
	if !high {
		return true
	}
	bmp, astral := false, false
	for _, c := range canon {
		switch {
		case c == 0xEE || c == 0xEF:
			bmp = true
		case c >= 0xF0:
			astral = true
		}
	}
	return !bmp || !astral
}

// AppendDigestOf appends a stable id made from b: the hex of the first 16 bytes of the
// SHA-256 of b and a 0 byte. An id of several parts digests them joined by 0 bytes.
func AppendDigestOf(dst, b []byte) []byte {
	if len(b) < 256 {
		var buf [256]byte
		return appendDigestOwned(dst, append(buf[:0], b...))
	}
	scratch := getScratch()
	defer putScratch(scratch)
	*scratch = append((*scratch)[:0], b...)
	return appendDigestOwned(dst, *scratch)
}

// appendDigestOwned is AppendDigestOf for a b that may be appended to.
func appendDigestOwned(dst, b []byte) []byte {
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

// AppendContentID appends the ContentID of the object, ContentID(o.Compose()).
func (o *Object) AppendContentID(dst []byte) []byte {
	return AppendContentID(dst, o.Compose())
}
