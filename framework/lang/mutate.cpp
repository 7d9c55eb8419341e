// The six mutation operators, applied to the syntax tree. A draw that gives an invalid
// cell (a cycle, a shape that would need I == H when the parent did not, no change) is
// discarded and another is drawn; nodes left unused are pruned.
#include "framework/lang/mutate.hpp"

#include <array>
#include <map>
#include <set>

#include "framework/lang/program.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::lang {
namespace {

constexpr std::array<ExprKind, 4> kActivations = {ExprKind::sigmoid, ExprKind::tanh, ExprKind::relu,
                                                  ExprKind::identity};
constexpr std::array<ExprKind, 3> kOps = {ExprKind::add, ExprKind::sub, ExprKind::mul};

struct Site {
  int stmt;
  Expr* expr;
};

void collect_sites(Expr& e, int stmt, std::vector<Site>& out) {
  out.push_back({stmt, &e});
  for (auto& a : e.args) collect_sites(a, stmt, out);
}

std::vector<Site> sites(CellText& cell) {
  std::vector<Site> out;
  for (std::size_t s = 0; s < cell.statements.size(); ++s)
    collect_sites(cell.statements[s].expr, static_cast<int>(s), out);
  return out;
}

template <typename T>
const T& pick(const std::vector<T>& v, Rng& rng) {
  return v[static_cast<std::size_t>(rng.below(v.size()))];
}

Expr make_ref(const std::string& name, bool primed) {
  Expr e;
  e.kind = ExprKind::ref;
  e.name = name;
  e.primed = primed;
  return e;
}

// The nodes e depends on: its proper sub-expressions and every name it reaches.
std::vector<Expr> ancestors(const CellText& cell, const Expr& e) {
  std::vector<Expr> out;
  std::vector<const Expr*> stack;
  for (const auto& a : e.args) stack.push_back(&a);
  std::set<std::string> seen;
  std::vector<const Expr*> refs;
  while (!stack.empty()) {
    const Expr* d = stack.back();
    stack.pop_back();
    if (d->kind != ExprKind::number) out.push_back(*d);
    if (d->kind == ExprKind::ref) refs.push_back(d);
    for (const auto& a : d->args) stack.push_back(&a);
  }
  if (e.kind == ExprKind::ref) refs.push_back(&e);
  while (!refs.empty()) {
    const Expr* r = refs.back();
    refs.pop_back();
    const std::string shown = display_name(r->name, r->primed);
    if (!seen.insert(shown).second) continue;
    if (r != &e) out.push_back(make_ref(r->name, r->primed));
    for (const auto& s : cell.statements) {
      if (display_name(s.name, s.primed) != shown) continue;
      std::vector<const Expr*> st = {&s.expr};
      while (!st.empty()) {
        const Expr* d = st.back();
        st.pop_back();
        if (d->kind == ExprKind::ref) refs.push_back(d);
        for (const auto& a : d->args) st.push_back(&a);
      }
    }
  }
  return out;
}

// Removes statements that no new state depends on.
void prune(CellText& cell) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < cell.statements.size(); ++i)
    index[display_name(cell.statements[i].name, cell.statements[i].primed)] = i;
  std::vector<char> used(cell.statements.size(), 0);
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < cell.statements.size(); ++i)
    if (cell.statements[i].primed) todo.push_back(i);
  while (!todo.empty()) {
    const std::size_t s = todo.back();
    todo.pop_back();
    if (used[s]) continue;
    used[s] = 1;
    std::vector<const Expr*> stack = {&cell.statements[s].expr};
    while (!stack.empty()) {
      const Expr* e = stack.back();
      stack.pop_back();
      if (e->kind == ExprKind::ref)
        if (auto it = index.find(display_name(e->name, e->primed)); it != index.end())
          todo.push_back(it->second);
      for (const auto& a : e->args) stack.push_back(&a);
    }
  }
  std::vector<Statement> kept;
  for (std::size_t i = 0; i < cell.statements.size(); ++i)
    if (used[i]) kept.push_back(std::move(cell.statements[i]));
  cell.statements = std::move(kept);
}

