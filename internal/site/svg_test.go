package site

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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

// nonFinite names the attributes of svg whose value holds a NaN or an
// infinity (as %g, %.2f or strconv write them).
func nonFinite(svg string) []string {
	return regexp.MustCompile(`[\w-]+="[^"]*(NaN|Inf)[^"]*"`).FindAllString(svg, -1)
}

// within runs f and fails t when it has not returned after d: the tick
// loop once never ended (and grew without bound) on 1e16 to 1e16+4.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

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
	if strings.Contains(svg, "<script") {
		t.Errorf("unescaped text in the SVG")
	}
	if bad := nonFinite(svg); len(bad) > 0 {
		t.Errorf("NaN or Inf in the SVG: %v", bad)
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
	if bad := nonFinite(svg); len(bad) > 0 {
		t.Errorf("NaN or Inf in the SVG: %v", bad)
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
	if bad := nonFinite(svg); len(bad) > 0 {
		t.Errorf("NaN or Inf in the SVG: %v", bad)
	}
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

const maxF = math.MaxFloat64

// TestTicksExtreme: ranges at the edges of the doubles give a few
// distinct, increasing, finite ticks, quickly: the two ends when no round
// step can be told apart from them, the one value when there is one.
func TestTicksExtreme(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   string // the ticks, exactly
	}{
		{2, 2, "2"},
		{maxF, maxF, "1.7976931348623157e+308"},
		{5e-324, 5e-324, "5e-324"},
		{1e16, 1e16 + 4, "1e+16 1.0000000000000004e+16"}, // doubles 2 apart: a step of 1 is not one
		{1e16, 1e16 + 2, "1e+16 1.0000000000000002e+16"},
		{-1.7e308, 1.7e308, "-1e+308 0 1e+308"},
		{-maxF, maxF, "-1e+308 0 1e+308"},
		{1.7e308, maxF, "1.7e+308 1.72e+308 1.74e+308 1.76e+308 1.78e+308"},
		{-maxF, -1.7e308, "-1.78e+308 -1.76e+308 -1.74e+308 -1.72e+308 -1.7e+308"},
		{-1e-300, 1e-300, "-1e-300 -5e-301 0 5e-301 1e-300"},
		{-1e-9, 1e-9, "-1e-09 -5e-10 0 5e-10 1e-09"},
		{-3, -1, "-3 -2.5 -2 -1.5 -1"},
		{-2e9, -1e9, "-2e+09 -1.8e+09 -1.6e+09 -1.4e+09 -1.2e+09 -1e+09"},
		{0, 5e-324, "0 5e-324"},             // the step underflows to 0
		{-5e-324, 5e-324, "-5e-324 5e-324"}, // likewise
		{0, 1e-320, "0 1e-320"},             // math.Log10 is wrong for denormals
		{nan, 1, ""},
		{0, math.Inf(1), ""},
	} {
		var got []float64
		within(t, time.Second, "ticks", func() { got = ticks(tt.lo, tt.hi, 5) })
		var s []string
		for i, v := range got {
			s = append(s, exact(v))
			if !finite(v) || (i > 0 && v <= got[i-1]) {
				t.Errorf("ticks(%g, %g) = %v: not finite and increasing", tt.lo, tt.hi, got)
				break
			}
		}
		if len(got) > maxTicks {
			t.Errorf("ticks(%g, %g): %d ticks, above %d", tt.lo, tt.hi, len(got), maxTicks)
		}
		if strings.Join(s, " ") != tt.want {
			t.Errorf("ticks(%g, %g) = %v, want %s", tt.lo, tt.hi, s, tt.want)
		}
	}
}

// TestScaleExtreme: a frame made of extreme values puts each of them where
// it belongs along either axis: the least at 0, the greatest at 1 (of the
// plot's width or height), a single value inside its widened range.
func TestScaleExtreme(t *testing.T) {
	for _, tt := range []struct {
		vals []float64
		want []float64 // where each value lies, 0 to 1
	}{
		{[]float64{2}, []float64{0.5}},
		{[]float64{-2}, []float64{0.5}},
		{[]float64{0}, []float64{0.5}},
		{[]float64{maxF}, []float64{1}},     // widened to 0.95×MaxFloat64 .. MaxFloat64, not Inf
		{[]float64{-maxF}, []float64{0}},    // likewise below
		{[]float64{5e-324}, []float64{0.5}}, // 5% of it underflows: widened by 1
		{[]float64{1e16, 1e16 + 4}, []float64{0, 1}},
		{[]float64{-1.7e308, 1.7e308, 0}, []float64{0, 1, 0.5}},
		{[]float64{-maxF, maxF, 0, maxF / 2}, []float64{0, 1, 0.5, 0.75}},
		{[]float64{-1e-300, 1e-300, 0}, []float64{0, 1, 0.5}},
		{[]float64{-3, -1, -2.5}, []float64{0, 1, 0.25}},
		{[]float64{0, 5e-324}, []float64{0, 1}},
		{[]float64{-5e-324, 5e-324, 0}, []float64{0, 1, 0.5}},
	} {
		lo, hi, ok := extent(tt.vals)
		if !ok || !finite(lo) || !finite(hi) || !(lo < hi) {
			t.Errorf("extent(%v) = %g, %g, %v: want a finite range", tt.vals, lo, hi, ok)
			continue
		}
		f := frame{x0: lo, x1: hi, y0: lo, y1: hi, plotL: 56, plotR: 348, plotT: 26, plotB: 200}
		for i, v := range tt.vals {
			x, y := f.px(v), f.py(v)
			wx, wy := 56+tt.want[i]*292, 200-tt.want[i]*174
			if math.Abs(x-wx) > 1e-6 || math.Abs(y-wy) > 1e-6 {
				t.Errorf("values %v: %g at (%g, %g), want (%g, %g)", tt.vals, v, x, y, wx, wy)
			}
		}
	}
}

// attrs parses every value of attribute name in svg.
func attrs(t *testing.T, svg, name string) []float64 {
	t.Helper()
	var out []float64
	for _, m := range regexp.MustCompile(` `+name+`="([^"]*)"`).FindAllStringSubmatch(svg, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, m[1], err)
		}
		out = append(out, v)
	}
	return out
}

