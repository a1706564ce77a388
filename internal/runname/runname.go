// Package runname parses the lab's finetune run names into the fields the
// legacy run records carry (LEGACY-FORMATS.md §4.4). Names encode the
// hyperparameters of a run in one of seventeen families, tried in a fixed
// order, first match wins; a name no family matches is "old" (an early
// DataDecide evaluation run) or "other".
//
// The families, their order, the defaults and the _Ft_ rule are the lab's;
// two things differ from the legacy parser on purpose and are flagged on
// the result: a token count written "100Mt" is 1e8 (the legacy parser read
// 1e14), and learning rate, seed and epochs missing from the name are
// taken from the run's W&B config (Fill) before any default.
package runname

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Run types.
const (
	TypeDPO            = "dpo"
	TypeMatched        = "matched"
	TypeReduceLoss     = "reduce_type"
	TypeSimpleFTTokens = "simple_ft_vary_tokens"
	TypeSimpleFT       = "simple_ft"
	TypeOld            = "old"
	TypeOther          = "other"
)

// Fine-tuning on the whole dataset: names with _Ft_ mean this many tokens
// per epoch, for FullFTEpochs epochs.
const (
	FullFTTokens = 665127434
	FullFTEpochs = 2
)

// Parsed is a run name's fields, named as in the legacy records.
type Parsed struct {
	RunID       string `json:"run_id"`
	RunType     string `json:"run_type"`
	PatternName string `json:"pattern_name,omitempty"` // e.g. MATCHED1_PATTERN; "" for old and other
	// Timestamp is the time written in the name (naive); nil when the name
	// has none or it is not a valid time.
	Timestamp *NaiveTime `json:"timestamp"`
	ExpName   *string    `json:"exp_name"`
	// InitialCheckpointRecipe is the DataDecide display name when the code
	// is known (Recipes), else the code as written (InitialCheckpointRecipeRaw).
	InitialCheckpointRecipe    *string  `json:"initial_checkpoint_recipe"`
	InitialCheckpointRecipeRaw *string  `json:"initial_checkpoint_recipe_raw"`
	InitialCheckpointSize      *string  `json:"initial_checkpoint_size"`
	InitialCheckpointSteps     *string  `json:"initial_checkpoint_steps"` // "main" or digits
	NumFinetuneTokensPerEpoch  *float64 `json:"num_finetune_tokens_per_epoch"`
	NumFinetuneEpochs          *float64 `json:"num_finetune_epochs"`
	NumFinetuneTokens          *float64 `json:"num_finetune_tokens"`
	LR                         *string  `json:"lr"` // as written, e.g. "5e-05"
	LR1                        *string  `json:"lr1"`
	LR2                        *string  `json:"lr2"`
	Seed                       *string  `json:"seed"`
	ReduceLoss                 *string  `json:"reduce_loss"`
	MaxTrainSamples            *int64   `json:"max_train_samples,omitempty"`
	ComparisonModelSize        *string  `json:"comparison_model_size"`
	ComparisonMetric           *string  `json:"comparison_metric"`
	ComparisonModelRecipe      *string  `json:"comparison_model_recipe"`
	// Filled names the fields taken from the run's W&B config (Fill).
	Filled []string `json:"filled_from_config,omitempty"`
	// Notes are where this parse knowingly differs from the legacy parser.
	Notes []string `json:"notes,omitempty"`
}

// NaiveTime is a time as written in a run name, without a zone.
type NaiveTime time.Time

// String is the time as 2006-01-02 15:04:05.
func (t NaiveTime) String() string { return time.Time(t).Format("2006-01-02 15:04:05") }

// MarshalJSON writes the time without a zone: 2006-01-02T15:04:05.
func (t NaiveTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).Format("2006-01-02T15:04:05") + `"`), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *NaiveTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		return err
	}
	*t = NaiveTime(v)
	return nil
}

// LRValue is the learning rate as a number, when it reads as one.
func (p *Parsed) LRValue() *float64 { return Number(p.LR) }

