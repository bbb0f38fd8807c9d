package attributevalue

import (
	"reflect"
	"sort"
	"strings"
	"sync"
)

// tag is a field's dynamodbav struct tag.
type tag struct {
	Name                         string
	Ignore                       bool
	OmitEmpty, OmitEmptyElem     bool
	NullEmpty, NullEmptyElem     bool
	AsString                     bool
	AsBinSet, AsNumSet, AsStrSet bool
	AsUnixTime                   bool
}

func parseTag(st reflect.StructTag) tag {
	var t tag
	s := st.Get("dynamodbav")
	if s == "" {
		return t
	}
	parts := strings.Split(s, ",")
	if parts[0] == "-" {
		t.Ignore = true
	} else {
		t.Name = parts[0]
	}
	for _, opt := range parts[1:] {
		switch opt {
		case "omitempty":
			t.OmitEmpty = true
		case "omitemptyelem":
			t.OmitEmptyElem = true
		case "nullempty":
			t.NullEmpty = true
		case "nullemptyelem":
			t.NullEmptyElem = true
		case "string":
			t.AsString = true
		case "binaryset":
			t.AsBinSet = true
		case "numberset":
			t.AsNumSet = true
		case "stringset":
			t.AsStrSet = true
		case "unixtime":
			t.AsUnixTime = true
		}
	}
	return t
}

// field is an attribute of a struct: a field of it or of a struct it embeds, as
// encoding/json and the SDK's attributevalue choose them.
type field struct {
	tag
	Name        string
	NameFromTag bool
	Index       []int
	Type        reflect.Type
}

type fields struct {
	all    []field
	byName map[string]int
}

// byName finds the field of an attribute: by exact name, else case-insensitively.
func (fs *fields) find(name string) (field, bool) {
	if i, ok := fs.byName[name]; ok {
		return fs.all[i], true
	}
	for _, f := range fs.all {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return field{}, false
}

var fieldCache sync.Map // reflect.Type -> *fields

func structFields(t reflect.Type) *fields {
	if c, ok := fieldCache.Load(t); ok {
		return c.(*fields)
	}
	all := enumFields(t)
	sort.Slice(all, func(i, j int) bool { return byName(all[i], all[j]) })
	all = visible(all)
	fs := &fields{all: all, byName: make(map[string]int, len(all))}
	for i, f := range all {
		fs.byName[f.Name] = i
	}
	c, _ := fieldCache.LoadOrStore(t, fs)
	return c.(*fields)
}

// enumFields walks t breadth first through its embedded structs.
func enumFields(t reflect.Type) []field {
	current := []field{}
	next := []field{{Type: t}}
	count := map[reflect.Type]int{}
	nextCount := map[reflect.Type]int{}
	visited := map[reflect.Type]bool{}
	var out []field
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.Type] {
				continue
			}
			visited[f.Type] = true
			for i := 0; i < f.Type.NumField(); i++ {
				sf := f.Type.Field(i)
				if sf.PkgPath != "" && !sf.Anonymous {
					continue
				}
				ft := parseTag(sf.Tag)
				if ft.Ignore {
					continue
				}
				typ := sf.Type
				if typ.Name() == "" && typ.Kind() == reflect.Pointer {
					typ = typ.Elem()
				}
				sfield := field{tag: ft, Name: sf.Name, Type: typ}
				if ft.Name != "" {
					sfield.Name, sfield.NameFromTag = ft.Name, true
				}
				sfield.Index = append(append([]int{}, f.Index...), i)
				if !sf.Anonymous || ft.Name != "" || typ.Kind() != reflect.Struct {
					out = append(out, sfield)
					if count[f.Type] > 1 {
						out = append(out, sfield)
					}
					continue
				}
				nextCount[typ]++
				if nextCount[typ] == 1 {
					next = append(next, sfield)
				}
			}
		}
	}
	return out
}

func byName(a, b field) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if len(a.Index) != len(b.Index) {
		return len(a.Index) < len(b.Index)
	}
	if a.NameFromTag != b.NameFromTag {
		return a.NameFromTag
	}
	return byIndex(a, b)
}

func byIndex(a, b field) bool {
	for k, x := range a.Index {
		if k >= len(b.Index) {
			return false
		}
		if x != b.Index[k] {
			return x < b.Index[k]
		}
	}
	return len(a.Index) < len(b.Index)
}

// visible keeps the dominant field of each name, in index order.
func visible(fs []field) []field {
	out := fs[:0]
	for adv, i := 0, 0; i < len(fs); i += adv {
		name := fs[i].Name
		for adv = 1; i+adv < len(fs) && fs[i+adv].Name == name; adv++ {
		}
		if adv == 1 {
			out = append(out, fs[i])
			continue
		}
		if d, ok := dominant(fs[i : i+adv]); ok {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return byIndex(out[i], out[j]) })
	return out
}

func dominant(fs []field) (field, bool) {
	depth := len(fs[0].Index)
	tagged := -1
	for i, f := range fs {
		if len(f.Index) > depth {
			fs = fs[:i]
			break
		}
		if f.NameFromTag {
			if tagged >= 0 {
				return field{}, false
			}
			tagged = i
		}
	}
	if tagged >= 0 {
		return fs[tagged], true
	}
	if len(fs) > 1 {
		return field{}, false
	}
	return fs[0], true
}
