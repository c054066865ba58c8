// A small SVG writer for log-log line charts: a grid of panels sharing one legend (bench/work_precision.cpp).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace svgplot {

struct Series {
  std::string name;  // legend entry; the same name has the same colour in every panel
  std::vector<std::pair<double, double>> xy;  // points (x, y), both > 0; others are dropped
  bool dashed = false;
};

struct Panel {
  std::string title;
  std::vector<Series> series;
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<Panel> panels;
  int columns = 2;
};

// The SVG document text.
std::string render(const Chart& chart);

}  // namespace svgplot
