package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	formats "github.com/eventhub/eventhub/shared/adapter/format"
	"github.com/eventhub/eventhub/shared/apigw"
	"github.com/eventhub/eventhub/shared/auth"
	"github.com/eventhub/eventhub/shared/fault"
	"github.com/eventhub/eventhub/shared/inbound"
	"github.com/eventhub/eventhub/shared/ownership"
	"github.com/eventhub/eventhub/shared/store"
)

// sourceStore is what the sources routes need of the store.
type sourceStore interface {
	CreateSource(ctx context.Context, src store.Source) error
	ListSources(ctx context.Context) ([]store.Source, error)
	GetSource(ctx context.Context, id string) (*store.Source, error)
	UpdateSource(ctx context.Context, src *store.Source) error
	RotateToken(ctx context.Context, id, newHash string, graceUntil time.Time) (*store.Source, error)
}

// Rotation grace periods.
const (
	defaultSourceGrace = 24 * time.Hour
	maxSourceGrace     = 30 * 24 * time.Hour
)

// validAppID reports whether id is 1 to 64 letters, digits, '_', '.' or '-'. (A
// regexp with {1,64} compiled into 60 KB at every cold start: a third of the api
// function's package initialization.)
func validAppID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

type sourceInput struct {
	Name       string           `json:"name"`
	Format     string           `json:"format"`
	DataID     int64            `json:"dataId"`
	AppID      string           `json:"appId"`
	DedupeKeys []string         `json:"dedupeKeys"`
	Signing    bool             `json:"signing"`
	OnInvalid  string           `json:"onInvalid"`
	Owns       *ownership.Set   `json:"owns"`
	RateLimit  *store.RateLimit `json:"rateLimit"`
	// InboundSecret is the secret the producer of a github, gitlab or
	// standardwebhooks source authenticates with on /hooks/{id}; made when not given.
	InboundSecret string `json:"inboundSecret"`
	// Mapping is the source's own mapping document (shared/mapping), which reads its
	// events instead of the format's adapter.
	Mapping json.RawMessage `json:"mapping"`
}

type sourcePatch struct {
	Name       *string         `json:"name"`
	Enabled    *bool           `json:"enabled"`
	DedupeKeys *[]string       `json:"dedupeKeys"`
	OnInvalid  *string         `json:"onInvalid"`
	Owns       *ownership.Set  `json:"owns"`
	RateLimit  json.RawMessage `json:"rateLimit"` // null: back to the default
	// Mapping replaces the source's mapping (saved as its next version); null
	// removes it (events are read by the format again).
	Mapping json.RawMessage `json:"mapping"`
	// Version, when given, must be the source's current version (409 otherwise):
	// a client that read the source changes what it read.
	Version *int64 `json:"version"`
}

// formatGrants are the owned values a source of the format is given when its
// registration names none: the namespaces of formats whose CloudEvents source the
// producer's own system names (Juno's subsystems, Huawei accounts). A second source
// of such a format must be given its own values.
var formatGrants = map[string]ownership.Set{
	formats.Juno:         {Prefixes: []string{"juno/"}},
	formats.HuaweiConfig: {Prefixes: []string{"huaweicloud.config/"}},
}

// checkOwns validates an admin's grant of CloudEvents source values.
func checkOwns(set *ownership.Set) error {
	if set == nil {
		return nil
	}
	if path, reason := set.Check(); reason != "" {
		if path == "" {
			return fault.At("owns", "%s", reason)
		}
		return fault.At("owns."+path, "%s", reason)
	}
	return nil
}

// Rate limits an admin may set.
const (
	maxRate  = 100_000
	maxBurst = 1_000_000
)

func checkRateLimit(rl *store.RateLimit) error {
	if rl == nil {
		return nil
	}
	if !(rl.Rate > 0 && rl.Rate <= maxRate) {
		return fault.At("rateLimit.perSecond", "must be more than 0 and at most %d events a second", maxRate)
	}
	if rl.Burst < 1 || rl.Burst > maxBurst {
		return fault.At("rateLimit.burst", "must be from 1 to %d events", maxBurst)
	}
	return nil
}

