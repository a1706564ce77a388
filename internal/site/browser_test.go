package site

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// BrowserEnv makes TestPageInBrowser fail, rather than skip, when no
// Chromium is found (CI sets it).
const BrowserEnv = "DSCHEMA_BROWSER_TEST"

var screenshotTo = flag.String("screenshot", "", "TestPageInBrowser writes a PNG of the page's top to this file")

// chromium finds the system browser.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(BrowserEnv) != "" {
		t.Fatalf("%s is set but no chromium is on PATH (Debian: apt-get install chromium)", BrowserEnv)
	}
	t.Skipf("no chromium on PATH: the page is not opened in a browser (install Debian's chromium, or set %s=1 to make this a failure)", BrowserEnv)
	return ""
}

// TestPageInBrowser opens the quickstart page from disk in headless
// Chromium with the network off: no console error, no exception, no
// request beyond the file itself; every chart has drawn elements with
// data, as many as the page says; the metric selector shows one metric at
// a time; and a screenshot is not one colour.
func TestPageInBrowser(t *testing.T) {
	bin := chromium(t)
	_, page, _, _ := quickstartPage(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.WindowSize(1200, 1800), chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems, requests []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
				problems = append(problems, fmt.Sprintf("console %s: %d arguments", e.Type, len(e.Args)))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s (line %d)", e.ExceptionDetails.Text, e.ExceptionDetails.LineNumber))
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *network.EventLoadingFailed:
			problems = append(problems, "request failed: "+e.ErrorText)
		}
	})
	if err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatalf("take the network offline: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady("#metric")); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	counts, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]int](countScript))
	if err != nil {
		t.Fatalf("count the drawn elements: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	checkCounts(t, counts)
	checkSelector(t, ctx)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("%s", p)
	}
	for _, r := range requests {
		if r != "file://"+page {
			t.Errorf("the page requested %s", r)
		}
	}
	checkNotBlank(t, shot)
	if *screenshotTo != "" {
		if err := os.WriteFile(*screenshotTo, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// countScript counts, in the page as the browser built it, the drawn
// elements bound to data and the counts the page states.
const countScript = `(() => {
  const q = (s) => document.querySelectorAll(s).length;
  const first = document.querySelector("figure.metric");
  return {
    metrics: q("figure.metric"),
    visibleMetrics: [...document.querySelectorAll("figure.metric")].filter(f => f.offsetParent !== null).length,
    firstPoints: first.querySelectorAll("circle.pt[data-y]").length,
    firstPlotted: Number(first.dataset.plotted),
    firstPanels: first.querySelectorAll("svg.chart").length,
    lossLines: new Set([...document.querySelectorAll("#loss path.line[data-series]")].map(p => p.dataset.series)).size,
    lossRows: Number(document.querySelector("#loss").dataset.rows),
    lossMissing: Number(document.querySelector("#loss [data-missing]").dataset.missing),
    lossPoints: q("#loss circle.pt[data-y]"),
    lossRuns: Number(document.querySelector("#loss").dataset.runs),
    frameBars: q("#framedeltas rect.bar[data-value]"),
    frameRows: Number(document.querySelector("#framedeltas").dataset.bars),
    frameMissing: Number(document.querySelector("#framedeltas [data-missing]").dataset.missing),
    noDelta: q("#nodelta tr") - 1,
    loads: q("#loadtable tr") - 1,
    badPaths: [...document.querySelectorAll("svg path")].filter(p => /NaN|Inf/.test(p.getAttribute("d"))).length,
    firstBox: Math.round(first.querySelector("svg.chart").getBoundingClientRect().width),
  };
})()`

func checkCounts(t *testing.T, c map[string]int) {
	t.Helper()
	t.Logf("drawn in the browser: %v", c)
	for _, tt := range []struct {
		what      string
		got, want int
	}{
		{"metric figures", c["metrics"], len(DefaultMetrics)},
		{"metric figures shown", c["visibleMetrics"], 1},
		{"points of the first metric", c["firstPoints"], c["firstPlotted"]},
		{"panels of the first metric (sizes)", c["firstPanels"], 4},
		{"runs with a loss line", c["lossLines"], c["lossRuns"]},
		{"loss points drawn (one NaN in the sample)", c["lossPoints"], c["lossRows"] - c["lossMissing"]},
		{"loss runs", c["lossRuns"], 4},
		{"frame delta bars drawn (3 cells, 1 NaN)", c["frameBars"], c["frameRows"] - c["frameMissing"]},
		{"matched runs without a delta", c["noDelta"], 2},
		{"loads", c["loads"], 7},
		{"paths with NaN or Inf", c["badPaths"], 0},
		{"first chart's width", c["firstBox"], 360},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %d, want %d", tt.what, tt.got, tt.want)
		}
	}
	if c["firstPoints"] == 0 || c["lossPoints"] == 0 || c["frameBars"] == 0 {
		t.Errorf("a chart drew nothing: %v", c)
	}
}

// checkSelector chooses the last metric and checks that it alone is shown.
func checkSelector(t *testing.T, ctx context.Context) {
	t.Helper()
	last := DefaultMetrics[len(DefaultMetrics)-1]
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(() => {
  const sel = document.getElementById("metric");
  sel.value = %q;
  sel.dispatchEvent(new Event("change"));
  return [...document.querySelectorAll("figure.metric")].filter(f => !f.hidden).map(f => f.dataset.metric);
})()`, last)))
	if err != nil {
		t.Fatal(err)
	}
	if len(shown) != 1 || shown[0] != last {
		t.Errorf("after choosing %s the page shows %v", last, shown)
	}
}

// checkNotBlank fails when the screenshot is one colour.
func checkNotBlank(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("the screenshot (%v) has %d colours: blank", b.Size(), len(colours))
	}
	if !strings.HasPrefix(string(shot[1:4]), "PNG") {
		t.Errorf("the screenshot is not a PNG")
	}
}
