// Lexer, recursive-descent parser and canonical printer of the cell language.
#include "framework/lang/syntax.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <set>

#include "framework/util/error.hpp"
#include "framework/util/random.hpp"
#include "framework/util/suggest.hpp"

namespace cellzoo::lang {
namespace {

constexpr std::array<std::string_view, kExprKindCount> kKindNames = {
    "number", "ref", "sigmoid", "tanh", "relu", "identity", "W", "diag", "bias", "+", "-", "*"};
static_assert(kKindNames.size() == kExprKindCount, "update the name table with ExprKind");

enum class Tok {
  ident,
  number,
  plus,
  minus,
  star,
  lparen,
  rparen,
  equals,
  comma,
  prime,
  end_stmt,
  eof
};

std::string_view tok_text(Tok t) {
  switch (t) {
    case Tok::ident:
      return "a name";
    case Tok::number:
      return "a number";
    case Tok::plus:
      return "'+'";
    case Tok::minus:
      return "'-'";
    case Tok::star:
      return "'*'";
    case Tok::lparen:
      return "'('";
    case Tok::rparen:
      return "')'";
    case Tok::equals:
      return "'='";
    case Tok::comma:
      return "','";
    case Tok::prime:
      return "'''";
    case Tok::end_stmt:
      return "the end of the statement";
    case Tok::eof:
      return "the end of the text";
  }
  return "?";
}

struct Token {
  Tok kind = Tok::eof;
  std::string text;
  double number = 0;
  Location loc;
};

[[noreturn]] void fail(const std::string& source, Location loc, const std::string& what,
                       const std::string& hint = {}) {
  throw Error(
      source + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": " + what,
      hint.empty() ? "see docs/cell-language.md for the grammar" : hint);
}

bool ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool ident_char(char c) {
  return ident_start(c) || (c >= '0' && c <= '9');
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

// Splits the text into tokens. Newlines and ';' end statements except inside parentheses.
std::vector<Token> lex(std::string_view text, const std::string& source, std::string& description) {
  std::vector<Token> out;
  int line = 1, col = 1, depth = 0;
  // A UTF-8 byte-order mark, which some editors write first, is not part of the text.
  std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  auto push = [&](Tok k, Location loc, std::string t = {}) {
    out.push_back({k, std::move(t), 0, loc});
  };
  while (i < text.size()) {
    const char c = text[i];
    const Location loc{line, col};
    if (c == '\n') {
      if (depth == 0) push(Tok::end_stmt, loc);
      ++i, ++line, col = 1;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i, ++col;
      continue;
    }
    if (c == '#') {
      std::size_t e = text.find('\n', i);
      if (e == std::string_view::npos) e = text.size();
      const std::string body = trim(text.substr(i + 1, e - i - 1));
      if (body.starts_with("description:") && description.empty())
        description = trim(std::string_view(body).substr(12));
      col += static_cast<int>(e - i);
      i = e;
      continue;
    }
    if (ident_start(c)) {
      std::size_t e = i;
      while (e < text.size() && ident_char(text[e])) ++e;
      push(Tok::ident, loc, std::string(text.substr(i, e - i)));
      col += static_cast<int>(e - i);
      i = e;
      continue;
    }
    if (digit(c) || (c == '.' && i + 1 < text.size() && digit(text[i + 1]))) {
      std::size_t e = i;
      while (e < text.size() && (digit(text[e]) || text[e] == '.')) ++e;
      if (e < text.size() && (text[e] == 'e' || text[e] == 'E')) {
        std::size_t f = e + 1;
        if (f < text.size() && (text[f] == '+' || text[f] == '-')) ++f;
        if (f < text.size() && digit(text[f])) {
          e = f;
          while (e < text.size() && digit(text[e])) ++e;
        }
      }
      Token t{Tok::number, std::string(text.substr(i, e - i)), 0, loc};
      const auto r = std::from_chars(text.data() + i, text.data() + e, t.number);
      if (r.ec != std::errc() || r.ptr != text.data() + e)
        fail(source, loc, "malformed number '" + t.text + "'");
      out.push_back(std::move(t));
      col += static_cast<int>(e - i);
      i = e;
      continue;
    }
    Tok k;
    switch (c) {
      case '+':
        k = Tok::plus;
        break;
      case '-':
        k = Tok::minus;
        break;
      case '*':
        k = Tok::star;
        break;
      case '(':
        k = Tok::lparen, ++depth;
        break;
      case ')':
        k = Tok::rparen, depth = depth > 0 ? depth - 1 : 0;
        break;
      case '=':
        k = Tok::equals;
        break;
      case ',':
        k = Tok::comma;
        break;
      case '\'':
        k = Tok::prime;
        break;
      case ';':
        k = Tok::end_stmt;
        break;
      default:
        fail(source, loc, std::string("unexpected character '") + c + "'",
             "expressions use names, numbers, + - * ( ) and the functions sigmoid tanh relu "
             "identity W diag bias");
    }
    push(k, loc, std::string(1, c));
    ++i, ++col;
  }
  push(Tok::end_stmt, {line, col});
  push(Tok::eof, {line, col});
  return out;
}

const std::set<std::string, std::less<>> kReserved = {
    "x", "state", "sigmoid", "tanh", "relu", "identity", "W", "diag", "bias"};

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string source)
      : t_(std::move(tokens)), source_(std::move(source)) {}