// onInvalid checks a source's choice of what ingest does with events it cannot read.
func onInvalid(v string) (string, error) {
	switch v {
	case "", store.OnInvalidReject:
		return "", nil
	case store.OnInvalidQuarantine:
		return v, nil
	}
	return "", fault.At("onInvalid", "unknown value %q: want %q (answer 4xx, the default) or %q (accept and keep in quarantine)", v, store.OnInvalidReject, store.OnInvalidQuarantine)
}

type sourceRotation struct {
	Credential string `json:"credential"` // "token" (default), "signingKey" or "inboundSecret"
	Grace      string `json:"grace"`      // how long the old one keeps working
}

// sourceView is a source as the API shows it; the token and the signing key only when
// they are made. Owned is every CloudEvents source value it may publish: its
// identity's and the admin's grant (owns).
type sourceView struct {
	store.Source
	Owned        ownership.Set `json:"owned"`
	Transitional bool          `json:"transitional,omitempty"`
	Signing      bool          `json:"signing"`
	Token        string        `json:"token,omitempty"`
	SigningKey   string        `json:"signingKey,omitempty"`
	// HookPath is the source's own ingest path, POST /hooks/{id}: where producers that
	// cannot send a bearer token post, authenticated by their signature or token.
	HookPath string `json:"hookPath"`
	// HasInboundSecret says the source has an inbound secret; InboundSecret is the
	// secret itself, only when it is made (creation, rotation).
	HasInboundSecret bool   `json:"hasInboundSecret,omitempty"`
	InboundSecret    string `json:"inboundSecret,omitempty"`
}

func viewSource(s store.Source) sourceView {
	if s.Owns != nil {
		owns := ownedLists(*s.Owns)
		s.Owns = &owns
	}
	return sourceView{Source: s, Owned: ownedLists(s.Owned()), Transitional: s.Transitional(), Signing: s.SigningKey != "",
		HookPath: "/hooks/" + s.ID, HasInboundSecret: s.InboundSecret != ""}
}

// ownedLists shows a set's lists as arrays, empty ones too.
func ownedLists(set ownership.Set) ownership.Set {
	if set.Exact == nil {
		set.Exact = []string{}
	}
	if set.Prefixes == nil {
		set.Prefixes = []string{}
	}
	return set
}

func (h *handler) sourceRoutes() map[string]route {
	return map[string]route{
		"POST /sources":              h.createSource,
		"GET /sources":               h.listSources,
		"GET /sources/{id}":          h.getSource,
		"PATCH /sources/{id}":        h.patchSource,
		"POST /sources/{id}/rotate":  h.rotateSource,
		"POST /sources/{id}/dry-run": h.dryRun,
		"GET /sources/{id}/mappings": h.listMappings,
	}
}

