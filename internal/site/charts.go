package site

import (
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
)

// palette colours the series; a recipe keeps its colour in every panel.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}

// Metric is one metric's pretraining curves: a panel per model size.
type Metric struct {
	Name    string
	Panels  []LineChart
	Legend  []Series // names and colours of the recipes
	Rows    int      // rows of pretrain_evals_mean read
	Plotted int      // points drawn
	Missing int      // points without a finite mean
}

// pretrainMetric builds the panels of one metric from its rows: x = tokens,
// y = the mean over seeds, the band mean ± std, a line per recipe.
func pretrainMetric(name string, rows []CurveRow) Metric {
	var sizes, recipes []string
	for _, r := range rows {
		if !slices.Contains(sizes, r.Params) {
			sizes = append(sizes, r.Params)
		}
		if !slices.Contains(recipes, r.Data) {
			recipes = append(recipes, r.Data)
		}
	}
	sortSizes(sizes)
	slices.Sort(recipes)
	color := map[string]string{}
	m := Metric{Name: name, Rows: len(rows)}
	for i, d := range recipes {
		color[d] = palette[i%len(palette)]
		m.Legend = append(m.Legend, Series{Name: d, Color: color[d]})
	}
	for _, size := range sizes {
		c := LineChart{Title: size, XLabel: "tokens", YLabel: name}
		for _, d := range recipes {
			s := Series{Name: d, Color: color[d]}
			for _, r := range rows {
				if r.Params == size && r.Data == d {
					s.Points = append(s.Points, Point{X: r.Tokens, Y: r.Mean, Lo: r.Mean - r.Std, Hi: r.Mean + r.Std})
				}
			}
			if len(s.Points) > 0 {
				c.Series = append(c.Series, s)
			}
		}
		m.Panels = append(m.Panels, c)
		m.Plotted += c.Plotted()
		m.Missing += c.Missing()
	}
	return m
}

// Loss is the W&B training-loss chart and what it leaves out.
type Loss struct {
	Chart    LineChart
	Runs     int      // runs drawn
	Rows     int      // their history rows
	NoLoss   []string // runs whose history logs no train_loss
	HasChart bool
	Colors   []Series
}

// lossChart draws train_loss against step, a line per run that logs one.
func lossChart(rows []LossRow) Loss {
	var runs []string
	has := map[string]bool{}
	for _, r := range rows {
		if !slices.Contains(runs, r.Run) {
			runs = append(runs, r.Run)
		}
		has[r.Run] = has[r.Run] || r.Has
	}
	l := Loss{Chart: LineChart{Title: "train_loss by step", XLabel: "step (W&B _step)", YLabel: "train_loss", Width: 720, Height: 320}}
	for _, run := range runs {
		if !has[run] {
			l.NoLoss = append(l.NoLoss, run)
			continue
		}
		s := Series{Name: run, Color: palette[l.Runs%len(palette)]}
		for _, r := range rows {
			if r.Run == run {
				s.Points = append(s.Points, Point{X: r.Step, Y: r.Loss, Lo: math.NaN(), Hi: math.NaN()})
			}
		}
		l.Rows += len(s.Points)
		l.Chart.Series = append(l.Chart.Series, s)
		l.Colors = append(l.Colors, s)
		l.Runs++
	}
	l.HasChart = l.Runs > 0
	return l
}

// Deltas is the finetune-minus-pretraining chart, the matched runs
// without a delta and why, and the deltas a loaded matched frame holds.
type Deltas struct {
	Matched   int
	WithDelta int
	Chart     BarChart
	NoDelta   []NoDelta
	Frame     BarChart
}

// NoDelta is a matched run finetune_pretrain_match gives no delta, and why.
type NoDelta struct{ Run, Why string }

// deltas builds the delta charts from the database.
func deltas(ctx context.Context, db *sql.DB) (Deltas, error) {
	runs, err := matchRuns(ctx, db)
	if err != nil {
		return Deltas{}, err
	}
	d := Deltas{Matched: len(runs)}
	for _, r := range runs {
		if r.Deltas > 0 {
			d.WithDelta++
			continue
		}
		d.NoDelta = append(d.NoDelta, NoDelta{Run: r.Run, Why: noDeltaReason(r)})
	}
	if d.Chart.Bars, err = matchDeltas(ctx, db); err != nil {
		return Deltas{}, err
	}
	d.Chart.Title = "finetune minus pretraining (finetune_pretrain_match.deltas)"
	d.Chart.XLabel = "finetune result − checkpoint value"
	if d.Frame.Bars, err = frameDeltas(ctx, db); err != nil {
		return Deltas{}, err
	}
	d.Frame.Title = "delta_ columns of the loaded matched frame (finetune_matched_values)"
	d.Frame.XLabel = "delta as the legacy frame holds it"
	return d, nil
}

// noDeltaReason says why a matched run has no delta.
func noDeltaReason(r MatchRun) string {
	ck := fmt.Sprintf("%s %s step %s", r.Params, r.Data, r.CkptSteps)
	switch {
	case !r.Step.Valid:
		return "finetune_checkpoints finds no step for its checkpoint (" + ck + ")"
	case !r.HasPretrain:
		return fmt.Sprintf("no pretrain_evals row (seed 0) at its checkpoint %s %s step %d", r.Params, r.Data, r.Step.Int64)
	default:
		return "no task has both an acc_uncond or correct_prob result and the checkpoint's value"
	}
}

// legendHTML is a legend of coloured names.
func legendHTML(series []Series) template.HTML {
	var b strings.Builder
	b.WriteString(`<ul class="legend">`)
	for _, s := range series {
		fmt.Fprintf(&b, `<li><span class="swatch" style="background:%s"></span>%s</li>`, esc(s.Color), esc(s.Name))
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}
