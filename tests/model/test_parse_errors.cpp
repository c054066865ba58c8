// Shape errors of the model tables with their locations, and the located what() display.
#include "model/load_test_util.hpp"

using namespace dynlib;
using namespace dynlib::test;
using Catch::Matchers::Contains;

namespace {
const std::string M = "[model]\ntype='ode'\n";
const std::string MS = M + "[states]\nx=1.0\n";
}  // namespace

TEST_CASE("errors: header tables", "[parse][errors]") {
  CHECK(parse_error("[states]\nx=1\n") == "Missing required table [model]");
  CHECK(parse_error("model = 1\n[states]\n") == "Missing required table [model]");
  CHECK(parse_error(M) == "Missing required table [states]");
  CHECK(parse_error("[model]\ntype='ode'\nlabel='x'\n[states]\n") ==
        "[model].label is no longer supported; use [model].name");
  CHECK(parse_error("[model]\ntype='sde'\n[states]\n") == "[model].type must be 'ode' or 'map'");
  CHECK(parse_error("[model]\nname='x'\n[states]\n") == "[model].type must be 'ode' or 'map'");
  CHECK(parse_error("[model]\ntype='ode'\ndtype=64\n[states]\n") ==
        "[model].dtype must be a string if present");
  CHECK(parse_error("[model]\ntype='ode'\ndtype='int64'\n[states]\n") ==
        "ODE models require a floating dtype (float32/float64/float16/bfloat16)");
  CHECK(parse_error("params = 3\n" + MS) == "[params] must be a table if present");
  CHECK(parse_error("constants = 3\n" + MS) == "[constants] must be a table if present");
  CHECK(parse_error("equations = 3\n" + MS) == "[equations] must be a table if present");
  CHECK(parse_error("aux = 3\n" + MS) == "[aux] must be a table of name = expr");
  CHECK(parse_error("functions = 3\n" + MS) == "[functions] must be a table of subtables");
  CHECK(parse_error("events = 3\n" + MS) == "[events] must be a table of named event subtables");
  CHECK(parse_error("presets = 3\n" + MS) == "[presets] must be a table of named preset subtables");
  CHECK(parse_error("sim = 3\n" + MS) == "[sim] must be a table if present");
}

TEST_CASE("errors: value shapes", "[parse][errors]") {
  CHECK(parse_error(M + "[states]\nx=[1,2]\n") ==
        "[states].x must be a number or numeric expression string, got list");
  CHECK(parse_error(MS + "[params]\na={b=1}\n") ==
        "[params].a must be a number or numeric expression string, got dict");
  CHECK_THAT(parse_error(MS + "[params]\nq=\"p*2\"\n"),
             Contains("[params].q contains unknown identifier 'p'"));
  CHECK(parse_error(MS + "[aux]\nE = 1\n") == "[aux].E must be a string expression");
}

TEST_CASE("errors: equations", "[parse][errors]") {
  CHECK(parse_error(MS + "[equations]\nexprs = 'dx = 1'\n") ==
        "Unknown key(s) in [equations]: 'exprs' (did you mean 'expr'?). Valid keys: rhs, expr, jacobian");
  CHECK(parse_error(MS + "[equations.rhs]\nz = '1'\n") ==
        "Equation targets must be declared in [states], unknown: ['z']");
  CHECK(parse_error(MS + "[equations]\nrhs = 5\n") == "[equations.rhs] must be a table of name = expr");
  CHECK(parse_error(MS + "[equations.rhs]\nx = 0\n") == "[equations.rhs].x must be a string expression");
  CHECK(parse_error(MS + "[equations]\nexpr = 5\n") == "[equations].expr must be a string block if present");
  CHECK(parse_error(MS + "[equations]\nexpr = \"dx = -x\\n# comment\"\n") ==
        "Block equation line must contain '=': '# comment'");
  CHECK(parse_error(MS + "[equations]\nexpr = 'dz = 1'\n") ==
        "Equation targets must be declared in [states], unknown: ['dz']");
  CHECK(parse_error(MS + "[equations.rhs]\nx='1'\n[equations]\nexpr = 'dx = 2'\n") ==
        "Duplicate equation targets across rhs and block: ['x']");
  CHECK_THAT(parse_error(MS + "[equations]\nexpr = \"dx = 1\\nx = 2\"\n"),
             Contains("Duplicate equation target 'x'"));
  CHECK(parse_error("[model]\ntype='map'\n[states]\nx=1.0\n[equations]\nexpr = 'dx = -a*x'\n") ==
        "Map models do not support derivative notation (d(x) or dx). Use direct assignment (x = expr). Got: "
        "'dx' in "
        "line: 'dx = -a*x'");
  CHECK(parse_error(MS + "[equations.inverse]\nrhs = {x = 'x'}\n") ==
        "[equations.inverse] is only supported for map models");
  const std::string MAP = "[model]\ntype='map'\n[states]\nx=1.0\n";
  CHECK(parse_error(MAP + "[equations.inverse]\nexprs = 'x = 1'\n") ==
        "Unknown key(s) in [equations.inverse]: 'exprs' (did you mean 'expr'?). Valid keys: rhs, expr");
  CHECK(parse_error(MAP + "[equations.inverse.rhs]\nq = 'x'\n") ==
        "Inverse equation targets must be declared in [states], unknown: ['q']");
  CHECK(parse_error(MAP + "[equations.inverse]\nrhs = 1\n") ==
        "[equations.inverse.rhs] must be a table of name = expr");
  CHECK(parse_error(MAP + "[equations.inverse]\nexpr = 1\n") ==
        "[equations.inverse].expr must be a string block if present");
  CHECK(parse_error(MAP + "[equations.inverse.rhs]\nx = 'x'\n[equations.inverse]\nexpr = 'x = 1'\n") ==
        "Duplicate inverse equation targets across rhs and block: ['x']");
}