  void parse(CellText& cell) {
    for (;;) {
      skip_ends();
      if (peek().kind == Tok::eof) break;
      statement(cell);
      if (peek().kind != Tok::end_stmt)
        fail(source_, peek().loc,
             "expected the end of the statement (newline or ';'), found " + describe(peek()));
    }
  }

 private:
  const Token& peek() const { return t_[pos_]; }
  const Token& next() { return t_[pos_++]; }
  void skip_ends() {
    while (peek().kind == Tok::end_stmt) ++pos_;
  }
  static std::string describe(const Token& t) {
    if (t.kind == Tok::ident) return "'" + t.text + "'";
    if (t.kind == Tok::number) return "number " + t.text;
    return std::string(tok_text(t.kind));
  }
  const Token& expect(Tok k, const std::string& what) {
    if (peek().kind != k)
      fail(source_, peek().loc, "expected " + what + ", found " + describe(peek()));
    return next();
  }

  void statement(CellText& cell) {
    const Token& first = expect(Tok::ident, "a statement ('state ...' or 'name = expression')");
    if (first.text == "state") {
      if (!cell.states.empty() || !cell.statements.empty())
        fail(source_, first.loc,
             cell.states.empty() ? "the 'state' declaration must come before the assignments"
                                 : "'state' is declared twice",
             "declare all states once, first: e.g. 'state h, c'");
      cell.states_loc = first.loc;
      for (;;) {
        const Token& n = expect(Tok::ident, "a state name");
        if (kReserved.count(n.text))
          fail(source_, n.loc, "'" + n.text + "' is reserved and cannot name a state");
        for (const auto& s : cell.states)
          if (s == n.text) fail(source_, n.loc, "state '" + n.text + "' is declared twice");
        cell.states.push_back(n.text);
        if (peek().kind != Tok::comma) break;
        next();
      }
      return;
    }
    Statement s;
    s.name = first.text;
    s.loc = first.loc;
    if (kReserved.count(first.text))
      fail(source_, first.loc, "'" + first.text + "' is reserved and cannot be assigned");
    if (peek().kind == Tok::prime) {
      next();
      s.primed = true;
    }
    expect(Tok::equals, "'=' after '" + display_name(s.name, s.primed) + "'");
    s.expr = expr();
    cell.statements.push_back(std::move(s));
  }

  Expr binary(ExprKind k, Expr l, Expr r, Location loc) {
    Expr e;
    e.kind = k;
    e.loc = loc;
    e.args.push_back(std::move(l));
    e.args.push_back(std::move(r));
    return e;
  }

  Expr expr() {
    Expr e = term();
    while (peek().kind == Tok::plus || peek().kind == Tok::minus) {
      const Token& op = next();
      e = binary(op.kind == Tok::plus ? ExprKind::add : ExprKind::sub, std::move(e), term(),
                 op.loc);
    }
    return e;
  }

  Expr term() {
    Expr e = factor();
    while (peek().kind == Tok::star) {
      const Token& op = next();
      e = binary(ExprKind::mul, std::move(e), factor(), op.loc);
    }
    return e;
  }

