// Package schema validates JSON values against the common subset of JSON Schema that
// event-type owners use: type, properties, required, additionalProperties, items,
// enum, const, minimum/maximum (and their exclusive forms), minLength/maxLength,
// pattern, minItems/maxItems, allOf/anyOf/oneOf/not. A schema using any other
// validation keyword ($ref included) is refused when it is registered rather than
// silently not enforced.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/eventhub/eventhub/shared/fault"
)

// Schema is a compiled schema.
type Schema struct {
	always     *bool // true or false schema
	types      []string
	properties map[string]*Schema
	propOrder  []string
	required   []string
	additional *Schema // nil: anything
	items      *Schema
	enum       []any
	hasConst   bool
	constVal   any
	min, max   *float64
	exMin      *float64
	exMax      *float64
	minLen     int
	maxLen     int // -1: none
	pattern    *regexp.Regexp
	minItems   int
	maxItems   int // -1: none
	allOf      []*Schema
	anyOf      []*Schema
	oneOf      []*Schema
	not        *Schema
}

// annotations carry no validation and are accepted.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "title": true, "description": true,
	"default": true, "examples": true, "format": true, "deprecated": true,
	"readOnly": true, "writeOnly": true, "$defs": true, "definitions": true,
}

var typeNames = map[string]bool{"null": true, "boolean": true, "object": true, "array": true, "number": true, "integer": true, "string": true}

// Compile reads a schema. Errors are Invalid faults whose path, under prefix, names
// the keyword that is wrong.
func Compile(raw []byte, prefix string) (*Schema, error) {
	v, err := decode(raw)
	if err != nil {
		return nil, fault.At(prefix, "schema is not valid JSON")
	}
	return compile(v, prefix)
}

func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func compile(v any, path string) (*Schema, error) {
	if b, ok := v.(bool); ok {
		return &Schema{always: &b, maxLen: -1, maxItems: -1}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fault.At(path, "a schema must be an object or a boolean")
	}
	s := &Schema{maxLen: -1, maxItems: -1}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv := m[k]
		kp := join(path, k)
		var err error
		switch k {
		case "type":
			err = s.compileType(kv, kp)
		case "properties":
			props, ok := kv.(map[string]any)
			if !ok {
				return nil, fault.At(kp, "must be an object of schemas")
			}
			s.properties = map[string]*Schema{}
			for name, ps := range props {
				if s.properties[name], err = compile(ps, join(kp, name)); err != nil {
					return nil, err
				}
				s.propOrder = append(s.propOrder, name)
			}
			sort.Strings(s.propOrder)
		case "required":
			arr, ok := kv.([]any)
			if !ok {
				return nil, fault.At(kp, "must be an array of strings")
			}
			for _, r := range arr {
				name, ok := r.(string)
				if !ok {
					return nil, fault.At(kp, "must be an array of strings")
				}
				s.required = append(s.required, name)
			}
		case "additionalProperties":
			s.additional, err = compile(kv, kp)
		case "items":
			s.items, err = compile(kv, kp)
		case "enum":
			arr, ok := kv.([]any)
			if !ok {
				return nil, fault.At(kp, "must be an array")
			}
			s.enum = arr
		case "const":
			s.hasConst, s.constVal = true, kv
		case "minimum":
			s.min, err = number(kv, kp)
		case "maximum":
			s.max, err = number(kv, kp)
		case "exclusiveMinimum":
			s.exMin, err = number(kv, kp)
		case "exclusiveMaximum":
			s.exMax, err = number(kv, kp)
		case "minLength":
			s.minLen, err = count(kv, kp)
		case "maxLength":
			s.maxLen, err = count(kv, kp)
		case "minItems":
			s.minItems, err = count(kv, kp)
		case "maxItems":
			s.maxItems, err = count(kv, kp)
		case "pattern":
			p, ok := kv.(string)
			if !ok {
				return nil, fault.At(kp, "must be a string")
			}
			if s.pattern, err = regexp.Compile(p); err != nil {
				return nil, fault.At(kp, "not a regular expression eventhub can run (RE2 syntax): %v", err)
			}
		case "allOf", "anyOf", "oneOf":
			arr, ok := kv.([]any)
			if !ok || len(arr) == 0 {
				return nil, fault.At(kp, "must be a non-empty array of schemas")
			}
			list := make([]*Schema, len(arr))
			for i, sub := range arr {
				if list[i], err = compile(sub, fmt.Sprintf("%s[%d]", kp, i)); err != nil {
					return nil, err
				}
			}
			switch k {
			case "allOf":
				s.allOf = list
			case "anyOf":
				s.anyOf = list
			default:
				s.oneOf = list
			}
		case "not":
			s.not, err = compile(kv, kp)
		default:
			if !annotations[k] {
				return nil, fault.At(kp, "unsupported JSON Schema keyword %q", k)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Schema) compileType(v any, path string) error {
	switch t := v.(type) {
	case string:
		if !typeNames[t] {
			return fault.At(path, "unknown type %q", t)
		}
		s.types = []string{t}
		return nil
	case []any:
		for _, x := range t {
			name, ok := x.(string)
			if !ok || !typeNames[name] {
				return fault.At(path, "must be a type name or an array of type names")
			}
			s.types = append(s.types, name)
		}
		return nil
	}
	return fault.At(path, "must be a type name or an array of type names")
}

func number(v any, path string) (*float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, fault.At(path, "must be a number")
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fault.At(path, "must be a finite number")
	}
	return &f, nil
}

func count(v any, path string) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fault.At(path, "must be a non-negative integer")
	}
	i, err := strconv.Atoi(n.String())
	if err != nil || i < 0 {
		return 0, fault.At(path, "must be a non-negative integer")
	}
	return i, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Validate checks a JSON value. The error, an Invalid fault, names the first failing
