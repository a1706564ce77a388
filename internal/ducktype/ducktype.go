// Package ducktype parses the canonical type strings that DuckDB itself prints
// (duckdb_columns().data_type) into a small tree. It is not a validator: types
// are validated by DuckDB; this only reads back what DuckDB already accepted, so
// that code generation can map them to Go and migration planning can compare
// STRUCT fields.
package ducktype

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the outer shape of a type.
type Kind int

const (
	// Scalar is any type without children (INTEGER, VARCHAR, DECIMAL(10,2), JSON, ...).
	Scalar Kind = iota
	// List is T[].
	List
	// Array is T[n].
	Array
	// Struct is STRUCT(name T, ...).
	Struct
	// Map is MAP(K, V).
	Map
	// Other is a nested type this package does not take apart (UNION, ENUM).
	Other
)

// Type is one parsed DuckDB type.
type Type struct {
	Kind Kind
	// Name is the base name for scalars (upper case, e.g. "DECIMAL", "TIMESTAMP WITH TIME ZONE").
	Name string
	// Params holds numeric parameters (DECIMAL width and scale, ARRAY size).
	Params []int
	// Elem is the element type of a List or Array.
	Elem *Type
	// Key and Value are the MAP parts.
	Key, Value *Type
	// Fields are the STRUCT fields, in order.
	Fields []Field
	// Text is the canonical text this type was parsed from.
	Text string
}

// Field is one STRUCT field.
type Field struct {
	Name string
	Type *Type
}

// Parse reads a canonical DuckDB type string.
func Parse(s string) (*Type, error) {
	p := &parser{s: s}
	t, err := p.parseType()
	if err != nil {
		return nil, fmt.Errorf("parse type %q: %w", s, err)
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("parse type %q: unexpected %q at offset %d", s, p.s[p.pos:], p.pos)
	}
	return t, nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

// baseName reads a possibly multi-word base name such as "TIMESTAMP WITH TIME ZONE".
func (p *parser) baseName() string {
	name := p.word()
	for {
		save := p.pos
		p.skipSpace()
		w := p.word()
		if w == "" || !isNameContinuation(name, w) {
			p.pos = save
			return strings.ToUpper(name)
		}
		name += " " + w
	}
}

func isNameContinuation(prefix, w string) bool {
	switch strings.ToUpper(w) {
	case "WITH", "TIME", "ZONE", "PRECISION", "VARYING":
		return true
	}
	_ = prefix
	return false
}

func (p *parser) parseType() (*Type, error) {
	p.skipSpace()
	start := p.pos
	name := p.baseName()
	if name == "" {
		return nil, fmt.Errorf("expected a type name at offset %d", p.pos)
	}
	t := &Type{Kind: Scalar, Name: name}
	p.skipSpace()
	if p.peek() == '(' {
		p.pos++
		var err error
		switch name {
		case "STRUCT":
			t.Kind = Struct
			err = p.structFields(t)
		case "MAP":
			t.Kind = Map
			if t.Key, err = p.parseType(); err == nil {
				if err = p.expect(','); err == nil {
					t.Value, err = p.parseType()
				}
			}
		case "UNION", "ENUM":
			t.Kind = Other
			err = p.skipBalanced()
		default:
			err = p.intParams(t)
		}
		if err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
	}
	t.Text = strings.TrimSpace(p.s[start:p.pos])
	for {
		p.skipSpace()
		if p.peek() != '[' {
			return t, nil
		}
		p.pos++
		p.skipSpace()
		outer := &Type{Kind: List, Elem: t}
		if p.peek() != ']' {
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			outer.Kind = Array
			outer.Params = []int{n}
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		outer.Text = strings.TrimSpace(p.s[start:p.pos])
		t = outer
	}
}

func (p *parser) structFields(t *Type) error {
	for {
		p.skipSpace()
		var name string
		if p.peek() == '"' {
			p.pos++
			var b strings.Builder
			for {
				if p.pos >= len(p.s) {
					return fmt.Errorf("unterminated quoted field name")
				}
				c := p.s[p.pos]
				p.pos++
				if c == '"' {
					if p.peek() == '"' {
						b.WriteByte('"')
						p.pos++
						continue
					}
					break
				}
				b.WriteByte(c)
			}
			name = b.String()
		} else {
			name = p.word()
		}
		if name == "" {
			return fmt.Errorf("expected a STRUCT field name at offset %d", p.pos)
		}
		ft, err := p.parseType()
		if err != nil {
			return err
		}
		t.Fields = append(t.Fields, Field{Name: name, Type: ft})
		p.skipSpace()
		if p.peek() != ',' {
			return nil
		}
		p.pos++
	}
}

func (p *parser) intParams(t *Type) error {
	for {
		n, err := p.int()
		if err != nil {
			return err
		}
		t.Params = append(t.Params, n)
		p.skipSpace()
		if p.peek() != ',' {
			return nil
		}
		p.pos++
	}
}

func (p *parser) int() (int, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	n, err := strconv.Atoi(p.s[start:p.pos])
	if err != nil {
		return 0, fmt.Errorf("expected a number at offset %d", start)
	}
	return n, nil
}

func (p *parser) skipBalanced() error {
	depth := 0
	inQuote := byte(0)
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case c == '\'' || c == '"':
			inQuote = c
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return nil
			}
			depth--
		}
		p.pos++
	}
	return fmt.Errorf("unbalanced parentheses")
}

