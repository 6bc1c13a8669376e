// Daily line charts drawn with the vendored uPlot, resized with their container.

const charts = new Map();
const HEIGHT = 200;
// Tick steps for series that only take whole values (requests, characters).
const WHOLE_STEPS = Array.from({ length: 12 }, (_, power) =>
  [1, 2, 5].map((step) => step * 10 ** power),
).flat();

function widthOf(container) {
  return Math.max(200, Math.floor(container.clientWidth));
}

const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const chart = charts.get(entry.target);
    if (chart) chart.setSize({ width: widthOf(entry.target), height: HEIGHT });
  }
});

/**
 * Draw (or redraw) a chart of `values` per day (`days`: Unix seconds at midnight UTC);
 * `whole` keeps the value axis on whole numbers.
 */
export function drawDaily(container, label, days, values, format, whole = false) {
  const previous = charts.get(container);
  if (previous) previous.destroy();
  const options = {
    width: widthOf(container),
    height: HEIGHT,
    tzDate: (seconds) => window.uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    scales: {
      x: { time: true },
      y: { range: (_chart, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    series: [
      { label: "Day (UTC)" },
      {
        label,
        stroke: "#1d4ed8",
        fill: "rgba(29, 78, 216, 0.12)",
        width: 2,
        points: { show: days.length <= 31 },
        value: (_chart, value) => (value === null || value === undefined ? "—" : format(value)),
      },
    ],
    axes: [
      { stroke: "#4a5160" },
      {
        stroke: "#4a5160",
        size: 64,
        values: (_chart, ticks) => ticks.map(format),
        ...(whole ? { incrs: WHOLE_STEPS } : {}),
      },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
  const chart = new window.uPlot(options, [days, values], container);
  charts.set(container, chart);
  resizer.observe(container);
}