// Number reads a field as a number (nil when it is not one).
func Number(s *string) *float64 {
	if s == nil {
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(*s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// Building blocks, as Python 3's re reads them: \w and \d are Unicode.
const (
	w   = `[\p{L}\p{N}_]`
	d   = `\p{Nd}`
	ts6 = `(?P<timestamp>` + d + `{6}-` + d + `{6})`
	ts8 = `(?P<timestamp>` + d + `{4}_` + d + `{2}_` + d + `{2}-` + d + `{2}_` + d + `{2}_` + d + `{2})`
	exp = `(?P<exp_name>` + w + `+)`

	cmpSize   = `(?P<comparison_model_size>` + d + `+[MB])`
	cmpMetric = `(?P<comparison_metric>` + w + `+)`
	recipe    = `(?P<initial_checkpoint_recipe>` + w + `+)`
	recipeD   = `(?P<initial_checkpoint_recipe>[\p{L}\p{N}_-]+)`
	size      = `(?P<initial_checkpoint_size>` + d + `+[MB])`
	steps     = `(?P<initial_checkpoint_steps>` + d + `+)`
	stepsWord = `(?P<initial_checkpoint_steps>` + w + `+)`
	seed      = `(?P<seed>` + d + `+)`
	lr        = `(?P<lr>[0-9.e-]+)`
	lr1       = `(?P<lr1>[0-9.e-]+)`
	lr2       = `(?P<lr2>[0-9.e-]+)`
	tokEp8    = `(?P<num_finetune_tokens_per_epoch>` + d + `+[MB])tx(?P<num_finetune_epochs>` + d + `+)`
	tokEp6    = `(?P<num_finetune_tokens_per_epoch>` + d + `+[MG])tx(?P<num_finetune_epochs>` + d + `+)`
	tok8      = `(?P<num_finetune_tokens>` + d + `+[MB])`
	tokGT     = `(?P<num_finetune_tokens>` + d + `+[MG]t)`
	tokPlain  = `(?P<max_train_samples>` + d + `+)`
	reduce    = `(?P<reduce_loss>` + w + `+)`

	ts6exp   = ts6 + `_` + exp
	ts8exp   = ts8 + `_` + exp
	lrSuffix = `_lr=` + lr
	lrFlag   = `_--learning_rate=` + lr
	lrEqual  = `_learning_rate=` + lr
	ftFull   = `_finetune_Ft`
	ftTok6   = `_finetune_` + tokEp6
	ddWord   = `DD-` + recipe + `-` + size
	ddFull   = `DD-` + recipe + `-` + size + `-` + steps + `-` + seed
	ddCmp6   = `DD-[\p{L}\p{N}_-]+-` + cmpSize
	matched6 = ts6exp + `_` + cmpSize
	matchedM = ts6exp + `_` + cmpSize + `_` + cmpMetric
)

// family is one run-name pattern.
type family struct {
	name, runType string
	re            *regexp.Regexp
}

func fam(name, runType, pattern string) family {
	return family{name, runType, regexp.MustCompile(`^` + pattern + `$`)}
}

// Families are the run-name patterns in the order they are tried.
var Families = []family{
	fam("DPO1_PATTERN", TypeDPO, ts8exp+`_`+ddWord+`_`+stepsWord+`_default`),
	fam("DPO2_PATTERN", TypeDPO, ts8exp+`_dd__`+recipe+`-`+size+`__`+stepsWord+`__`+tokGT+`_lr=`+lr1+`_default_--learning_rate=`+lr2),
	fam("MATCHED1_PATTERN", TypeMatched, matchedM+ftTok6+`_`+ddFull),
	fam("MATCHED2_PATTERN", TypeMatched, matchedM+ftFull+`_`+ddFull),
	fam("MATCHED3_PATTERN", TypeMatched, matched6+ftFull+`_`+ddFull+lrSuffix),
	fam("MATCHED4_PATTERN", TypeMatched, matched6+ftTok6+`_`+ddFull),
	fam("MATCHED5_PATTERN", TypeMatched, matched6+ftFull+`_`+ddFull),
	fam("MATCHED6_PATTERN", TypeMatched, ts6exp+`_`+ddCmp6+`_Ft_`+ddFull+lrSuffix),
	fam("MATCHED7_PATTERN", TypeMatched, ts8exp+`_`+ddCmp6+`_Ft_`+ddFull+lrSuffix),
	fam("MATCHED8_PATTERN", TypeMatched, matched6+ftTok6+`_`+ddFull+lrSuffix),
	fam("REDUCE_LOSS_PATTERN", TypeReduceLoss, ts8exp+`_`+ddWord+`_`+stepsWord+`_default_--max_train_samples=`+tokPlain+`_--reduce_loss=`+reduce),
	fam("FT1_PATTERN", TypeSimpleFTTokens, ts8exp+`_`+ddWord+`_`+stepsWord+`_`+tokEp8+lrFlag),
	fam("FT3_PATTERN", TypeSimpleFTTokens, ts8exp+`_`+ddWord+`_`+stepsWord+`_`+tok8+`_toks`+lrFlag),
	fam("FT6_PATTERN", TypeSimpleFTTokens, ts6exp+`_`+tokEp8+`_`+ddFull+lrSuffix),
	fam("FT4_PATTERN", TypeSimpleFT, ts8exp+`_`+ddWord+`_Ft`+lrFlag),
	fam("FT5_PATTERN", TypeSimpleFT, ts6exp+`_DD-`+recipeD+`-`+size+`_Ft`+lrEqual),
	fam("FT7_PATTERN", TypeSimpleFT, ts6exp+`_Ft_`+ddFull+lrSuffix),
}

// typeFields are, per run type, the fields any of its families captures:
// the legacy parser filled defaults per run type, into the columns its
// families had.
var typeFields = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, f := range Families {
		if out[f.runType] == nil {
			out[f.runType] = map[string]bool{}
		}
		for _, n := range f.re.SubexpNames() {
			if n != "" {
				out[f.runType][n] = true
			}
		}
	}
	return out
}()

// HasField reports whether runs of a type carry a field (some family of
// the type captures it).
func HasField(runType, field string) bool { return typeFields[runType][field] }

// Parse classifies a run name and reads its fields, with the legacy
// defaults (1 epoch, the main checkpoint, the pile comparison metric) for
// fields its type carries and the name lacks.
func Parse(name string) *Parsed {
	p := &Parsed{RunID: name}
	// Python's $ also matches before a final newline.
	subject := strings.TrimSuffix(name, "\n")
	for _, f := range Families {
		m := f.re.FindStringSubmatch(subject)
		if m == nil {
			continue
		}
		p.RunType, p.PatternName = f.runType, f.name
		g := map[string]string{}
		for i, n := range f.re.SubexpNames() {
			if n != "" {
				g[n] = m[i]
			}
		}
		p.fields(g)
		p.finish()
		return p
	}
	p.RunType = TypeOther
	if strings.Contains(name, "main_default") && !strings.Contains(name, "dpo") && !strings.Contains(name, "--reduce_loss=") {
		p.RunType = TypeOld
	}
	return p
}

func str(g map[string]string, k string) *string {
	v, ok := g[k]
	if !ok {
		return nil
	}
	return &v
}

func (p *Parsed) fields(g map[string]string) {
	if ts, ok := g["timestamp"]; ok {
		layout := "060102-150405"
		if strings.Contains(ts, "_") {
			layout = "2006_01_02-15_04_05"
		}
		if t, err := time.Parse(layout, ts); err == nil {
			n := NaiveTime(t)
			p.Timestamp = &n
		}
	}
	p.ExpName = str(g, "exp_name")
	if raw := str(g, "initial_checkpoint_recipe"); raw != nil {
		p.InitialCheckpointRecipeRaw = raw
		name := RecipeName(*raw)
		p.InitialCheckpointRecipe = &name
	}
	p.InitialCheckpointSize = str(g, "initial_checkpoint_size")
	p.InitialCheckpointSteps = str(g, "initial_checkpoint_steps")
	p.NumFinetuneTokensPerEpoch = p.tokens(g, "num_finetune_tokens_per_epoch")
	p.NumFinetuneTokens = p.tokens(g, "num_finetune_tokens")
	if e, ok := g["num_finetune_epochs"]; ok {
		p.NumFinetuneEpochs = Number(&e)
	}
	p.LR, p.LR1, p.LR2 = str(g, "lr"), str(g, "lr1"), str(g, "lr2")
	p.Seed = str(g, "seed")
	p.ReduceLoss = str(g, "reduce_loss")
	if s, ok := g["max_train_samples"]; ok {
		if n, err := strconv.ParseInt(asciiDigits(s), 10, 64); err == nil {
			p.MaxTrainSamples = &n
		}
	}
	p.ComparisonModelSize = str(g, "comparison_model_size")
	p.ComparisonMetric = str(g, "comparison_metric")
}

// asciiDigits maps Unicode decimal digits to ASCII ones (Python's int()
// reads them; Go's strconv does not).
func asciiDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0x7f {
			if v := digitValue(r); v >= 0 {
				b.WriteByte(byte('0' + v))
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// digitValue is the value of a Unicode decimal digit (category Nd), or -1.
// Unicode encodes decimal digits in runs of ten from a zero, and runs that
// abut start where the one before ends: the distance from the start of the
// contiguous block, modulo ten, is the value.
func digitValue(r rune) int {
	if !unicode.IsDigit(r) {
		return -1
	}
	z := r
	for unicode.IsDigit(z - 1) {
		z--
	}
	return int(r-z) % 10
}

// tokens reads a token count: digits with M (1e6), G or B (1e9), and an
// optional t for "tokens" ("100Mt" is 1e8: the legacy parser read the t
// as tera and got 1e14, which this notes).
func (p *Parsed) tokens(g map[string]string, k string) *float64 {
	v, ok := g[k]
	if !ok {
		return nil
	}
	s := strings.ToUpper(asciiDigits(v))
	t := strings.HasSuffix(s, "T")
	s = strings.TrimSuffix(s, "T")
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "M"):
		mult = 1e6
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "B"):
		mult = 1e9
	}
	s = strings.TrimRight(s, "MGB")
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil
	}
	f := n * mult
	if t {
		p.Notes = append(p.Notes, k+": "+v+" is "+strconv.FormatFloat(f, 'g', -1, 64)+" tokens (the legacy parser read it as "+strconv.FormatFloat(n*1e12, 'g', -1, 64)+")")
	}
	return &f
}

