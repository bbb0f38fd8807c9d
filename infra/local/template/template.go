// Package template reads eventhub's SAM template into the model the local stack runs.
//
// Parse keeps every CloudFormation intrinsic function as a Value to be resolved later,
// once the local stack knows the physical names of its resources (see Locals). It
// merges Globals into each function the way the SAM translator does, and turns the
// functions' HttpApi, EventBridgeRule and SQS events into routes, rules and SQS
// sources; AWS::Lambda::EventSourceMapping resources on a template queue become SQS
// sources of their function too.
package template

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resource types the local stack runs.
const (
	TypeFunction = "AWS::Serverless::Function"
	TypeQueue    = "AWS::SQS::Queue"
	TypeTable    = "AWS::DynamoDB::Table"
	TypeBus      = "AWS::Events::EventBus"
	TypeMapping  = "AWS::Lambda::EventSourceMapping"
	TypeRule     = "AWS::Events::Rule"
	TypeHTTPAPI  = "AWS::Serverless::HttpApi" // served from its routes, the functions' HttpApi events
)

// Template is the model of a SAM template.
type Template struct {
	Description string               `json:",omitempty"`
	Parameters  map[string]Parameter `json:",omitempty"`
	Functions   []Function           // sorted by LogicalID
	Queues      []Queue              // sorted by LogicalID; includes queues SAM generates
	Tables      []Table              // sorted by LogicalID
	Buses       []Bus                // sorted by LogicalID
	EventRules  []EventRule          `json:",omitempty"` // AWS::Events::Rule resources, sorted by LogicalID
	Outputs     map[string]Value     `json:",omitempty"`
	Resources   map[string]Resource  // every resource as written (functions before Globals are merged)
	// NotRun lists the resources of types the local stack does not run (alarms,
	// dashboards, log groups, topics...), as "LogicalID (Type)", sorted: they are read
	// and checked for references, and otherwise ignored.
	NotRun []string `json:",omitempty"`
	// Warnings name what the template asks for that the local stack does not do
	// (a resource type it does not run, a schedule, an event source of another
	// kind); the stack logs each at start. Notes name resources that have no
	// local effect (permissions).
	Warnings []*Error `json:",omitempty"`
	Notes    []*Error `json:",omitempty"`
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	Type           string
	Description    string   `json:",omitempty"`
	Default        string   `json:",omitempty"`
	HasDefault     bool     `json:",omitempty"`
	NoEcho         bool     `json:",omitempty"`
	AllowedValues  []string `json:",omitempty"`
	AllowedPattern string   `json:",omitempty"`
	MinValue       *float64 `json:",omitempty"`
	MaxValue       *float64 `json:",omitempty"`
	MinLength      *int     `json:",omitempty"`
	MaxLength      *int     `json:",omitempty"`
}

// Resource is a resource as written in the template, for checks over the whole
// template (for example "every queue has a redrive policy").
type Resource struct {
	Type       string
	Properties Value    `json:",omitzero"`
	Metadata   Value    `json:",omitzero"`
	DependsOn  []string `json:",omitempty"`
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a SAM template written in YAML (or JSON). The error, if any, lists
// every problem found, each naming its property path and line.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	root, err := fromNode(&doc, "")
	if err != nil {
		return nil, err
	}
	if root.kind != KindMap {
		return nil, errAt("template", root.line, "want a map at the top level, got %s", root.kind)
	}
	p := &parser{}
	t := p.template(root)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	t.Warnings, t.Notes = p.warnings, p.notes
	return t, nil
}

// parser collects every problem of a template instead of stopping at the first.
type parser struct {
	errs     []error
	warnings []*Error
	notes    []*Error
}

func (p *parser) fail(path string, line int, format string, args ...any) {
	p.errs = append(p.errs, errAt(path, line, format, args...))
}

