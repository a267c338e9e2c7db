// Draws each [data-chart] element with Apache ECharts (static/vendor/echarts).
// The data comes from the server (categories already labelled in the user's language);
// numbers are formatted here with the page language (<html lang>), so "1,234,567.5" reads
// the same in English and Chinese. Decal patterns and distinct symbols keep the series
// apart without colour; the table under each chart carries the same numbers for screen readers.
(function () {
  "use strict";

  const lang = document.documentElement.lang || "en";
  const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  const SYMBOLS = ["circle", "rect", "triangle", "diamond", "pin", "arrow"];

  function format(value) {
    return value === null || value === undefined ? "—" : numbers.format(value);
  }

  function percentSuffix(series) {
    return series.kind === "percent" ? " %" : "";
  }

  function option(data, description) {
    const common = {
      // The server's label (translated) names the chart and points to the table with its numbers;
      // decal patterns tell the series apart without colour.
      aria: { enabled: true, label: { description }, decal: { show: true } },
      animation: false,
      tooltip: { trigger: data.type === "funnel" ? "item" : "axis", valueFormatter: format },
      legend: { top: 0, type: "scroll" },
    };
    if (data.type === "funnel") {
      const series = data.series[0];
      return {
        ...common,
        series: [
          {
            type: "funnel",
            name: series.name,
            top: 30,
            sort: "none",
            minSize: "5%",
            label: { show: true, position: "inside", formatter: (p) => `${p.name}: ${format(p.value)}` },
            data: data.categories.map((name, i) => ({ name, value: series.data[i] })),
          },
        ],
      };
    }
    const categoryAxis = { type: "category", data: data.categories, axisLabel: { hideOverlap: true } };
    const valueAxis = { type: "value", axisLabel: { formatter: format } };
    return {
      ...common,
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: data.horizontal ? valueAxis : categoryAxis,
      yAxis: data.horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
      series: data.series.map((series, i) => ({
        type: data.type,
        name: series.name,
        data: series.data,
        stack: data.stacked ? "total" : undefined,
        symbol: SYMBOLS[i % SYMBOLS.length],
        symbolSize: 8,
        lineStyle: data.type === "line" ? { type: ["solid", "dashed", "dotted"][i % 3] } : undefined,
        label: {
          show: data.series.length === 1 && data.categories.length <= 12,
          position: data.horizontal ? "right" : "top",
          formatter: (p) => format(p.value) + percentSuffix(series),
        },
      })),
    };
  }

  function draw(element) {
    if (element.dataset.drawn || !window.echarts) return;
    element.dataset.drawn = "true";
    const data = JSON.parse(element.dataset.chart);
    const chart = window.echarts.init(element, null, { locale: lang.startsWith("zh") ? "ZH" : "EN", renderer: "canvas" });
    chart.setOption(option(data, element.getAttribute("aria-label") || data.title));
    new ResizeObserver(() => chart.resize()).observe(element);
  }

  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