func (p *parser) expect(c byte) error {
	p.skipSpace()
	if p.peek() != c {
		return fmt.Errorf("expected %q at offset %d", c, p.pos)
	}
	p.pos++
	return nil
}

// Widens reports whether changing a column from type from to type to keeps
// every value exactly (integer ladders, FLOAT to DOUBLE, small integers to
// DOUBLE, DECIMAL with at least as many integer and fraction digits, anything
// to VARCHAR). Everything else counts as narrowing.
func Widens(from, to *Type) bool {
	if from.Text == to.Text {
		return true
	}
	if from.Kind != Scalar || to.Kind != Scalar {
		if from.Kind == List && to.Kind == List {
			return Widens(from.Elem, to.Elem)
		}
		return false
	}
	if to.Name == "VARCHAR" {
		return from.Name != "BLOB"
	}
	rank := func(ladder []string, n string) int {
		for i, x := range ladder {
			if x == n {
				return i
			}
		}
		return -1
	}
	signed := []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
	unsigned := []string{"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
	if a, b := rank(signed, from.Name), rank(signed, to.Name); a >= 0 && b >= 0 {
		return b >= a
	}
	if a, b := rank(unsigned, from.Name), rank(unsigned, to.Name); a >= 0 && b >= 0 {
		return b >= a
	}
	if a, b := rank(unsigned, from.Name), rank(signed, to.Name); a >= 0 && b >= 0 {
		return b > a
	}
	switch {
	case from.Name == "FLOAT" && to.Name == "DOUBLE":
		return true
	case to.Name == "DOUBLE" && (rank(signed, from.Name) >= 0 && rank(signed, from.Name) <= 2 ||
		rank(unsigned, from.Name) >= 0 && rank(unsigned, from.Name) <= 2):
		return true
	case from.Name == "DECIMAL" && to.Name == "DECIMAL" && len(from.Params) == 2 && len(to.Params) == 2:
		return to.Params[1] >= from.Params[1] && to.Params[0]-to.Params[1] >= from.Params[0]-from.Params[1]
	case from.Name == "TIMESTAMP" && to.Name == "TIMESTAMP_NS":
		return true
	}
	return false
}

// StructAddsFields reports whether to is from with extra fields appended
// (every old field kept, same name, same type, same order) and returns them.
func StructAddsFields(from, to *Type) ([]Field, bool) {
	if from.Kind != Struct || to.Kind != Struct || len(to.Fields) <= len(from.Fields) {
		return nil, false
	}
	for i, f := range from.Fields {
		if to.Fields[i].Name != f.Name || to.Fields[i].Type.Text != f.Type.Text {
			return nil, false
		}
	}
	return to.Fields[len(from.Fields):], true
}
