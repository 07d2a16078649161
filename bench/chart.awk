# chart.awk: an SVG chart of the scaling runs in a bench results file.
#
#   awk -f bench/chart.awk bench/results/latest.txt > chart.svg
#
# Two panels of bars: events/s by number of producers (scale_producers_N_eps)
# and by events per batch (scale_batch_N_eps), each with the binary COPY
# baseline (baseline_copy_eps) as a dashed line and 0.8 of it dotted.
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/"/, "\\&quot;", s); return s }
function fmt(v) { return v >= 10000 ? sprintf("%.0fk", v / 1000) : sprintf("%.0f", v) }
# panel X0 TITLE N KEYS[] VALS[] LABEL: bars in a 380 x 260 box at x0
function panel(x0, title, n, keys, vals, label,    i, bw, x, h, y, ty) {
    printf "<text x=\"%d\" y=\"80\" class=\"h\">%s</text>\n", x0, esc(title)
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", x0, top + ph, x0 + pw, top + ph
    for (i = 0; i <= 4; i++) {
        y = top + ph - ph * i / 4
        printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n", x0, y, x0 + pw, y
        printf "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>\n", x0 - 6, y + 4, fmt(ymax * i / 4)
    }
    bw = pw / n
    for (i = 1; i <= n; i++) {
        x = x0 + (i - 1) * bw + bw * 0.15
        h = ph * vals[i] / ymax
        printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bar\"/>\n", x, top + ph - h, bw * 0.7, h
        printf "<text x=\"%.1f\" y=\"%.1f\" class=\"val\" text-anchor=\"middle\">%s</text>\n", x + bw * 0.35, top + ph - h - 5, fmt(vals[i])
        printf "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n", x + bw * 0.35, top + ph + 16, keys[i]
    }
    printf "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n", x0 + pw / 2, top + ph + 34, esc(label)
    if (copy > 0) {
        y = top + ph - ph * copy / ymax
        printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"copy\"/>\n", x0, y, x0 + pw, y
        printf "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">binary COPY, 1M rows</text>\n", x0 + pw, y - 4
        y = top + ph - ph * copy * 0.8 / ymax
        printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"target\"/>\n", x0, y, x0 + pw, y
        printf "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">0.8 x COPY</text>\n", x0 + pw, y - 4
    }
}
/^# date: / { date = substr($0, 9) }
/^# machine: / { machine = substr($0, 12) }
/^# runs: / { runs = substr($0, 9); sub(/^.*; /, "", runs) }
/^baseline_copy_eps: / { copy = $2 + 0 }
/^pipeline_eps: / { pipe = $2 + 0 }
/^scale_producers_[0-9]+_eps: / { k = $1; gsub(/[^0-9]/, "", k); pk[++np] = k; pv[np] = $2 + 0 }
/^scale_batch_[0-9]+_eps: / { k = $1; gsub(/[^0-9]/, "", k); bk[++nb] = k; bv[nb] = $2 + 0 }
END {
    if (!np && !nb) { print "chart.awk: no scale_* figures" > "/dev/stderr"; exit 1 }
    ymax = copy
    for (i = 1; i <= np; i++) if (pv[i] > ymax) ymax = pv[i]
    for (i = 1; i <= nb; i++) if (bv[i] > ymax) ymax = bv[i]
    step = 10 ^ int(log(ymax) / log(10)); ymax = (int(ymax * 1.1 / step) + 1) * step
    top = 100; ph = 260; pw = 360
    print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"440\" viewBox=\"0 0 900 440\" font-family=\"sans-serif\">"
    print "<style>.t{font-size:16px;font-weight:bold}.h{font-size:13px;font-weight:bold}.tick{font-size:11px;fill:#444}" \
          ".val{font-size:11px;fill:#000}.bar{fill:#4878a8}.axis{stroke:#000}.grid{stroke:#ddd}" \
          ".copy{stroke:#c03030;stroke-dasharray:6 4;stroke-width:1.5}.target{stroke:#c03030;stroke-dasharray:2 3}</style>"
    print "<rect width=\"900\" height=\"440\" fill=\"#fff\"/>"
    print "<text x=\"20\" y=\"26\" class=\"t\">Tongxin pipeline throughput (events/s, first submit to last ack, CURVE)</text>"
    printf "<text x=\"20\" y=\"42\" class=\"tick\">%s; %s</text>\n", esc(date), esc(machine)
    printf "<text x=\"20\" y=\"56\" class=\"tick\">%s</text>\n", esc(runs)
    if (np) panel(80, "By producer processes (batches of 500 events)", np, pk, pv, "producers")
    if (nb) panel(520, "By events per batch (8 producers)", nb, bk, bv, "events per batch")
    print "</svg>"
}
