using System.Globalization;
using System.Security;
using System.Text;

namespace Porthole.Bench.Report;

/// <summary>
/// A dependency-free SVG: throughput per path (four tests) and 1-byte round-trip latency, each with the
/// issue's targets drawn as dashed lines.
/// </summary>
public static class SvgChart
{
    private const int Width = 1020;
    private const int PanelHeight = 300;
    private static readonly string[] Colours = ["#1f77b4", "#6baed6", "#ff7f0e", "#fdae6b"];

    public static string Render(BenchRun run)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{(2 * PanelHeight) + 110}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        Text(svg, 20, 22, $"Porthole benchmark — {run.Machine.Cores} cores, {run.Machine.CpuModel}, Linux {run.Machine.Kernel}, {run.FinishedAt:yyyy-MM-dd}{(run.Options.Smoke ? " (SMOKE)" : "")}", 14, "bold");

        var direct = run.Find("direct");
        var sshDefault = run.Find("ssh-default");
        List<(string, double, string)> throughputTargets = [];
        if (sshDefault is not null)
        {
            throughputTargets.Add(("wss target: 1.0× ssh -L default (1 stream ↑)", sshDefault.MedianGbps("1 stream up"), "#d62728"));
        }

        if (direct is not null)
        {
            throughputTargets.Add(("ws target: 30% of direct (1 stream ↑)", 0.3 * direct.MedianGbps("1 stream up"), "#2ca02c"));
        }

        Bars(svg, 40, "Throughput, Gbit/s (median)", run, [.. PathResult.ThroughputTests], p => [.. PathResult.ThroughputTests.Select(p.MedianGbps)], throughputTargets);

        List<(string, double, string)> latencyTargets = [("p99 target: 400 µs", 400, "#d62728")];
        if (direct?.Rtt1 is not null)
        {
            latencyTargets.Add(("p50 target: direct + 120 µs", direct.Rtt1.P50 + 120, "#2ca02c"));
        }

        Bars(svg, 40 + PanelHeight + 50, "Round trip, 1 byte, µs", run, ["p50", "p99"], p => p.Rtt1 is null ? [double.NaN, double.NaN] : [p.Rtt1.P50, p.Rtt1.P99], latencyTargets);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Bars(StringBuilder svg, int top, string title, BenchRun run, string[] series, Func<PathResult, double[]> values, List<(string Label, double Value, string Colour)> targets)
    {
        const int Left = 60;
        const int Right = 290; // room for the longest target label in the legend
        var plotWidth = Width - Left - Right;
        var plotTop = top + 20;
        var plotHeight = PanelHeight - 50;
        var all = run.Paths.SelectMany(values).Concat(targets.Select(t => t.Value)).Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max();
        var max = NiceCeiling(all * 1.05);
        double Y(double v) => plotTop + plotHeight - (v / max * plotHeight);

        Text(svg, Left, top + 10, title, 13, "bold");
        for (var i = 0; i <= 4; i++)
        {
            var v = max * i / 4;
            Line(svg, Left, Y(v), Left + plotWidth, Y(v), "#ddd", dashed: false);
            Text(svg, Left - 6, Y(v) + 4, v.ToString("0.##", CultureInfo.InvariantCulture), 11, anchor: "end");
        }

        var group = (double)plotWidth / run.Paths.Count;
        var bar = (group - 16) / series.Length;
        for (var p = 0; p < run.Paths.Count; p++)
        {
            var path = run.Paths[p];
            var v = values(path);
            for (var s = 0; s < series.Length; s++)
            {
                if (double.IsNaN(v[s]))
                {
                    continue;
                }

                var x = Left + (p * group) + 8 + (s * bar);
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{Y(v[s]):0.#}\" width=\"{bar - 2:0.#}\" height=\"{plotTop + plotHeight - Y(v[s]):0.#}\" fill=\"{Colours[s % Colours.Length]}\"><title>{Escape(path.Label)} {Escape(series[s])}: {v[s]:0.###}</title></rect>\n");
                Text(svg, x + ((bar - 2) / 2), Y(v[s]) - 3, v[s].ToString(v[s] >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture), 9, anchor: "middle");
            }

            // Seven paths leave ≈90 px a group: a label wraps onto lines of what fits (≈6 px a character at 11 px).
            var lines = WrapLabel(path.Label, Math.Max(8, (int)(group / 6.2)));
            for (var line = 0; line < lines.Count; line++)
            {
                Text(svg, Left + (p * group) + (group / 2), plotTop + plotHeight + 16 + (13 * line), lines[line], 11, anchor: "middle");
            }
        }

        foreach (var (label, value, colour) in targets)
        {
            Line(svg, Left, Y(value), Left + plotWidth, Y(value), colour, dashed: true);
        }

        var legendY = plotTop + 10;
        for (var s = 0; s < series.Length; s++, legendY += 18)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left + plotWidth + 15}\" y=\"{legendY - 10}\" width=\"12\" height=\"12\" fill=\"{Colours[s % Colours.Length]}\"/>\n");
            Text(svg, Left + plotWidth + 32, legendY, series[s], 11);
        }

        foreach (var (label, _, colour) in targets)
        {
            Line(svg, Left + plotWidth + 15, legendY - 4, Left + plotWidth + 27, legendY - 4, colour, dashed: true);
            Text(svg, Left + plotWidth + 32, legendY, label, 10);
            legendY += 18;
        }
    }

    private static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    /// <summary>Greedy word wrap; a word longer than a line keeps a line of its own.</summary>
    private static List<string> WrapLabel(string label, int maxChars)
    {
        var lines = new List<string>();
        var current = "";
        foreach (var word in label.Split(' '))
        {
            if (current.Length > 0 && current.Length + 1 + word.Length > maxChars)
            {
                lines.Add(current);
                current = word;
            }
            else
            {
                current = current.Length == 0 ? word : current + " " + word;
            }
        }

        lines.Add(current);
        return lines;
    }

    private static void Line(StringBuilder svg, double x1, double y1, double x2, double y2, string colour, bool dashed) =>
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x1:0.#}\" y1=\"{y1:0.#}\" x2=\"{x2:0.#}\" y2=\"{y2:0.#}\" stroke=\"{colour}\" stroke-width=\"{(dashed ? 2 : 1)}\"{(dashed ? " stroke-dasharray=\"6,4\"" : "")}/>\n");

    private static void Text(StringBuilder svg, double x, double y, string text, int size, string weight = "normal", string anchor = "start") =>
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.#}\" y=\"{y:0.#}\" font-size=\"{size}\" font-weight=\"{weight}\" text-anchor=\"{anchor}\">{Escape(text)}</text>\n");

    private static string Escape(string text) => SecurityElement.Escape(text);
}