func (p *parser) template(root Value) *Template {
	t := &Template{
		Parameters: map[string]Parameter{},
		Outputs:    map[string]Value{},
		Resources:  map[string]Resource{},
	}
	p.checkKeys(root, "", "AWSTemplateFormatVersion", "Transform", "Description", "Metadata",
		"Parameters", "Mappings", "Conditions", "Rules", "Globals", "Resources", "Outputs")
	t.Description = p.str(root, "", "Description")

	params := p.mapField(root, "", "Parameters")
	for _, name := range params.Keys() {
		t.Parameters[name] = p.parameter(params.Field(name), "Parameters."+name)
	}

	globals := p.mapField(root, "", "Globals")
	fnGlobals := p.mapField(globals, "Globals", "Function")

	resources := p.mapField(root, "", "Resources")
	if resources.IsZero() {
		p.fail("Resources", root.line, "missing")
	}
	var mappings []string
	for _, id := range resources.Keys() {
		path := "Resources." + id
		r := resources.Field(id)
		if r.kind != KindMap {
			p.fail(path, r.line, "want a map, got %s", r.kind)
			continue
		}
		p.checkKeys(r, path, "Type", "Properties", "Metadata", "DependsOn", "Condition",
			"DeletionPolicy", "UpdateReplacePolicy", "UpdatePolicy", "CreationPolicy")
		if c := r.Field("Condition"); !c.IsZero() {
			p.fail(path+".Condition", c.line, "conditional resources are not supported by the local stack")
		}
		res := Resource{
			Type:       p.str(r, path, "Type"),
			Properties: p.mapField(r, path, "Properties"),
			Metadata:   p.mapField(r, path, "Metadata"),
			DependsOn:  p.strOrList(r, path, "DependsOn"),
		}
		if res.Type == "" {
			p.fail(path+".Type", r.line, "missing")
		}
		t.Resources[id] = res
		switch res.Type {
		case TypeFunction:
			props := mergeGlobals(fnGlobals, res.Properties)
			t.Functions = append(t.Functions, p.function(id, props, res.Metadata, t))
		case TypeQueue:
			t.Queues = append(t.Queues, p.queue(id, res.Properties))
		case TypeTable:
			t.Tables = append(t.Tables, p.table(id, res.Properties))
		case TypeBus:
			t.Buses = append(t.Buses, Bus{LogicalID: id, Name: res.Properties.Field("Name")})
		case TypeMapping:
			mappings = append(mappings, id)
		case TypeRule:
			t.EventRules = append(t.EventRules, p.eventRule(id, res.Properties))
		case TypeHTTPAPI:
		default:
			// Read and checked for references, and otherwise not run: the stack warns
			// of each (noteResource); what it holds may use intrinsics the local
			// stack does not evaluate (Fn::If).
			p.noteResource(id, res.Type, r.line)
			if res.Type != "" {
				t.NotRun = append(t.NotRun, id+" ("+res.Type+")")
			}
			continue
		}
		p.checkEvaluated(r, path)
	}
	for _, id := range mappings {
		p.eventSourceMapping(id, t)
	}
	slices.Sort(t.NotRun)
	p.checkEvaluated(globals, "Globals")
	p.checkEvaluated(params, "Parameters")

	outputs := p.mapField(root, "", "Outputs")
	for _, name := range outputs.Keys() {
		o := outputs.Field(name)
		if o.kind != KindMap {
			p.fail("Outputs."+name, o.line, "want a map, got %s", o.kind)
			continue
		}
		v, ok := o.Get("Value")
		if !ok {
			p.fail("Outputs."+name+".Value", o.line, "missing")
		}
		p.checkEvaluated(v, "Outputs."+name+".Value")
		t.Outputs[name] = v
	}

	byID := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortFunc(t.Functions, func(a, b Function) int { return byID(a.LogicalID, b.LogicalID) })
	slices.SortFunc(t.Queues, func(a, b Queue) int { return byID(a.LogicalID, b.LogicalID) })
	slices.SortFunc(t.Tables, func(a, b Table) int { return byID(a.LogicalID, b.LogicalID) })
	slices.SortFunc(t.Buses, func(a, b Bus) int { return byID(a.LogicalID, b.LogicalID) })
	slices.SortFunc(t.EventRules, func(a, b EventRule) int { return byID(a.LogicalID, b.LogicalID) })
	p.checkRoutes(t)
	p.checkReferences(t, root)
	return t
}

