package eventbridge

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/go-json-experiment/json/jsontext"
)

// The input transformer's predefined variables.
const (
	varRuleARN       = "aws.events.rule-arn"
	varRuleName      = "aws.events.rule-name"
	varIngestionTime = "aws.events.event.ingestion-time"
	varEvent         = "aws.events.event"
	varEventJSON     = "aws.events.event.json"
	maxInputPaths    = 100
	maxInputTemplate = 8192
)

// input is what the target receives for an event envelope: the envelope itself, the
// target's constant Input, the part its InputPath selects, or its InputTransformer's
// template filled in, as EventBridge documents them.
func (t *target) input(envelope []byte, ruleARN, ruleName string, received time.Time) ([]byte, error) {
	switch s := t.spec; {
	case s.Input != nil:
		return []byte(*s.Input), nil
	case s.InputPath != nil:
		path, err := parsePath(*s.InputPath)
		if err != nil {
			return nil, fmt.Errorf("InputPath %s: %v: %w", *s.InputPath, err, errNoRetry)
		}
		v, ok, err := path.selectFrom(envelope)
		if err != nil {
			return nil, fmt.Errorf("InputPath %s: %v: %w", *s.InputPath, err, errNoRetry)
		}
		if !ok {
			return nil, fmt.Errorf("InputPath %s selects nothing in event: %w", *s.InputPath, errNoRetry)
		}
		return v, nil
	case s.InputTransformer != nil:
		return transform(s.InputTransformer, envelope, ruleARN, ruleName, received)
	}
	return envelope, nil
}

// transform fills in an input template. A variable is replaced by the JSON value
// its path selects; inside a JSON string, a string value goes in without its
// quotes (EventBridge does not escape it further). A variable whose path selects
// nothing is left out: nothing inside a string, null elsewhere (so that the
// result stays JSON). Placeholders that name no variable are kept as they are.
func transform(it *types.InputTransformer, envelope []byte, ruleARN, ruleName string, received time.Time) ([]byte, error) {
	values := map[string][]byte{
		varRuleARN:       quote(ruleARN),
		varRuleName:      quote(ruleName),
		varIngestionTime: quote(received.UTC().Format(time.RFC3339Nano)),
		varEventJSON:     envelope,
	}
	withoutDetail, err := removeMember(envelope, "detail")
	if err != nil {
		return nil, fmt.Errorf("input transformer: %v: %w", err, errNoRetry)
	}
	values[varEvent] = withoutDetail
	missing := map[string]bool{}
	for name, p := range it.InputPathsMap {
		path, err := parsePath(p)
		if err != nil {
			return nil, fmt.Errorf("input transformer: %s: %v: %w", name, err, errNoRetry)
		}
		v, ok, err := path.selectFrom(envelope)
		if err != nil {
			return nil, fmt.Errorf("input transformer: %s: %v: %w", name, err, errNoRetry)
		}
		if !ok {
			missing[name] = true
			continue
		}
		values[name] = v
	}
	tpl := deref(it.InputTemplate)
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		if c == '<' {
			if end := strings.IndexByte(tpl[i+1:], '>'); end >= 0 {
				name := tpl[i+1 : i+1+end]
				v, known := values[name]
				switch {
				case known && inString:
					out.Write(unquoted(v))
					i += end + 1
					continue
				case known:
					out.Write(v)
					i += end + 1
					continue
				case missing[name]:
					if !inString {
						out.WriteString("null")
					}
					i += end + 1
					continue
				}
			}
		}
		out.WriteByte(c)
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inString:
			escaped = true
		case c == '"':
			inString = !inString
		}
	}
	return out.Bytes(), nil
}

