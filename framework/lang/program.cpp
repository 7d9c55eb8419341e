// compile(): semantic checks of a parsed cell and lowering to the per-step graph.
//
// Lowering flattens chains of + and - into one n-ary sum, folds constants (so constants
// never reach the interpreter) and splits every state-dependent sum into a precomputed
// part over x (W(x) + bias, computed for all steps at once) and a per-step rest.
#include "framework/lang/program.hpp"

#include <array>
#include <cmath>
#include <map>
#include <set>

#include "framework/util/error.hpp"

namespace cellzoo::lang {
namespace {

constexpr std::array<std::string_view, kOpCount> kOpNames = {
    "input", "state", "constant", "bias", "weight", "diag",
    "sum",   "mul",   "sigmoid",  "tanh", "relu",   "identity"};
static_assert(kOpNames.size() == kOpCount, "update the name table with Op");

std::string where(const std::string& source, Location loc) {
  return source + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": ";
}

double apply(ExprKind k, double v) {
  switch (k) {
    case ExprKind::sigmoid:
      return 1 / (1 + std::exp(-v));
    case ExprKind::tanh:
      return std::tanh(v);
    case ExprKind::relu:
      return v > 0 ? v : 0;
    default:
      return v;
  }
}

Op act_op(ExprKind k) {
  switch (k) {
    case ExprKind::sigmoid:
      return Op::sigmoid;
    case ExprKind::tanh:
      return Op::tanh;
    case ExprKind::relu:
      return Op::relu;
    default:
      return Op::identity;
  }
}

class Compiler {
 public:
  explicit Compiler(const CellText& text) : t_(text) { p_.text = text; }

  Program run() {
    check_declarations();
    stmt_node_.assign(t_.statements.size(), -1);
    stmt_mark_.assign(t_.statements.size(), 0);
    occurrence_.assign(t_.statements.size(), 0);
    state_node_.assign(t_.states.size(), -1);
    for (std::size_t i = 0; i < t_.statements.size(); ++i) lower_statement(static_cast<int>(i));
    check_unused();
    for (std::size_t k = 0; k < t_.states.size(); ++k) {
      const int s = stmt_of_.at(t_.states[k] + "'");
      const int n = stmt_node_[static_cast<std::size_t>(s)];
      const Node& node = p_.nodes[static_cast<std::size_t>(n)];
      const Location loc = t_.statements[static_cast<std::size_t>(s)].loc;
      if (node.dim == Dim::scalar)
        fail(
            loc, "the new state " + t_.states[k] + "' is a constant; states are vectors of size H",
            "let it depend on x or a state, e.g. " + t_.states[k] + "' = tanh(W(x) + W(h) + bias)");
      if (node.dim == Dim::input)
        need_square(loc, "the new state " + t_.states[k] + "' has the size of x");
      p_.outputs.push_back(n);
    }
    order_params();
    return std::move(p_);
  }

 private:
  [[noreturn]] void fail(Location loc, const std::string& what, const std::string& hint = {}) {
    throw Error(where(t_.source, loc) + what, hint.empty() ? "see docs/cell-language.md" : hint);
  }

  void need_square(Location loc, const std::string& why) {
    if (p_.square_input) return;
    p_.square_input = true;
    p_.square_reason = where(t_.source, loc) + why;
  }

  void check_declarations() {
    if (t_.states.empty())
      fail({1, 1}, "no 'state' declaration",
           "start the cell with 'state h' (or 'state h, c' for a cell with a memory)");
    if (t_.states[0] != "h")
      fail(t_.states_loc,
           "the first state must be h (the cell's output), found '" + t_.states[0] + "'",
           "write e.g. 'state h, c'");
    std::set<std::string> states(t_.states.begin(), t_.states.end());
    for (std::size_t i = 0; i < t_.statements.size(); ++i) {
      const auto& s = t_.statements[i];
      const std::string shown = display_name(s.name, s.primed);
      if (s.primed && !states.count(s.name))
        fail(s.loc,
             "'" + shown + "' assigns the new value of '" + s.name +
                 "', which is not a declared state",
             "declare it in the state line, or drop the prime to define an ordinary node");
      if (!s.primed && states.count(s.name))
        fail(s.loc, "'" + s.name + "' is a state (its previous value); assign its new value as " +
                        s.name + "'");
      const auto [it, fresh] = stmt_of_.emplace(shown, static_cast<int>(i));
      if (!fresh)
        fail(s.loc,
             "'" + shown + "' is assigned twice (first at line " +
                 std::to_string(t_.statements[static_cast<std::size_t>(it->second)].loc.line) +
                 ")");
    }
    for (const auto& st : t_.states)
      if (!stmt_of_.count(st + "'"))
        fail(t_.states_loc, "state '" + st + "' is never produced",
             "add an assignment " + st + "' = ... giving its new value");
  }

