// Package attributevalue converts Go values to and from DynamoDB attribute values by
// reflection, honouring dynamodbav struct tags, exactly as the SDK's
// feature/dynamodb/attributevalue does with its default options (the differential
// tests hold it to that), so that items written by either read back the same.
package attributevalue

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/types"
)

var (
	timeType           = reflect.TypeFor[time.Time]()
	byteSliceType      = reflect.TypeFor[[]byte]()
	byteSliceSliceType = reflect.TypeFor[[][]byte]()
	stringAnyMapType   = reflect.TypeFor[map[string]any]()
)

// MarshalError is a value that has no attribute value.
type MarshalError struct{ msg string }

func (e *MarshalError) Error() string { return "marshal failed, " + e.msg }

// Marshal returns the attribute value of in.
func Marshal(in any) (types.AttributeValue, error) {
	return encode(reflect.ValueOf(in), tag{})
}

// MarshalMap returns the attributes of in, a struct or map (an empty map for other
// values).
func MarshalMap(in any) (map[string]types.AttributeValue, error) {
	av, err := Marshal(in)
	m, ok := av.(*types.AttributeValueMemberM)
	if err != nil || av == nil || !ok {
		return map[string]types.AttributeValue{}, err
	}
	return m.Value, nil
}

// MarshalList returns the attribute values of the elements of in.
func MarshalList(in any) ([]types.AttributeValue, error) {
	av, err := Marshal(in)
	l, ok := av.(*types.AttributeValueMemberL)
	if err != nil || av == nil || !ok {
		return []types.AttributeValue{}, err
	}
	return l.Value, nil
}

func null() types.AttributeValue { return &types.AttributeValueMemberNULL{Value: true} }

// encode returns nil for a value that has no attribute (omitted).
func encode(v reflect.Value, t tag) (types.AttributeValue, error) {
	if t.Ignore {
		return nil, nil
	}
	if isZero(v) {
		if t.OmitEmpty && t.NullEmpty {
			return nil, &MarshalError{"unable to encode AttributeValue for zero value field with incompatible struct tags, omitempty and nullempty"}
		}
		if t.OmitEmpty {
			return nil, nil
		}
		if isNullableZero(v) || t.NullEmpty {
			return null(), nil
		}
	}
	if v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Invalid:
		if t.OmitEmpty {
			return nil, nil
		}
		return null(), nil
	case reflect.Struct:
		return encodeStruct(v, t)
	case reflect.Map:
		return encodeMap(v, t)
	case reflect.Slice, reflect.Array:
		return encodeSlice(v, t)
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return nil, nil
	case reflect.Pointer:
		if el := v.Elem(); el.IsValid() {
			return encode(el, t)
		}
		if t.OmitEmpty && t.OmitEmptyElem {
			return nil, nil
		}
		return null(), nil
	}
	return encodeScalar(v, t)
}

func encodeStruct(v reflect.Value, t tag) (types.AttributeValue, error) {
	if v.Type().ConvertibleTo(timeType) {
		tm := v.Convert(timeType).Interface().(time.Time)
		if t.AsUnixTime {
			return &types.AttributeValueMemberN{Value: strconv.FormatInt(tm.Unix(), 10)}, nil
		}
		return &types.AttributeValueMemberS{Value: tm.Format(time.RFC3339Nano)}, nil
	}
	m := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
	for _, f := range structFields(v.Type()).all {
		if f.Name == "" {
			return nil, &MarshalError{"map key cannot be empty"}
		}
		fv, ok := fieldForEncode(v, f.Index)
		if !ok {
			continue
		}
		av, err := encode(fv, f.tag)
		if err != nil {
			return nil, err
		}
		if av != nil {
			m.Value[f.Name] = av
		}
	}
	return m, nil
}

