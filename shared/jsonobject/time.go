package jsonobject

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/eventhub/eventhub/shared/fault"
)

// AppendTime reads a timestamp member sent as an RFC 3339 string, or as Unix seconds
// (a number or a string of digits; values of 10^12 and more are taken as
// milliseconds, as some producers send them), and appends it in RFC 3339.
func (o *Object) AppendTime(dst []byte, name string, required bool) ([]byte, error) {
	raw, err := o.required(name, required)
	if raw == nil {
		return dst, err
	}
	s, err := o.ScalarText(name, required)
	if err != nil {
		return dst, err
	}
	if len(s) == 0 {
		return dst, nil
	}
	t, err := AppendParseTime(dst, s)
	if err != nil {
		return dst, fault.At(o.join(name), "%v, got %s", err, raw)
	}
	return t, nil
}

// Unix seconds between 1970 and 9999.
const maxUnix = 253402300799

// AppendParseTime reads an RFC 3339 timestamp or Unix seconds or milliseconds and
// appends it in RFC 3339 (UTC for Unix times, the producer's own offset otherwise).
func AppendParseTime(dst, text []byte) ([]byte, error) {
	s := bytes.TrimSpace(text)
	// An RFC 3339 timestamp has at least 20 characters, the first four the year's.
	if len(s) >= 20 && s[4] == '-' {
		if t, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
			return t.AppendFormat(dst, time.RFC3339Nano), nil
		}
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("must be an RFC 3339 timestamp or Unix seconds")
	}
	if f >= 1e12 {
		f /= 1000
	}
	return AppendUnix(dst, f)
}

// AppendUnix appends the time f Unix seconds (to the millisecond) as RFC 3339 in UTC,
// or says why f is not a time between 1970 and 9999.
func AppendUnix(dst []byte, f float64) ([]byte, error) {
	if f < 0 || f > maxUnix {
		return dst, fmt.Errorf("must be a Unix time between 1970 and 9999")
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
	return t.AppendFormat(dst, time.RFC3339Nano), nil
}
