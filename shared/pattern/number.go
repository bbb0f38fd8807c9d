package pattern

// EventBridge numeric matching works on numbers between -5.0e9 and +5.0e9
// inclusive with six digits after the decimal point. Numbers are therefore
// handled as fixed-point integers counting millionths ("micros"); the largest
// magnitude, 5e15 micros, fits easily in an int64.
const (
	maxMicro   = 5_000_000_000_000_000 // 5e9 * 1e6
	fracDigits = 6
)

const (
	// numInRange: the value lies in [-5e9, 5e9]; micro is valid.
	numInRange uint8 = 1 << iota
	// numExact: the value has at most six fractional digits, so micro is
	// the exact value (otherwise micro is the value rounded towards -Inf).
	numExact
)

// parseFixed converts a JSON number literal (already validated by the
// scanner) to micros, rounding towards negative infinity, and reports
// whether the value is in range and exactly representable. It works on the
// decimal digits directly, so there is no binary floating-point rounding.
func parseFixed(text []byte) (int64, uint8) {
	i := 0
	neg := false
	if i < len(text) && text[i] == '-' {
		neg = true
		i++
	}
	// Collect significant digits: D (without leading zeros) and the number
	// of digits of D that are before the decimal point (point).
	var digits [40]byte // first digits only; the rest only matter if non-zero
	nd := 0             // digits stored (or counted) in D
	point := 0          // position of the decimal point relative to D
	sawNonZero := false
	tailNonZero := false // a non-zero digit beyond the storage limit
	for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
		c := text[i]
		if !sawNonZero && c == '0' {
			continue // leading zero of the integer part
		}
		sawNonZero = true
		if nd < len(digits) {
			digits[nd] = c
		} else if c != '0' {
			tailNonZero = true
		}
		nd++
		point++
	}
	if i < len(text) && text[i] == '.' {
		i++
		for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
			c := text[i]
			if !sawNonZero && c == '0' {
				point-- // leading zero after the point: 0.00x
				continue
			}
			sawNonZero = true
			if nd < len(digits) {
				digits[nd] = c
			} else if c != '0' {
				tailNonZero = true
			}
			nd++
		}
	}
	exp := 0
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		i++
		eneg := false
		if i < len(text) && (text[i] == '+' || text[i] == '-') {
			eneg = text[i] == '-'
			i++
		}
		for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
			if exp < 1_000_000 {
				exp = exp*10 + int(text[i]-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if !sawNonZero {
		return 0, numInRange | numExact
	}
	point += exp
	// value = 0.D * 10^point ; micros = 0.D * 10^(point+6)
	intLen := point + fracDigits // number of digits of D in the integer part of micros
	if intLen > 16 {
		return 0, 0 // >= 1e10: out of range
	}
	var m int64
	rem := tailNonZero
	stored := nd
	if stored > len(digits) {
		stored = len(digits)
	}
	for k := 0; k < intLen; k++ {
		var c byte = '0'
		if k < stored {
			c = digits[k]
		}
		m = m*10 + int64(c-'0')
	}
	start := intLen
	if start < 0 {
		start = 0
	}
	for k := start; k < stored && !rem; k++ {
		if digits[k] != '0' {
			rem = true
		}
	}
	if m > maxMicro || (m == maxMicro && rem) {
		return 0, 0
	}
	flags := numInRange
	if !rem {
		flags |= numExact
	}
	if neg {
		m = -m
		if rem {
			m-- // round towards -Inf
		}
	}
	return m, flags
}

// cmpMicro compares the event number (floor micros m, exact flag) with the
// exact bound b: it returns -1, 0 or +1 as value <, ==, > b.
func cmpMicro(m int64, exact bool, b int64) int {
	switch {
	case m < b:
		return -1
	case m > b:
		return 1
	case exact:
		return 0
	default:
		return 1 // floor == b but the value has a positive remainder
	}
}
