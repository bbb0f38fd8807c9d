package webhook

import (
	"net/url"
	"strings"
)

// Redacted stands in for a secret that must not leave the subscription.
const Redacted = "redacted"

// RedactURL returns a subscription URL fit for places other than the subscription
// itself (bus entries, logs, listings): credentials in the user-info part and every
// query value are replaced with Redacted; a query parameter without a value, which may
// be a token itself, is replaced whole. Scheme, host, port and path stay, so that an
// operator can tell the endpoint.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	if u.RawQuery != "" || u.ForceQuery {
		parts := strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' })
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=" + Redacted
			} else {
				parts[i] = Redacted
			}
		}
		u.RawQuery, u.ForceQuery = strings.Join(parts, "&"), false
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