  int add(Node n) {
    p_.nodes.push_back(std::move(n));
    return static_cast<int>(p_.nodes.size()) - 1;
  }
  const Node& node(int i) const { return p_.nodes[static_cast<std::size_t>(i)]; }

  int constant(double v) {
    Node n;
    n.op = Op::constant;
    n.value = v;
    n.dim = Dim::scalar;
    n.label = std::to_string(v);
    return add(std::move(n));
  }

  Dim unify(Dim a, Dim b, Location loc, const std::string& what) {
    if (a == Dim::scalar) return b;
    if (b == Dim::scalar || a == b) return a;
    need_square(loc, "'" + what + "' combines x (size I) with a node of size H element-wise");
    return Dim::hidden;
  }

  int lower_statement(int s) {
    const auto idx = static_cast<std::size_t>(s);
    if (stmt_mark_[idx] == 2) return stmt_node_[idx];
    const auto& st = t_.statements[idx];
    if (stmt_mark_[idx] == 1) {
      std::string cycle;
      bool on = false;
      for (int v : stack_) {
        on = on || v == s;
        if (on) {
          const auto& sv = t_.statements[static_cast<std::size_t>(v)];
          cycle += display_name(sv.name, sv.primed) + " -> ";
        }
      }
      cycle += display_name(st.name, st.primed);
      fail(
          st.loc, "cycle: " + cycle,
          "a node cannot depend on itself within a step; use a state to carry values across steps");
    }
    stmt_mark_[idx] = 1;
    stack_.push_back(s);
    int n = lower(st.expr, s);
    stack_.pop_back();
    stmt_mark_[idx] = 2;
    stmt_node_[idx] = n;
    auto& nd = p_.nodes[static_cast<std::size_t>(n)];
    if (nd.label.empty() || nd.op == Op::sum || nd.op == Op::mul || nd.op == Op::constant)
      nd.label = display_name(st.name, st.primed);
    return n;
  }

  int ref(const Expr& e, int s) {
    if (e.name == "x" && !e.primed) {
      if (input_node_ < 0) {
        Node n;
        n.op = Op::input;
        n.dim = Dim::input;
        n.label = "x";
        input_node_ = add(std::move(n));
      }
      return input_node_;
    }
    if (!e.primed) {
      for (std::size_t k = 0; k < t_.states.size(); ++k) {
        if (t_.states[k] != e.name) continue;
        if (state_node_[k] < 0) {
          Node n;
          n.op = Op::state;
          n.state = static_cast<int>(k);
          n.dynamic = true;
          n.label = e.name;
          state_node_[k] = add(std::move(n));
        }
        return state_node_[k];
      }
    }
    const std::string shown = display_name(e.name, e.primed);
    const auto it = stmt_of_.find(shown);
    if (it == stmt_of_.end()) {
      if (e.primed)
        fail(e.loc, "undefined name '" + shown + "': '" + e.name + "' is not a declared state",
             "only states have primed (new) values");
      fail(e.loc, "undefined name '" + shown + "'",
           "define it with '" + shown + " = ...', declare it as a state, or use x");
    }
    (void)s;
    return lower_statement(it->second);
  }

  std::string param_name(const std::string& base) {
    const int k = ++name_count_[base];
    return k == 1 ? base : base + "#" + std::to_string(k);
  }

  int new_param(const std::string& base, Op op, Dim cols, cells::ParamKind kind, int s) {
    ParamSpec spec;
    spec.name = param_name(base);
    spec.op = op;
    spec.cols = cols;
    spec.kind = kind;
    p_.params.push_back(std::move(spec));
    order_.emplace_back(s, occurrence_[static_cast<std::size_t>(s)]++);
    return static_cast<int>(p_.params.size()) - 1;
  }

  std::string target(int s) const { return t_.statements[static_cast<std::size_t>(s)].name; }

  static std::string source_label(const Expr& arg) {
    std::string out;
    for (char c : print_expr(arg))
      if (c != ' ') out += c;
    return out;
  }

