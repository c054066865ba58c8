// Log-log SVG charts; see svg_plot.hpp.
#include "svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace svgplot {
namespace {

constexpr double kPanelW = 440, kPanelH = 300;                      // one panel, with its margins
constexpr double kLeft = 62, kRight = 14, kTop = 28, kBottom = 40;  // plot area inside a panel
constexpr double kLegendRow = 18;
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#000000", "#393b79",
                                "#637939", "#8c6d31", "#843c39", "#7b4173"};

std::string esc(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '&')
      r += "&amp;";
    else if (c == '<')
      r += "&lt;";
    else if (c == '>')
      r += "&gt;";
    else if (c == '"')
      r += "&quot;";
    else
      r += c;
  }
  return r;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

bool usable(const std::pair<double, double>& p) {
  return std::isfinite(p.first) && std::isfinite(p.second) && p.first > 0 && p.second > 0;
}

std::string decade_label(int k) {
  if (k == 0) return "1";
  return "1e" + std::to_string(k);
}

void draw_panel(std::string& o, const Panel& panel, double ox, double oy,
                const std::map<std::string, int>& colour, const Chart& chart) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : panel.series)
    for (const auto& p : s.xy)
      if (usable(p)) {
        x0 = std::min(x0, std::log10(p.first));
        x1 = std::max(x1, std::log10(p.first));
        y0 = std::min(y0, std::log10(p.second));
        y1 = std::max(y1, std::log10(p.second));
      }
  const double pw = kPanelW - kLeft - kRight, ph = kPanelH - kTop - kBottom;
  o += fmt("<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">", ox + kLeft, oy + 18) +
       esc(panel.title) + "</text>\n";
  o += fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n",
           ox + kLeft, oy + kTop, pw, ph);
  if (!(x0 <= x1)) {
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#888\">no data</text>\n",
             ox + kLeft + pw / 2 - 20, oy + kTop + ph / 2);
    return;
  }
  // Whole decades around the data.
  x0 = std::floor(x0);
  x1 = std::max(std::ceil(x1), x0 + 1);
  y0 = std::floor(y0);
  y1 = std::max(std::ceil(y1), y0 + 1);
  auto X = [&](double lx) { return ox + kLeft + (lx - x0) / (x1 - x0) * pw; };
  auto Y = [&](double ly) { return oy + kTop + ph - (ly - y0) / (y1 - y0) * ph; };
  const int xstep = std::max(1, static_cast<int>((x1 - x0) / 6)),
            ystep = std::max(1, static_cast<int>((y1 - y0) / 5));
  for (int k = static_cast<int>(x0); k <= static_cast<int>(x1); k += xstep) {
    o += fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", X(k), oy + kTop,
             X(k), oy + kTop + ph);
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">", X(k),
             oy + kTop + ph + 14) +
         decade_label(k) + "</text>\n";
  }
  for (int k = static_cast<int>(y0); k <= static_cast<int>(y1); k += ystep) {
    o += fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ox + kLeft, Y(k),
             ox + kLeft + pw, Y(k));
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">", ox + kLeft - 4, Y(k) + 3) +
         decade_label(k) + "</text>\n";
  }
  o += fmt("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">", ox + kLeft + pw / 2,
           oy + kPanelH - 8) +
       esc(chart.x_label) + "</text>\n";
  o += fmt("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f "
           "%.1f)\">",
           ox + 14, oy + kTop + ph / 2, ox + 14, oy + kTop + ph / 2) +
       esc(chart.y_label) + "</text>\n";
  for (const auto& s : panel.series) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& p : s.xy)
      if (usable(p)) pts.emplace_back(X(std::log10(p.first)), Y(std::log10(p.second)));
    if (pts.empty()) continue;
    const char* c = kPalette[colour.at(s.name) % static_cast<int>(std::size(kPalette))];
    std::string path;
    for (const auto& [px, py] : pts) path += fmt("%.1f,%.1f ", px, py);
    o += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"1.6\"" +
         (s.dashed ? " stroke-dasharray=\"5,3\"" : "") + " points=\"" + path + "\"/>\n";
    for (const auto& [px, py] : pts)
      o += fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"", px, py) + c + "\"/>\n";
  }
}

}  // namespace

std::string render(const Chart& chart) {
  std::map<std::string, int> colour;  // first appearance order
  std::vector<std::pair<std::string, bool>> legend;
  for (const auto& p : chart.panels)
    for (const auto& s : p.series)
      if (colour.emplace(s.name, static_cast<int>(colour.size())).second)
        legend.emplace_back(s.name, s.dashed);
  const int cols = std::max(1, chart.columns);
  const int rows = (static_cast<int>(chart.panels.size()) + cols - 1) / cols;
  const int legend_cols = 4;
  const int legend_rows = (static_cast<int>(legend.size()) + legend_cols - 1) / legend_cols;
  const double width = cols * kPanelW + 20, head = 40;
  const double height = head + rows * kPanelH + legend_rows * kLegendRow + 30;
  std::string o = fmt(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "font-family=\"sans-serif\">\n",
      width, height, width, height);
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o += "<text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">" + esc(chart.title) + "</text>\n";
  for (std::size_t i = 0; i < chart.panels.size(); ++i) {
    const double ox = 10 + static_cast<double>(static_cast<int>(i) % cols) * kPanelW;
    const double oy = head + static_cast<double>(static_cast<int>(i) / cols) * kPanelH;
    draw_panel(o, chart.panels[i], ox, oy, colour, chart);
  }
  const double ly = head + rows * kPanelH + 14, lw = (width - 20) / legend_cols;
  for (std::size_t i = 0; i < legend.size(); ++i) {
    const double x = 10 + static_cast<double>(static_cast<int>(i) % legend_cols) * lw;
    const double y = ly + static_cast<double>(static_cast<int>(i) / legend_cols) * kLegendRow;
    const char* c = kPalette[colour.at(legend[i].first) % static_cast<int>(std::size(kPalette))];
    o += fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"2\"", x, y, x + 28, y) +
         " stroke=\"" + c + "\"" + (legend[i].second ? " stroke-dasharray=\"5,3\"" : "") + "/>\n";
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", x + 34, y + 4) + esc(legend[i].first) +
         "</text>\n";
  }
  o += "</svg>\n";
  return o;
}

}  // namespace svgplot
