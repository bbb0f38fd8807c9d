package catalog

import (
	"strings"
	"testing"

	"github.com/eventhub/eventhub/shared/fault"
)

const order = `{
  "type": "object",
  "required": ["orderId", "amount"],
  "properties": {
    "orderId": {"type": "string", "pattern": "^SO-[0-9]+$"},
    "amount": {"type": "number", "minimum": 0, "exclusiveMaximum": 1000000},
    "currency": {"enum": ["CNY", "USD"]},
    "items": {"type": "array", "minItems": 1, "items": {
      "type": "object", "required": ["sku"], "additionalProperties": false,
      "properties": {"sku": {"type": "string", "minLength": 1, "maxLength": 8}, "qty": {"type": "integer", "minimum": 1}}
    }},
    "note": {"type": ["string", "null"]},
    "kind": {"const": "retail"},
    "code": {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}]},
    "flag": {"not": {"const": true}},
    "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}]}
  }
}`

func TestSchemaValidate(t *testing.T) {
	s, err := CompileSchema([]byte(order), "schema")
	if err != nil {
		t.Fatalf("Compile = %v", err)
	}
	tests := []struct {
		name, data, path, msg string // path "" = valid
	}{
		{name: "valid", data: `{"orderId":"SO-1","amount":42.5,"currency":"CNY","items":[{"sku":"A1","qty":2}],"note":null,"kind":"retail","code":"abc","flag":false,"one":3}`},
		{name: "integer as number", data: `{"orderId":"SO-1","amount":1,"items":[{"sku":"A","qty":2.0}]}`},
		{name: "not an object", data: `[]`, path: "data", msg: "want object"},
		{name: "missing required", data: `{"orderId":"SO-1"}`, path: "data.amount", msg: "required"},
		{name: "wrong type", data: `{"orderId":1,"amount":1}`, path: "data.orderId", msg: "want string"},
		{name: "pattern", data: `{"orderId":"PO-1","amount":1}`, path: "data.orderId", msg: "does not match pattern"},
		{name: "minimum", data: `{"orderId":"SO-1","amount":-1}`, path: "data.amount", msg: "minimum"},
		{name: "exclusive maximum", data: `{"orderId":"SO-1","amount":1000000}`, path: "data.amount", msg: "exclusiveMaximum"},
		{name: "enum", data: `{"orderId":"SO-1","amount":1,"currency":"EUR"}`, path: "data.currency", msg: "CNY"},
		{name: "min items", data: `{"orderId":"SO-1","amount":1,"items":[]}`, path: "data.items", msg: "minItems"},
		{name: "nested required", data: `{"orderId":"SO-1","amount":1,"items":[{"sku":"A"},{"qty":1}]}`, path: "data.items[1].sku", msg: "required"},
		{name: "additional property", data: `{"orderId":"SO-1","amount":1,"items":[{"sku":"A","colour":"red"}]}`, path: "data.items[0].colour", msg: "not allowed"},
		{name: "max length", data: `{"orderId":"SO-1","amount":1,"items":[{"sku":"ABCDEFGHI"}]}`, path: "data.items[0].sku", msg: "maxLength"},
		{name: "integer", data: `{"orderId":"SO-1","amount":1,"items":[{"sku":"A","qty":1.5}]}`, path: "data.items[0].qty", msg: "want integer"},
		{name: "type list", data: `{"orderId":"SO-1","amount":1,"note":3}`, path: "data.note", msg: "want null or string"},
		{name: "const", data: `{"orderId":"SO-1","amount":1,"kind":"wholesale"}`, path: "data.kind", msg: "retail"},
		{name: "anyOf", data: `{"orderId":"SO-1","amount":1,"code":"abcd"}`, path: "data.code", msg: "anyOf"},
		{name: "not", data: `{"orderId":"SO-1","amount":1,"flag":true}`, path: "data.flag", msg: "not"},
		{name: "oneOf matches two", data: `{"orderId":"SO-1","amount":1,"one":12}`, path: "data.one", msg: "oneOf"},
		{name: "huge number", data: `{"orderId":"SO-1","amount":1e999}`, path: "data.amount", msg: "exclusiveMaximum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, s, tc.data, tc.path, tc.msg) })
	}
}

func TestCompileSchemaErrors(t *testing.T) {
	tests := []struct{ name, schema, path string }{
		{"ref to nothing", `{"$ref":"#/definitions/x"}`, "schema.$ref"},
		{"remote ref", `{"$ref":"https://example.com/s.json"}`, "schema.$ref"},
		{"file ref", `{"properties":{"a":{"$ref":"file:///etc/passwd"}}}`, "schema.properties.a.$ref"},
		{"relative ref", `{"$ref":"other.json"}`, "schema.$ref"},
		{"remote metaschema", `{"$schema":"https://example.com/meta"}`, "schema.$schema"},
		{"unknown type", `{"type":"text"}`, "schema.type"},
		{"bad pattern", `{"properties":{"a":{"pattern":"(?<=x)"}}}`, "schema.properties.a.pattern"},
		{"negative length", `{"minLength":-1}`, "schema.minLength"},
		{"not a schema", `{"items":3}`, "schema.items"},
		{"required not strings", `{"required":[1]}`, "schema.required[0]"},
		{"empty anyOf", `{"anyOf":[]}`, "schema.anyOf"},
		{"bad property pattern", `{"patternProperties":{"(":{}}}`, "schema"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileSchema([]byte(tc.schema), "schema")
			e, ok := fault.As(err)
			if !ok || e.Path != tc.path {
				t.Fatalf("Compile = %v; want an error at %s", err, tc.path)
			}
		})
	}
	if _, err := CompileSchema([]byte(`{"title":"x","description":"y","$schema":"https://json-schema.org/draft/2020-12/schema","format":"date-time"}`), "schema"); err != nil {
		t.Errorf("annotations: Compile = %v; want nil", err)
	}
	if s, err := CompileSchema([]byte(`false`), "schema"); err != nil || s.Validate([]byte(`1`), "data") == nil {
		t.Errorf("false schema accepts a value (%v)", err)
	}
}

