package ducktype

import (
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(*Type) bool
	}{
		{"scalar", "BIGINT", func(t *Type) bool { return t.Kind == Scalar && t.Name == "BIGINT" }},
		{"decimal", "DECIMAL(10,2)", func(t *Type) bool { return t.Name == "DECIMAL" && t.Params[0] == 10 && t.Params[1] == 2 }},
		{"tz", "TIMESTAMP WITH TIME ZONE", func(t *Type) bool { return t.Name == "TIMESTAMP WITH TIME ZONE" }},
		{"list", "VARCHAR[]", func(t *Type) bool { return t.Kind == List && t.Elem.Name == "VARCHAR" }},
		{"array", "DOUBLE[3]", func(t *Type) bool { return t.Kind == Array && t.Params[0] == 3 }},
		{"list of list", "INTEGER[][]", func(t *Type) bool { return t.Kind == List && t.Elem.Kind == List }},
		{"map", "MAP(VARCHAR, DOUBLE)", func(t *Type) bool { return t.Kind == Map && t.Key.Name == "VARCHAR" && t.Value.Name == "DOUBLE" }},
		{"struct", `STRUCT(a INTEGER, "select" VARCHAR, c STRUCT(d DOUBLE)[])`, func(t *Type) bool {
			return t.Kind == Struct && len(t.Fields) == 3 && t.Fields[1].Name == "select" &&
				t.Fields[2].Type.Kind == List && t.Fields[2].Type.Elem.Fields[0].Name == "d"
		}},
		{"list of struct", "STRUCT(x BIGINT)[]", func(t *Type) bool { return t.Kind == List && t.Elem.Kind == Struct && t.Text == "STRUCT(x BIGINT)[]" }},
		{"enum", "ENUM('a', 'b)')", func(t *Type) bool { return t.Kind == Other }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !tt.check(got) {
				t.Errorf("Parse(%q) = %+v, not the expected shape", tt.in, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "DECIMAL(10,", "STRUCT(", "INTEGER[x]", "BIGINT junk("} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = nil error, want one", in)
		}
	}
}

func TestWidens(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{"INTEGER", "BIGINT", true},
		{"BIGINT", "INTEGER", false},
		{"FLOAT", "DOUBLE", true},
		{"INTEGER", "DOUBLE", true},
		{"BIGINT", "DOUBLE", false},
		{"UINTEGER", "BIGINT", true},
		{"UBIGINT", "BIGINT", false},
		{"DECIMAL(10,2)", "DECIMAL(12,2)", true},
		{"DECIMAL(10,2)", "DECIMAL(10,3)", false},
		{"INTEGER", "VARCHAR", true},
		{"VARCHAR", "INTEGER", false},
		{"INTEGER[]", "BIGINT[]", true},
	}
	for _, tt := range tests {
		f, _ := Parse(tt.from)
		to, _ := Parse(tt.to)
		if got := Widens(f, to); got != tt.want {
			t.Errorf("Widens(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

// FuzzParse: whatever it accepts is a well-formed tree, and parsing the
// canonical text of any node again gives the same node.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"BIGINT", "STRUCT(a INTEGER, b VARCHAR[])[]", "MAP(VARCHAR, DOUBLE)", "DECIMAL(10,2)",
		"STRUCT(\"odd name\" INTEGER)", "DOUBLE[3]", "TIMESTAMP WITH TIME ZONE", "UNION(a INTEGER, b VARCHAR)", "STRUCT()", "MAP(VARCHAR)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := Parse(s)
		if err != nil {
			return
		}
		var check func(*Type, int)
		check = func(x *Type, depth int) {
			if x == nil {
				t.Fatalf("Parse(%q): a nil node", s)
			}
			if depth > len(s)+1 {
				t.Fatalf("Parse(%q): deeper than the text is long", s)
			}
			switch x.Kind {
			case List, Array:
				check(x.Elem, depth+1)
			case Map:
				check(x.Key, depth+1)
				check(x.Value, depth+1)
			case Struct:
				for _, fl := range x.Fields {
					check(fl.Type, depth+1)
				}
			}
			if x.Text == "" {
				return
			}
			again, err := Parse(x.Text)
			if err != nil {
				t.Fatalf("Parse(%q): node text %q does not parse again: %v", s, x.Text, err)
			}
			if again.Kind != x.Kind || again.Name != x.Name || len(again.Fields) != len(x.Fields) || fmt.Sprint(again.Params) != fmt.Sprint(x.Params) {
				t.Fatalf("Parse(%q): node %q parses again as %+v, was %+v", s, x.Text, again, x)
			}
		}
		check(typ, 0)
	})
}
