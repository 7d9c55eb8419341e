// The cell language's parser and checker: round trips of the built-in texts, and every
// error class asserted by its message (file, line, column and what was expected).
#include <catch2/catch.hpp>

#include <string>

#include "framework/lang/lang_cell.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::lang;

namespace {

// The message of the cellzoo::Error thrown by compiling (and sizing) `text`.
std::string error_of(const std::string& text, long input = 3, long hidden = 4) {
  try {
    const auto program = compile(parse_cell(text, "t.cell"));
    check_sizes(*program, input, hidden);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("canonical text round-trips every built-in cell text", "[lang][parser]") {
  REQUIRE(builtin_cell_texts().size() == 15);
  for (const auto& [name, text] : builtin_cell_texts()) {
    INFO(name);
    const CellText cell = parse_cell(text, name + ".cell");
    CHECK_FALSE(cell.description.empty());
    const std::string canon = canonical_text(cell);
    const CellText again = parse_cell(canon);
    CHECK(canonical_text(again) == canon);
    CHECK(cell_hash(again) == cell_hash(cell));
    CHECK(cell_hash(cell).size() == 32);
    CHECK_NOTHROW(compile(cell));
  }
}

TEST_CASE("formatting is normalised and ';' separates statements", "[lang][parser]") {
  const CellText a = parse_cell(
      "# description: demo\nstate h\n\nh'=tanh( W(x)+W(h)\n  + bias )   # trailing comment\n");
  const CellText b = parse_cell("state h; h' = tanh(W(x) + W(h) + bias)");
  CHECK(canonical_text(a) == "# description: demo\nstate h\nh' = tanh(W(x) + W(h) + bias)\n");
  CHECK(cell_hash(a) == cell_hash(b));  // the description is not part of the identity
  CHECK(cell_hash(a) != cell_hash(parse_cell("state h; h' = tanh(W(x) + W(h))")));
  // Minimal parentheses that keep the tree: a - (b - c) keeps them, (a * b) + c drops them.
  CHECK(
      print_expr(parse_cell("state h; h' = h - (h - h) + (h * h) * (1 - h)").statements[0].expr) ==
      "h - (h - h) + h * h * (1 - h)");
  CHECK(print_expr(parse_cell("state h; h' = -0.5 * h + 1e-3").statements[0].expr) ==
        "-0.5 * h + 0.001");
}

TEST_CASE("parameters are named after their node and source", "[lang][parser]") {
  const auto p = compile(parse_cell(*builtin_cell_text("lstm")));
  std::vector<std::string> names;
  for (const auto& q : p->params) names.push_back(q.name);
  CHECK(names == std::vector<std::string>{"W.z.x", "W.z.h", "b.z", "W.i.x", "W.i.h", "diag.i.c",
                                          "b.i", "W.f.x", "W.f.h", "diag.f.c", "b.f", "W.o.x",
                                          "W.o.h", "diag.o.c'", "b.o"});
  CHECK(p->param_formula == "4HI + 4H^2 + 7H");
  CHECK(p->forget_bias_param == 10);
  const auto gru_ra = compile(parse_cell(*builtin_cell_text("gru-ra")));
  CHECK(gru_ra->params.back().name == "b.n#2");
  const auto gru = compile(parse_cell(*builtin_cell_text("gru")));
  CHECK(gru->params[7].name == "W.n.r*h");
}

TEST_CASE("syntax errors name file, line, column and what was expected", "[lang][parser][errors]") {
  CHECK(error_of("state h\nh' = tanh(W(x) + W(h)\n") ==
        "t.cell:3:1: expected ')' closing tanh(...), found the end of the statement");
  CHECK(error_of("state h\nh' = tanh(W(x) $ h)") == "t.cell:2:16: unexpected character '$'");
  CHECK(error_of("state h\nh' tanh(h)") == "t.cell:2:4: expected '=' after 'h'', found 'tanh'");
  CHECK(error_of("state h\nh' = tanh(h) h") ==
        "t.cell:2:14: expected the end of the statement (newline or ';'), found 'h'");
  CHECK(error_of("state h\nh' = * h") == "t.cell:2:6: expected an expression, found '*'");
  CHECK(error_of("state h\nh' = 1.2.3 * h") == "t.cell:2:6: malformed number '1.2.3'");
  CHECK(
      error_of("state h\nh' = - h") ==
      "t.cell:2:8: expected a number after unary '-' (write '0 - a' to negate a node), found 'h'");
  CHECK(error_of("state h, h\nh' = h") == "t.cell:1:10: state 'h' is declared twice");
  CHECK(error_of("state h\ntanh = h\nh' = tanh") ==
        "t.cell:2:1: 'tanh' is reserved and cannot be assigned");
  CHECK(error_of("h' = h\nstate h") ==
        "t.cell:2:1: the 'state' declaration must come before the assignments");
}

TEST_CASE("an unknown function is named, with the known ones", "[lang][parser][errors]") {
  // Used to be "expected the end of the statement (newline or ';'), found '('".
  CHECK(error_of("state h\nh' = softmax(W(x) + W(h))") == "t.cell:2:6: unknown function 'softmax'");
  CHECK(error_of("state h\nh' = tahn(W(x) + W(h))") ==
        "t.cell:2:6: unknown function 'tahn' (did you mean 'tanh'?)");
  CHECK(error_of("state h\nh' = tanh(W(x) + bias())") ==
        "t.cell:2:22: 'bias' takes no argument list");
  try {
    (void)parse_cell("state h\nh' = softmax(h)", "t.cell");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.hint(), Catch::Contains("sigmoid, tanh, relu, identity, W, diag"));
  }
}

TEST_CASE("a UTF-8 byte-order mark before a cell text is ignored", "[lang][parser]") {
  const std::string text = "state h\nh' = tanh(W(x) + W(h) + bias)\n";
  CHECK(canonical_text(parse_cell("\xEF\xBB\xBF" + text, "t.cell")) ==
        canonical_text(parse_cell(text, "t.cell")));
}

TEST_CASE("semantic errors are precise", "[lang][parser][errors]") {
  CHECK(error_of("h' = tanh(x)") == "t.cell:1:1: no 'state' declaration");
  CHECK(error_of("state c, h\nh' = c\nc' = h") ==
        "t.cell:1:1: the first state must be h (the cell's output), found 'c'");
  CHECK(error_of("state h\nh' = tanh(W(x) + q)") == "t.cell:2:18: undefined name 'q'");
  CHECK(error_of("state h\nh' = tanh(W(x) + z')") ==
        "t.cell:2:18: undefined name 'z'': 'z' is not a declared state");
  CHECK(error_of("state h, c\nh' = tanh(W(x) + W(h) + bias)") ==
        "t.cell:1:1: state 'c' is never produced");
  CHECK(error_of("state h\na = tanh(W(b))\nb = sigmoid(W(a))\nh' = a * h") ==
        "t.cell:2:1: cycle: a -> b -> a");
  CHECK(error_of("state h\nh' = tanh(W(h'))") == "t.cell:2:1: cycle: h' -> h'");
  CHECK(error_of("state h\na = W(x)\nh' = tanh(W(h))") ==
        "t.cell:2:1: 'a' is assigned but never used");
  CHECK(error_of("state h\na = W(x)\na = W(h)\nh' = a") ==
        "t.cell:3:1: 'a' is assigned twice (first at line 2)");
  CHECK(error_of("state h\nz' = W(x)\nh' = z") ==
        "t.cell:2:1: 'z'' assigns the new value of 'z', which is not a declared state");
  CHECK(error_of("state h\nh = W(x)\nh' = h") ==
        "t.cell:2:1: 'h' is a state (its previous value); assign its new value as h'");
  CHECK(error_of("state h\nh' = W(1) + h") ==
        "t.cell:2:6: W(...) of the constant 1: weights apply to vectors");
  CHECK(error_of("state h\nh' = tanh(0.5)") ==
        "t.cell:2:1: the new state h' is a constant; states are vectors of size H");
}

TEST_CASE("shape mismatches need I == H and are reported at the offending node",
          "[lang][parser][errors]") {
  // x (size I) used element-wise with a node of size H: fine at I == H, an error otherwise.
  const std::string text = "state h\nh' = tanh(x + W(h))";
  CHECK(error_of(text, 4, 4) == "(no error)");
  CHECK(error_of(text, 3, 4) ==
        "shape mismatch: t.cell:2:13: 'x + W(h)' combines x (size I) with a node of size H "
        "element-wise, so the cell needs input size == hidden size; got I=3, H=4");
  CHECK(error_of("state h\nh' = tanh(W(h) + diag(x))", 2, 4)
            .find("t.cell:2:18: 'diag(x)' needs a node of size H, x has size I") !=
        std::string::npos);
  CHECK(error_of("state h\nh' = tanh(x)", 2, 4)
            .find("t.cell:2:1: the new state h' has the size of x") != std::string::npos);
  CHECK(compile(parse_cell(*builtin_cell_text("mut1")))->square_input);
  CHECK(compile(parse_cell(*builtin_cell_text("mut2")))->square_input);
  CHECK_FALSE(compile(parse_cell(*builtin_cell_text("mut3")))->square_input);
}

TEST_CASE("load_cell resolves file:, cell:, lang: and built-in names", "[lang][parser]") {
  const std::string path = std::string(CELLZOO_SOURCE_DIR) + "/experiments/cells/mut1.cell";
  const CellText f = load_cell("file:" + path);
  CHECK(f.source == path);
  CHECK(cell_hash(f) == cell_hash(load_cell("lang:mut1")));
  CHECK(cell_hash(f) == cell_hash(load_cell("mut1")));
  CHECK(load_cell("cell:state h; h' = tanh(W(x))").statements.size() == 1);
  try {
    load_cell("file:/nonexistent/x.cell");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "cannot read cell file '/nonexistent/x.cell'");
  }
  try {
    load_cell("lstm-xyz");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "no cell-language text for 'lstm-xyz'");
    CHECK(e.hint().find("lstm-cifg") != std::string::npos);
  }
}

TEST_CASE("the built-in texts are embedded sorted by name", "[lang][parser]") {
  std::vector<std::string> names;
  for (const auto& [name, _] : builtin_cell_texts()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"gru", "gru-ra", "lstm", "lstm-cifg", "lstm-fgr",
                                          "lstm-nfg", "lstm-niaf", "lstm-nig", "lstm-noaf",
                                          "lstm-nog", "lstm-np", "mut1", "mut2", "mut3", "rnn"});
  CellText c = parse_cell("state h; h' = tanh(W(x))");
  c.description = "two\nlines";
  CHECK(canonical_text(c) == "# description: two lines\nstate h\nh' = tanh(W(x))\n");
}
