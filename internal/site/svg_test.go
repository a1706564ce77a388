package site

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var nan = math.NaN()

// fixtureChart has a NULL in the middle of one line (the line breaks
// there), a band on some points only, and names that need escaping.
func fixtureChart() LineChart {
	return LineChart{Title: `size <4M> & "co"`, XLabel: "tokens", YLabel: "acc",
		Series: []Series{
			{Name: `<script>alert(1)</script>`, Color: "#1f77b4", Points: []Point{
				{X: 0, Y: 0.25, Lo: 0.2, Hi: 0.3}, {X: 1e9, Y: 0.5, Lo: 0.45, Hi: 0.55}, {X: 2e9, Y: nan, Lo: nan, Hi: nan}, {X: 3e9, Y: 0.75, Lo: nan, Hi: nan}}},
			{Name: "C4", Color: "#d62728", Points: []Point{
				{X: 0, Y: 0.3, Lo: nan, Hi: nan}, {X: 3e9, Y: math.Inf(1), Lo: nan, Hi: nan}}},
		}}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what was drawn (run with -update and review the diff):\n%s", path, got)
	}
}

func count(s, re string) int { return len(regexp.MustCompile(re).FindAllString(s, -1)) }

func TestLineChartSVG(t *testing.T) {
	c := fixtureChart()
	svg := string(c.SVG())
	golden(t, "line.svg", svg)
	if got, want := c.Plotted(), 4; got != want {
		t.Errorf("Plotted() = %d, want %d", got, want)
	}
	if got := count(svg, `<circle class="pt"`); got != 4 {
		t.Errorf("%d circles, want 4 (one per point with a finite value)", got)
	}
	// The NULL breaks the first line in two: 2 points, then 1; C4's infinite value leaves it one.
	for _, want := range []string{`data-points="2"`, `data-points="1"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("no line with %s", want)
		}
	}
	if got := count(svg, `<path class="line"`); got != 3 {
		t.Errorf("%d line paths, want 3", got)
	}
	if got := count(svg, `<path class="band"`); got != 1 {
		t.Errorf("%d bands, want 1 (the two first points have one)", got)
	}
	if !strings.Contains(svg, `data-missing="2">2 points not drawn`) {
		t.Errorf("the chart does not say 2 points were not drawn")
	}
	if strings.Contains(svg, "<script") || count(svg, `="[^"]*(NaN|Inf)`) > 0 {
		t.Errorf("unescaped text or a NaN/Inf coordinate in the SVG")
	}
	if !strings.Contains(svg, `data-series="&lt;script&gt;alert(1)&lt;/script&gt;"`) || !strings.Contains(svg, `size &lt;4M&gt; &amp; &#34;co&#34;`) {
		t.Errorf("names are not escaped")
	}
	if !strings.Contains(svg, `data-x="1e+09" data-y="0.5"`) {
		t.Errorf("a point does not carry its exact values")
	}
}

func TestLineChartWithoutValues(t *testing.T) {
	c := LineChart{Title: "t", Series: []Series{{Name: "a", Points: []Point{{X: 1, Y: nan, Lo: nan, Hi: nan}}}}}
	svg := string(c.SVG())
	if !strings.Contains(svg, ">no values</text>") || count(svg, `<circle`) != 0 || count(svg, `<path`) != 0 {
		t.Errorf("a chart without values draws something or does not say so:\n%s", svg)
	}
	if count(svg, `="[^"]*(NaN|Inf)`) > 0 {
		t.Errorf("NaN in the SVG")
	}
}

func TestBarChartSVG(t *testing.T) {
	c := BarChart{Title: "deltas", XLabel: "ft − pt", Bars: []Bar{
		{Group: "run-a", Label: "delta_arc_easy_acc_uncond", Value: 0.05},
		{Group: "run-b", Label: "delta_arc_easy_acc_uncond", Value: nan},
		{Group: "run-c <b>", Label: "delta_boolq_correct_prob", Value: -0.125},
	}}
	svg := string(c.SVG())
	golden(t, "bars.svg", svg)
	if got := count(svg, `<rect class="bar `); got != 2 {
		t.Errorf("%d bars, want 2", got)
	}
	for _, want := range []string{`class="bar neg"`, `data-value="-0.125"`, `data-value="0.05"`, `>no value</text>`,
		`data-missing="1">1 value not drawn`, `data-group="run-c &lt;b&gt;"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %s in the bars", want)
		}
	}
}

// TestTicks: both ends of the range are covered, and the steps are round.
func TestTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   string
	}{
		{0, 1, "0 0.2 0.4 0.6 0.8 1"},
		{0.31, 0.79, "0.4 0.5 0.6 0.7"},
		{-0.2, 0.3, "-0.2 -0.1 0 0.1 0.2 0.3"},
		{0, 1.5e10, "0 5G 10G 15G"},
		{2, 2, "2"},
	} {
		var got []string
		for _, v := range ticks(tt.lo, tt.hi, 5) {
			got = append(got, num(v))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("ticks(%g, %g) = %v, want %s", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestSortSizes(t *testing.T) {
	got := []string{"1B", "150M", "4M", "other", "20M", "7.5B", "530M"}
	sortSizes(got)
	if want := "4M 20M 150M 530M 1B 7.5B other"; strings.Join(got, " ") != want {
		t.Errorf("sortSizes = %v, want %s", got, want)
	}
}
