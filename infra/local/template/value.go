package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind says what a Value holds.
type Kind uint8

// The kinds of Value: YAML's own kinds, then the CloudFormation intrinsic functions
// the local stack can resolve.
const (
	KindNull   Kind = iota // absent, or YAML null
	KindString             // a string scalar
	KindNumber             // an int or float scalar, kept as written
	KindBool               // true or false
	KindList               // a sequence
	KindMap                // a mapping that is not an intrinsic function
	KindRef                // Ref / !Ref
	KindGetAtt             // Fn::GetAtt / !GetAtt
	KindSub                // Fn::Sub / !Sub
	KindJoin               // Fn::Join / !Join
	KindSelect             // Fn::Select / !Select
	// KindUnevaluated is an intrinsic function the local stack does not evaluate
	// (Fn::If, Fn::Equals, Condition...): kept as written, for resources the local
	// stack does not run; resolving it is an error.
	KindUnevaluated
)

var kindNames = [...]string{"null", "string", "number", "bool", "list", "map", "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "unevaluated intrinsic"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one node of the template: a literal (scalar, list or map) or an intrinsic
// function that is resolved later, once physical names are known, with a Resolver.
// The zero Value is an absent value (KindNull).
type Value struct {
	kind  Kind
	text  string           // scalar text; Ref and GetAtt logical id; Sub template; Join delimiter; unevaluated function name
	attr  string           // GetAtt attribute
	items []Value          // List items; Join items; Select [index, list]; unevaluated [argument]
	keys  []string         // Map keys and Sub variable names, in source order
	vals  map[string]Value // Map fields; Sub variables
	line  int              // source line, 0 when unknown
}

// Resolver gives the values intrinsic functions stand for.
type Resolver interface {
	// Ref returns what Ref of a parameter, pseudo parameter or resource gives.
	Ref(logicalID string) (string, error)
	// GetAtt returns an attribute of a resource.
	GetAtt(logicalID, attr string) (string, error)
}

// Literal returns a string literal Value.
func Literal(s string) Value { return Value{kind: KindString, text: s} }

// Ref returns the Value !Ref logicalID.
func Ref(logicalID string) Value { return Value{kind: KindRef, text: logicalID} }

// GetAtt returns the Value !GetAtt logicalID.attr.
func GetAtt(logicalID, attr string) Value {
	return Value{kind: KindGetAtt, text: logicalID, attr: attr}
}

// Kind reports what v holds.
func (v Value) Kind() Kind { return v.kind }

// IsZero reports whether v is absent or null.
func (v Value) IsZero() bool { return v.kind == KindNull }

// Line is the line of v in the template, or 0.
func (v Value) Line() int { return v.line }

// Literal returns the text of a scalar (string, number or bool) and true; for any other
// kind it returns "" and false. Booleans read "true" or "false".
func (v Value) Literal() (string, bool) {
	switch v.kind {
	case KindString, KindNumber, KindBool:
		return v.text, true
	}
	return "", false
}

// Target returns the logical id (and, for GetAtt, the attribute) an intrinsic Ref or
// GetAtt points to.
func (v Value) Target() (logicalID, attr string, ok bool) {
	switch v.kind {
	case KindRef:
		return v.text, "", true
	case KindGetAtt:
		return v.text, v.attr, true
	}
	return "", "", false
}

// Items returns the elements of a list.
func (v Value) Items() []Value {
	if v.kind != KindList {
		return nil
	}
	return v.items
}

// Keys returns the keys of a map in source order.
func (v Value) Keys() []string {
	if v.kind != KindMap {
		return nil
	}
	return v.keys
}

// Get returns the field key of a map.
func (v Value) Get(key string) (Value, bool) {
	if v.kind != KindMap {
		return Value{}, false
	}
	f, ok := v.vals[key]
	return f, ok
}

// Field returns the field key of a map, or the zero Value.
func (v Value) Field(key string) Value {
	f, _ := v.Get(key)
	return f
}

// Resolve returns the string v stands for: the text of a scalar, or the result of its
// intrinsic function. Lists and maps have no string form.
func (v Value) Resolve(r Resolver) (string, error) {
	switch v.kind {
	case KindString, KindNumber, KindBool:
		return v.text, nil
	case KindNull:
		return "", fmt.Errorf("resolve %s: no value", v)
	case KindRef:
		s, err := r.Ref(v.text)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", v, err)
		}
		return s, nil
	case KindGetAtt:
		s, err := r.GetAtt(v.text, v.attr)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", v, err)
		}
		return s, nil
	case KindSub:
		return v.resolveSub(r)
	case KindJoin:
		parts := make([]string, len(v.items))
		for i, it := range v.items {
			s, err := it.Resolve(r)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, v.text), nil
	case KindSelect:
		idx, err := v.items[0].Resolve(r)
		if err != nil {
			return "", err
		}
		i, err := strconv.Atoi(idx)
		list := v.items[1].items
		if err != nil || i < 0 || i >= len(list) {
			return "", fmt.Errorf("resolve %s: index %q out of range", v, idx)
		}
		return list[i].Resolve(r)
	case KindUnevaluated:
		return "", fmt.Errorf("resolve %s: intrinsic function %s is not supported by the local stack", v, v.text)
	}
	return "", fmt.Errorf("resolve %s: a %s has no string value", v, v.kind)
}

