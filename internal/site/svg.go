package site

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Point is one value of a series. Y is NaN when the source holds no value
// (NULL or NaN): the chart skips it, breaks the line there, and counts it.
// Lo and Hi bound the band around Y (mean ± std); NaN when there is none.
type Point struct {
	X, Y, Lo, Hi float64
}

// Series is one line of a chart.
type Series struct {
	Name   string
	Color  string
	Points []Point
}

// LineChart is a chart of lines with optional bands, drawn as SVG.
type LineChart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Width, Height         int // 0 means 360 × 240
}

// chart geometry.
const (
	padLeft, padRight, padTop, padBottom = 56, 12, 26, 40
)

// frame maps data coordinates onto the plot area.
type frame struct {
	w, h                       float64
	x0, x1, y0, y1             float64
	plotL, plotR, plotT, plotB float64
}

func (f frame) px(x float64) float64 {
	return f.plotL + fraction(x, f.x0, f.x1)*(f.plotR-f.plotL)
}

func (f frame) py(y float64) float64 {
	return f.plotB - fraction(y, f.y0, f.y1)*(f.plotB-f.plotT)
}

// fraction is where v lies between a and b (a < b, both finite): 0 at a,
// 1 at b. When b-a overflows (a range from -1.7e308 to 1.7e308) it works
// on halves, which cannot; otherwise on the values themselves, which
// keeps the precision of a range of denormals (halving 5e-324 gives 0).
func fraction(v, a, b float64) float64 {
	if d := b - a; !math.IsInf(d, 0) {
		return (v - a) / d
	}
	return (v/2 - a/2) / (b/2 - a/2)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Missing counts the points without a value.
func (c LineChart) Missing() int {
	n := 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !finite(p.X) || !finite(p.Y) {
				n++
			}
		}
	}
	return n
}

// Plotted counts the points drawn.
func (c LineChart) Plotted() int {
	n := 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if finite(p.X) && finite(p.Y) {
				n++
			}
		}
	}
	return n
}

// extent is the range of the finite values of xs, widened by 5% of the
// value (1 for 0 or a value too small to have 5%) when it is a single
// value, so that a scale can be made of it. The ends stay finite: a
// widened end beyond ±MaxFloat64 is ±MaxFloat64.
func extent(xs []float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if finite(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if lo > hi {
		return 0, 1, false
	}
	if lo == hi {
		d := math.Abs(lo) * 0.05
		if d == 0 {
			d = 1
		}
		lo, hi = math.Max(lo-d, -math.MaxFloat64), math.Min(hi+d, math.MaxFloat64)
	}
	return lo, hi, true
}

func (c LineChart) frame() frame {
	w, h := c.Width, c.Height
	if w == 0 {
		w, h = 360, 240
	}
	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			if finite(p.X) && finite(p.Y) {
				xs = append(xs, p.X)
				ys = append(ys, p.Y)
				if finite(p.Lo) && finite(p.Hi) {
					ys = append(ys, p.Lo, p.Hi)
				}
			}
		}
	}
	f := frame{w: float64(w), h: float64(h), plotL: padLeft, plotR: float64(w - padRight), plotT: padTop, plotB: float64(h - padBottom)}
	f.x0, f.x1, _ = extent(xs)
	f.y0, f.y1, _ = extent(ys)
	return f
}

