package site

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Bar is one value of a bar chart; Value is NaN when the source holds none.
type Bar struct {
	Group, Label string // the run, and what the value is (e.g. delta_arc_easy_acc_uncond)
	Value        float64
}

// BarChart draws signed values as horizontal bars from zero, one row each.
type BarChart struct {
	Title, XLabel string
	Bars          []Bar
	Width         int // 0 means 720
}

// bar geometry.
const (
	barRow, barLabelW = 22, 380
)

// Missing counts the bars without a value.
func (c BarChart) Missing() int {
	n := 0
	for _, b := range c.Bars {
		if !finite(b.Value) {
			n++
		}
	}
	return n
}

// SVG draws the chart: every bar drawn is a rect carrying its group, label
// and value in data attributes; a bar without a value gets its row and the
// words "no value" instead.
func (c BarChart) SVG() template.HTML {
	w := c.Width
	if w == 0 {
		w = 720
	}
	vals := []float64{0}
	for _, br := range c.Bars {
		vals = append(vals, br.Value)
	}
	lo, hi, _ := extent(vals)
	h := padTop + len(c.Bars)*barRow + padBottom
	f := frame{w: float64(w), h: float64(h), plotL: barLabelW, plotR: float64(w - padRight), plotT: padTop,
		plotB: float64(h - padBottom), x0: lo, x1: hi, y0: 0, y1: 1}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		w, h, w, h, esc(c.Title))
	fmt.Fprintf(&b, `<text class="title" x="8" y="16">%s</text>`, esc(c.Title))
	fmt.Fprintf(&b, `<rect class="plot" x="%g" y="%g" width="%g" height="%g"/>`, f.plotL, f.plotT, f.plotR-f.plotL, f.plotB-f.plotT)
	for _, t := range ticks(lo, hi, 5) {
		x := f.px(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.2f" y1="%g" x2="%.2f" y2="%g"/><text class="tick" x="%.2f" y="%g" text-anchor="middle">%s</text>`,
			x, f.plotT, x, f.plotB, x, f.plotB+14, esc(num(t)))
	}
	zero := f.px(0)
	fmt.Fprintf(&b, `<line class="zero" x1="%.2f" y1="%g" x2="%.2f" y2="%g"/>`, zero, f.plotT, zero, f.plotB)
	for i, br := range c.Bars {
		y := f.plotT + float64(i*barRow)
		label := br.Group + " · " + br.Label
		fmt.Fprintf(&b, `<text class="barlabel" x="%g" y="%g" text-anchor="end"><title>%s</title>%s</text>`,
			f.plotL-6, y+15, esc(label), esc(shorten(label, 50)))
		if !finite(br.Value) {
			fmt.Fprintf(&b, `<text class="novalue" x="%.2f" y="%g">no value</text>`, zero+4, y+15)
			continue
		}
		x := f.px(br.Value)
		cls := "pos"
		if br.Value < 0 {
			cls = "neg"
		}
		fmt.Fprintf(&b, `<rect class="bar %s" x="%.2f" y="%g" width="%.2f" height="%d" data-group="%s" data-label="%s" data-value="%s"><title>%s: %s</title></rect>`,
			cls, math.Min(x, zero), y+4, math.Abs(x-zero), barRow-8, esc(br.Group), esc(br.Label), exact(br.Value), esc(label), esc(exact(br.Value)))
	}
	fmt.Fprintf(&b, `<text class="label" x="%g" y="%g" text-anchor="middle">%s</text>`, (f.plotL+f.plotR)/2, f.h-6, esc(c.XLabel))
	if m := c.Missing(); m > 0 {
		fmt.Fprintf(&b, `<text class="missing" x="%g" y="%g" text-anchor="end" data-missing="%d">%s not drawn (NULL, NaN or infinite)</text>`,
			f.plotR, f.plotT-6, m, plural(m, "value", "values"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// shorten cuts s to n runes with an ellipsis in the middle.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	h := (n - 1) / 2
	return string(r[:h]) + "…" + string(r[len(r)-(n-1-h):])
}
