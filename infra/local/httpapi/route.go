package httpapi

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

type segmentKind uint8

// Kinds in order of precedence: a literal segment beats a path variable, which
// beats a greedy path variable.
const (
	literal segmentKind = iota
	variable
	greedy
)

type segment struct {
	kind segmentKind
	text string // the literal, or the variable's name (without braces and "+")
}

// route is a compiled Route.
type route struct {
	Route
	key      string // the routeKey: "GET /events/{id}", "ANY /files/{proxy+}" or "$default"
	isAny    bool
	segments []segment
}

const defaultRouteKey = "$default"

var (
	methods   = map[string]bool{"ANY": true, "GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}
	paramName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// compile validates a route and parses its path template.
func compile(r Route) (*route, error) {
	if r.Invoker == nil {
		return nil, errors.New("no invoker")
	}
	if r.Path == defaultRouteKey {
		if r.Method != "" && !strings.EqualFold(r.Method, "ANY") {
			return nil, fmt.Errorf("the $default route takes every method, not %s", r.Method)
		}
		return &route{Route: r, key: defaultRouteKey, isAny: true}, nil
	}
	method := strings.ToUpper(r.Method)
	if !methods[method] {
		return nil, fmt.Errorf("unsupported method %q", r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("path %q does not start with /", r.Path)
	}
	rt := &route{Route: r, key: method + " " + r.Path, isAny: method == "ANY"}
	rt.Method = method
	if r.Path == "/" {
		return rt, nil
	}
	seen := map[string]bool{}
	parts := strings.Split(r.Path[1:], "/")
	for i, p := range parts {
		switch {
		case p == "":
			return nil, fmt.Errorf("path %q has an empty segment", r.Path)
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			name, isGreedy := strings.CutSuffix(p[1:len(p)-1], "+")
			if !paramName.MatchString(name) {
				return nil, fmt.Errorf("path %q: bad path variable %q", r.Path, p)
			}
			if seen[name] {
				return nil, fmt.Errorf("path %q: path variable %q used twice", r.Path, name)
			}
			seen[name] = true
			kind := variable
			if isGreedy {
				if i != len(parts)-1 {
					return nil, fmt.Errorf("path %q: greedy variable %q is not the last segment", r.Path, p)
				}
				kind = greedy
			}
			rt.segments = append(rt.segments, segment{kind: kind, text: name})
		case strings.ContainsAny(p, "{}"):
			return nil, fmt.Errorf("path %q: a path variable must be a whole segment, not %q", r.Path, p)
		default:
			rt.segments = append(rt.segments, segment{kind: literal, text: p})
		}
	}
	return rt, nil
}

// shape identifies the requests a route matches, whatever its variables are
// named: two routes of the same method and shape conflict.
func (r *route) shape() string {
	if r.key == defaultRouteKey {
		return defaultRouteKey
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteString(" ")
	for _, s := range r.segments {
		b.WriteString("/")
		switch s.kind {
		case literal:
			b.WriteString(s.text)
		case variable:
			b.WriteString("{}")
		case greedy:
			b.WriteString("{+}")
		}
	}
	return b.String()
}

// match reports whether the route matches a request path (without the stage
// prefix), and the values of its path variables.
func (r *route) match(path string) (map[string]string, bool) {
	var parts []string
	if path != "/" {
		if !strings.HasPrefix(path, "/") {
			return nil, false
		}
		parts = strings.Split(path[1:], "/")
	}
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range r.segments {
		if i >= len(parts) {
			return nil, false
		}
		switch s.kind {
		case greedy:
			rest := strings.Join(parts[i:], "/")
			if rest == "" {
				return nil, false
			}
			set(s.text, rest)
			return params, true
		case variable:
			if parts[i] == "" {
				return nil, false
			}
			set(s.text, parts[i])
		case literal:
			if parts[i] != s.text {
				return nil, false
			}
		}
	}
	if len(parts) != len(r.segments) {
		return nil, false
	}
	return params, true
}

// moreSpecific reports whether route a takes precedence over route b when
// both match a request: the first segment where their kinds differ decides
// (literal, then variable, then greedy); then a named method beats ANY.
func moreSpecific(a, b *route) bool {
	for i := range min(len(a.segments), len(b.segments)) {
		if ka, kb := a.segments[i].kind, b.segments[i].kind; ka != kb {
			return ka < kb
		}
	}
	if len(a.segments) != len(b.segments) {
		return len(a.segments) > len(b.segments)
	}
	return !a.isAny && b.isAny
}