func (p *parser) parameter(v Value, path string) Parameter {
	if v.kind != KindMap {
		p.fail(path, v.line, "want a map, got %s", v.kind)
		return Parameter{}
	}
	p.checkKeys(v, path, "Type", "Description", "Default", "NoEcho", "AllowedValues",
		"AllowedPattern", "MinValue", "MaxValue", "MinLength", "MaxLength", "ConstraintDescription")
	par := Parameter{
		Type:           p.str(v, path, "Type"),
		Description:    p.str(v, path, "Description"),
		NoEcho:         p.boolean(v, path, "NoEcho", false),
		AllowedValues:  p.strList(v, path, "AllowedValues"),
		AllowedPattern: p.str(v, path, "AllowedPattern"),
		MinValue:       p.optFloat(v, path, "MinValue"),
		MaxValue:       p.optFloat(v, path, "MaxValue"),
		MinLength:      p.optInt(v, path, "MinLength"),
		MaxLength:      p.optInt(v, path, "MaxLength"),
	}
	if par.Type == "" {
		p.fail(path+".Type", v.line, "missing")
	}
	if d, ok := v.Get("Default"); ok {
		par.Default, par.HasDefault = p.literal(d, path+".Default"), true
	}
	return par
}

// checkEvaluated rejects intrinsic functions the local stack does not evaluate inside
// v, a part of the template whose values it needs.
func (p *parser) checkEvaluated(v Value, path string) {
	switch v.kind {
	case KindUnevaluated:
		p.fail(path, v.line, "intrinsic function %s is not supported by the local stack", v.text)
		return
	case KindList:
		for i, it := range v.items {
			p.checkEvaluated(it, fmt.Sprintf("%s[%d]", path, i))
		}
		return
	}
	for _, it := range v.items {
		p.checkEvaluated(it, path)
	}
	for _, k := range v.keys {
		p.checkEvaluated(v.vals[k], joinPath(path, k))
	}
}

// checkRoutes rejects two functions (or two events) claiming the same route.
func (p *parser) checkRoutes(t *Template) {
	seen := map[string]string{}
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			key := r.ApiID.String() + " " + r.Method + " " + r.Path
			where := "Resources." + f.LogicalID + ".Properties.Events." + r.Event
			if prev, dup := seen[key]; dup {
				p.fail(where, 0, "duplicate route %s %s on %s: already declared by %s", r.Method, r.Path, r.ApiID, prev)
				continue
			}
			seen[key] = where
		}
	}
}

// checkReferences reports Refs and GetAtts to logical ids the template does not
// declare, so a typo fails at load time rather than when a value is resolved.
func (p *parser) checkReferences(t *Template, root Value) {
	known := func(id string) bool {
		if _, ok := t.Parameters[id]; ok {
			return true
		}
		if _, ok := t.Resources[id]; ok {
			return true
		}
		for _, q := range t.Queues { // queues SAM generates
			if q.LogicalID == id {
				return true
			}
		}
		for _, f := range t.Functions {
			if f.Role.IsZero() && id == f.LogicalID+"Role" { // the execution role SAM generates
				return true
			}
			for _, r := range f.Rules { // the rules SAM generates: <function><event>
				if f.LogicalID+r.Name == id {
					return true
				}
			}
		}
		return id == implicitHTTPAPI
	}
	for _, section := range []string{"Globals", "Resources", "Outputs"} {
		s := root.Field(section)
		for _, id := range s.References() {
			if !known(id) {
				p.fail(section, 0, "reference to undeclared logical id %q", id)
			}
		}
	}
}