TEST_CASE("errors: jacobian", "[parse][errors]") {
  const std::string S2 = M + "[states]\nx=1.0\ny=1.0\n";
  CHECK(parse_error(S2 + "[equations.jacobian]\nexprs = []\n") ==
        "Unknown key(s) in [equations.jacobian]: 'exprs' (did you mean 'expr'?). Valid keys: expr");
  CHECK(parse_error(S2 + "[equations.jacobian]\n") ==
        "[equations.jacobian].expr is required and must be a square list");
  CHECK(parse_error(S2 + "[equations.jacobian]\nexpr = 'x'\n") ==
        "[equations.jacobian].expr must be a list of rows");
  CHECK(parse_error(S2 + "[equations.jacobian]\nexpr = [['1','0']]\n") ==
        "[equations.jacobian].expr must have 2 rows to match [states]; got 1");
  CHECK(parse_error(S2 + "[equations.jacobian]\nexpr = ['1', ['0','1']]\n") ==
        "[equations.jacobian].expr[0] must be a list");
  CHECK(parse_error(S2 + "[equations.jacobian]\nexpr = [['1'], ['0','1']]\n") ==
        "[equations.jacobian].expr[0] must have 2 columns to match [states]; got 1");
  CHECK(parse_error(S2 + "[equations.jacobian]\nexpr = [['1', true], ['0','1']]\n") ==
        "[equations.jacobian].expr[0][1] must be a string or number");
}

TEST_CASE("errors: functions", "[parse][errors]") {
  CHECK(parse_error(MS + "[functions]\nf = 1\n") == "[functions.f] must be a table");
  CHECK(parse_error(MS + "[functions.f]\nargs = 'a'\nexpr = 'a'\n") ==
        "[functions.f].args must be a list of strings");
  CHECK(parse_error(MS + "[functions.f]\nargs = [1]\nexpr = 'a'\n") ==
        "[functions.f].args must be a list of strings");
  CHECK(parse_error(MS + "[functions.f]\nargs = ['1a']\nexpr = 'a'\n") ==
        "[functions.f].args must be a list of identifiers");
  CHECK(parse_error(MS + "[functions.f]\nargs = ['a', 'a']\nexpr = 'a'\n") ==
        "[functions.f].args must be unique");
  CHECK(parse_error(MS + "[functions.f]\nargs = ['a']\n") == "[functions.f].expr must be a string");
  CHECK(parse_error(MS + "[functions.f]\nexpr = 3\n") == "[functions.f].expr must be a string");
}