// finish applies the legacy rules after the fields are read: the _Ft_
// token rule, the comparison recipe and metric, and the defaults.
func (p *Parsed) finish() {
	if HasField(p.RunType, "num_finetune_epochs") && p.NumFinetuneEpochs == nil {
		one := 1.0
		p.NumFinetuneEpochs = &one
	}
	if HasField(p.RunType, "initial_checkpoint_steps") && p.InitialCheckpointSteps == nil {
		main := "main"
		p.InitialCheckpointSteps = &main
	}
	if p.RunType == TypeMatched {
		metric := "pile"
		if p.ComparisonMetric != nil {
			metric = *p.ComparisonMetric
		}
		metric = ComparisonMetric(metric)
		p.ComparisonMetric = &metric
	}
	if HasField(p.RunType, "comparison_model_size") {
		r := "Dolma1.7"
		p.ComparisonModelRecipe = &r
	}
	if strings.Contains(p.RunID, "_Ft_") {
		perEpoch, epochs, total := float64(FullFTTokens), float64(FullFTEpochs), float64(FullFTTokens*FullFTEpochs)
		p.NumFinetuneTokensPerEpoch, p.NumFinetuneEpochs, p.NumFinetuneTokens = &perEpoch, &epochs, &total
	}
	p.total()
}