// mergeGlobals merges the Globals section of a resource type into a resource's
// properties as the SAM translator does: maps are merged key by key, lists are
// concatenated (globals first), and for scalars, intrinsic functions and values of
// different kinds the resource's value wins.
func mergeGlobals(global, local Value) Value {
	if global.IsZero() {
		return local
	}
	if local.IsZero() {
		return global
	}
	if global.kind != local.kind {
		return local
	}
	switch global.kind {
	case KindMap:
		out := Value{kind: KindMap, line: local.line, vals: make(map[string]Value, len(global.keys)+len(local.keys))}
		out.keys = append(out.keys, global.keys...)
		for _, k := range global.keys {
			out.vals[k] = global.vals[k]
		}
		for _, k := range local.keys {
			if g, ok := out.vals[k]; ok {
				out.vals[k] = mergeGlobals(g, local.vals[k])
				continue
			}
			out.keys = append(out.keys, k)
			out.vals[k] = local.vals[k]
		}
		return out
	case KindList:
		out := local
		out.items = append(slices.Clip(global.items), local.items...)
		return out
	}
	return local
}

// Accessors of map fields that record a problem and return a zero value.

func (p *parser) checkKeys(m Value, path string, allowed ...string) {
	for _, k := range m.Keys() {
		if !slices.Contains(allowed, k) {
			p.fail(joinPath(path, k), m.vals[k].line, "unknown or unsupported property (want one of %s)", strings.Join(allowed, ", "))
		}
	}
}

// literal returns the text of a scalar; an intrinsic or a list is a problem.
func (p *parser) literal(v Value, path string) string {
	s, ok := v.Literal()
	if !ok && !v.IsZero() {
		p.fail(path, v.line, "want a literal value, got %s", v)
	}
	return s
}

func (p *parser) str(m Value, path, key string) string {
	return p.literal(m.Field(key), joinPath(path, key))
}

func (p *parser) mapField(m Value, path, key string) Value {
	v := m.Field(key)
	if !v.IsZero() && v.kind != KindMap {
		p.fail(joinPath(path, key), v.line, "want a map, got %s", v)
		return Value{}
	}
	return v
}

func (p *parser) integer(m Value, path, key string, def int) int {
	v := m.Field(key)
	if v.IsZero() {
		return def
	}
	n, err := strconv.Atoi(v.text)
	if err != nil || (v.kind != KindNumber && v.kind != KindString) {
		p.fail(joinPath(path, key), v.line, "want an integer, got %s", v)
		return def
	}
	return n
}

func (p *parser) optInt(m Value, path, key string) *int {
	if m.Field(key).IsZero() {
		return nil
	}
	n := p.integer(m, path, key, 0)
	return &n
}

func (p *parser) optFloat(m Value, path, key string) *float64 {
	v := m.Field(key)
	if v.IsZero() {
		return nil
	}
	f, err := strconv.ParseFloat(v.text, 64)
	if err != nil || (v.kind != KindNumber && v.kind != KindString) {
		p.fail(joinPath(path, key), v.line, "want a number, got %s", v)
		return nil
	}
	return &f
}

func (p *parser) boolean(m Value, path, key string, def bool) bool {
	v := m.Field(key)
	if v.IsZero() {
		return def
	}
	switch {
	case (v.kind == KindBool || v.kind == KindString) && strings.EqualFold(v.text, "true"):
		return true
	case (v.kind == KindBool || v.kind == KindString) && strings.EqualFold(v.text, "false"):
		return false
	}
	p.fail(joinPath(path, key), v.line, "want true or false, got %s", v)
	return def
}

func (p *parser) strList(m Value, path, key string) []string {
	v := m.Field(key)
	if v.IsZero() {
		return nil
	}
	if v.kind != KindList {
		p.fail(joinPath(path, key), v.line, "want a list, got %s", v)
		return nil
	}
	out := make([]string, 0, len(v.items))
	for i, it := range v.items {
		out = append(out, p.literal(it, fmt.Sprintf("%s[%d]", joinPath(path, key), i)))
	}
	return out
}

// strOrList reads a property that may be one string or a list of strings.
func (p *parser) strOrList(m Value, path, key string) []string {
	v := m.Field(key)
	if s, ok := v.Literal(); ok {
		return []string{s}
	}
	return p.strList(m, path, key)
}