TEST_CASE("errors: events", "[parse][errors]") {
  CHECK(parse_error(MS + "[events]\ne = 1\n") == "[events.e] must be a table");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\nphase = 'middle'\n") ==
        "[events.e].phase must be 'start'|'end'|'both'");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\nphase = 1\n") ==
        "[events.e].phase must be 'start'|'end'|'both'");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\nphase = 'pre'\n") ==
        "pre is deprecated. Use start for event phase.");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\nphase = 'post'\n") ==
        "post is deprecated. Use end for event phase.");
  CHECK(parse_error(MS + "[events.e]\nphase = 'end'\n") == "[events.e].cond must be a string expression");
  CHECK(parse_error(MS + "[events.e]\ncond = true\n") == "[events.e].cond must be a string expression");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\naction.x = 0\n") ==
        "[events.e].action.x must be a string expression");
  CHECK_THAT(parse_error(MS + "[events.e]\ncond = 'x>1'\naction = 5\n"),
             Contains("[events.e].action must be a string block or a table"));
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\naction = 'x'\n") ==
        "Event action line must contain '=': 'x'");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\nlog = 't'\n") ==
        "[events.e].log must be a list of strings if present");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\nlog = [1]\n") ==
        "[events.e].log must be a list of strings if present");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\ntags = 'a'\n") ==
        "[events.e].tags must be a list of strings if present");
  CHECK(
      parse_error(MS + "[events.e]\ncond = 'x>1'\ntags = ['123invalid']\n") ==
      "[events.e] tag '123invalid' is invalid. Tags must start with a letter or underscore and contain only "
      "letters, digits, underscores, and hyphens.");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\ntags = ['']\n") == "[events.e] tag cannot be empty");
  CHECK(parse_error(MS + "[events.e]\ncond = 'x>1'\nrecord = true\n") ==
        "[events.e].record is no longer supported. Use log=['t'] to record event occurrence times, or "
        "log=['t', 'x', ...] to log time and values.");
}

TEST_CASE("errors: presets", "[parse][errors]") {
  CHECK(parse_error(MS + "[presets]\np = 1\n") == "[presets.p] must be a table");
  CHECK(parse_error(MS + "[presets.p]\nparams = 1\n") == "[presets.p].params must be a table");
  CHECK(parse_error(MS + "[presets.p]\nstates = 1\n") == "[presets.p].states must be a table if present");
  CHECK(parse_error(MS + "[presets.p.params]\na = '1'\n") ==
        "[presets.p].params.a must be a number, got str");
  CHECK(parse_error(MS + "[presets.p]\nnote = 'x'\n") ==
        "[presets.p] must define at least one param or state");
}

TEST_CASE("errors: sim", "[parse][errors]") {
  CHECK(parse_error(MS + "[sim]\nt0 = '1/2'\n") == "[sim].t0 must be a number, got str '1/2'");
  CHECK(parse_error(MS + "[sim]\ndt = [1]\n") == "[sim].dt must be a number, got list");
  CHECK(parse_error(MS + "[sim]\nstepper = 4\n") == "[sim].stepper must be a string (a stepper name)");
  CHECK(parse_error(MS + "[sim]\nmax_steps = 'many'\n") ==
        "[sim].max_steps must be an integer, got str 'many'");
  CHECK(parse_error(MS + "[sim]\nstop = 3\n") ==
        "[sim].stop must be a table ([sim.stop]) or a string expression");
  CHECK(parse_error(MS + "[sim.stop]\nphase = 'post'\n") == "[sim.stop].cond must be a non-empty string");
  CHECK(parse_error(MS + "[sim.stop]\ncond = 'x>1'\nphase = 'pre'\n") == "[sim.stop].phase must be 'post'");
}

TEST_CASE("errors: locations and the caret display", "[parse][errors][format]") {
  const std::string text = MS + "[events.reset]\ncond = 5\n";
  auto e = catch_error<SchemaError>([&] { parse(text); });
  CHECK(e.where().file == "test.toml");
  CHECK(e.where().line == 6);
  CHECK(e.where().column == 8);
  CHECK(e.where().toml_path == "[events.reset].cond");
  CHECK(e.where().line_text == "cond = 5");
  CHECK(std::string(e.kind()) == "SchemaError");
  CHECK(std::string(e.what()) ==
        "[events.reset].cond must be a string expression\n"
        "  --> test.toml:6:8 ([events.reset].cond)\n"
        "   |\n"
        " 6 | cond = 5\n"
        "   |        ^");

  // Block line: absolute line and column of the offending line.
  auto b = catch_error<ExpressionSyntaxError>(
      [&] { parse(MS + "[equations]\nexpr = \"\"\"\ndx = -x\n   oops\n\"\"\"\n"); });
  CHECK(b.where().line == 8);
  CHECK(b.where().column == 4);
  CHECK(b.where().line_text == "   oops");

  // Missing table: file and path only.
  auto m = catch_error<SchemaError>([&] { parse("[model]\ntype='ode'\n"); });
  CHECK(m.where().line == 0);
  CHECK(std::string(m.what()) == "Missing required table [states]\n  --> test.toml ([states])");
}

