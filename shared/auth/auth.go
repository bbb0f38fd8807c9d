// Package auth makes and checks eventhub's bearer tokens: admin tokens and producer
// tokens, which are stored only as SHA-256 hashes and compared in constant time.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Token prefixes make a leaked token recognizable (and greppable by secret scanners).
const (
	ProducerPrefix = "ehp_"
	AdminPrefix    = "eha_"
)

// NewToken returns a fresh random token with the prefix: 32 random bytes, URL-safe.
func NewToken(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the hex SHA-256 of a token, the only form in which tokens are stored.
// Tokens are 256-bit random values, so a fast hash is enough: there is nothing to
// brute-force.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Bearer extracts the token from an Authorization header value ("Bearer <token>",
// scheme case-insensitive). It returns "" when there is none.
func Bearer(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// MatchHash reports, in constant time for equal-length inputs, whether token hashes to
// the hex hash want.
func MatchHash(token, want string) bool {
	if token == "" || want == "" {
		return false
	}
	got := Hash(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(want))) == 1
}