// ResolveAll resolves every intrinsic function inside v and returns the result as
// JSON-like Go values: map[string]any, []any, string, json.Number, bool or nil.
func (v Value) ResolveAll(r Resolver) (any, error) {
	switch v.kind {
	case KindNull:
		return nil, nil
	case KindBool:
		return v.text == "true", nil
	case KindNumber:
		return json.Number(v.text), nil
	case KindList:
		out := make([]any, len(v.items))
		for i, it := range v.items {
			x, err := it.ResolveAll(r)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case KindMap:
		out := make(map[string]any, len(v.keys))
		for _, k := range v.keys {
			x, err := v.vals[k].ResolveAll(r)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	}
	return v.Resolve(r)
}

// References returns the logical ids of the parameters and resources v refers to
// (pseudo parameters excluded), sorted and without duplicates.
func (v Value) References() []string {
	seen := map[string]bool{}
	v.walkRefs(func(id string) {
		if !strings.HasPrefix(id, "AWS::") {
			seen[id] = true
		}
	})
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (v Value) walkRefs(fn func(string)) {
	switch v.kind {
	case KindRef, KindGetAtt:
		fn(v.text)
	case KindSub:
		parts, _ := parseSub(v.text)
		for _, p := range parts {
			if !p.isVar {
				continue
			}
			if _, ok := v.vals[p.text]; ok {
				continue
			}
			id, _, _ := strings.Cut(p.text, ".")
			fn(id)
		}
	}
	for _, it := range v.items {
		it.walkRefs(fn)
	}
	for _, k := range v.keys {
		v.vals[k].walkRefs(fn)
	}
}

// String returns a debug form of v in the YAML short syntax: literals quoted as Go
// strings, intrinsics as !Ref X, !GetAtt X.Arn, !Sub "...".
func (v Value) String() string {
	var b strings.Builder
	v.debug(&b)
	return b.String()
}

func (v Value) debug(b *strings.Builder) {
	switch v.kind {
	case KindNull:
		b.WriteString("null")
	case KindString:
		b.WriteString(strconv.Quote(v.text))
	case KindNumber, KindBool:
		b.WriteString(v.text)
	case KindList:
		debugList(b, v.items)
	case KindMap:
		debugMap(b, v.keys, v.vals)
	case KindRef:
		b.WriteString("!Ref " + v.text)
	case KindGetAtt:
		b.WriteString("!GetAtt " + v.text + "." + v.attr)
	case KindSub:
		b.WriteString("!Sub ")
		if len(v.keys) == 0 {
			b.WriteString(strconv.Quote(v.text))
			return
		}
		b.WriteString("[" + strconv.Quote(v.text) + ", ")
		debugMap(b, v.keys, v.vals)
		b.WriteString("]")
	case KindJoin:
		b.WriteString("!Join [" + strconv.Quote(v.text) + ", ")
		debugList(b, v.items)
		b.WriteString("]")
	case KindSelect:
		b.WriteString("!Select ")
		debugList(b, v.items)
	case KindUnevaluated:
		b.WriteString("!" + strings.TrimPrefix(v.text, "Fn::") + " ")
		v.items[0].debug(b)
	}
}

func debugList(b *strings.Builder, items []Value) {
	b.WriteString("[")
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.debug(b)
	}
	b.WriteString("]")
}

func debugMap(b *strings.Builder, keys []string, vals map[string]Value) {
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + ": ")
		vals[k].debug(b)
	}
	b.WriteString("}")
}

