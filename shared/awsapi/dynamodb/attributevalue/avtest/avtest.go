// Package avtest holds what the differential tests of attributevalue share: converters
// between its attribute values and the SDK's, and a random filler of Go values. Only
// tests import it (it links the SDK's DynamoDB types).
package avtest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/shared/awsapi/dynamodb/types"
)

// FromSDK converts an SDK attribute value.
func FromSDK(av sdk.AttributeValue) types.AttributeValue {
	switch v := av.(type) {
	case nil:
		return nil
	case *sdk.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *sdk.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *sdk.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: v.Value}
	case *sdk.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *sdk.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *sdk.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: v.Value}
	case *sdk.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: v.Value}
	case *sdk.AttributeValueMemberBS:
		return &types.AttributeValueMemberBS{Value: v.Value}
	case *sdk.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = FromSDK(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *sdk.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: MapFromSDK(v.Value)}
	}
	panic(fmt.Sprintf("avtest: %T", av))
}

// MapFromSDK converts an SDK item.
func MapFromSDK(m map[string]sdk.AttributeValue) map[string]types.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = FromSDK(v)
	}
	return out
}

// ToSDK converts an attribute value to the SDK's.
func ToSDK(av types.AttributeValue) sdk.AttributeValue {
	switch v := av.(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberS:
		return &sdk.AttributeValueMemberS{Value: v.Value}
	case *types.AttributeValueMemberN:
		return &sdk.AttributeValueMemberN{Value: v.Value}
	case *types.AttributeValueMemberB:
		return &sdk.AttributeValueMemberB{Value: v.Value}
	case *types.AttributeValueMemberBOOL:
		return &sdk.AttributeValueMemberBOOL{Value: v.Value}
	case *types.AttributeValueMemberNULL:
		return &sdk.AttributeValueMemberNULL{Value: v.Value}
	case *types.AttributeValueMemberSS:
		return &sdk.AttributeValueMemberSS{Value: v.Value}
	case *types.AttributeValueMemberNS:
		return &sdk.AttributeValueMemberNS{Value: v.Value}
	case *types.AttributeValueMemberBS:
		return &sdk.AttributeValueMemberBS{Value: v.Value}
	case *types.AttributeValueMemberL:
		l := make([]sdk.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = ToSDK(e)
		}
		return &sdk.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &sdk.AttributeValueMemberM{Value: MapToSDK(v.Value)}
	}
	panic(fmt.Sprintf("avtest: %T", av))
}

// MapToSDK converts an item to the SDK's.
func MapToSDK(m map[string]types.AttributeValue) map[string]sdk.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]sdk.AttributeValue, len(m))
	for k, v := range m {
		out[k] = ToSDK(v)
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// Fill sets v, settable, to random contents: zero values, empty and nil collections,
// and times in several zones with and without nanoseconds come up often.
func Fill(r *rand.Rand, v reflect.Value) {
	fill(r, v, 0)
}

var zones = []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("X", -(5*3600 + 30*60))}

func randString(r *rand.Rand) string {
	const chars = "abcXYZ019 #:/-_.é漢\u00a0\""
	rs := []rune(chars)
	n := r.IntN(12)
	if r.IntN(4) == 0 {
		n = 0
	}
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[r.IntN(len(rs))]
	}
	return string(out)
}

func fill(r *rand.Rand, v reflect.Value, depth int) {
	if v.Type() == timeType {
		switch r.IntN(4) {
		case 0:
			v.Set(reflect.ValueOf(time.Time{}))
		case 1:
			v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), 0).UTC()))
		default:
			v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch r.IntN(3) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(int64(r.IntN(1000)) - 500)
		default:
			v.SetInt(r.Int64() >> (64 - v.Type().Bits()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if r.IntN(3) > 0 {
			v.SetUint(r.Uint64() >> (64 - v.Type().Bits()))
		}
	case reflect.Float32, reflect.Float64:
		if r.IntN(3) > 0 {
			v.SetFloat(float64(r.IntN(100000)) / 64)
		}
	case reflect.Pointer:
		if r.IntN(3) > 0 && depth < 4 {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		switch n := r.IntN(5); {
		case n == 0 || depth >= 4:
		case n == 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := 0; i < n-1; i++ {
				fill(r, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch n := r.IntN(5); {
		case n == 0 || depth >= 4:
		case n == 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for i := 0; i < n; i++ {
				k := reflect.New(v.Type().Key()).Elem()
				fill(r, k, depth+1)
				if k.Kind() == reflect.String && k.Len() == 0 {
					continue // the SDK refuses empty keys, as attributevalue does
				}
				e := reflect.New(v.Type().Elem()).Elem()
				fill(r, e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() || v.Type().Field(i).Anonymous {
				f := v.Field(i)
				if f.CanSet() {
					fill(r, f, depth+1)
				} else if f.Kind() == reflect.Struct {
					// an embedded unexported struct: fill its exported fields
					fillUnexported(r, f, depth+1)
				}
			}
		}
	}
}

func fillUnexported(r *rand.Rand, v reflect.Value, depth int) {
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.CanSet() {
			fill(r, f, depth)
		}
	}
}
