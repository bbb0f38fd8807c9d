// Package inbound verifies what webhook producers that cannot send a bearer token
// send instead: GitHub's X-Hub-Signature-256 HMAC, GitLab's X-Gitlab-Token shared
// secret and a Standard Webhooks signature, each against the source's inbound secret.
package inbound

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The producers whose credentials the package verifies, by the format (preset) name
// of their sources.
const (
	GitHub           = "github"
	GitLab           = "gitlab"
	StandardWebhooks = "standardwebhooks"
)

// Headers the verifiers read (lower-case). They carry credentials: nothing may copy
// them onto the bus.
const (
	HeaderGitHubSignature = "x-hub-signature-256"
	HeaderGitLabToken     = "x-gitlab-token"
	HeaderWebhookID       = "webhook-id"
	HeaderWebhookTime     = "webhook-timestamp"
	HeaderWebhookSig      = "webhook-signature"
)

// Tolerance is how far a Standard Webhooks timestamp may lie from the receiver's
// clock, either way (the specification's recommended five minutes).
const Tolerance = 5 * time.Minute

// Limits on what the parsers read: a header longer than these is malformed.
const (
	maxSignatures  = 16 // v1 signatures in one webhook-signature header
	maxHeaderBytes = 4096
	maxSecretBytes = 1024
)

// Errors of Verify. Every one is a refusal (401 at the edge); callers that answer a
// producer should not tell it which one, so as not to help a guesser.
var (
	ErrMissing   = errors.New("credential header missing")
	ErrMalformed = errors.New("credential header malformed")
	ErrMismatch  = errors.New("credential does not match")
	ErrStale     = errors.New("webhook-timestamp outside the tolerance")
	ErrNoSecret  = errors.New("source has no inbound secret")
)

// Verifies reports whether sources of the format authenticate with a verifier of this
// package (rather than a bearer token).
func Verifies(format string) bool {
	switch format {
	case GitHub, GitLab, StandardWebhooks:
		return true
	}
	return false
}

// CredentialHeaders returns the headers the format's verifier reads.
func CredentialHeaders(format string) []string {
	switch format {
	case GitHub:
		return []string{HeaderGitHubSignature, "x-hub-signature"}
	case GitLab:
		return []string{HeaderGitLabToken}
	case StandardWebhooks:
		return []string{HeaderWebhookSig}
	}
	return nil
}

// Verify checks the request of a source of the format against the source's secret.
// headers has lower-case names. now is the receiver's clock (Standard Webhooks'
// timestamp tolerance).
func Verify(format, secret string, headers map[string]string, body []byte, now time.Time) error {
	if secret == "" {
		return ErrNoSecret
	}
	switch format {
	case GitHub:
		v, ok := headers[HeaderGitHubSignature]
		if !ok || v == "" {
			return ErrMissing
		}
		sig, err := ParseGitHubSignature(v)
		if err != nil {
			return err
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if !hmac.Equal(mac.Sum(nil), sig) {
			return ErrMismatch
		}
		return nil
	case GitLab:
		v, ok := headers[HeaderGitLabToken]
		if !ok || v == "" {
			return ErrMissing
		}
		// Compare hashes: equal lengths, so the compare's time says nothing of the
		// secret's length either.
		got, want := sha256.Sum256([]byte(v)), sha256.Sum256([]byte(secret))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return ErrMismatch
		}
		return nil
	case StandardWebhooks:
		return verifyStandard(secret, headers, body, now)
	}
	return errors.New("format " + strconv.Quote(format) + " has no inbound verifier")
}

func verifyStandard(secret string, headers map[string]string, body []byte, now time.Time) error {
	id, ts, sigs := headers[HeaderWebhookID], headers[HeaderWebhookTime], headers[HeaderWebhookSig]
	if id == "" || ts == "" || sigs == "" {
		return ErrMissing
	}
	if len(id) > maxHeaderBytes {
		return ErrMalformed
	}
	at, err := ParseTimestamp(ts)
	if err != nil {
		return err
	}
	if d := now.Sub(at); d > Tolerance || d < -Tolerance {
		return ErrStale
	}
	key, err := ParseStandardSecret(secret)
	if err != nil {
		return ErrNoSecret
	}
	list, err := ParseStandardSignatures(sigs)
	if err != nil {
		return err
	}
	want := StandardSignature(key, id, ts, body)
	match := 0
	for _, s := range list { // every one compared: the time says nothing of which matched
		match |= subtle.ConstantTimeCompare(s, want)
	}
	if match != 1 {
		return ErrMismatch
	}
	return nil
}