// MarshalJSON writes v as CloudFormation JSON: literals as JSON values (map keys in
// source order), intrinsics in their long form ({"Ref": ...}, {"Fn::GetAtt": [...]}).
func (v Value) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := v.writeJSON(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (v Value) writeJSON(b *bytes.Buffer) error {
	str := func(s string) { writeJSONString(b, s) }
	switch v.kind {
	case KindNull:
		b.WriteString("null")
	case KindString:
		str(v.text)
	case KindNumber, KindBool:
		b.WriteString(v.text)
	case KindList:
		return writeJSONList(b, v.items)
	case KindMap:
		return writeJSONMap(b, v.keys, v.vals)
	case KindRef:
		b.WriteString(`{"Ref":`)
		str(v.text)
		b.WriteString("}")
	case KindGetAtt:
		b.WriteString(`{"Fn::GetAtt":[`)
		str(v.text)
		b.WriteString(",")
		str(v.attr)
		b.WriteString("]}")
	case KindSub:
		b.WriteString(`{"Fn::Sub":`)
		if len(v.keys) == 0 {
			str(v.text)
		} else {
			b.WriteString("[")
			str(v.text)
			b.WriteString(",")
			if err := writeJSONMap(b, v.keys, v.vals); err != nil {
				return err
			}
			b.WriteString("]")
		}
		b.WriteString("}")
	case KindJoin:
		b.WriteString(`{"Fn::Join":[`)
		str(v.text)
		b.WriteString(",")
		if err := writeJSONList(b, v.items); err != nil {
			return err
		}
		b.WriteString("]}")
	case KindSelect:
		b.WriteString(`{"Fn::Select":`)
		if err := writeJSONList(b, v.items); err != nil {
			return err
		}
		b.WriteString("}")
	case KindUnevaluated:
		b.WriteString("{")
		str(v.text)
		b.WriteString(":")
		if err := v.items[0].writeJSON(b); err != nil {
			return err
		}
		b.WriteString("}")
	default:
		return fmt.Errorf("marshal value: unknown kind %d", v.kind)
	}
	return nil
}

func writeJSONList(b *bytes.Buffer, items []Value) error {
	b.WriteString("[")
	for i, it := range items {
		if i > 0 {
			b.WriteString(",")
		}
		if err := it.writeJSON(b); err != nil {
			return err
		}
	}
	b.WriteString("]")
	return nil
}

func writeJSONMap(b *bytes.Buffer, keys []string, vals map[string]Value) error {
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		writeJSONString(b, k)
		b.WriteString(":")
		if err := vals[k].writeJSON(b); err != nil {
			return err
		}
	}
	b.WriteString("}")
	return nil
}

// resolveSub substitutes ${Name}, ${Resource.Attr} and ${!Literal} in a Fn::Sub template.
func (v Value) resolveSub(r Resolver) (string, error) {
	parts, err := parseSub(v.text)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", v, err)
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.isVar {
			b.WriteString(p.text)
			continue
		}
		var s string
		var err error
		if vv, ok := v.vals[p.text]; ok {
			s, err = vv.Resolve(r)
		} else if id, attr, ok := strings.Cut(p.text, "."); ok {
			s, err = r.GetAtt(id, attr)
		} else {
			s, err = r.Ref(p.text)
		}
		if err != nil {
			return "", fmt.Errorf("resolve %s: ${%s}: %w", v, p.text, err)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

type subPart struct {
	text  string
	isVar bool
}

// parseSub splits a Fn::Sub template into literal text and ${...} variables.
func parseSub(s string) ([]subPart, error) {
	var parts []subPart
	var lit strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit.WriteString(s)
			break
		}
		lit.WriteString(s[:i])
		s = s[i+2:]
		if strings.HasPrefix(s, "!") { // ${!Literal} is the text ${Literal}
			lit.WriteString("${")
			s = s[1:]
			continue
		}
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return nil, fmt.Errorf("unterminated ${ in Fn::Sub template")
		}
		name := strings.TrimSpace(s[:j])
		if name == "" {
			return nil, fmt.Errorf("empty ${} in Fn::Sub template")
		}
		if lit.Len() > 0 {
			parts = append(parts, subPart{text: lit.String()})
			lit.Reset()
		}
		parts = append(parts, subPart{text: name, isVar: true})
		s = s[j+1:]
	}
	if lit.Len() > 0 {
		parts = append(parts, subPart{text: lit.String()})
	}
	return parts, nil
}

