package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
)

// docExample is one dschema command line found in the docs.
type docExample struct {
	file string
	line int
	text string
	args []string // after "dschema"
}

// TestDocsExamples checks that every dschema command the README and docs/
// show in a sh block (and every "$ dschema …" line in other blocks) is a
// valid invocation: the subcommand exists, each flag is one it defines, the
// arguments are as many as it takes, and a load or verify kind is
// registered. Nothing is run. "go run ./cmd/dschema X" counts as "dschema X".
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	files := []string{filepath.Join(root, "README.md")}
	for _, pattern := range []string{"docs/*.md", "docs/sources/*.md"} {
		m, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var n int
	for _, f := range files {
		examples, err := docExamples(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range examples {
			n++
			if err := checkInvocation(ex.args); err != nil {
				t.Errorf("%s:%d: %s: %v", ex.file, ex.line, ex.text, err)
			}
		}
	}
	if n < 20 {
		t.Errorf("found %d dschema commands in %d files; the extraction is broken", n, len(files))
	}
}

// TestREADMEStartsWithTheTwoCommands keeps the README's first commands
// those a newcomer runs first.
func TestREADMEStartsWithTheTwoCommands(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "```sh\ngo run ./cmd/dschema quickstart\ngo test ./...\n```\n"
	s := string(b)
	i := strings.Index(s, "```")
	if i < 0 || !strings.HasPrefix(s[i:], want) {
		t.Errorf("the README's first code block is not\n%s", want)
	}
}

// checkInvocation parses args as dschema would, without running anything.
func checkInvocation(args []string) error {
	root := NewRootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return fmt.Errorf("no subcommand")
	}
	cmd.InitDefaultHelpFlag()
	if err := cmd.ParseFlags(rest); err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	if help, _ := cmd.Flags().GetBool("help"); help {
		return nil
	}
	pos := cmd.Flags().Args()
	if err := cmd.ValidateArgs(pos); err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	switch cmd.CommandPath() {
	case "dschema load":
		// load takes every loader's kind, and runs a verify-only kind
		// (datadecide-agg) as its check; without a kind, paths (the docs'
		// files need not exist here).
		return checkLoadArgs(pos, func(string) bool { return false })
	case "dschema verify":
		if _, err := loaders.LookupVerifier(pos[0]); err != nil {
			return err
		}
	}
	return nil
}

// docExamples returns the dschema commands of a Markdown file: every
// command line of its sh blocks, and the "$ "-prompted lines of its other
// blocks (the rest of those is output).
func docExamples(path string) ([]docExample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []docExample
	var inBlock, shell bool
	var pending string // a line continued with a trailing backslash
	var pendingLine int
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			inBlock = !inBlock
			lang := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			shell = inBlock && (lang == "sh" || lang == "bash" || lang == "shell" || lang == "console")
			pending = ""
			continue
		}
		if !inBlock {
			continue
		}
		if pending == "" {
			if p, ok := strings.CutPrefix(trimmed, "$ "); ok {
				trimmed = p
			} else if !shell {
				continue
			}
			pendingLine = ln
		}
		if c, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending += c + " "
			continue
		}
		text := pending + trimmed
		pending = ""
		args, ok := dschemaArgs(shellWords(text))
		if !ok {
			continue
		}
		out = append(out, docExample{file: path, line: pendingLine, text: text, args: args})
	}
	return out, sc.Err()
}

// dschemaArgs returns the arguments after "dschema" (or "go run
// ./cmd/dschema") of a command line's words, past any VAR=value prefix.
func dschemaArgs(words []string) ([]string, bool) {
	for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
		words = words[1:]
	}
	switch {
	case len(words) >= 1 && words[0] == "dschema":
		return words[1:], true
	case len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/dschema":
		return words[3:], true
	}
	return nil, false
}

// shellWords splits a command line as a shell would, for the simple lines
// docs hold: single and double quotes, backslash escapes; a comment, a
// redirection, a pipe or a command separator ends the command.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
		case c == '\\' && i+1 < len(s):
			inWord = true
			i++
			w.WriteByte(s[i])
		case c == '#' && !inWord, c == '>', c == '<', c == '|', c == ';', c == '&':
			flush()
			return words
		default:
			inWord = true
			w.WriteByte(c)
		}
	}
	flush()
	return words
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`go run ./cmd/dschema docs > docs/dictionary.md`, []string{"go", "run", "./cmd/dschema", "docs"}},
		{`dschema load x "a b" 'c d' e\ f # note`, []string{"dschema", "load", "x", "a b", "c d", "e f"}},
		{`dschema load x --memory-limit ""`, []string{"dschema", "load", "x", "--memory-limit", ""}},
		{`dschema gen --name a#b | tee log`, []string{"dschema", "gen", "--name", "a#b"}},
	} {
		if got := shellWords(c.in); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
			t.Errorf("shellWords(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCheckInvocationRefuses(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"lod", "datadecide", "f.parquet"},                    // no such subcommand
		{"load", "datadecide", "f.parquet", "--no-such-flag"}, // no such flag
		{"load", "datadecid", "f.parquet"},                    // no such kind
		{"load", "datadecide"},                                // too few arguments
		{"verify", "no-kind", "f.parquet"},                    // no such verifier
		{"migrate", "sideways"},                               // no such migrate subcommand
		{"migrate", "up", "--to"},                             // flag without its value
		{"check", "extra"},                                    // check takes no arguments
	} {
		if err := checkInvocation(args); err == nil {
			t.Errorf("checkInvocation(%q) = nil, want an error", args)
		}
	}
	for _, args := range [][]string{
		{"load", "datadecide-agg", "mean_eval.parquet", "--stat", "mean"},
		{"load", "lab.duckdb.sample", "--dry-run"}, // no kind: paths
		{"load", "./datadecide"},                   // ./ names the path
		{"--db", "x.duckdb", "loads", "--json"},
		{"load", "--help"},
	} {
		if err := checkInvocation(args); err != nil {
			t.Errorf("checkInvocation(%q) = %v, want nil", args, err)
		}
	}
}