// Applies operator m at a random site; false if the cell has no site for it.
bool apply(CellText& cell, Mutation m, Rng& rng) {
  auto all = sites(cell);
  std::vector<Site> cand;
  switch (m) {
    case Mutation::replace_activation: {
      for (const auto& s : all)
        if (is_activation(s.expr->kind)) cand.push_back(s);
      if (cand.empty()) return false;
      Expr* e = pick(cand, rng).expr;
      ExprKind k;
      do k = kActivations[rng.below(kActivations.size())];
      while (k == e->kind);
      e->kind = k;
      return true;
    }
    case Mutation::replace_operation: {
      for (const auto& s : all)
        if (is_binary(s.expr->kind)) cand.push_back(s);
      if (cand.empty()) return false;
      Expr* e = pick(cand, rng).expr;
      ExprKind k;
      do k = kOps[rng.below(kOps.size())];
      while (k == e->kind);
      e->kind = k;
      return true;
    }
    case Mutation::insert_activation: {
      for (const auto& s : all)
        if (s.expr->kind != ExprKind::number) cand.push_back(s);
      if (cand.empty()) return false;
      Expr* e = pick(cand, rng).expr;
      Expr wrapped;
      wrapped.kind = kActivations[rng.below(3)];  // identity would change nothing
      wrapped.loc = e->loc;
      wrapped.args.push_back(std::move(*e));
      *e = std::move(wrapped);
      return true;
    }
    case Mutation::remove_node: {
      for (const auto& s : all)
        if (s.expr->args.size() == 1) cand.push_back(s);
      if (cand.empty()) return false;
      Expr* e = pick(cand, rng).expr;
      Expr inner = std::move(e->args[0]);
      *e = std::move(inner);
      return true;
    }
    case Mutation::replace_by_ancestor: {
      const Site s = pick(all, rng);
      auto anc = ancestors(cell, *s.expr);
      if (anc.empty()) return false;
      *s.expr = pick(anc, rng);
      return true;
    }
    case Mutation::combine_ancestors: {
      const Site s = pick(all, rng), other = pick(all, rng);
      auto a = ancestors(cell, *s.expr), b = ancestors(cell, *other.expr);
      if (a.empty() || b.empty()) return false;
      Expr c;
      c.kind = kOps[rng.below(kOps.size())];
      c.loc = s.expr->loc;
      c.args.push_back(pick(a, rng));
      c.args.push_back(pick(b, rng));
      *s.expr = std::move(c);
      return true;
    }
  }
  return false;
}

}  // namespace

CellText mutate_once(const CellText& cell, Rng& rng, Mutation* applied) {
  const auto parent = compile(cell);
  const std::string before = canonical_text(cell, false);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto m = static_cast<Mutation>(rng.below(kMutationCount));
    CellText child = cell;
    if (!apply(child, m, rng)) continue;
    prune(child);
    const std::string text = canonical_text(child);
    if (canonical_text(child, false) == before) continue;
    try {
      // Re-parse the printed text, so the mutant is exactly what its text says.
      CellText reparsed = parse_cell(text, cell.source);
      const auto program = compile(reparsed);
      if (program->square_input && !parent->square_input) continue;
      if (applied) *applied = m;
      return reparsed;
    } catch (const Error&) {
      continue;  // a cycle or another invalid draw: draw again
    }
  }
  throw Error("no valid mutation found for the cell in " + cell.source,
              "the cell is too small to mutate; start from a larger cell");
}

CellText mutate(const CellText& cell, Rng& rng, int steps) {
  CellText out = cell;
  for (int i = 0; i < steps; ++i) out = mutate_once(out, rng);
  return out;
}

}  // namespace cellzoo::lang