// unsupportedIntrinsics are CloudFormation functions the local stack does not evaluate:
// kept as KindUnevaluated, and a template that uses them where the local stack would
// need their value (a resource it runs, Globals, Outputs) is rejected with a clear
// error rather than run wrongly (parser.checkEvaluated).
var unsupportedIntrinsics = map[string]bool{
	"Fn::If": true, "Fn::Equals": true, "Fn::Not": true, "Fn::And": true, "Fn::Or": true,
	"Condition": true, "Fn::FindInMap": true, "Fn::Base64": true, "Fn::Cidr": true,
	"Fn::GetAZs": true, "Fn::ImportValue": true, "Fn::Split": true, "Fn::Transform": true,
	"Fn::Length": true, "Fn::ToJsonString": true, "Fn::ForEach": true,
}

// fromNode converts a YAML node into a Value. path names the node in errors.
func fromNode(n *yaml.Node, path string) (Value, error) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return Value{}, nil
		}
		return fromNode(n.Content[0], path)
	}
	tag := n.ShortTag()
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		name := "Fn::" + tag[1:]
		if tag == "!Ref" || tag == "!Condition" {
			name = tag[1:]
		}
		// Decode the node as if it had no tag, then apply the function to it.
		plain := *n
		plain.Tag = ""
		if n.Kind == yaml.ScalarNode {
			plain.Tag = "!!str"
		}
		arg, err := fromNode(&plain, path+"."+tag)
		if err != nil {
			return Value{}, err
		}
		return intrinsic(name, arg, path, n.Line)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n, path)
	case yaml.SequenceNode:
		v := Value{kind: KindList, line: n.Line, items: make([]Value, 0, len(n.Content))}
		for i, c := range n.Content {
			it, err := fromNode(c, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return Value{}, err
			}
			v.items = append(v.items, it)
		}
		return v, nil
	case yaml.MappingNode:
		v := Value{kind: KindMap, line: n.Line, vals: map[string]Value{}}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			for kn.Kind == yaml.AliasNode {
				kn = kn.Alias
			}
			if kn.Kind != yaml.ScalarNode {
				return Value{}, errAt(path, kn.Line, "map keys must be scalars")
			}
			if kn.ShortTag() == "!!merge" {
				return Value{}, errAt(path, kn.Line, "YAML merge keys (<<) are not supported")
			}
			key := kn.Value
			if _, dup := v.vals[key]; dup {
				return Value{}, errAt(path, kn.Line, "duplicate key %q", key)
			}
			child, err := fromNode(vn, joinPath(path, key))
			if err != nil {
				return Value{}, err
			}
			v.keys = append(v.keys, key)
			v.vals[key] = child
		}
		if len(v.keys) == 1 {
			k := v.keys[0]
			if k == "Ref" || strings.HasPrefix(k, "Fn::") {
				return intrinsic(k, v.vals[k], path, n.Line)
			}
		}
		return v, nil
	}
	return Value{}, errAt(path, n.Line, "unexpected YAML node")
}

