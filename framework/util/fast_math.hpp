// Elementary functions in double precision that a compiler can vectorise: no calls, no
// table look-ups, no data-dependent branches (the selections compile to blends). They
// serve the loops of Greff's batch-1 training where glibc's scalar log1p, log and sincos
// were 10-20 % of a run (docs/performance.md, "Greff's regime"): the Bernoulli loss and
// the Box-Muller draws of input noise.
//
// The algorithms are fdlibm's (Sun Microsystems, 1993: "Permission to use, copy, modify,
// and distribute this software is freely granted, provided that this notice is
// preserved"): the same argument reductions and minimax polynomials as its e_log.c,
// s_log1p.c, k_sin.c and k_cos.c, restricted to the arguments these callers pass. Error
// against the correctly rounded result: below 1 ulp, measured against glibc by
// tests/util/test_fast_math.cpp (which states the worst case it saw). The results are
// therefore not always glibc's bit for bit: they differ from it in the last bit of a
// double now and then, deterministically (a pure function of the argument).
#pragma once

#include <cstdint>
#include <cstring>

namespace cellzoo::fastmath {

namespace detail {

inline constexpr double ln2_hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
inline constexpr double ln2_lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76
inline constexpr double sqrt2 = 1.41421356237309504880;

// log(1 + f) for f in [sqrt(2)/2 - 1, sqrt(2) - 1], as fdlibm: s = f / (2 + f),
// log(1 + f) = f - hfsq + s (hfsq + R(s^2)), R a minimax polynomial, plus k ln 2 and a
// correction term `c` (the rounding error of 1 + x in log1p, 0 in log).
inline double log_kernel(double f, double k, double c) {
  constexpr double Lg1 = 6.666666666666735130e-01;  // 3FE55555 55555593
  constexpr double Lg2 = 3.999999999940941908e-01;  // 3FD99999 9997FA04
  constexpr double Lg3 = 2.857142874366239149e-01;  // 3FD24924 94229359
  constexpr double Lg4 = 2.222219843214978396e-01;  // 3FCC71C5 1D8E78AF
  constexpr double Lg5 = 1.818357216161805012e-01;  // 3FC74664 96CB03DE
  constexpr double Lg6 = 1.531383769920937332e-01;  // 3FC39A09 D078C69F
  constexpr double Lg7 = 1.479819860511658591e-01;  // 3FC2F112 DF3E5244
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1;
  const double hfsq = 0.5 * f * f;
  return k * ln2_hi - ((hfsq - (s * (hfsq + R) + (k * ln2_lo + c))) - f);
}

}  // namespace detail

// log(1 + x) for x in [0, 1] (the Bernoulli loss passes exp(-|z|)). 1 + x is rounded to
// u in [1, 2]; its rounding error c = x - (u - 1) is exact and enters as c / u.
inline double log1p_unit(double x) {
  const double u = 1.0 + x;
  const double c = x - (u - 1.0);
  const bool big = u > detail::sqrt2;
  const double m = big ? 0.5 * u : u;  // in [sqrt(2)/2, sqrt(2)], exact
  return detail::log_kernel(m - 1.0, big ? 1.0 : 0.0, c / u);
}

// log(x) for a positive normal x (Box-Muller passes a uniform in (0, 1)).
inline double log_normal(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  std::int64_t k = static_cast<std::int64_t>(bits >> 52) - 1023;
  bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m;
  std::memcpy(&m, &bits, sizeof m);  // x = 2^k m, m in [1, 2)
  const bool big = m > detail::sqrt2;
  m = big ? 0.5 * m : m;
  k += big ? 1 : 0;
  return detail::log_kernel(m - 1.0, static_cast<double>(k), 0.0);
}

// sin(theta) and cos(theta) for theta in [0, 2 pi] (Box-Muller's 2 pi u). theta is
// reduced by the nearest multiple q of pi/2 as fdlibm's e_rem_pio2.c does for arguments
// near a multiple (pi/2 in three parts, pio2_1 + pio2_2 + pio2_2t; q <= 4 keeps the
// products with the 33-bit parts exact), then fdlibm's kernels on [-pi/4, pi/4] with the
// tail y of the reduced argument, and the quadrant picks signs and roles.
inline void sincos_2pi(double theta, double* sin_out, double* cos_out) {
  constexpr double invpio2 = 6.36619772367581382433e-01;  // 0x3FE45F306DC9C883
  constexpr double pio2_1 = 1.57079632673412561417e+00;   // 0x3FF921FB54400000
  constexpr double pio2_2 = 6.07710050630396597660e-11;   // 0x3DD0B4611A600000
  constexpr double pio2_2t = 2.02226624879595063154e-21;  // 0x3BA3198A2E037073
  constexpr double S1 = -1.66666666666666324348e-01;      // BFC55555 55555549
  constexpr double S2 = 8.33333333332248946124e-03;       // 3F811111 1110F8A6
  constexpr double S3 = -1.98412698298579493134e-04;      // BF2A01A0 19C161D5
  constexpr double S4 = 2.75573137070700676789e-06;       // 3EC71DE3 57B1FE7D
  constexpr double S5 = -2.50507602534068634195e-08;      // BE5AE5E6 8A2B9CEB
  constexpr double S6 = 1.58969099521155010221e-10;       // 3DE5D93A 5ACFD57C
  constexpr double C1 = 4.16666666666666019037e-02;       // 3FA55555 5555554C
  constexpr double C2 = -1.38888888888741095749e-03;      // BF56C16C 16C15177
  constexpr double C3 = 2.48015872894767294178e-05;       // 3EFA01A0 19CB1590
  constexpr double C4 = -2.75573143513906633035e-07;      // BE927E4F 809C52AD
  constexpr double C5 = 2.08757232129817482790e-09;       // 3E21EE9E BDB4B1C4
  constexpr double C6 = -1.13596475577881948265e-11;      // BDA8FAE9 BE8838D4
  // Nearest integer without a call: theta * 2/pi is in [0, 4.01], so adding 2^52 rounds it.
  const double qd = (theta * invpio2 + 0x1.0p52) - 0x1.0p52;
  const double t = theta - qd * pio2_1;  // exact (Sterbenz)
  const double w2 = qd * pio2_2;         // exact
  const double r = t - w2;
  const double w = qd * pio2_2t - ((t - r) - w2);
  const double x = r - w;
  const double y = (r - x) - w;  // x + y: the reduced argument
  const double z = x * x;
  // k_sin.c
  const double v = z * x;
  const double rs = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  const double s = x - ((z * (0.5 * y - v * rs) - y) - v * S1);
  // k_cos.c
  const double rc = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  const double hz = 0.5 * z;
  const double wc = 1.0 - hz;
  const double c = wc + (((1.0 - wc) - hz) + (z * rc - x * y));
  const int q = static_cast<int>(qd) & 3;
  // sin(theta) = s, c, -s, -c and cos(theta) = c, -s, -c, s in quadrants 0..3.
  const double a = (q & 1) ? c : s;
  const double b = (q & 1) ? s : c;
  *sin_out = (q & 2) ? -a : a;
  *cos_out = ((q + 1) & 2) ? -b : b;
}

}  // namespace cellzoo::fastmath