  void collect(const Expr& e, double sign, int s, std::vector<std::pair<int, double>>& terms,
               double& offset) {
    if (e.kind == ExprKind::add || e.kind == ExprKind::sub) {
      collect(e.args[0], sign, s, terms, offset);
      collect(e.args[1], e.kind == ExprKind::add ? sign : -sign, s, terms, offset);
      return;
    }
    const int n = lower(e, s);
    if (node(n).op == Op::constant)
      offset += sign * node(n).value;
    else
      terms.emplace_back(n, sign);
  }

  int make_sum(std::vector<std::pair<int, double>> terms, double offset, Location loc,
               const std::string& label) {
    if (terms.empty()) return constant(offset);
    if (terms.size() == 1 && terms[0].second == 1 && offset == 0) return terms[0].first;
    Node n;
    n.op = Op::sum;
    n.value = offset;
    n.dim = Dim::scalar;
    for (const auto& [id, c] : terms) {
      n.dim = unify(n.dim, node(id).dim, loc, label);
      n.dynamic = n.dynamic || node(id).dynamic;
    }
    if (n.dynamic) {
      // Precompute the x-only part for all steps at once.
      std::vector<std::pair<int, double>> fixed, rest;
      for (const auto& t : terms) (node(t.first).dynamic ? rest : fixed).push_back(t);
      if (fixed.size() >= 2 || (fixed.size() == 1 && offset != 0)) {
        rest.emplace_back(make_sum(fixed, offset, loc, label), 1.0);
        offset = 0;
        n.value = 0;
        terms = rest;
      }
    }
    for (const auto& [id, c] : terms) {
      n.args.push_back(id);
      n.coef.push_back(c);
    }
    n.label = label;
    return add(std::move(n));
  }

  int lower(const Expr& e, int s) {
    switch (e.kind) {
      case ExprKind::number:
        return constant(e.number);
      case ExprKind::ref:
        return ref(e, s);
      case ExprKind::add:
      case ExprKind::sub: {
        std::vector<std::pair<int, double>> terms;
        double offset = 0;
        collect(e, 1, s, terms, offset);
        return make_sum(std::move(terms), offset, e.loc, print_expr(e));
      }
      case ExprKind::mul: {
        const int a = lower(e.args[0], s), b = lower(e.args[1], s);
        const bool ca = node(a).op == Op::constant, cb = node(b).op == Op::constant;
        if (ca && cb) return constant(node(a).value * node(b).value);
        if (ca || cb)
          return make_sum({{ca ? b : a, ca ? node(a).value : node(b).value}}, 0, e.loc,
                          print_expr(e));
        Node n;
        n.op = Op::mul;
        n.args = {a, b};
        n.dim = unify(node(a).dim, node(b).dim, e.loc, print_expr(e));
        n.dynamic = node(a).dynamic || node(b).dynamic;
        n.label = print_expr(e);
        return add(std::move(n));
      }
      case ExprKind::sigmoid:
      case ExprKind::tanh:
      case ExprKind::relu:
      case ExprKind::identity: {
        const int a = lower(e.args[0], s);
        if (node(a).op == Op::constant) return constant(apply(e.kind, node(a).value));
        Node n;
        n.op = act_op(e.kind);
        n.args = {a};
        n.dim = node(a).dim;
        n.dynamic = node(a).dynamic;
        n.label = print_expr(e);
        return add(std::move(n));
      }
      case ExprKind::weight:
      case ExprKind::diag: {
        const bool w = e.kind == ExprKind::weight;
        const int a = lower(e.args[0], s);
        if (node(a).op == Op::constant)
          fail(e.loc,
               std::string(w ? "W" : "diag") + "(...) of the constant " + print_expr(e.args[0]) +
                   ": weights apply to vectors",
               "use bias for a learned constant vector");
        Node n;
        n.op = w ? Op::weight : Op::diag;
        n.args = {a};
        n.dim = Dim::hidden;
        n.dynamic = node(a).dynamic;
        n.label = print_expr(e);
        if (!w && node(a).dim == Dim::input)
          need_square(e.loc, "'" + print_expr(e) + "' needs a node of size H, x has size I");
        const std::string base =
            std::string(w ? "W." : "diag.") + target(s) + "." + source_label(e.args[0]);
        const auto kind = !w          ? cells::ParamKind::peephole
                          : n.dynamic ? cells::ParamKind::recurrent_weight
                                      : cells::ParamKind::input_weight;
        n.param = new_param(base, n.op, w ? node(a).dim : Dim::hidden, kind, s);
        return add(std::move(n));
      }
      case ExprKind::bias: {
        Node n;
        n.op = Op::bias;
        n.dim = Dim::hidden;
        n.label = "bias";
        n.param = new_param("b." + target(s), Op::bias, Dim::hidden, cells::ParamKind::bias, s);
        const auto& st = t_.statements[static_cast<std::size_t>(s)];
        if (st.name == "f" && p_.forget_bias_param < 0) p_.forget_bias_param = n.param;
        return add(std::move(n));
      }
    }
    fail(e.loc, "unknown expression");
  }

