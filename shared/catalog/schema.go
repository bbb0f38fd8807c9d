package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/eventhub/eventhub/shared/fault"
)

// Schema is an event type's compiled JSON Schema (any draft santhosh-tekuri/jsonschema
// knows, 2020-12 when the schema names none).
type Schema struct{ s *jsonschema.Schema }

// schemaURL names the one document a compiler holds: references inside it ("#/$defs/x")
// resolve against it, and nothing outside it is ever loaded.
const schemaURL = "https://eventhub.invalid/schema.json"

var printer = message.NewPrinter(language.English)

// noFetch refuses every URL that is not the schema itself or a draft's metaschema (those
// the library embeds): an owner's schema never makes a function reach the network or
// the file system.
type noFetch struct{}

func (noFetch) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is outside the schema: eventhub resolves only references inside the document", url)
}

// CompileSchema reads a JSON Schema. Errors are Invalid faults whose path, under prefix,
// names the keyword that is wrong ("schema.properties.a.pattern").
func CompileSchema(raw []byte, prefix string) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fault.At(prefix, "schema is not valid JSON")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noFetch{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fault.At(prefix, "%s", strings.ReplaceAll(err.Error(), schemaURL, "schema"))
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, compileFault(err, doc, prefix)
	}
	return &Schema{s: s}, nil
}

func compileFault(err error, doc any, prefix string) error {
	var sv *jsonschema.SchemaValidationError
	if errors.As(err, &sv) {
		var ve *jsonschema.ValidationError
		if errors.As(sv.Err, &ve) {
			return leafFault(ve, doc, prefix)
		}
	}
	var re *jsonschema.InvalidRegexError
	if errors.As(err, &re) {
		return fault.At(join(prefix, pointerPath(re.URL)), "is not a regular expression eventhub can run: %v", re.Err)
	}
	msg := strings.ReplaceAll(err.Error(), schemaURL, "schema")
	var target string
	var le *jsonschema.LoadURLError
	var pe *jsonschema.JSONPointerNotFoundError
	switch {
	case errors.As(err, &le):
		target = le.URL
		msg = "refers to " + le.URL + ", outside the schema: only references inside the document are resolved"
	case errors.As(err, &pe):
		target = pe.URL
	}
	if target != "" {
		if at, ok := findRef(doc, target, ""); ok {
			return fault.At(join(prefix, at), "%s", msg)
		}
	}
	return fault.At(prefix, "%s", msg)
}

// findRef finds the reference keyword ($ref, $dynamicRef, $schema) whose value names
// target, for an error about what target points to.
func findRef(doc any, target, path string) (string, bool) {
	switch x := doc.(type) {
	case map[string]any:
		for _, k := range []string{"$ref", "$dynamicRef", "$schema"} {
			if v, ok := x[k].(string); ok && v != "" && refers(v, target) {
				return join(path, k), true
			}
		}
		for k, v := range x {
			if at, ok := findRef(v, target, join(path, k)); ok {
				return at, true
			}
		}
	case []any:
		for i, v := range x {
			if at, ok := findRef(v, target, path+"["+strconv.Itoa(i)+"]"); ok {
				return at, true
			}
		}
	}
	return "", false
}

func refers(ref, target string) bool {
	if ref == target || strings.HasSuffix(target, "/"+ref) {
		return true
	}
	_, frag, ok := strings.Cut(target, "#")
	return ok && ref == "#"+frag
}

// pointerPath turns the fragment of a schema location ("...#/properties/a/pattern")
// into a dotted path ("properties.a.pattern").
func pointerPath(loc string) string {
	_, frag, ok := strings.Cut(loc, "#")
	if !ok || frag == "" {
		return ""
	}
	var parts []string
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// Validate checks a JSON value. The error, an Invalid fault, names the first failing
// location as a path under root (for example "data.items[2].sku").
func (s *Schema) Validate(raw []byte, root string) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fault.At(root, "is not valid JSON")
	}
	err = s.s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fault.At(root, "%v", err)
	}
	return leafFault(ve, v, root)
}

// leafFault reports the first violation under e: containers whose message only says
// "some subschema failed" (the root, allOf, $ref) are passed through to their first
// cause; anyOf, oneOf and not are reported where they stand, since no one cause of
// theirs is the reason.
func leafFault(e *jsonschema.ValidationError, doc any, root string) *fault.Error {
	for len(e.Causes) > 0 {
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
			e = e.Causes[0]
			continue
		}
		break
	}
	path := instancePath(root, e.InstanceLocation, doc)
	msg := e.ErrorKind.LocalizedString(printer)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return fault.At(join(path, k.Missing[0]), "required property is missing")
	case *kind.AdditionalProperties:
		return fault.At(join(path, k.Properties[0]), "property is not allowed (additionalProperties is false)")
	case *kind.AnyOf, *kind.OneOf:
		if len(e.Causes) > 0 {
			first := leafFault(e.Causes[0], doc, root)
			msg += " (first: " + first.Error() + ")"
		}
	}
	return fault.At(pathOr(path), "%s", msg)
}

// instancePath writes a JSON pointer's tokens as the dotted path with indexes that
// eventhub's errors use, looking at doc to tell an array index from a member name.
func instancePath(root string, tokens []string, doc any) string {
	var b strings.Builder
	b.WriteString(root)
	v := doc
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(x) {
				v = x[i]
			}
			continue
		case map[string]any:
			v = x[tok]
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func join(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "":
		return name
	}
	return path + "." + name
}

func pathOr(p string) string {
	if p == "" {
		return "$"
	}
	return p
}