func scalar(n *yaml.Node, path string) (Value, error) {
	switch n.ShortTag() {
	case "!!null":
		return Value{line: n.Line}, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return Value{}, errAt(path, n.Line, "%v", err)
		}
		return Value{kind: KindBool, text: strconv.FormatBool(b), line: n.Line}, nil
	case "!!int", "!!float":
		var x any
		if err := n.Decode(&x); err != nil {
			return Value{}, errAt(path, n.Line, "%v", err)
		}
		var text string
		switch x := x.(type) {
		case int:
			text = strconv.Itoa(x)
		case int64:
			text = strconv.FormatInt(x, 10)
		case uint64:
			text = strconv.FormatUint(x, 10)
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return Value{}, errAt(path, n.Line, "number %s has no JSON form", n.Value)
			}
			text = n.Value
			if _, err := strconv.ParseFloat(text, 64); err != nil {
				text = strconv.FormatFloat(x, 'g', -1, 64)
			}
		default:
			return Value{}, errAt(path, n.Line, "unexpected number %q", n.Value)
		}
		return Value{kind: KindNumber, text: text, line: n.Line}, nil
	}
	// Strings, and everything YAML would give another type but CloudFormation
	// reads as text (timestamps, binary).
	return Value{kind: KindString, text: n.Value, line: n.Line}, nil
}

// intrinsic builds the Value of the intrinsic function name applied to arg.
func intrinsic(name string, arg Value, path string, line int) (Value, error) {
	p := path + "." + name
	switch name {
	case "Ref":
		s, ok := arg.Literal()
		if !ok || arg.kind != KindString || s == "" {
			return Value{}, errAt(p, line, "want a logical id, got %s", arg)
		}
		return Value{kind: KindRef, text: s, line: line}, nil
	case "Fn::GetAtt":
		var id, attr string
		switch arg.kind {
		case KindString:
			var ok bool
			id, attr, ok = strings.Cut(arg.text, ".")
			if !ok {
				return Value{}, errAt(p, line, "want LogicalId.Attribute, got %q", arg.text)
			}
		case KindList:
			if len(arg.items) != 2 || arg.items[0].kind != KindString || arg.items[1].kind != KindString {
				return Value{}, errAt(p, line, "want [LogicalId, Attribute], got %s", arg)
			}
			id, attr = arg.items[0].text, arg.items[1].text
		default:
			return Value{}, errAt(p, line, "want LogicalId.Attribute or [LogicalId, Attribute], got %s", arg)
		}
		if id == "" || attr == "" {
			return Value{}, errAt(p, line, "want LogicalId.Attribute, got %s", arg)
		}
		return Value{kind: KindGetAtt, text: id, attr: attr, line: line}, nil
	case "Fn::Sub":
		v := Value{kind: KindSub, line: line}
		switch arg.kind {
		case KindString:
			v.text = arg.text
		case KindList:
			if len(arg.items) != 2 || arg.items[0].kind != KindString || arg.items[1].kind != KindMap {
				return Value{}, errAt(p, line, "want a string or [string, {variables}], got %s", arg)
			}
			v.text = arg.items[0].text
			v.keys, v.vals = arg.items[1].keys, arg.items[1].vals
		default:
			return Value{}, errAt(p, line, "want a string or [string, {variables}], got %s", arg)
		}
		if _, err := parseSub(v.text); err != nil {
			return Value{}, errAt(p, line, "%v", err)
		}
		return v, nil
	case "Fn::Join":
		if arg.kind != KindList || len(arg.items) != 2 || arg.items[0].kind != KindString || arg.items[1].kind != KindList {
			return Value{}, errAt(p, line, "want [delimiter, [values]], got %s", arg)
		}
		return Value{kind: KindJoin, text: arg.items[0].text, items: arg.items[1].items, line: line}, nil
	case "Fn::Select":
		if arg.kind == KindList && len(arg.items) == 2 && arg.items[1].kind == KindUnevaluated {
			// A selection from a list only CloudFormation computes (Fn::Split...).
			return Value{kind: KindUnevaluated, text: name, items: []Value{arg}, line: line}, nil
		}
		if arg.kind != KindList || len(arg.items) != 2 || arg.items[1].kind != KindList {
			return Value{}, errAt(p, line, "want [index, [values]], got %s", arg)
		}
		return Value{kind: KindSelect, items: arg.items, line: line}, nil
	}
	if unsupportedIntrinsics[name] {
		return Value{kind: KindUnevaluated, text: name, items: []Value{arg}, line: line}, nil
	}
	return Value{}, errAt(path, line, "unknown intrinsic function %s", name)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// writeJSONString writes s as a JSON string without HTML escaping, so that patterns
// such as {"numeric": [">", 0]} read as written.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode ends with a newline
}