// unquoted is a JSON string's contents as they are written (escapes kept), or any
// other JSON value's text.
func unquoted(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// checkTransformer validates an InputTransformer as PutTargets does.
func checkTransformer(it *types.InputTransformer) error {
	if it.InputTemplate == nil {
		return errors.New("InputTemplate is required")
	}
	if len(*it.InputTemplate) > maxInputTemplate {
		return fmt.Errorf("InputTemplate is longer than %d characters", maxInputTemplate)
	}
	if len(it.InputPathsMap) > maxInputPaths {
		return fmt.Errorf("InputPathsMap has more than %d variables", maxInputPaths)
	}
	for name, p := range it.InputPathsMap {
		if strings.HasPrefix(name, "aws.events.") {
			return fmt.Errorf("InputPathsMap: %s is a reserved variable name", name)
		}
		if !namePattern.MatchString(name) {
			return fmt.Errorf("InputPathsMap: %q is not a valid variable name", name)
		}
		if _, err := parsePath(p); err != nil {
			return fmt.Errorf("InputPathsMap %s: %v", name, err)
		}
	}
	return nil
}

// path is a JSON path of the subset EventBridge supports: $ followed by .name,
// ['name'], [index] and * steps.
type path []step

type step struct {
	key      string
	index    int // -1 for a key
	wildcard bool
}

func parsePath(s string) (path, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, errors.New("a path starts with $")
	}
	var p path
	rest := s[1:]
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, ".*"), strings.HasPrefix(rest, "[*]"):
			p = append(p, step{wildcard: true, index: -1})
			rest = rest[strings.IndexByte(rest, '*')+1:]
			if strings.HasPrefix(rest, "]") {
				rest = rest[1:]
			}
		case rest[0] == '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			key := rest[1 : 1+end]
			if key == "" {
				return nil, errors.New("empty member name")
			}
			p = append(p, step{key: key, index: -1})
			rest = rest[1+end:]
		case strings.HasPrefix(rest, "['"), strings.HasPrefix(rest, `["`):
			quote := rest[1]
			end := strings.IndexByte(rest[2:], quote)
			if end < 0 || !strings.HasPrefix(rest[2+end+1:], "]") {
				return nil, errors.New("unterminated bracket")
			}
			p = append(p, step{key: rest[2 : 2+end], index: -1})
			rest = rest[2+end+2:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, errors.New("unterminated bracket")
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%q is not an array index", rest[1:end])
			}
			p = append(p, step{index: n})
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("unexpected %q", rest)
		}
	}
	return p, nil
}

// selectFrom returns the JSON text the path selects in doc, byte for byte, and
// whether it selects anything. A wildcard step makes the result an array of what
// the steps after it select in each member or element.
func (p path) selectFrom(doc []byte) ([]byte, bool, error) {
	vals, err := p.eval(jsontext.Value(doc))
	if err != nil || len(vals) == 0 {
		return nil, false, err
	}
	if !p.hasWildcard() {
		return vals[0], true, nil
	}
	out := []byte{'['}
	for i, v := range vals {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, v...)
	}
	return append(out, ']'), true, nil
}

func (p path) hasWildcard() bool {
	for _, s := range p {
		if s.wildcard {
			return true
		}
	}
	return false
}

func (p path) eval(v jsontext.Value) ([]jsontext.Value, error) {
	if len(p) == 0 {
		return []jsontext.Value{bytes.TrimSpace(v)}, nil
	}
	children, err := p[0].children(v)
	if err != nil {
		return nil, err
	}
	var out []jsontext.Value
	for _, c := range children {
		got, err := p[1:].eval(c)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// children returns what one step selects in v.
func (s step) children(v jsontext.Value) ([]jsontext.Value, error) {
	var out []jsontext.Value
	err := each(v, func(key string, i int, child jsontext.Value) {
		switch {
		case s.wildcard:
			out = append(out, child)
		case s.index >= 0 && i == s.index && key == "":
			out = append(out, child)
		case s.index < 0 && key == s.key && i < 0:
			out = []jsontext.Value{child} // the last of repeated names wins
		}
	})
	return out, err
}

// each calls f for each member (key, -1) of an object or element ("", index) of
// an array; a scalar has none.
func each(v jsontext.Value, f func(key string, i int, child jsontext.Value)) error {
	dec := jsontext.NewDecoder(bytes.NewReader(v), jsontext.AllowDuplicateNames(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '{':
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			name := tok.String() // before the decoder moves on
			child, err := dec.ReadValue()
			if err != nil {
				return err
			}
			f(name, -1, bytes.Clone(child))
		}
	case '[':
		for i := 0; dec.PeekKind() != ']'; i++ {
			child, err := dec.ReadValue()
			if err != nil {
				return err
			}
			f("", i, bytes.Clone(child))
		}
	}
	return nil
}

// removeMember returns the object v without its member name, other members kept
// in their order and form.
func removeMember(v []byte, name string) ([]byte, error) {
	var out bytes.Buffer
	out.WriteByte('{')
	n := 0
	err := each(v, func(key string, _ int, child jsontext.Value) {
		if key == name {
			return
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		out.Write(quote(key))
		out.WriteByte(':')
		out.Write(child)
	})
	out.WriteByte('}')
	return out.Bytes(), err
}

// quote returns s as a JSON string.
func quote(s string) []byte {
	b, _ := jsontext.AppendQuote(nil, s) // invalid UTF-8 is replaced, never an error
	return b
}

// isJSON reports whether s is one valid JSON value.
func isJSON(s string) bool {
	return jsontext.Value(s).IsValid(jsontext.AllowDuplicateNames(true))
}

// unmarshalObject checks that s is a JSON object and decodes its members' names.
func unmarshalObject(s string, fields *map[string]any) error {
	v := jsontext.Value(s)
	if !v.IsValid(jsontext.AllowDuplicateNames(true)) {
		return errors.New("not valid JSON")
	}
	if v.Kind() != '{' {
		return errors.New("not a JSON object")
	}
	m := map[string]any{}
	err := each(v, func(key string, _ int, child jsontext.Value) { m[key] = child })
	*fields = m
	return err
}