TEST_CASE("errors: TOML syntax errors are located with hints", "[parse][errors][toml]") {
  auto e = catch_error<TomlSyntaxError>([&] { parse(MS + "[params]\nbeta = 8/3\n"); });
  CHECK(e.where().line == 6);
  CHECK(e.where().column == 9);
  CHECK_THAT(e.message(), Contains("Failed to parse model file 'test.toml'"));
  CHECK_THAT(e.message(), Contains("beta = \"8/3\""));
  CHECK_THAT(std::string(e.what()), Contains(" 6 | beta = 8/3\n   |         ^"));

  auto d = catch_error<TomlSyntaxError>([&] { parse(MS + "x = 2\n"); });
  CHECK(d.where().line == 5);

  auto i = catch_error<TomlSyntaxError>([&] {
    model::parse_model_text("[model\n", {"inline model", "inline model"});
  });
  CHECK_THAT(i.message(), Contains("Failed to parse inline model:"));
  CHECK(i.where().line == 1);
}

TEST_CASE("errors: the formatter itself", "[errors][format]") {
  SourceLocation w;
  w.file = "m.toml";
  w.line = 120;
  w.column = 3;
  w.toml_path = "[aux].E";
  w.line_text = "E\t= x +";
  ModelLoadError e("boom", w);
  CHECK(e.message() == "boom");
  CHECK(std::string(e.what()) ==
        "boom\n"
        "   --> m.toml:120:3 ([aux].E)\n"
        "    |\n"
        "120 | E\t= x +\n"
        "    |  \t^");
  CHECK(std::string(ModelLoadError("plain").what()) == "plain");
  CHECK(std::string(ModelNotFoundError("x://m", {"/a/m", "/a/m.toml"}).what()) ==
        "Model not found: x://m\nSearched locations:\n  - /a/m\n  - /a/m.toml");
  CHECK(std::string(PathTraversalError("t://../x", "/x", "/root").what()) ==
        "Path traversal detected: t://../x\nAttempted: /x\nRoot: /root");
  CHECK(std::string(AmbiguousModelError("m", {"a", "b"}).what()) ==
        "Ambiguous model reference: m\nMultiple matches found:\n  - a\n  - b\nPlease use an explicit "
        "filename.");
  CHECK(std::string(StepperKindMismatchError("rk4", "ode", "map").what()) ==
        "Stepper 'rk4' (kind='ode') is incompatible with model kind 'map'\nPlease choose a stepper that "
        "supports "
        "'map' models.");
}

TEST_CASE("errors: classes follow the catalogue rules", "[parse][errors]") {
  auto kind = [](const std::string& text) -> std::string {
    try {
      parse(text);
    } catch (const ModelLoadError& e) {
      return e.kind();
    }
    return "(no error)";
  };
  CHECK(kind(MS + "[equations]\nexpr = \"dx = -x\\n# comment\"\n") == "ExpressionSyntaxError");
  CHECK(kind(MS + "[equations.rhs]\nz = '1'\n") == "NameConflictError");
  CHECK(kind(MS + "[equations.rhs]\nx='1'\n[equations]\nexpr = 'dx = 2'\n") == "NameConflictError");
  CHECK(kind("[model]\ntype='map'\n[states]\nx=1.0\n[equations]\nexpr = 'dx = -x'\n") == "NameConflictError");
  CHECK(kind(MS + "[functions.f]\nargs = ['a', 'a']\nexpr = 'a'\n") == "NameConflictError");
  CHECK(kind(MS + "[events.e]\ncond = 'x>1'\nphase = 'pre'\n") == "EventError");
  CHECK(kind(MS + "[events.e]\ncond = 'x>1'\nphase = 'always'\n") == "EventError");
  CHECK(kind(MS + "[events.e]\ncond = 'x>1'\nphase = 1\n") == "SchemaError");
  CHECK(kind(MS + "[events.e]\ncond = 'x>1'\naction = \"x += 1\\ny\"\n") == "EventError");
  CHECK(kind(MS + "[sim]\nrecord = 'no'\n") == "SchemaError");
  CHECK(kind(MS + "[params]\nbeta = 8/3\n") == "TomlSyntaxError");
}

TEST_CASE("parse: function table location is its header", "[parse]") {
  auto s = parse(MS + "\n[functions.f]\nargs = ['u']\nexpr = 'u'\n");
  REQUIRE(s.functions.size() == 1);
  CHECK(s.functions[0].loc.line == 6);
  CHECK(s.functions[0].loc.toml_path == "[functions.f]");
  CHECK(s.functions[0].body.loc.line == 8);
}