// An owner's schema may use the whole of draft 2020-12: definitions and references
// inside the document, conditionals, property patterns and formats.
func TestSchemaDraft2020(t *testing.T) {
	s, err := CompileSchema([]byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"}},
  "type": "object",
  "properties": {
    "kind": {"enum": ["retail", "wholesale"]},
    "items": {"type": "array", "items": {"$ref": "#/$defs/sku"}},
    "at": {"type": "string", "format": "date-time"}
  },
  "if": {"properties": {"kind": {"const": "wholesale"}}},
  "then": {"required": ["vat"]},
  "patternProperties": {"^x-": {"type": "string"}}
}`), "schema")
	if err != nil {
		t.Fatalf("CompileSchema = %v", err)
	}
	tests := []struct{ name, data, path string }{
		{"valid", `{"kind":"wholesale","vat":"DE1","items":["ABC-1"],"x-note":"n","at":"2026-01-02T03:04:05Z"}`, ""},
		{"ref", `{"items":["ABC-1","abc"]}`, "data.items[1]"},
		{"if then", `{"kind":"wholesale"}`, "data.vat"},
		{"if not taken", `{"kind":"retail"}`, ""},
		{"pattern property", `{"x-note":1}`, "data.x-note"},
		{"format", `{"at":"yesterday"}`, "data.at"},
		{"index-like member name", `{"items":{"1":"x"}}`, "data.items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkValidate(t, s, tc.data, tc.path, "") })
	}
}

// checkValidate validates data and wants it valid (path "") or failing at path with a
// message containing msg.
func checkValidate(t *testing.T, s *Schema, data, path, msg string) {
	t.Helper()
	err := s.Validate([]byte(data), "data")
	if path == "" {
		if err != nil {
			t.Fatalf("Validate = %v; want nil", err)
		}
		return
	}
	if e, ok := fault.As(err); !ok || e.Path != path || !strings.Contains(e.Message, msg) {
		t.Fatalf("Validate = %v; want %s: ...%s...", err, path, msg)
	}
}