func fieldForEncode(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func encodeMap(v reflect.Value, t tag) (types.AttributeValue, error) {
	m := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
	elemTag := tag{OmitEmpty: t.OmitEmptyElem, OmitEmptyElem: t.OmitEmptyElem, NullEmpty: t.NullEmptyElem}
	iter := v.MapRange()
	for iter.Next() {
		k, err := mapKey(iter.Key())
		if err != nil {
			return nil, err
		}
		av, err := encode(iter.Value(), elemTag)
		if err != nil {
			return nil, err
		}
		if av != nil {
			m.Value[k] = av
		}
	}
	return m, nil
}

func mapKey(k reflect.Value) (string, error) {
	var s string
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		b, err := tm.MarshalText()
		if err != nil {
			return "", fmt.Errorf("failed to marshal text, %w", err)
		}
		s = string(b)
	} else {
		switch k.Kind() {
		case reflect.Bool, reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			s = fmt.Sprint(k.Interface())
		default:
			return "", &MarshalError{"map key type not supported, must be string, number, bool, or TextMarshaler"}
		}
	}
	if s == "" {
		return "", &MarshalError{"map key cannot be empty"}
	}
	return s, nil
}

func encodeSlice(v reflect.Value, t tag) (types.AttributeValue, error) {
	if v.Type().Elem().Kind() == reflect.Uint8 {
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return &types.AttributeValueMemberB{Value: b}, nil
	}
	elemTag := tag{OmitEmpty: t.OmitEmptyElem, OmitEmptyElem: t.OmitEmptyElem, NullEmpty: t.NullEmptyElem}
	elems := make([]types.AttributeValue, 0, v.Len())
	for i := 0; i < v.Len(); i++ {
		av, err := encode(v.Index(i), elemTag)
		if err != nil {
			return nil, err
		}
		if av != nil {
			elems = append(elems, av)
		}
	}
	switch {
	case t.AsBinSet || v.Type() == byteSliceSliceType:
		if v.Len() == 0 {
			return null(), nil
		}
		bs := &types.AttributeValueMemberBS{Value: make([][]byte, 0, len(elems))}
		for _, e := range elems {
			b, ok := e.(*types.AttributeValueMemberB)
			if !ok || b.Value == nil {
				return nil, &MarshalError{"binary set must only contain non-nil byte slices"}
			}
			bs.Value = append(bs.Value, b.Value)
		}
		return bs, nil
	case t.AsNumSet:
		if v.Len() == 0 {
			return null(), nil
		}
		ns := &types.AttributeValueMemberNS{Value: make([]string, 0, len(elems))}
		for _, e := range elems {
			n, ok := e.(*types.AttributeValueMemberN)
			if !ok {
				return nil, &MarshalError{"number set must only contain non-nil string numbers"}
			}
			ns.Value = append(ns.Value, n.Value)
		}
		return ns, nil
	case t.AsStrSet:
		if v.Len() == 0 {
			return null(), nil
		}
		ss := &types.AttributeValueMemberSS{Value: make([]string, 0, len(elems))}
		for _, e := range elems {
			s, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				return nil, &MarshalError{"string set must only contain non-nil strings"}
			}
			ss.Value = append(ss.Value, s.Value)
		}
		return ss, nil
	}
	return &types.AttributeValueMemberL{Value: elems}, nil
}

// isNumber reports whether v is a string type with the methods of json.Number.
func isNumber(v reflect.Value) bool {
	type numberer interface {
		Float64() (float64, error)
		Int64() (int64, error)
		String() string
	}
	if v.Kind() != reflect.String || !v.CanInterface() {
		return false
	}
	_, ok := v.Interface().(numberer)
	return ok
}

func encodeScalar(v reflect.Value, t tag) (types.AttributeValue, error) {
	if isNumber(v) {
		if t.AsString {
			return &types.AttributeValueMemberS{Value: v.String()}, nil
		}
		return &types.AttributeValueMemberN{Value: v.String()}, nil
	}
	var n string
	switch v.Kind() {
	case reflect.Bool:
		return &types.AttributeValueMemberBOOL{Value: v.Bool()}, nil
	case reflect.String:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n = strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32:
		n = strconv.FormatFloat(v.Float(), 'f', -1, 32)
	case reflect.Float64:
		n = strconv.FormatFloat(v.Float(), 'f', -1, 64)
	default:
		return nil, nil
	}
	if t.AsString {
		return &types.AttributeValueMemberS{Value: n}, nil
	}
	return &types.AttributeValueMemberN{Value: n}, nil
}

func isZero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Array:
		return v.Len() == 0
	case reflect.Map, reflect.Slice, reflect.Interface, reflect.Pointer:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	}
	return false
}

func isNullableZero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Map, reflect.Slice, reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
