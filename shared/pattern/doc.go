// Package pattern matches JSON events against Amazon EventBridge event patterns.
//
// A pattern is a JSON object with the same structure as the events it
// matches. Each leaf is an array of values and operators, OR'ed together;
// the keys of an object are AND'ed; "$or" (an array of at least two pattern
// objects) OR's whole sub-patterns. Fields of the event that the pattern does
// not mention are ignored. The matcher works on any JSON document, so the
// same patterns filter EventBridge events (source, detail-type, detail, ...)
// and CloudEvents (type, source, data, ...).
//
// Supported operators, as in EventBridge:
//
//	"x", 5, true, false, null         exact match
//	{"prefix": "x"}                   {"prefix": {"equals-ignore-case": "x"}}
//	{"suffix": "x"}                   {"suffix": {"equals-ignore-case": "x"}}
//	{"equals-ignore-case": "x"}
//	{"wildcard": "dir/*.png"}         '*' any run, "\*" a star, "\\" a backslash
//	{"anything-but": "x" | 5 | ["a", "b"] | [1, 2]}
//	{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": "x" | ["x", "y"]}}
//	{"numeric": [">", 0, "<=", 5]}    also "=", "<", ">=", ...
//	{"exists": true | false}
//	{"cidr": "10.0.0.0/24"}           IPv4 and IPv6
//
// Semantics where the EventBridge documentation leaves room:
//
//   - Event arrays: a leaf matches if any element matches; arrays nest
//     (arrays of arrays are flattened). A pattern object matched against an
//     array of objects must match one element as a whole (all of its
//     fields from the same element), like EventBridge's array-consistent
//     matching. A pattern object that only tests {"exists": false} must hold
//     for every element (no element may have the field).
//   - Exact numbers are compared by their JSON text, as documented: 300,
//     300.0 and 3.0e2 are different. Use {"numeric": ["=", 300]} for value
//     equality. Numbers in numeric and anything-but are compared by value,
//     with EventBridge's limits: -5.0e9..5.0e9 and at most six decimal
//     places (patterns outside the limits are rejected; event numbers
//     outside the range never match numeric, event numbers with more
//     decimals are compared exactly).
//   - null matches JSON null only; "" matches the empty string only.
//   - exists works on leaves: {"exists": true} matches any scalar value,
//     including null, and an array holding at least one scalar; a field
//     holding an object (or only objects, or an empty array) does not
//     exist for this purpose, and a missing field matches {"exists": false}.
//   - anything-but needs a value: a missing field never matches. Values of
//     another type are never excluded: {"anything-but": "x"} matches 5,
//     true and null; {"anything-but": 5} matches "5".
//   - prefix, suffix, equals-ignore-case, wildcard and cidr only match
//     strings; numeric only matches numbers.
//   - equals-ignore-case uses Unicode simple case folding.
//   - An exact string that is an IPv6 address also matches other spellings
//     of the same address (EventBridge compares IP-looking values as IPs).
//   - The empty pattern {} matches every event; nested empty objects, empty
//     arrays, duplicate keys and operator keywords used as field names inside
//     $or are rejected. Wildcard values may hold at most 100 '*'.
//   - Events must be valid JSON (RFC 8259, UTF-8, nesting up to 2000
//     levels); otherwise Match returns an error. If an event object repeats
//     a key, the last occurrence is used.
//
// Set matches an event against many named patterns. It indexes every pattern
// by its most selective necessary constraint (an exact value, prefix, suffix
// or case-insensitive value at some path), so Match only fully evaluates the
// patterns whose constraint the event satisfies, plus those that have no
// indexable constraint. Identical constraints of different patterns are
// evaluated once per event. The index is rebuilt lazily by the first Match
// after Add or Remove, so bulk loading stays linear.
package pattern
