package schema

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// NewColumn is a column to write into a schema file.
type NewColumn struct {
	Name, Type, Key, PromotedFrom, Description string
}

var (
	plainTypeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	nonIdentRE  = regexp.MustCompile(`[^a-z0-9_]+`)
)

// KeyColumnName proposes a column name for a source key: the key lower-cased,
// each run of characters other than a-z, 0-9 and _ replaced by _, leading
// and trailing _ trimmed, and m_ in front of a leading digit
// ("logps/chosen" → logps_chosen, "1st/acc" → m_1st_acc). It returns ""
// when nothing is left.
func KeyColumnName(key string) string {
	n := strings.Trim(nonIdentRE.ReplaceAllString(strings.ToLower(key), "_"), "_")
	if n != "" && n[0] >= '0' && n[0] <= '9' {
		n = "m_" + n
	}
	return n
}

// flow renders c as one flow-style YAML mapping, the form the schema files
// use for a column.
func (c NewColumn) flow() string {
	typ := c.Type
	if !plainTypeRE.MatchString(typ) {
		typ = strconv.Quote(typ) // MAP(VARCHAR, DOUBLE): a comma ends a plain flow scalar
	}
	parts := []string{"name: " + c.Name, "type: " + typ}
	if c.Key != "" {
		parts = append(parts, "key: "+strconv.Quote(c.Key))
	}
	if c.PromotedFrom != "" {
		parts = append(parts, "promoted_from: "+c.PromotedFrom)
	}
	parts = append(parts, "description: "+strconv.Quote(c.Description))
	return "{" + strings.Join(parts, ", ") + "}"
}

// InsertColumn returns data, the text of one schema file, with c added to
// table's columns as one flow-style line: immediately before the column
// named before (and the comment lines right above it) when the table has
// one, else after the last column. Every other byte is kept. Go's quoted
// strings are YAML double-quoted strings for valid UTF-8, which is why
// Key and Description must be valid UTF-8.
func InsertColumn(data []byte, table string, c NewColumn, before string) ([]byte, error) {
	if !utf8.ValidString(c.Key) || !utf8.ValidString(c.Description) || !utf8.ValidString(c.Type) {
		return nil, fmt.Errorf("column %q: key, type and description must be valid UTF-8", c.Name)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	pos := positions(&root)
	var cols *yaml.Node
	if tables := mapValue(pos.doc(), "tables"); tables != nil && tables.Kind == yaml.SequenceNode {
		for _, t := range tables.Content {
			if n := mapValue(t, "name"); n != nil && n.Value == table {
				cols = mapValue(t, "columns")
			}
		}
	}
	if cols == nil || cols.Kind != yaml.SequenceNode || len(cols.Content) == 0 {
		return nil, fmt.Errorf("table %q: no columns list", table)
	}
	if cols.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("table %q: the columns are one flow sequence ([...]); add the column by hand", table)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	item := cols.Content[len(cols.Content)-1]
	at := -1 // index in lines of the line to insert before
	for _, it := range cols.Content {
		if n := mapValue(it, "name"); before != "" && n != nil && n.Value == before {
			item = it
			at = it.Line - 1
		}
	}
	indent, err := dashIndent(lines, item)
	if err != nil {
		return nil, fmt.Errorf("table %q: %w", table, err)
	}
	if at >= 0 {
		// A comment right above the column belongs to it: insert above both.
		for at > 0 && isComment(lines[at-1], indent) {
			at--
		}
	} else {
		// After the last column: past its continuation lines (a block
		// mapping, a folded description), not past blank lines after it.
		at = item.Line
		last := at
		for ; at < len(lines); at++ {
			l := lines[at]
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			if leadingSpaces(l) <= len(indent) {
				break
			}
			last = at + 1
		}
		at = last
	}
	eol := "\n"
	if at < len(lines) && bytes.HasSuffix(lines[at], []byte("\r\n")) || at == len(lines) && at > 0 && bytes.HasSuffix(lines[at-1], []byte("\r\n")) {
		eol = "\r\n"
	}
	line := indent + "- " + c.flow() + eol
	var out bytes.Buffer
	for i, l := range lines {
		if i == at {
			out.WriteString(line)
		}
		out.Write(l)
	}
	if at >= len(lines) {
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			out.WriteString(eol)
		}
		out.WriteString(line)
	}
	return out.Bytes(), nil
}

// dashIndent is the text before the "- " that opens item's line.
func dashIndent(lines [][]byte, item *yaml.Node) (string, error) {
	if item.Line < 1 || item.Line > len(lines) {
		return "", fmt.Errorf("line %d: no such line", item.Line)
	}
	l := string(lines[item.Line-1])
	i := strings.LastIndex(l[:min(item.Column-1, len(l))], "-")
	if i < 0 || strings.TrimLeft(l[:i], " ") != "" {
		return "", fmt.Errorf("line %d: a column does not start its own line with \"- \"; add the column by hand", item.Line)
	}
	return l[:i], nil
}

func isComment(l []byte, indent string) bool {
	t := bytes.TrimSpace(l)
	return len(t) > 0 && t[0] == '#' && leadingSpaces(l) >= len(indent)
}

func leadingSpaces(l []byte) int { return len(l) - len(bytes.TrimLeft(l, " ")) }
