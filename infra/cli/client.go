package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client talks to the eventhub API.
type client struct {
	base     string
	admin    string // admin token: every route but send
	producer string // producer token: send
	out      io.Writer
	http     http.Client
	now      func() time.Time
	asJSON   bool // print answers as they are
}

// apiError is an error answer of the API.
type apiError struct {
	Status int
	Code   string `json:"code"`
	Msg    string `json:"message"`
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d, column %d)", e.Line, e.Column)
	}
	return b.String()
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil). It
// returns the raw answer too, for -json.
func (c *client) do(ctx context.Context, method, path string, query url.Values, token, contentType string, body []byte, out any) ([]byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("no token: set EVENTHUB_ADMIN_TOKEN (or EVENTHUB_TOKEN for send)")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error *apiError `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == nil {
			e.Error = &apiError{Msg: strings.TrimSpace(string(raw))}
		}
		e.Error.Status = resp.StatusCode
		return raw, e.Error
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("decode the answer: %w", err)
		}
	}
	return raw, nil
}

// get calls an admin route.
func (c *client) get(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	return c.do(ctx, http.MethodGet, path, query, c.admin, "", nil, out)
}

func (c *client) postJSON(ctx context.Context, path string, body any, out any) ([]byte, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	return c.do(ctx, http.MethodPost, path, nil, c.admin, "application/json", b, out)
}

// printRaw prints an API answer indented.
func (c *client) printRaw(raw []byte) {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		b.Reset()
		b.Write(raw)
	}
	b.WriteByte('\n')
	c.out.Write(b.Bytes())
}