// total sets the token total from tokens per epoch × epochs when the name
// gives no total.
func (p *Parsed) total() {
	if p.NumFinetuneTokens == nil && p.NumFinetuneTokensPerEpoch != nil && p.NumFinetuneEpochs != nil {
		t := *p.NumFinetuneTokensPerEpoch * *p.NumFinetuneEpochs
		p.NumFinetuneTokens = &t
	}
}

// ComparisonMetric names the pretraining metric a comparison metric code
// means: c4 is c4_en-valppl, any other x is x-valppl.
func ComparisonMetric(code string) string {
	if code == "c4" {
		return "c4_en-valppl"
	}
	return code + "-valppl"
}

// Fill takes learning rate, seed and epochs from the run's W&B config
// where the name does not give them (for types that carry the field), and
// recomputes the token total. config values are as decoded from JSON,
// best with json.Decoder.UseNumber (a json.Number keeps 3 apart from 3.0).
func (p *Parsed) Fill(config map[string]any) {
	if p.RunType == TypeOld || p.RunType == TypeOther {
		return
	}
	set := func(field, key string, dst **string) {
		if *dst != nil || !HasField(p.RunType, field) {
			return
		}
		if s, ok := configText(config[key]); ok {
			*dst = &s
			p.Filled = append(p.Filled, field)
		}
	}
	set("lr", "learning_rate", &p.LR)
	set("seed", "seed", &p.Seed)
	if HasField(p.RunType, "num_finetune_epochs") && !p.nameHas("num_finetune_epochs") && !strings.Contains(p.RunID, "_Ft_") {
		if s, ok := configText(config["num_train_epochs"]); ok {
			if f := Number(&s); f != nil {
				p.NumFinetuneEpochs = f
				p.Filled = append(p.Filled, "num_finetune_epochs")
				if p.NumFinetuneTokensPerEpoch != nil && !p.nameHas("num_finetune_tokens") {
					t := *p.NumFinetuneTokensPerEpoch * *f
					p.NumFinetuneTokens = &t
				}
			}
		}
	}
}

// nameHas reports whether the family that matched captures field.
func (p *Parsed) nameHas(field string) bool {
	for _, f := range Families {
		if f.name == p.PatternName {
			for _, n := range f.re.SubexpNames() {
				if n == field {
					return true
				}
			}
		}
	}
	return false
}

// configText renders a config value as the legacy records held it
// (Python's str()): numbers in Python's repr, strings as they are.
func configText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		if x == "" || x == "N/A" {
			return "", false
		}
		return x, true
	case json.Number: // as written in the config: 3 stays 3, 5e-05 stays 5e-05
		return x.String(), true
	case float64:
		return pyRepr(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case bool:
		if x {
			return "True", true
		}
		return "False", true
	}
	return "", false
}

// pyRepr is Python's repr of a float (5e-05, 0.0001, 2.0).
func pyRepr(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if a := math.Abs(f); a >= 1e16 || a < 1e-4 {
		mant, e, ok := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
		if ok {
			sign, digits := e[:1], strings.TrimLeft(e[1:], "0")
			if len(digits) < 2 {
				digits = strings.Repeat("0", 2-len(digits)) + digits
			}
			return mant + "e" + sign + digits
		}
	}
	if strings.Contains(s, "e") {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}