// TestChartsExtreme: line and bar charts of extreme values end, hold no
// NaN or Inf, and draw every point and bar inside the plot, the least at
// its left (and bottom), the greatest at its right (and top).
func TestChartsExtreme(t *testing.T) {
	for _, vals := range [][]float64{
		{1e16, 1e16 + 4},
		{1e16, 1e16},
		{-1.7e308, 1.7e308},
		{-maxF, maxF},
		{maxF, maxF},
		{-maxF, -maxF},
		{1.7e308, maxF},
		{-1e-300, 1e-300},
		{-3, -1},
		{-5e-324, 5e-324},
		{0, 5e-324},
		{5e-324, 5e-324},
		{2, 2},
	} {
		name := exact(vals[0]) + ".." + exact(vals[1])
		var pts []Point
		var bars []Bar
		for i, v := range vals {
			pts = append(pts, Point{X: v, Y: v, Lo: nan, Hi: nan})
			bars = append(bars, Bar{Group: "g", Label: strconv.Itoa(i), Value: v})
		}
		lc := LineChart{Title: name, Series: []Series{{Name: "s", Color: "#000", Points: pts}}}
		bc := BarChart{Title: name, Bars: bars}
		var line, bar string
		within(t, time.Second, name+" charts", func() { line, bar = string(lc.SVG()), string(bc.SVG()) })
		for _, svg := range []string{line, bar} {
			if bad := nonFinite(svg); len(bad) > 0 {
				t.Errorf("%s: NaN or Inf in the SVG: %v", name, bad)
			}
			if count(svg, `class="tick"`) == 0 {
				t.Errorf("%s: no ticks", name)
			}
		}
		cx, cy := attrs(t, line, "cx"), attrs(t, line, "cy")
		if len(cx) != len(vals) || len(cy) != len(vals) {
			t.Fatalf("%s: %d circles, want %d:\n%s", name, len(cx), len(vals), line)
		}
		for i := range cx {
			if !(cx[i] >= 56 && cx[i] <= 348 && cy[i] >= 26 && cy[i] <= 200) {
				t.Errorf("%s: point %d at (%g, %g), outside the plot", name, i, cx[i], cy[i])
			}
		}
		if vals[0] != vals[1] && (cx[0] != 56 || cx[1] != 348 || cy[0] != 200 || cy[1] != 26) {
			t.Errorf("%s: points at (%g, %g) and (%g, %g), want (56, 200) and (348, 26)", name, cx[0], cy[0], cx[1], cy[1])
		}
		for _, a := range []string{"x1", "x2", "y1", "y2", "x", "y", "width"} {
			for _, v := range append(attrs(t, line, a), attrs(t, bar, a)...) {
				if v < 0 || v > 720 {
					t.Errorf("%s: %s=%g, outside the chart", name, a, v)
				}
			}
		}
		rects := regexp.MustCompile(`<rect class="bar [^"]*" x="([^"]*)" y="[^"]*" width="([^"]*)"`).FindAllStringSubmatch(bar, -1)
		if len(rects) != len(vals) {
			t.Fatalf("%s: %d bars, want %d:\n%s", name, len(rects), len(vals), bar)
		}
		for i, r := range rects {
			x, _ := strconv.ParseFloat(r[1], 64)
			w, _ := strconv.ParseFloat(r[2], 64)
			if !(x >= 380 && w >= 0 && x+w <= 708.001) {
				t.Errorf("%s: bar %d from %g to %g, outside the plot (380 to 708)", name, i, x, x+w)
			}
			// The scale runs from min(0, values) to max(0, values).
			if vals[i] < 0 && vals[i] == math.Min(vals[0], vals[1]) && x != 380 {
				t.Errorf("%s: the least bar starts at %g, want 380", name, x)
			}
			if vals[i] > 0 && vals[i] == math.Max(vals[0], vals[1]) && math.Abs(x+w-708) > 0.01 {
				t.Errorf("%s: the greatest bar ends at %g, want 708", name, x+w)
			}
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
