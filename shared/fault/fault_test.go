package fault

import (
	"encoding/json"
	"testing"
)

func TestJSONLocatesErrors(t *testing.T) {
	tests := []struct {
		name               string
		in                 string
		line, column, path string
	}{
		{name: "doubled quote", in: "{\n  \"region_id\": \"\"regionid1\"\n}", line: "2", column: "18"},
		{name: "truncated", in: `{"a": 1`, line: "1", column: "8"},
		{name: "wrong type", in: `{"n": "x"}`, path: "n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v struct {
				N int `json:"n"`
				A int `json:"a"`
			}
			err := JSON([]byte(tc.in), json.Unmarshal([]byte(tc.in), &v))
			e, ok := As(err)
			if !ok {
				t.Fatalf("JSON(%q) = %v; want *Error", tc.in, err)
			}
			if tc.path != "" && e.Path != tc.path {
				t.Errorf("path = %q; want %q", e.Path, tc.path)
			}
			if tc.line != "" {
				if got := itoa(e.Line) + ":" + itoa(e.Column); got != tc.line+":"+tc.column {
					t.Errorf("position = %s; want %s:%s (%v)", got, tc.line, tc.column, e)
				}
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestLocateCountsCharacters(t *testing.T) {
	data := []byte("{\"名\":\n \"é\" x}")
	_, line, col := Locate(data, len(data)-2)
	if line != 2 || col != 6 {
		t.Errorf("Locate = %d:%d; want 2:6", line, col)
	}
}