func (h *handler) createSource(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in sourceInput
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return apigw.Response{}, fault.At("name", "required")
	}
	doc, _, err := compileMapping(in.Mapping)
	if err != nil {
		return apigw.Response{}, err
	}
	format := in.Format
	switch {
	case format == "" && doc != nil:
		format = formats.Generic // a mapping reads the events; the format only names the route and credentials
	case format == "":
		format = formats.Auto
	}
	if !formats.Known(format) {
		return apigw.Response{}, fault.At("format", "unknown format %q: want auto, %s", in.Format, strings.Join(formats.All, ", "))
	}
	if err := checkDedupeKeys(in.DedupeKeys); err != nil {
		return apigw.Response{}, err
	}
	invalid, err := onInvalid(in.OnInvalid)
	if err != nil {
		return apigw.Response{}, err
	}
	if in.OnInvalid == "" && (doc != nil || isPreset(format)) {
		// A webhook producer cannot act on a 4xx: what its mapping cannot read is kept.
		invalid = store.OnInvalidQuarantine
	}
	if err := checkOwns(in.Owns); err != nil {
		return apigw.Response{}, err
	}
	if err := checkRateLimit(in.RateLimit); err != nil {
		return apigw.Response{}, err
	}
	owns := in.Owns
	if owns == nil {
		grant := formatGrants[format]
		owns = &grant
	}
	src := store.Source{
		Owns:       owns,
		RateLimit:  in.RateLimit,
		OnInvalid:  invalid,
		ID:         h.id("src_"),
		Name:       name,
		Format:     format,
		Enabled:    true,
		DataID:     in.DataID,
		DedupeKeys: in.DedupeKeys,
		Mapping:    doc,
		CreatedAt:  h.now().UTC(),
	}
	if doc != nil {
		src.MappingVersion = 1
	}
	switch {
	case in.DataID < 0:
		return apigw.Response{}, fault.At("dataId", "must be a positive integer")
	case in.DataID == 0 && format == formats.BKMonitor:
		src.DataID = newDataID()
	}
	if in.AppID != "" || format == formats.IUAP {
		src.AppID = in.AppID
		if src.AppID == "" {
			src.AppID = src.ID
		}
		if !validAppID(src.AppID) {
			return apigw.Response{}, fault.At("appId", "must be 1 to 64 letters, digits, '_', '.' or '-'")
		}
	}
	if in.Signing || format == formats.IUAP {
		src.SigningKey = newSigningKey()
	}
	switch {
	case inbound.Verifies(format) && in.InboundSecret == "":
		src.InboundSecret = inbound.NewSecret(format)
	case inbound.Verifies(format):
		if why := inbound.CheckSecret(format, in.InboundSecret); why != "" {
			return apigw.Response{}, fault.At("inboundSecret", "%s", why)
		}
		src.InboundSecret = in.InboundSecret
	case in.InboundSecret != "":
		return apigw.Response{}, fault.At("inboundSecret", "a %s source authenticates with its token: only github, gitlab and standardwebhooks sources have an inbound secret", format)
	}
	token := auth.NewToken(auth.ProducerPrefix)
	src.TokenHash = auth.Hash(token)
	if err := h.store.CreateSource(ctx, src); err != nil {
		if e, ok := fault.As(err); ok && e.Code == fault.Conflict && e.Path == "owns" && in.Owns == nil {
			c := *e
			c.Message += fmt.Sprintf(" (a %s source owns %s unless its registration names its own values in owns)", format, formatGrants[format])
			return apigw.Response{}, &c
		}
		return apigw.Response{}, err
	}
	src.Version = 1
	v := viewSource(src)
	v.Token, v.SigningKey, v.InboundSecret = token, src.SigningKey, src.InboundSecret
	resp := apigw.JSON(http.StatusCreated, v)
	resp.Headers["location"] = "/sources/" + src.ID
	return resp, nil
}

func checkDedupeKeys(keys []string) error {
	for i, k := range keys {
		if strings.TrimSpace(k) == "" {
			return fault.At("dedupeKeys["+itoa(i)+"]", "must not be empty")
		}
	}
	return nil
}

func (h *handler) listSources(ctx context.Context, _ *apigw.Request) (apigw.Response, error) {
	srcs, err := h.store.ListSources(ctx)
	if err != nil {
		return apigw.Response{}, err
	}
	views := make([]sourceView, len(srcs))
	for i, s := range srcs {
		views[i] = viewSource(s)
	}
	return apigw.JSON(http.StatusOK, map[string]any{"sources": views}), nil
}

func (h *handler) getSource(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	src, err := h.store.GetSource(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, viewSource(*src)), nil
}

// patchSource renames a source, disables or enables it, or sets its dedupe keys or what
// ingest does with events it cannot read. A
// disabled source's requests are refused with 403 within the ingest cache's 30 s.
func (h *handler) patchSource(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in sourcePatch
	if err := decode(req, &in); err != nil {
		return apigw.Response{}, err
	}
	src, err := h.store.GetSource(ctx, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	if in.Version != nil && *in.Version != src.Version {
		return apigw.Response{}, &fault.Error{Code: fault.Conflict, Path: "version", Message: fmt.Sprintf("source %s is at version %d, not %d: read it again", src.ID, src.Version, *in.Version)}
	}
	if in.Owns != nil {
		if err := checkOwns(in.Owns); err != nil {
			return apigw.Response{}, err
		}
		src.Owns = in.Owns
	}
	if len(in.RateLimit) > 0 {
		var rl *store.RateLimit
		if err := json.Unmarshal(in.RateLimit, &rl); err != nil {
			return apigw.Response{}, fault.At("rateLimit", "must be {\"perSecond\": n, \"burst\": n} or null")
		}
		if err := checkRateLimit(rl); err != nil {
			return apigw.Response{}, err
		}
		src.RateLimit = rl
	}
	if in.Name != nil {
		if strings.TrimSpace(*in.Name) == "" {
			return apigw.Response{}, fault.At("name", "must not be empty")
		}
		src.Name = strings.TrimSpace(*in.Name)
	}
	if in.Enabled != nil {
		src.Enabled = *in.Enabled
	}
	if in.DedupeKeys != nil {
		if err := checkDedupeKeys(*in.DedupeKeys); err != nil {
			return apigw.Response{}, err
		}
		src.DedupeKeys = *in.DedupeKeys
	}
	if in.OnInvalid != nil {
		if src.OnInvalid, err = onInvalid(*in.OnInvalid); err != nil {
			return apigw.Response{}, err
		}
	}
	if len(in.Mapping) > 0 {
		doc, _, err := compileMapping(in.Mapping)
		if err != nil {
			return apigw.Response{}, err
		}
		if !bytes.Equal(doc, src.Mapping) {
			// A new version: events already received keep theirs.
			src.Mapping = doc
			if doc != nil {
				src.MappingVersion++
			}
		}
	}
	if err := h.store.UpdateSource(ctx, src); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, viewSource(*src)), nil
}

