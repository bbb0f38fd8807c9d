package inbound

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// FuzzHeaders holds the header parsers and the verifiers to their promises on any
// input: no panic; what ParseGitHubSignature accepts is 32 bytes that print back as
// the value; what ParseStandardSignatures accepts is 1 to 16 v1 signatures of 32 bytes
// found in the value; a timestamp is digits only; and Verify accepts a request only
// when its credential is the one Sign makes.
func FuzzHeaders(f *testing.F) {
	f.Add(ghSig, swSig, swTS, swID, []byte(swBody))
	f.Add("sha256=", "v1,", "0", "", []byte{})
	f.Add("sha256="+strings.Repeat("0", 64), swOtherV1+" "+swSig+" v2,x", "1614265330", "msg", []byte("{}"))
	f.Add("SHA256=00", "v1,"+strings.Repeat("A", 44)+"  v1,", "+12", "\x00", []byte("\xff"))
	f.Fuzz(func(t *testing.T, gh, sigs, ts, id string, body []byte) {
		if sig, err := ParseGitHubSignature(gh); err == nil {
			if len(sig) != 32 || !strings.EqualFold(strings.TrimSpace(gh), "sha256="+hex.EncodeToString(sig)) {
				t.Fatalf("ParseGitHubSignature(%q) = %x", gh, sig)
			}
		}
		if list, err := ParseStandardSignatures(sigs); err == nil {
			if len(list) == 0 || len(list) > maxSignatures {
				t.Fatalf("ParseStandardSignatures(%q) = %d signatures", sigs, len(list))
			}
			for _, s := range list {
				if len(s) != 32 || !strings.Contains(sigs, "v1,"+base64.StdEncoding.EncodeToString(s)) {
					t.Fatalf("ParseStandardSignatures(%q) gave %x, not in the value", sigs, s)
				}
			}
		}
		if at, err := ParseTimestamp(ts); err == nil {
			if strings.TrimLeft(ts, "0123456789") != "" || at.Unix() < 0 {
				t.Fatalf("ParseTimestamp(%q) = %v", ts, at)
			}
		}
		now := time.Unix(1614265330, 0)
		secret := swSecret
		h := map[string]string{HeaderWebhookID: id, HeaderWebhookTime: ts, HeaderWebhookSig: sigs}
		if Verify(StandardWebhooks, secret, h, body, now) == nil {
			at, _ := ParseTimestamp(ts)
			want := Sign(StandardWebhooks, secret, id, at, body)[HeaderWebhookSig]
			if !strings.Contains(" "+sigs+" ", " "+want+" ") && !strings.Contains(sigs, want) {
				t.Fatalf("Verify accepted %q for body %q; the signature is %s", sigs, body, want)
			}
		}
		if Verify(GitHub, ghSecret, map[string]string{HeaderGitHubSignature: gh}, body, now) == nil {
			want := Sign(GitHub, ghSecret, "", now, body)[HeaderGitHubSignature]
			if !strings.EqualFold(strings.TrimSpace(gh), want) {
				t.Fatalf("Verify accepted %q for body %q; the signature is %s", gh, body, want)
			}
		}
		if Verify(GitLab, "glpat-0123456789abcdef", map[string]string{HeaderGitLabToken: gh}, body, now) == nil && gh != "glpat-0123456789abcdef" {
			t.Fatalf("Verify(gitlab) accepted %q", gh)
		}
	})
}