// location as a path under root (for example "data.items[2].sku").
func (s *Schema) Validate(raw []byte, root string) error {
	v, err := decode(raw)
	if err != nil {
		return fault.At(root, "is not valid JSON")
	}
	if e := s.validate(v, root); e != nil {
		return e
	}
	return nil
}

func (s *Schema) validate(v any, path string) *fault.Error {
	if s.always != nil {
		if !*s.always {
			return fault.At(pathOr(path), "no value is allowed here")
		}
		return nil
	}
	if len(s.types) > 0 && !s.typeOK(v) {
		return fault.At(pathOr(path), "must be %s, not %s", typeList(s.types), kind(v))
	}
	if s.enum != nil {
		found := false
		for _, e := range s.enum {
			if equal(e, v) {
				found = true
				break
			}
		}
		if !found {
			return fault.At(pathOr(path), "must be one of %s", compact(s.enum))
		}
	}
	if s.hasConst && !equal(s.constVal, v) {
		return fault.At(pathOr(path), "must be %s", compact(s.constVal))
	}
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil && !math.IsInf(f, 0) {
			return fault.At(pathOr(path), "is not a number eventhub can compare")
		}
		switch {
		case s.min != nil && f < *s.min:
			return fault.At(pathOr(path), "must be at least %v", *s.min)
		case s.max != nil && f > *s.max:
			return fault.At(pathOr(path), "must be at most %v", *s.max)
		case s.exMin != nil && f <= *s.exMin:
			return fault.At(pathOr(path), "must be greater than %v", *s.exMin)
		case s.exMax != nil && f >= *s.exMax:
			return fault.At(pathOr(path), "must be less than %v", *s.exMax)
		}
	case string:
		n := utf8.RuneCountInString(x)
		switch {
		case n < s.minLen:
			return fault.At(pathOr(path), "must be at least %d characters long", s.minLen)
		case s.maxLen >= 0 && n > s.maxLen:
			return fault.At(pathOr(path), "must be at most %d characters long", s.maxLen)
		case s.pattern != nil && !s.pattern.MatchString(x):
			return fault.At(pathOr(path), "must match the pattern %s", s.pattern)
		}
	case []any:
		switch {
		case len(x) < s.minItems:
			return fault.At(pathOr(path), "must have at least %d items", s.minItems)
		case s.maxItems >= 0 && len(x) > s.maxItems:
			return fault.At(pathOr(path), "must have at most %d items", s.maxItems)
		}
		if s.items != nil {
			for i, it := range x {
				if e := s.items.validate(it, fmt.Sprintf("%s[%d]", path, i)); e != nil {
					return e
				}
			}
		}
	case map[string]any:
		for _, r := range s.required {
			if _, ok := x[r]; !ok {
				return fault.At(join(path, r), "required property is missing")
			}
		}
		for _, name := range s.propOrder {
			if pv, ok := x[name]; ok {
				if e := s.properties[name].validate(pv, join(path, name)); e != nil {
					return e
				}
			}
		}
		if s.additional != nil {
			names := make([]string, 0, len(x))
			for name := range x {
				if _, declared := s.properties[name]; !declared {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			for _, name := range names {
				if s.additional.always != nil && !*s.additional.always {
					return fault.At(join(path, name), "property is not allowed (additionalProperties is false)")
				}
				if e := s.additional.validate(x[name], join(path, name)); e != nil {
					return e
				}
			}
		}
	}
	for _, sub := range s.allOf {
		if e := sub.validate(v, path); e != nil {
			return e
		}
	}
	if s.anyOf != nil {
		var first *fault.Error
		ok := false
		for _, sub := range s.anyOf {
			e := sub.validate(v, path)
			if e == nil {
				ok = true
				break
			}
			if first == nil {
				first = e
			}
		}
		if !ok {
			return fault.At(pathOr(path), "matches none of anyOf (first: %s)", first.Error())
		}
	}
	if s.oneOf != nil {
		n := 0
		for _, sub := range s.oneOf {
			if sub.validate(v, path) == nil {
				n++
			}
		}
		if n != 1 {
			return fault.At(pathOr(path), "must match exactly one of oneOf, matches %d", n)
		}
	}
	if s.not != nil && s.not.validate(v, path) == nil {
		return fault.At(pathOr(path), "must not match the schema in not")
	}
	return nil
}

func pathOr(p string) string {
	if p == "" {
		return "$"
	}
	return p
}

func (s *Schema) typeOK(v any) bool {
	k := kind(v)
	for _, t := range s.types {
		if t == k || (t == "number" && k == "integer") {
			return true
		}
	}
	return false
}

func kind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return "integer"
		}
		f, err := x.Float64()
		if err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

func typeList(ts []string) string {
	if len(ts) == 1 {
		return article(ts[0])
	}
	b, _ := json.Marshal(ts)
	return "one of the types " + string(b)
}

func article(t string) string {
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

// equal compares JSON values, numbers by value.
func equal(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, e1 := x.Float64()
		fy, e2 := y.Float64()
		return e1 == nil && e2 == nil && fx == fy
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return a == b
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
