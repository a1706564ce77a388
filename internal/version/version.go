// Package version tells which dschema build is running.
package version

import "runtime/debug"

// Override is set at link time (-ldflags "-X github.com/dschema/dschema/internal/version.Override=v1.2.3").
var Override string

// String returns the tool version: the link-time override, the module
// version, or "devel" plus the VCS revision when built from a checkout.
func String() string {
	if Override != "" {
		return Override
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
