package attributevalue

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/types"
)

// UnmarshalTypeError is an attribute value that does not fit the Go value.
type UnmarshalTypeError struct {
	Value string
	Type  reflect.Type
	Err   error
}

func (e *UnmarshalTypeError) Error() string {
	return fmt.Sprintf("unmarshal failed, cannot unmarshal %s into Go value type %s", e.Value, e.Type)
}

func (e *UnmarshalTypeError) Unwrap() error { return e.Err }

// Unmarshal stores av in the value out points to.
func Unmarshal(av types.AttributeValue, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("unmarshal failed, cannot unmarshal to %T", out)
	}
	return decode(av, v, tag{})
}

// UnmarshalMap stores the attributes m in the struct or map out points to.
func UnmarshalMap(m map[string]types.AttributeValue, out any) error {
	return Unmarshal(&types.AttributeValueMemberM{Value: m}, out)
}

// UnmarshalListOfMaps stores the items l in the slice out points to.
func UnmarshalListOfMaps(l []map[string]types.AttributeValue, out any) error {
	items := make([]types.AttributeValue, len(l))
	for i, m := range l {
		items[i] = &types.AttributeValueMemberM{Value: m}
	}
	return Unmarshal(&types.AttributeValueMemberL{Value: items}, out)
}

// indirect follows pointers (allocating nil ones) and interfaces holding pointers to
// the value to set. With decodeNull it stops at the first settable pointer, which a
// null sets to nil.
func indirect(v reflect.Value, decodeNull bool) reflect.Value {
	for {
		if v.Kind() == reflect.Interface && !v.IsNil() {
			e := v.Elem()
			if e.Kind() == reflect.Pointer && !e.IsNil() && (!decodeNull || e.Elem().Kind() == reflect.Pointer) {
				v = e
				continue
			}
		}
		if v.Kind() != reflect.Pointer {
			return v
		}
		if decodeNull && v.CanSet() {
			return v
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
}

func decode(av types.AttributeValue, v reflect.Value, t tag) error {
	if _, isNull := av.(*types.AttributeValueMemberNULL); av == nil || isNull {
		v = indirect(v, true)
		if v.IsValid() && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
		return nil
	}
	v = indirect(v, false)
	switch tv := av.(type) {
	case *types.AttributeValueMemberB:
		return decodeBinary(tv.Value, v)
	case *types.AttributeValueMemberBOOL:
		if v.Kind() != reflect.Bool && v.Kind() != reflect.Interface {
			return &UnmarshalTypeError{Value: "bool", Type: v.Type()}
		}
		v.Set(reflect.ValueOf(tv.Value).Convert(v.Type()))
		return nil
	case *types.AttributeValueMemberBS:
		return decodeSet(v, "binary set", len(tv.Value), func() any { return tv.Value }, func(i int, e reflect.Value) error {
			return decodeBinary(tv.Value[i], e)
		})
	case *types.AttributeValueMemberL:
		return decodeList(tv.Value, v)
	case *types.AttributeValueMemberM:
		return decodeMap(tv.Value, v)
	case *types.AttributeValueMemberN:
		return decodeNumber(tv.Value, v, t)
	case *types.AttributeValueMemberNS:
		return decodeSet(v, "number set", len(tv.Value), func() any {
			fs := make([]float64, len(tv.Value))
			for i, n := range tv.Value {
				f, err := strconv.ParseFloat(n, 64)
				if err != nil {
					return err
				}
				fs[i] = f
			}
			return fs
		}, func(i int, e reflect.Value) error { return decodeNumber(tv.Value[i], e, tag{}) })
	case *types.AttributeValueMemberS:
		return decodeString(tv.Value, v, t)
	case *types.AttributeValueMemberSS:
		return decodeSet(v, "string set", len(tv.Value), func() any { return append([]string{}, tv.Value...) }, func(i int, e reflect.Value) error {
			return decodeString(tv.Value[i], e, tag{})
		})
	}
	return fmt.Errorf("unsupported AttributeValue type, %T", av)
}

func decodeBinary(b []byte, v reflect.Value) error {
	if v.Kind() == reflect.Interface {
		v.Set(reflect.ValueOf(append([]byte{}, b...)))
		return nil
	}
	if (v.Kind() != reflect.Slice && v.Kind() != reflect.Array) || v.Type().Elem().Kind() != reflect.Uint8 {
		return &UnmarshalTypeError{Value: "binary", Type: v.Type()}
	}
	if v.Kind() == reflect.Array {
		reflect.Copy(v, reflect.ValueOf(b))
		return nil
	}
	if v.IsNil() || v.Cap() < len(b) {
		v.Set(reflect.MakeSlice(v.Type(), len(b), len(b)))
	} else if v.Len() != len(b) {
		v.SetLen(len(b))
	}
	reflect.Copy(v, reflect.ValueOf(b))
	return nil
}

// decodeSet decodes a set into a slice or array element by element, or into an
// interface as asAny returns it.
func decodeSet(v reflect.Value, what string, n int, asAny func() any, elem func(int, reflect.Value) error) error {
	isArray := false
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() || v.Cap() < n {
			v.Set(reflect.MakeSlice(v.Type(), 0, n))
		}
	case reflect.Array:
		isArray = true
	case reflect.Interface:
		s := asAny()
		if err, ok := s.(error); ok {
			return err
		}
		v.Set(reflect.ValueOf(s))
		return nil
	default:
		return &UnmarshalTypeError{Value: what, Type: v.Type()}
	}
	for i := 0; i < v.Cap() && i < n; i++ {
		if !isArray {
			v.SetLen(i + 1)
		}
		if err := elem(i, indirect(v.Index(i), false)); err != nil {
			return err
		}
	}
	return nil
}

func decodeList(l []types.AttributeValue, v reflect.Value) error {
	isArray := false
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() || v.Cap() < len(l) {
			v.Set(reflect.MakeSlice(v.Type(), 0, len(l)))
		}
	case reflect.Array:
		isArray = true
	case reflect.Interface:
		s := make([]any, len(l))
		for i, av := range l {
			if err := decode(av, reflect.ValueOf(&s[i]).Elem(), tag{}); err != nil {
				return err
			}
		}
		v.Set(reflect.ValueOf(s))
		return nil
	default:
		return &UnmarshalTypeError{Value: "list", Type: v.Type()}
	}
	for i := 0; i < v.Cap() && i < len(l); i++ {
		if !isArray {
			v.SetLen(i + 1)
		}
		if err := decode(l[i], v.Index(i), tag{}); err != nil {
			return err
		}
	}
	return nil
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func decodeMap(m map[string]types.AttributeValue, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Struct:
		fs := structFields(v.Type())
		for k, av := range m {
			f, ok := fs.find(k)
			if !ok {
				continue
			}
			if err := decode(av, fieldForDecode(v, f.Index), f.tag); err != nil {
				return err
			}
		}
		return nil
	case reflect.Interface:
		v.Set(reflect.MakeMap(stringAnyMapType))
		v = v.Elem()
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
	default:
		return &UnmarshalTypeError{Value: "map", Type: v.Type()}
	}
	kt, et := v.Type().Key(), v.Type().Elem()
	decodeKey, err := keyDecoder(kt)
	if err != nil {
		return err
	}
	for k, av := range m {
		key := reflect.New(kt).Elem()
		if err := decodeKey(k, key); err != nil {
			return &UnmarshalTypeError{Value: fmt.Sprintf("map key %q", k), Type: kt, Err: err}
		}
		elem := reflect.New(et).Elem()
		if err := decode(av, elem, tag{}); err != nil {
			return err
		}
		v.SetMapIndex(key, elem)
	}
	return nil
}