  // Statements not reachable from a new state are an error: they would hold parameters
  // that never influence the output.
  void check_unused() {
    std::vector<char> used(t_.statements.size(), 0);
    std::vector<int> todo;
    for (const auto& st : t_.states) todo.push_back(stmt_of_.at(st + "'"));
    while (!todo.empty()) {
      const int s = todo.back();
      todo.pop_back();
      if (used[static_cast<std::size_t>(s)]) continue;
      used[static_cast<std::size_t>(s)] = 1;
      std::vector<const Expr*> stack = {&t_.statements[static_cast<std::size_t>(s)].expr};
      while (!stack.empty()) {
        const Expr* e = stack.back();
        stack.pop_back();
        if (e->kind == ExprKind::ref) {
          const auto it = stmt_of_.find(display_name(e->name, e->primed));
          if (it != stmt_of_.end()) todo.push_back(it->second);
        }
        for (const auto& a : e->args) stack.push_back(&a);
      }
    }
    for (std::size_t i = 0; i < used.size(); ++i)
      if (!used[i])
        fail(t_.statements[i].loc, "'" + t_.statements[i].name + "' is assigned but never used",
             "remove it, or use it in the computation of a new state");
  }

  // Parameters are laid out in order of appearance in the text (lowering follows
  // dependencies, so it may meet them in another order).
  void order_params() {
    std::vector<int> perm(p_.params.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(i);
    std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) {
      return order_[static_cast<std::size_t>(a)] < order_[static_cast<std::size_t>(b)];
    });
    std::vector<int> where(perm.size());
    std::vector<ParamSpec> sorted;
    for (std::size_t i = 0; i < perm.size(); ++i) {
      where[static_cast<std::size_t>(perm[i])] = static_cast<int>(i);
      sorted.push_back(p_.params[static_cast<std::size_t>(perm[i])]);
    }
    p_.params = std::move(sorted);
    for (auto& n : p_.nodes)
      if (n.param >= 0) n.param = where[static_cast<std::size_t>(n.param)];
    if (p_.forget_bias_param >= 0)
      p_.forget_bias_param = where[static_cast<std::size_t>(p_.forget_bias_param)];
    int hi = 0, hh = 0, h = 0;
    for (const auto& q : p_.params) {
      if (q.op == Op::weight)
        ++(q.cols == Dim::input ? hi : hh);
      else
        ++h;
    }
    std::string f;
    auto term = [&](int count, const char* unit) {
      if (!count) return;
      if (!f.empty()) f += " + ";
      f += (count == 1 ? std::string() : std::to_string(count)) + unit;
    };
    term(hi, "HI");
    term(hh, "H^2");
    term(h, "H");
    p_.param_formula = f.empty() ? "0" : f;
  }

  const CellText& t_;
  Program p_;
  std::map<std::string, int> stmt_of_;
  std::vector<int> stmt_node_, stmt_mark_, occurrence_, state_node_, stack_;
  std::vector<std::pair<int, int>> order_;
  std::map<std::string, int> name_count_;
  int input_node_ = -1;
};

}  // namespace

std::string_view op_name(Op op) {
  return kOpNames[static_cast<std::size_t>(op)];
}

std::shared_ptr<const Program> compile(const CellText& text) {
  return std::make_shared<const Program>(Compiler(text).run());
}

void check_sizes(const Program& program, long input_size, long hidden_size) {
  if (input_size <= 0 || hidden_size <= 0)
    throw Error("cell sizes must be positive, got input " + std::to_string(input_size) +
                " and hidden " + std::to_string(hidden_size));
  if (program.square_input && input_size != hidden_size)
    throw Error("shape mismatch: " + program.square_reason +
                    ", so the cell needs input size == hidden size; got I=" +
                    std::to_string(input_size) + ", H=" + std::to_string(hidden_size),
                "use an input of the hidden size (e.g. an embedding of size H), or project x "
                "with W(x) before combining it with states");
}

}  // namespace cellzoo::lang