// StandardSignature is the Standard Webhooks signature of a message: the
// HMAC-SHA256, with the secret's key, of its id, timestamp (Unix seconds) and body
// joined by dots. Its base64 follows "v1," in webhook-signature; eventhub's own
// deliveries are signed with it (shared/webhook).
func StandardSignature(key []byte, id, timestamp string, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// ParseGitHubSignature reads an X-Hub-Signature-256 value: "sha256=" and 64 hex digits.
func ParseGitHubSignature(v string) ([]byte, error) {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(v), "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, ErrMalformed
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, ErrMalformed
	}
	return sig, nil
}

// ParseStandardSignatures reads a webhook-signature value: space-separated
// "<version>,<base64>" signatures. Signatures of versions other than v1 are skipped
// (the specification reserves them); at least one v1 signature of 32 bytes, in
// canonical base64, is needed.
func ParseStandardSignatures(v string) ([][]byte, error) {
	if len(v) > maxHeaderBytes {
		return nil, ErrMalformed
	}
	var out [][]byte
	for _, f := range strings.Fields(v) {
		version, b64, ok := strings.Cut(f, ",")
		if !ok {
			return nil, ErrMalformed
		}
		if version != "v1" {
			continue
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(sig) != sha256.Size {
			return nil, ErrMalformed
		}
		if len(out) == maxSignatures {
			return nil, ErrMalformed
		}
		out = append(out, sig)
	}
	if len(out) == 0 {
		return nil, ErrMalformed
	}
	return out, nil
}

// ParseTimestamp reads a webhook-timestamp value: Unix seconds, digits only.
func ParseTimestamp(v string) (time.Time, error) {
	if v == "" || len(v) > 12 {
		return time.Time{}, ErrMalformed
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return time.Time{}, ErrMalformed
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, ErrMalformed
	}
	return time.Unix(n, 0), nil
}

// StandardPrefix begins a Standard Webhooks secret; base64 of the key follows.
const StandardPrefix = "whsec_"

// ParseStandardSecret returns the key of a Standard Webhooks secret ("whsec_" and
// the key in base64; the prefix may be left out).
func ParseStandardSecret(s string) ([]byte, error) {
	b64 := strings.TrimPrefix(s, StandardPrefix)
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, errors.New("a Standard Webhooks secret is " + StandardPrefix + " and the key in base64")
	}
	return key, nil
}

// CheckSecret reports why an admin's secret for a source of the format cannot be
// used, or "" when it can.
func CheckSecret(format, s string) string {
	switch {
	case len(s) > maxSecretBytes:
		return "must be at most " + strconv.Itoa(maxSecretBytes) + " bytes"
	case format == StandardWebhooks:
		key, err := ParseStandardSecret(s)
		if err != nil {
			return err.Error()
		}
		if len(key) < 24 || len(key) > 64 {
			return "the key must be 24 to 64 bytes"
		}
	case len(s) < 16:
		return "must be at least 16 characters"
	case strings.TrimSpace(s) != s || strings.ContainsAny(s, "\r\n\x00"):
		return "must not have surrounding spaces or line breaks"
	}
	return ""
}

// NewSecret returns a fresh random secret for a source of the format: whsec_ and a
// 32-byte key for Standard Webhooks, 32 random bytes in URL-safe base64 otherwise.
func NewSecret(format string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	if format == StandardWebhooks {
		return StandardPrefix + base64.StdEncoding.EncodeToString(b[:])
	}
	return "ehs_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Sign returns the headers a producer of the format sends with body, for tests and
// for the smoke checks: the verifiers' exact inverse.
func Sign(format, secret, id string, at time.Time, body []byte) map[string]string {
	switch format {
	case GitHub:
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		return map[string]string{HeaderGitHubSignature: "sha256=" + hex.EncodeToString(mac.Sum(nil))}
	case GitLab:
		return map[string]string{HeaderGitLabToken: secret}
	case StandardWebhooks:
		key, _ := ParseStandardSecret(secret)
		ts := strconv.FormatInt(at.Unix(), 10)
		return map[string]string{HeaderWebhookID: id, HeaderWebhookTime: ts, HeaderWebhookSig: "v1," + base64.StdEncoding.EncodeToString(StandardSignature(key, id, ts, body))}
	}
	return nil
}