// SVG draws the chart. Every point drawn is a circle carrying its series,
// x and y in data attributes; every line a path with data-points, the
// number of points it joins.
func (c LineChart) SVG() template.HTML {
	f := c.frame()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`,
		f.w, f.h, f.w, f.h, esc(c.Title))
	fmt.Fprintf(&b, `<text class="title" x="%g" y="16">%s</text>`, f.plotL, esc(c.Title))
	axes(&b, f, c.XLabel, c.YLabel)
	if c.Plotted() == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%g" y="%g" text-anchor="middle">no values</text>`, (f.plotL+f.plotR)/2, (f.plotT+f.plotB)/2)
	}
	for _, s := range c.Series {
		band(&b, f, s)
	}
	for _, s := range c.Series {
		line(&b, f, s)
	}
	if m := c.Missing(); m > 0 {
		fmt.Fprintf(&b, `<text class="missing" x="%g" y="%g" text-anchor="end" data-missing="%d">%s not drawn (NULL, NaN or infinite)</text>`,
			f.plotR, f.plotT+10, m, plural(m, "point", "points"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axes draws the frame, ticks and labels.
func axes(b *strings.Builder, f frame, xl, yl string) {
	fmt.Fprintf(b, `<rect class="plot" x="%g" y="%g" width="%g" height="%g"/>`, f.plotL, f.plotT, f.plotR-f.plotL, f.plotB-f.plotT)
	for _, t := range ticks(f.x0, f.x1, 5) {
		x := f.px(t)
		fmt.Fprintf(b, `<line class="grid" x1="%.2f" y1="%g" x2="%.2f" y2="%g"/><text class="tick" x="%.2f" y="%g" text-anchor="middle">%s</text>`,
			x, f.plotT, x, f.plotB, x, f.plotB+14, esc(num(t)))
	}
	for _, t := range ticks(f.y0, f.y1, 5) {
		y := f.py(t)
		fmt.Fprintf(b, `<line class="grid" x1="%g" y1="%.2f" x2="%g" y2="%.2f"/><text class="tick" x="%g" y="%.2f" text-anchor="end">%s</text>`,
			f.plotL, y, f.plotR, y, f.plotL-4, y+4, esc(num(t)))
	}
	fmt.Fprintf(b, `<text class="label" x="%g" y="%g" text-anchor="middle">%s</text>`, (f.plotL+f.plotR)/2, f.h-6, esc(xl))
	fmt.Fprintf(b, `<text class="label" transform="translate(12 %g) rotate(-90)" text-anchor="middle">%s</text>`, (f.plotT+f.plotB)/2, esc(yl))
}

// band draws the ± band of s where its points have one, as one polygon
// per run of consecutive points with a band.
func band(b *strings.Builder, f frame, s Series) {
	for _, run := range runs(s.Points, func(p Point) bool { return finite(p.X) && finite(p.Y) && finite(p.Lo) && finite(p.Hi) }) {
		if len(run) < 2 {
			continue
		}
		var d strings.Builder
		for i, p := range run {
			fmt.Fprintf(&d, "%s%.2f,%.2f", cmd(i), f.px(p.X), f.py(p.Hi))
		}
		for i := len(run) - 1; i >= 0; i-- {
			fmt.Fprintf(&d, "L%.2f,%.2f", f.px(run[i].X), f.py(run[i].Lo))
		}
		fmt.Fprintf(b, `<path class="band" d="%sZ" fill="%s" data-series="%s"/>`, d.String(), esc(s.Color), esc(s.Name))
	}
}

// line draws s as one path per run of points with a value, and a circle per point.
func line(b *strings.Builder, f frame, s Series) {
	for _, run := range runs(s.Points, func(p Point) bool { return finite(p.X) && finite(p.Y) }) {
		var d strings.Builder
		for i, p := range run {
			fmt.Fprintf(&d, "%s%.2f,%.2f", cmd(i), f.px(p.X), f.py(p.Y))
		}
		fmt.Fprintf(b, `<path class="line" d="%s" stroke="%s" data-series="%s" data-points="%d"/>`, d.String(), esc(s.Color), esc(s.Name), len(run))
		for _, p := range run {
			fmt.Fprintf(b, `<circle class="pt" cx="%.2f" cy="%.2f" r="2.5" fill="%s" data-series="%s" data-x="%s" data-y="%s"><title>%s: %s, %s</title></circle>`,
				f.px(p.X), f.py(p.Y), esc(s.Color), esc(s.Name), exact(p.X), exact(p.Y), esc(s.Name), esc(exact(p.X)), esc(exact(p.Y)))
		}
	}
}

func cmd(i int) string {
	if i == 0 {
		return "M"
	}
	return "L"
}

// runs splits points into maximal runs of consecutive points for which ok holds.
func runs(points []Point, ok func(Point) bool) [][]Point {
	var out [][]Point
	var cur []Point
	for _, p := range points {
		if ok(p) {
			cur = append(cur, p)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// maxTicks bounds the ticks of an axis, whatever the range and step.
const maxTicks = 20

// ticks gives about n round values covering [lo, hi], in increasing
// order, each finite and distinct. The k-th tick is k×step, computed from
// its index rather than by adding steps, so the count is known before the
// first one and bounded by maxTicks. When no round step can be told apart
// from the values (1e16 to 1e16+4, whose doubles are 2 apart; a range of
// denormals, whose step underflows to 0), or fewer than two ticks would
// fall in the range, the ticks are the two ends; when lo equals hi, the
// one value; when either is not finite, none.
func ticks(lo, hi float64, n int) []float64 {
	if !finite(lo) || !finite(hi) || n < 1 {
		return nil
	}
	if !(hi > lo) {
		return []float64{lo}
	}
	ends := []float64{lo, hi}
	raw := (hi - lo) / float64(n)
	if math.IsInf(raw, 0) {
		raw = hi/float64(n) - lo/float64(n) // the span overflows; its n-th does not
	}
	// The step is 1, 2, 5 or 10 × 10^e, the double nearest that decimal
	// (math.Pow(10, 308) is 1.0000000000000004e308, not 1e308).
	e := math.Floor(math.Log10(raw))
	step := math.NaN()
	if finite(e) {
		for _, m := range []string{"1", "2", "5", "10"} {
			if s, _ := strconv.ParseFloat(m+"e"+strconv.Itoa(int(e)), 64); s >= raw {
				step = s
				break
			}
		}
	}
	// A step below the spacing of the doubles at the larger end would give
	// ticks that round onto each other; one far from raw comes from a
	// logarithm that is wrong for denormals (math.Log10(2e-321) ≈ -307.95).
	if !finite(step) || !(step > 0) || step < ulp(math.Max(math.Abs(lo), math.Abs(hi))) || !(step >= raw && step <= 10*raw) {
		return ends
	}
	first, last := math.Ceil(lo/step), math.Floor(hi/step+1e-9)
	if !finite(first) || !finite(last) || last < first || last-first >= maxTicks {
		return ends
	}
	var out []float64
	for i := 0; i < maxTicks && first+float64(i) <= last; i++ {
		t := (first + float64(i)) * step
		if !finite(t) || (len(out) > 0 && t <= out[len(out)-1]) {
			continue
		}
		out = append(out, t)
	}
	if len(out) < 2 {
		return ends
	}
	return out
}

// ulp is the gap between the finite double a ≥ 0 and the next one below
// it (the next one above MaxFloat64 would be infinite).
func ulp(a float64) float64 {
	if a == 0 {
		return math.SmallestNonzeroFloat64
	}
	return a - math.Nextafter(a, 0)
}

// num is a tick label: three significant digits, large values with an SI suffix.
func num(v float64) string {
	a := math.Abs(v)
	for _, s := range []struct {
		f float64
		p string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= s.f {
			return strconv.FormatFloat(v/s.f, 'g', 3, 64) + s.p
		}
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// exact is a value as the database holds it: the shortest text that reads back as the same double.
func exact(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func esc(s string) string { return html.EscapeString(s) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
