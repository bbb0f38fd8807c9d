package inbound

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Published vectors: GitHub's documentation ("Validating webhook deliveries") and the
// Standard Webhooks reference libraries' tests.
const (
	ghSecret  = "It's a Secret to Everybody"
	ghBody    = "Hello, World!"
	ghSig     = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	swSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID      = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTS      = "1614265330"
	swBody    = `{"test": 2432232314}`
	swSig     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	swOtherV1 = "v1,bm9wZW5vcGVub3Blbm9wZW5vcGVub3Blbm9wZW5vcGU="
)

var swNow = time.Unix(1614265330, 0)

func TestVerify(t *testing.T) {
	gl := "glpat-secret-0123456789"
	cases := []struct {
		name    string
		format  string
		secret  string
		headers map[string]string
		body    string
		now     time.Time
		want    error
	}{
		{"github good", GitHub, ghSecret, map[string]string{HeaderGitHubSignature: ghSig}, ghBody, swNow, nil},
		{"github upper-case hex", GitHub, ghSecret, map[string]string{HeaderGitHubSignature: "sha256=" + strings.ToUpper(ghSig[7:])}, ghBody, swNow, nil},
		{"github missing", GitHub, ghSecret, map[string]string{}, ghBody, swNow, ErrMissing},
		{"github sha1 only", GitHub, ghSecret, map[string]string{"x-hub-signature": "sha1=0123"}, ghBody, swNow, ErrMissing},
		{"github other body", GitHub, ghSecret, map[string]string{HeaderGitHubSignature: ghSig}, ghBody + " ", swNow, ErrMismatch},
		{"github other secret", GitHub, ghSecret + "x", map[string]string{HeaderGitHubSignature: ghSig}, ghBody, swNow, ErrMismatch},
		{"github no prefix", GitHub, ghSecret, map[string]string{HeaderGitHubSignature: ghSig[7:]}, ghBody, swNow, ErrMalformed},
		{"github sha1 prefix", GitHub, ghSecret, map[string]string{HeaderGitHubSignature: "sha1=" + ghSig[7:]}, ghBody, swNow, ErrMalformed},
		{"github short", GitHub, ghSecret, map[string]string{HeaderGitHubSignature: ghSig[:70]}, ghBody, swNow, ErrMalformed},
		{"github not hex", GitHub, ghSecret, map[string]string{HeaderGitHubSignature: ghSig[:70] + "zz"}, ghBody, swNow, ErrMalformed},
		{"github no secret", GitHub, "", map[string]string{HeaderGitHubSignature: ghSig}, ghBody, swNow, ErrNoSecret},
		{"gitlab good", GitLab, gl, map[string]string{HeaderGitLabToken: gl}, "{}", swNow, nil},
		{"gitlab wrong", GitLab, gl, map[string]string{HeaderGitLabToken: gl + "x"}, "{}", swNow, ErrMismatch},
		{"gitlab prefix", GitLab, gl, map[string]string{HeaderGitLabToken: gl[:5]}, "{}", swNow, ErrMismatch},
		{"gitlab missing", GitLab, gl, map[string]string{"authorization": "Bearer " + gl}, "{}", swNow, ErrMissing},
		{"gitlab empty", GitLab, gl, map[string]string{HeaderGitLabToken: ""}, "{}", swNow, ErrMissing},
		{"standard good", StandardWebhooks, swSecret, sw(swSig), swBody, swNow, nil},
		{"standard good without prefix", StandardWebhooks, strings.TrimPrefix(swSecret, StandardPrefix), sw(swSig), swBody, swNow, nil},
		{"standard one of several", StandardWebhooks, swSecret, sw(swOtherV1 + " v2,abc " + swSig), swBody, swNow, nil},
		{"standard within tolerance", StandardWebhooks, swSecret, sw(swSig), swBody, swNow.Add(Tolerance), nil},
		{"standard early within tolerance", StandardWebhooks, swSecret, sw(swSig), swBody, swNow.Add(-Tolerance), nil},
		{"standard stale", StandardWebhooks, swSecret, sw(swSig), swBody, swNow.Add(Tolerance + time.Second), ErrStale},
		{"standard future", StandardWebhooks, swSecret, sw(swSig), swBody, swNow.Add(-Tolerance - time.Second), ErrStale},
		{"standard other body", StandardWebhooks, swSecret, sw(swSig), swBody + " ", swNow, ErrMismatch},
		{"standard other id", StandardWebhooks, swSecret, with(sw(swSig), HeaderWebhookID, "msg_other"), swBody, swNow, ErrMismatch},
		{"standard only other signatures", StandardWebhooks, swSecret, sw(swOtherV1), swBody, swNow, ErrMismatch},
		{"standard only v2", StandardWebhooks, swSecret, sw("v2," + swSig[3:]), swBody, swNow, ErrMalformed},
		{"standard no comma", StandardWebhooks, swSecret, sw(swSig[3:]), swBody, swNow, ErrMalformed},
		{"standard bad base64", StandardWebhooks, swSecret, sw("v1,***"), swBody, swNow, ErrMalformed},
		{"standard short signature", StandardWebhooks, swSecret, sw("v1,AAAA"), swBody, swNow, ErrMalformed},
		{"standard missing id", StandardWebhooks, swSecret, with(sw(swSig), HeaderWebhookID, ""), swBody, swNow, ErrMissing},
		{"standard missing timestamp", StandardWebhooks, swSecret, with(sw(swSig), HeaderWebhookTime, ""), swBody, swNow, ErrMissing},
		{"standard missing signature", StandardWebhooks, swSecret, with(sw(swSig), HeaderWebhookSig, ""), swBody, swNow, ErrMissing},
		{"standard timestamp not digits", StandardWebhooks, swSecret, with(sw(swSig), HeaderWebhookTime, "-1614265330"), swBody, swNow, ErrMalformed},
		{"standard timestamp huge", StandardWebhooks, swSecret, with(sw(swSig), HeaderWebhookTime, "99999999999999999999"), swBody, swNow, ErrMalformed},
		{"standard secret not base64", StandardWebhooks, "whsec_***", sw(swSig), swBody, swNow, ErrNoSecret},
		{"unknown format", "generic", "x", nil, "", swNow, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.format, tc.secret, tc.headers, []byte(tc.body), tc.now)
			if tc.format == "generic" {
				if err == nil {
					t.Fatal("Verify(generic) = nil; want an error")
				}
				return
			}
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("Verify = %v; want %v", err, tc.want)
			}
		})
	}
}

