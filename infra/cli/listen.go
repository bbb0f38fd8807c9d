package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventhub/eventhub/shared/webhook"
)

// cmdListen is a local receiver for trying subscriptions and API destinations out:
// it answers 204 to every POST and prints a line for each (the webhook-id and the
// CloudEvent's type and id, or an EventBridge event's detail-type). With -secret it
// checks Standard Webhooks signatures and answers 401 to a bad one.
func cmdListen(ctx context.Context, c *client, args []string) error {
	fs := c.flags("listen")
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on")
	secret := fs.String("secret", "", "the subscription's whsec_ secret: check signatures")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: listener{out: c.out, secret: *secret, now: c.now}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(c.out, "listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type listener struct {
	out    io.Writer
	secret string
	now    func() time.Time
}

func (l listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	line := fmt.Sprintf("%s %s %s", l.now().UTC().Format(time.RFC3339), r.Method, r.URL.Path)
	if id := r.Header.Get("webhook-id"); id != "" {
		line += " webhook-id " + id
	}
	var ev struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		DetailType string `json:"detail-type"`
		Detail     struct {
			Event struct{ Type, ID string } `json:"event"`
		} `json:"detail"`
	}
	if json.Unmarshal(body, &ev) == nil {
		switch {
		case ev.DetailType != "":
			line += fmt.Sprintf(" %s %s %s", ev.DetailType, ev.Detail.Event.Type, ev.Detail.Event.ID)
		case ev.Type != "":
			line += fmt.Sprintf(" %s %s", ev.Type, ev.ID)
		}
	}
	if l.secret != "" {
		if err := verify(l.secret, r.Header, body); err != nil {
			fmt.Fprintln(l.out, line, "REFUSED:", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		line += " signature ok"
	}
	fmt.Fprintln(l.out, line)
	w.WriteHeader(http.StatusNoContent)
}

// verify checks a Standard Webhooks signature: one of the webhook-signature values
// is the secret's over webhook-id, webhook-timestamp and the body.
func verify(secret string, h http.Header, body []byte) error {
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return errors.New("no webhook-timestamp")
	}
	want, err := webhook.Sign([]string{secret}, h.Get("webhook-id"), time.Unix(ts, 0), body)
	if err != nil {
		return err
	}
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if sig == want {
			return nil
		}
	}
	return errors.New("signature does not match")
}
