package loaders

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

type fakeLoader struct{ kind string }

func (f fakeLoader) Kind() string                               { return f.kind }
func (fakeLoader) Short() string                                { return "" }
func (fakeLoader) Load(context.Context, *Load) (*Report, error) { return nil, nil }
func (f fakeLoader) Verify(context.Context, *sql.DB, string, VerifyOptions) (Verdict, error) {
	return nil, nil
}

// TestRegisterRefusesATakenKind: registering an empty kind, or a kind a
// loader or a verifier already has, panics naming it; a new kind registers.
func TestRegisterRefusesATakenKind(t *testing.T) {
	defer func(r map[string]Loader, v map[string]Verifier) { registry, verifiers = r, v }(registry, verifiers)
	registry, verifiers = map[string]Loader{}, map[string]Verifier{}
	Register(fakeLoader{"a"})
	RegisterVerifier(fakeLoader{"b"})
	for _, tt := range []struct {
		name string
		f    func()
		want string
	}{
		{"loader twice", func() { Register(fakeLoader{"a"}) }, `loaders.Register: kind "a" registered twice`},
		{"loader over a verifier", func() { Register(fakeLoader{"b"}) }, `loaders.Register: kind "b" registered twice`},
		{"verifier over a loader", func() { RegisterVerifier(fakeLoader{"a"}) }, `loaders.RegisterVerifier: kind "a" registered twice`},
		{"verifier twice", func() { RegisterVerifier(fakeLoader{"b"}) }, `loaders.RegisterVerifier: kind "b" registered twice`},
		{"empty", func() { Register(fakeLoader{""}) }, "loaders.Register: loaders.fakeLoader has an empty kind"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), tt.want) {
					t.Errorf("panic %v, want %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
	if got := strings.Join(Kinds(), ",") + "|" + strings.Join(CheckKinds(), ","); got != "a|b" {
		t.Errorf("kinds = %s, want a|b", got)
	}
}