TEST_CASE("errors: [sim] is checked: stepper, ranges, unknown keys, stepper settings",
          "[parse][errors][sim]") {
  CHECK(parse_error(MS + "[sim]\ntend = 10\n") ==
        "Unknown key 'tend' in [sim] (did you mean 't_end'?). Valid keys: t0, t_end, dt, stepper, record, "
        "record_interval, atol, rtol, max_steps, stop, and the settings of the stepper (see `dynlib steppers "
        "show "
        "NAME`)");
  CHECK_THAT(parse_error(MS + "[sim]\nstepper = 'rk5'\n"),
             Contains("Unknown stepper 'rk5' in [sim].stepper (did you mean 'rk45'?). Valid steppers: ab2"));
  CHECK(parse_error(MS + "[sim]\nstepper = 'map'\n") ==
        "[sim].stepper 'map' is a stepper for map models; this model is an ode model");
  CHECK(parse_error(MS + "[sim]\ndt = 0\n") == "[sim].dt must be > 0 and finite (got 0)");
  CHECK(parse_error(MS + "[sim]\ndt = -0.5\n") == "[sim].dt must be > 0 and finite (got -0.5)");
  CHECK(parse_error(MS + "[sim]\nt_end = inf\n") == "[sim].t_end must be finite (got inf)");
  CHECK(parse_error(MS + "[sim]\natol = -1e-6\n") == "[sim].atol must be >= 0 and finite (got -1e-06)");
  CHECK(parse_error(MS + "[sim]\natol = 0\nrtol = 0\n") ==
        "[sim]: atol and rtol cannot both be 0 (the error test needs a tolerance)");
  CHECK(parse_error(MS + "[sim]\nmax_steps = 0\n") == "[sim].max_steps must be >= 1 (got 0)");
  CHECK(parse_error(MS + "[sim]\nrecord_interval = 0\n") ==
        "[sim].record_interval must be an integer >= 1 (got 0)");
  CHECK(
      parse_error(MS + "[sim]\nstepper = 'bdf2'\njacobian_mode = 'exernal'\n") ==
      "[sim].jacobian_mode must be one of 'internal', 'external', got 'exernal' (did you mean 'external'?)");
  CHECK(parse_error(MS + "[sim]\nstepper = 'bdf2'\njacobian_mode = 3\n") ==
        "[sim].jacobian_mode must be one of internal (0), external (1) (got 3)");
  CHECK(parse_error(MS + "[sim]\nstepper = 'rk45'\nsafety = 1.5\n") ==
        "[sim].safety must be > 0 and <= 1 (got 1.5)");
  CHECK(parse_error(MS + "[sim]\nstepper = 'rk45'\nmax_tries = 2.5\n") ==
        "[sim].max_tries must be an integer (got 2.5)");
  CHECK(parse_error(MS + "[sim]\nstepper = 'rk45'\nsafety = 'high'\n") ==
        "[sim].safety must be a number, got str 'high'");

  // Located at the key (unknown key) or the value (bad value).
  const auto e = catch_error<ModelLoadError>([&] { parse(MS + "[sim]\ndt = 0.1\ntend = 10\n"); });
  CHECK(e.where().file == "test.toml");
  CHECK(e.where().line == 7);
  CHECK(e.where().toml_path == "[sim].tend");
  const auto v =
      catch_error<ModelLoadError>([&] { parse(MS + "[sim]\nstepper = 'bdf2'\njacobian_mode = 'x'\n"); });
  CHECK(v.where().line == 7);
  CHECK(v.where().column == 17);

  // Settings by name and in range are accepted.
  const auto s = parse(MS + "[sim]\nstepper = 'bdf2'\njacobian_mode = 'external'\nnewton_max_iter = 20\n");
  REQUIRE(s.sim.defaults.string_extras.size() == 1);
  CHECK(s.sim.defaults.string_extras[0].second == "external");
}

TEST_CASE("errors: unknown top-level tables", "[parse][errors]") {
  CHECK(
      parse_error(MS + "[equation.rhs]\nx = '-x'\n") ==
      "Unknown top-level table [equation] (did you mean 'equations'?). Valid tables: model, states, params, "
      "constants, equations, aux, functions, events, presets, sim, mods, mod, meta");
  CHECK(parse_error("foo = 1\n" + MS) ==
        "Unknown top-level table [foo]. Valid tables: model, states, params, constants, equations, aux, "
        "functions, "
        "events, presets, sim, mods, mod, meta");
}