  Expr factor() {
    const Token& t = peek();
    Expr e;
    e.loc = t.loc;
    if (t.kind == Tok::number) {
      next();
      e.number = t.number;
      return e;
    }
    if (t.kind == Tok::minus) {  // only constants may be negated: write 0 - a otherwise
      next();
      const Token& n =
          expect(Tok::number, "a number after unary '-' (write '0 - a' to negate a node)");
      e.number = -n.number;
      return e;
    }
    if (t.kind == Tok::lparen) {
      next();
      e = expr();
      expect(Tok::rparen, "')'");
      return e;
    }
    if (t.kind != Tok::ident) fail(source_, t.loc, "expected an expression, found " + describe(t));
    next();
    static const std::pair<std::string_view, ExprKind> kCalls[] = {
        {"sigmoid", ExprKind::sigmoid},   {"tanh", ExprKind::tanh}, {"relu", ExprKind::relu},
        {"identity", ExprKind::identity}, {"W", ExprKind::weight},  {"diag", ExprKind::diag}};
    for (const auto& [name, kind] : kCalls) {
      if (t.text != name) continue;
      e.kind = kind;
      expect(Tok::lparen, "'(' after '" + t.text + "'");
      e.args.push_back(expr());
      expect(Tok::rparen, "')' closing " + t.text + "(...)");
      return e;
    }
    if (t.text == "bias") {
      if (peek().kind == Tok::lparen)
        fail(source_, peek().loc, "'bias' takes no argument list",
             "write 'bias' alone: it is the bias vector of the statement's W(...) terms");
      e.kind = ExprKind::bias;
      return e;
    }
    if (peek().kind == Tok::lparen) {  // a call of a function that does not exist
      std::vector<std::string> known;
      for (const auto& call : kCalls) known.emplace_back(call.first);
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(source_, t.loc, "unknown function '" + t.text + "'" + did_you_mean(t.text, known),
           "the functions are " + list +
               " (and 'bias', without parentheses); see "
               "docs/cell-language.md");
    }
    if (t.text == "state") fail(source_, t.loc, "'state' can only start a declaration");
    e.kind = ExprKind::ref;
    e.name = t.text;
    if (peek().kind == Tok::prime) {
      next();
      e.primed = true;
    }
    return e;
  }

  std::vector<Token> t_;
  std::string source_;
  std::size_t pos_ = 0;
};

int precedence(const Expr& e) {
  switch (e.kind) {
    case ExprKind::add:
    case ExprKind::sub:
      return 1;
    case ExprKind::mul:
      return 2;
    default:
      return 3;
  }
}

std::string format_number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void print(const Expr& e, std::string& out, int min_prec) {
  const bool paren = precedence(e) < min_prec;
  if (paren) out += '(';
  switch (e.kind) {
    case ExprKind::number:
      out += format_number(e.number);
      break;
    case ExprKind::ref:
      out += display_name(e.name, e.primed);
      break;
    case ExprKind::bias:
      out += "bias";
      break;
    case ExprKind::add:
    case ExprKind::sub:
    case ExprKind::mul: {
      const int p = precedence(e);
      print(e.args[0], out, p);
      out += ' ';
      out += expr_kind_name(e.kind);
      out += ' ';
      print(e.args[1], out, p + 1);
      break;
    }
    default:
      out += expr_kind_name(e.kind);
      out += '(';
      print(e.args[0], out, 0);
      out += ')';
  }
  if (paren) out += ')';
}

}  // namespace

std::string_view expr_kind_name(ExprKind kind) {
  return kKindNames[static_cast<std::size_t>(kind)];
}

bool is_activation(ExprKind k) {
  return k == ExprKind::sigmoid || k == ExprKind::tanh || k == ExprKind::relu ||
         k == ExprKind::identity;
}
bool is_binary(ExprKind k) {
  return k == ExprKind::add || k == ExprKind::sub || k == ExprKind::mul;
}

std::string display_name(const std::string& name, bool primed) {
  return primed ? name + "'" : name;
}

CellText parse_cell(std::string_view text, std::string source) {
  CellText cell;
  cell.source = source;
  auto tokens = lex(text, source, cell.description);
  Parser(std::move(tokens), std::move(source)).parse(cell);
  return cell;
}

std::string print_expr(const Expr& expr) {
  std::string out;
  print(expr, out, 0);
  return out;
}

std::string canonical_text(const CellText& cell, bool with_description) {
  std::string out;
  if (with_description && !cell.description.empty()) {
    std::string d = cell.description;  // one line, or the rest would parse as statements
    for (char& ch : d)
      if (ch == '\n' || ch == '\r') ch = ' ';
    out += "# description: " + d + "\n";
  }
  out += "state ";
  for (std::size_t i = 0; i < cell.states.size(); ++i) out += (i ? ", " : "") + cell.states[i];
  out += "\n";
  for (const auto& s : cell.statements)
    out += display_name(s.name, s.primed) + " = " + print_expr(s.expr) + "\n";
  return out;
}

std::string cell_hash(const CellText& cell) {
  const std::string text = canonical_text(cell, false);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(hash64(text, 0)),
                static_cast<unsigned long long>(hash64(text, 0x6c616e67ULL)));
  return buf;
}

}  // namespace cellzoo::lang
