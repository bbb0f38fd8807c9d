// Package webhook signs and sends eventhub's webhook deliveries per the Standard
// Webhooks specification, through an HTTP client that refuses to reach internal
// addresses unless told otherwise.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventhub/eventhub/shared/inbound"
)

// SecretPrefix marks a Standard Webhooks signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ and 24 random bytes in base64.
func NewSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("signing secret is not base64: %w", err)
	}
	return key, nil
}

// Sign returns the webhook-signature header value for a message: one "v1,<base64>"
// signature per secret, separated by spaces (several during a secret rotation).
func Sign(secrets []string, msgID string, at time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	stamp := strconv.FormatInt(at.Unix(), 10)
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(inbound.StandardSignature(key, msgID, stamp, body)))
	}
	return strings.Join(sigs, " "), nil
}

// CheckSecret reports whether s is a usable signing secret: whsec_ and the base64 of
// 24 to 64 random bytes.
func CheckSecret(s string) error {
	if !strings.HasPrefix(s, SecretPrefix) {
		return fmt.Errorf("must start with %s", SecretPrefix)
	}
	key, err := secretKey(s)
	if err != nil {
		return err
	}
	if len(key) < 24 || len(key) > 64 {
		return fmt.Errorf("must hold 24 to 64 bytes; it holds %d", len(key))
	}
	return nil
}