func sw(sig string) map[string]string {
	return map[string]string{HeaderWebhookID: swID, HeaderWebhookTime: swTS, HeaderWebhookSig: sig}
}

func with(h map[string]string, k, v string) map[string]string {
	h[k] = v
	return h
}

// TestSignVerifies: Sign is Verify's inverse, for fresh secrets of every format.
func TestSignVerifies(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	for _, f := range []string{GitHub, GitLab, StandardWebhooks} {
		secret := NewSecret(f)
		if why := CheckSecret(f, secret); why != "" {
			t.Errorf("CheckSecret(%s, NewSecret) = %q; want \"\"", f, why)
		}
		h := Sign(f, secret, "msg_1", now, body)
		if err := Verify(f, secret, h, body, now); err != nil {
			t.Errorf("Verify(%s, Sign(...)) = %v; want nil", f, err)
		}
		if err := Verify(f, NewSecret(f), h, body, now); !errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%s) with another secret = %v; want ErrMismatch", f, err)
		}
	}
	if got := Sign(GitHub, ghSecret, "", now, []byte(ghBody))[HeaderGitHubSignature]; got != ghSig {
		t.Errorf("Sign(github) = %s; want GitHub's documented %s", got, ghSig)
	}
	ts, _ := ParseTimestamp(swTS)
	if got := Sign(StandardWebhooks, swSecret, swID, ts, []byte(swBody))[HeaderWebhookSig]; got != swSig {
		t.Errorf("Sign(standardwebhooks) = %s; want the reference %s", got, swSig)
	}
}

func TestCheckSecret(t *testing.T) {
	cases := []struct {
		format, secret string
		ok             bool
	}{
		{GitHub, "0123456789abcdef", true},
		{GitHub, "short", false},
		{GitLab, " 0123456789abcdef", false},
		{GitLab, "0123456789abcdef\n", false},
		{GitLab, strings.Repeat("a", 1025), false},
		{StandardWebhooks, swSecret, true},
		{StandardWebhooks, "whsec_AAAA", false},
		{StandardWebhooks, "whsec_not base64!", false},
		{StandardWebhooks, "0123456789abcdef0123456789", false},
	}
	for _, tc := range cases {
		if why := CheckSecret(tc.format, tc.secret); (why == "") != tc.ok {
			t.Errorf("CheckSecret(%s, %q) = %q; want ok=%v", tc.format, tc.secret, why, tc.ok)
		}
	}
}

func TestVerifies(t *testing.T) {
	for f, want := range map[string]bool{GitHub: true, GitLab: true, StandardWebhooks: true, "generic": false, "cloudevents": false, "": false} {
		if got := Verifies(f); got != want {
			t.Errorf("Verifies(%q) = %v; want %v", f, got, want)
		}
		if got := len(CredentialHeaders(f)) > 0; got != want {
			t.Errorf("CredentialHeaders(%q) non-empty = %v; want %v", f, got, want)
		}
	}
}