// rotateSource replaces the token or the signing key; the old one keeps working for
// the grace period so that producers can switch without losing events.
func (h *handler) rotateSource(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
	var in sourceRotation
	if body, _ := apigw.Body(req); len(strings.TrimSpace(string(body))) > 0 {
		if err := decode(req, &in); err != nil {
			return apigw.Response{}, err
		}
	}
	grace := defaultSourceGrace
	if in.Grace != "" {
		d, err := time.ParseDuration(in.Grace)
		if err != nil || d < 0 || d > maxSourceGrace {
			return apigw.Response{}, fault.At("grace", "must be a duration from 0s to 720h, such as \"24h\"")
		}
		grace = d
	}
	now := h.now().UTC()
	id := req.PathParameters["id"]
	switch in.Credential {
	case "", "token":
		token := auth.NewToken(auth.ProducerPrefix)
		src, err := h.store.RotateToken(ctx, id, auth.Hash(token), now.Add(grace))
		if err != nil {
			return apigw.Response{}, err
		}
		v := viewSource(*src)
		v.Token = token
		return apigw.JSON(http.StatusOK, v), nil
	case "signingKey":
		src, err := h.store.GetSource(ctx, id)
		if err != nil {
			return apigw.Response{}, err
		}
		if grace > 0 && src.SigningKey != "" {
			src.PrevSigningKey, src.PrevSigningKeyUntil = src.SigningKey, now.Add(grace)
		} else {
			src.PrevSigningKey, src.PrevSigningKeyUntil = "", time.Time{}
		}
		src.SigningKey = newSigningKey()
		if err := h.store.UpdateSource(ctx, src); err != nil {
			return apigw.Response{}, err
		}
		v := viewSource(*src)
		v.SigningKey = src.SigningKey
		return apigw.JSON(http.StatusOK, v), nil
	case "inboundSecret":
		src, err := h.store.GetSource(ctx, id)
		if err != nil {
			return apigw.Response{}, err
		}
		if !inbound.Verifies(src.Format) {
			return apigw.Response{}, fault.At("credential", "a %s source has no inbound secret: only github, gitlab and standardwebhooks sources do", src.Format)
		}
		if grace > 0 && src.InboundSecret != "" {
			src.PrevInboundSecret, src.PrevInboundSecretUntil = src.InboundSecret, now.Add(grace)
		} else {
			src.PrevInboundSecret, src.PrevInboundSecretUntil = "", time.Time{}
		}
		src.InboundSecret = inbound.NewSecret(src.Format)
		if err := h.store.UpdateSource(ctx, src); err != nil {
			return apigw.Response{}, err
		}
		v := viewSource(*src)
		v.InboundSecret = src.InboundSecret
		return apigw.JSON(http.StatusOK, v), nil
	}
	return apigw.Response{}, fault.At("credential", "must be \"token\", \"signingKey\" or \"inboundSecret\"")
}

// newSigningKey returns a random 256-bit key for HMAC signatures.
func newSigningKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "ehk_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// newDataID returns a BlueKing-style data id for a source that did not choose one.
func newDataID() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(8_000_000))
	return 1_000_000 + n.Int64()
}

func itoa(i int) string { return strconv.Itoa(i) }