func keyDecoder(kt reflect.Type) (func(string, reflect.Value) error, error) {
	if reflect.PointerTo(kt).Implements(textUnmarshalerType) || kt.Implements(textUnmarshalerType) {
		return func(s string, k reflect.Value) error {
			return k.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		}, nil
	}
	switch kt.Kind() {
	case reflect.Bool:
		return func(s string, k reflect.Value) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return err
			}
			k.SetBool(b)
			return nil
		}, nil
	case reflect.String:
		return func(s string, k reflect.Value) error { return decodeString(s, k, tag{}) }, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return func(s string, k reflect.Value) error { return decodeNumber(s, k, tag{}) }, nil
	}
	return nil, &UnmarshalTypeError{Value: "map key must be string, number, bool, or TextUnmarshaler", Type: kt}
}

func fieldForDecode(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func decodeNumber(n string, v reflect.Value, t tag) error {
	switch v.Kind() {
	case reflect.Interface:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(f))
	case reflect.String:
		v.SetString(n)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return err
		}
		if v.OverflowInt(i) {
			return &UnmarshalTypeError{Value: "number overflow, " + n, Type: v.Type()}
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return err
		}
		if v.OverflowUint(u) {
			return &UnmarshalTypeError{Value: "number overflow, " + n, Type: v.Type()}
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return err
		}
		if v.OverflowFloat(f) {
			return &UnmarshalTypeError{Value: "number overflow, " + n, Type: v.Type()}
		}
		v.SetFloat(f)
	default:
		if v.Type().ConvertibleTo(timeType) {
			sec, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return fmt.Errorf("unmarshal failed, %s as time: %w", n, err)
			}
			v.Set(reflect.ValueOf(time.Unix(sec, 0)).Convert(v.Type()))
			return nil
		}
		return &UnmarshalTypeError{Value: "number", Type: v.Type()}
	}
	return nil
}

func decodeString(s string, v reflect.Value, t tag) error {
	if t.AsString {
		return decodeNumber(s, v, t)
	}
	if v.Type().ConvertibleTo(timeType) {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("unmarshal failed, %q as time: %w", s, err)
		}
		v.Set(reflect.ValueOf(tm).Convert(v.Type()))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Interface:
		v.Set(reflect.ValueOf(s).Convert(v.Type()))
	default:
		return &UnmarshalTypeError{Value: "string", Type: v.Type()}
	}
	return nil
}
