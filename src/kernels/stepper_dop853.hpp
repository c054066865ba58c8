// dop853: Dormand and Prince's explicit Runge–Kutta method of order 8 with Hairer's error estimate
// (a 5th-order estimate corrected by a 3rd-order one) and step-size controller, as in his DOP853 code,
// and a 7th-order dense output. 12 stages per step plus f(t + h, y1), which is the next step's first
// stage (FSAL, kernels/stepper_fsal.hpp); the dense output needs 3 more stages, evaluated only by
// dense_prepare.
//
// Config (packed): atol, rtol, safety, min_factor, max_factor, beta, max_tries, min_step, dt_max, nstiff.
// Error: err = |h| * e5^2 / sqrt(n * (e5^2 + 0.01 * e3^2)), e5, e3 the sums of squares of the scaled
// 5th- and 3rd-order estimates (scale atol + rtol*max(|y0|, |y1|)). Step size (with facold = the error of
// the last accepted step, at least 1e-4; beta = 0 makes it a plain controller):
//   fac11 = err^(1/8 - 0.2*beta), q = clamp(fac11 / facold^beta / safety, 1/max_factor, 1/min_factor),
//   accepted: hnew = h/q, but not larger than h if this step had a rejected try before;
//   rejected: hnew = h / min(1/min_factor, fac11/safety).
// An error above the tolerance is never accepted: a step of min_step that still fails is STEPFAIL.
//
// Stiffness detection (config nstiff, 0 = off), as in Hairer's DOP853: on every nstiff-th accepted step,
// and on every accepted step while the last test found stiffness, h*lambda is estimated from the last
// two evaluations at t + h, h*|f(y1) - f(y12)| / |y1 - y12| (y12 the 12th stage's point). Above 6.1
// (near the border of the method's stability region: the step is limited by stability, not accuracy)
// in 15 successive tests, the stiffness flag is set with the time of that step, once per run; the host
// warns (StepperInfo::stiff_flag_at). Six tests below 6.1 in a row start the count again.
//
// Workspace (doubles): k1..k16 (16n; k13 = f(t + h, y1), k14..k16 the dense-output stages), y_stage (n),
// fsal_y (n), cont (8n, the dense-output coefficients), then fsal_t, facold, the time the stiffness flag
// was set. The stages of the last accepted step stay in place until the next step starts. Int workspace:
// iws[0] = FSAL flag, iws[1..3] = work counters, iws[4] = accepted steps since the last scheduled
// stiffness test, iws[5] = successive stiff tests, iws[6] = successive non-stiff tests, iws[7] = stiffness
// flag.
#pragma once
#include "kernels/stepper_fsal.hpp"

namespace dynlib::kernels {

namespace dop853 {
constexpr double c[16] = {0.0,
                          0.526001519587677318785587544488e-01,
                          0.789002279381515978178381316732e-01,
                          0.118350341907227396726757197510,
                          0.281649658092772603273242802490,
                          0.333333333333333333333333333333,
                          0.25,
                          0.307692307692307692307692307692,
                          0.651282051282051282051282051282,
                          0.6,
                          0.857142857142857142857142857142,
                          1.0,
                          1.0,
                          0.1,
                          0.2,
                          0.777777777777777777777777777778};
// a[s][j]: stage s+1 from stage j+1 (0-based); row 12 is the 8th-order weights b.
constexpr double a[16][16] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {5.26001519587677318785587544488e-2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {1.97250569845378994544595329183e-2, 5.91751709536136983633785987549e-2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0},
    {2.95875854768068491816892993775e-2, 0, 8.87627564304205475450678981324e-2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
     0, 0, 0},
    {2.41365134159266685502369798665e-1, 0, -8.84549479328286085344864962717e-1,
     9.24834003261792003115737966543e-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {3.7037037037037037037037037037e-2, 0, 0, 1.70828608729473871279604482173e-1,
     1.25467687566822425016691814123e-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {3.7109375e-2, 0, 0, 1.70252211019544039314978060272e-1, 6.02165389804559606850219397283e-2,
     -1.7578125e-2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {3.70920001185047927108779319836e-2, 0, 0, 1.70383925712239993810214054705e-1,
     1.07262030446373284651809199168e-1, -1.53194377486244017527936158236e-2,
     8.27378916381402288758473766002e-3, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {6.24110958716075717114429577812e-1, 0, 0, -3.36089262944694129406857109825,
     -8.68219346841726006818189891453e-1, 2.75920996994467083049415600797e1,
     2.01540675504778934086186788979e1, -4.34898841810699588477366255144e1, 0, 0, 0, 0, 0, 0, 0, 0},
    {4.77662536438264365890433908527e-1, 0, 0, -2.48811461997166764192642586468,
     -5.90290826836842996371446475743e-1, 2.12300514481811942347288949897e1,
     1.52792336328824235832596922938e1, -3.32882109689848629194453265587e1,
     -2.03312017085086261358222928593e-2, 0, 0, 0, 0, 0, 0, 0},
    {-9.3714243008598732571704021658e-1, 0, 0, 5.18637242884406370830023853209,
     1.09143734899672957818500254654, -8.14978701074692612513997267357, -1.85200656599969598641566180701e1,
     2.27394870993505042818970056734e1, 2.49360555267965238987089396762, -3.0467644718982195003823669022, 0,
     0, 0, 0, 0, 0},
    {2.27331014751653820792359768449, 0, 0, -1.05344954667372501984066689879e1,
     -2.00087205822486249909675718444, -1.79589318631187989172765950534e1, 2.79488845294199600508499808837e1,
     -2.85899827713502369474065508674, -8.87285693353062954433549289258, 1.23605671757943030647266201528e1,
     6.43392746015763530355970484046e-1, 0, 0, 0, 0, 0},
    {5.42937341165687622380535766363e-2, 0, 0, 0, 0, 4.45031289275240888144113950566,
     1.89151789931450038304281599044, -5.8012039600105847814672114227, 3.1116436695781989440891606237e-1,
     -1.52160949662516078556178806805e-1, 2.01365400804030348374776537501e-1,
     4.47106157277725905176885569043e-2, 0, 0, 0, 0},
    {5.61675022830479523392909219681e-2, 0, 0, 0, 0, 0, 2.53500210216624811088794765333e-1,
     -2.46239037470802489917441475441e-1, -1.24191423263816360469010140626e-1,
     1.5329179827876569731206322685e-1, 8.20105229563468988491666602057e-3,
     7.56789766054569976138603589584e-3, -8.298e-3, 0, 0, 0},
    {3.18346481635021405060768473261e-2, 0, 0, 0, 0, 2.83009096723667755288322961402e-2,
     5.35419883074385676223797384372e-2, -5.49237485713909884646569340306e-2, 0, 0,
     -1.08347328697249322858509316994e-4, 3.82571090835658412954920192323e-4,
     -3.40465008687404560802977114492e-4, 1.41312443674632500278074618366e-1, 0, 0},
    {-4.28896301583791923408573538692e-1, 0, 0, 0, 0, -4.69762141536116384314449447206,
     7.68342119606259904184240953878, 4.06898981839711007970213554331, 3.56727187455281109270669543021e-1, 0,
     0, 0, -1.39902416515901462129418009734e-3, 2.9475147891527723389556272149,
     -9.15095847217987001081870187138, 0},
};
constexpr double e5[12] = {0.1312004499419488073250102996e-1,
                           0,
                           0,
                           0,
                           0,
                           -0.1225156446376204440720569753e1,
                           -0.4957589496572501915214079952,
                           0.1664377182454986536961530415e1,
                           -0.3503288487499736816886487290,
                           0.3341791187130174790297318841,
                           0.8192320648511571246570742613e-1,
                           -0.2235530786388629525884427845e-1};
constexpr double d[4][16] = {
    {-0.84289382761090128651353491142e1, 0, 0, 0, 0, 0.56671495351937776962531783590,
     -0.30689499459498916912797304727e1, 0.23846676565120698287728149680e1, 0.21170345824450282767155149946e1,
     -0.87139158377797299206789907490, 0.22404374302607882758541771650e1, 0.63157877876946881815570249290,
     -0.88990336451333310820698117400e-1, 0.18148505520854727256656404962e2,
     -0.91946323924783554000451984436e1, -0.44360363875948939664310572000e1},
    {0.10427508642579134603413151009e2, 0, 0, 0, 0, 0.24228349177525818288430175319e3,
     0.16520045171727028198505394887e3, -0.37454675472269020279518312152e3,
     -0.22113666853125306036270938578e2, 0.77334326684722638389603898808e1,
     -0.30674084731089398182061213626e2, -0.93321305264302278729567221706e1,
     0.15697238121770843886131091075e2, -0.31139403219565177677282850411e2,
     -0.93529243588444783865713862664e1, 0.35816841486394083752465898540e2},
    {0.19985053242002433820987653617e2, 0, 0, 0, 0, -0.38703730874935176555105901742e3,
     -0.18917813819516756882830838328e3, 0.52780815920542364900561016686e3,
     -0.11573902539959630126141871134e2, 0.68812326946963000169666922661e1,
     -0.10006050966910838403183860980e1, 0.77771377980534432092869265740, -0.27782057523535084065932004339e1,
     -0.60196695231264120758267380846e2, 0.84320405506677161018159903784e2,
     0.11992291136182789328035130030e2},
    {-0.25693933462703749003312586129e2, 0, 0, 0, 0, -0.15418974869023643374053993627e3,
     -0.23152937917604549567536039109e3, 0.35763911791061412378285349910e3, 0.93405324183624310003907691704e2,
     -0.37458323136451633156875139351e2, 0.10409964950896230045147246184e3, 0.29840293426660503123344363579e2,
     -0.43533456590011143754432175058e2, 0.96324553959188282948394950600e2,
     -0.39177261675615439165231486172e2, -0.14972683625798562581422125276e3},
};
// Coefficients of the 3rd-order embedded weights (for stages 1, 9 and 12).
constexpr double bhh1 = 0.244094488188976377952755905512, bhh2 = 0.733846688281611857341361741547,
                 bhh3 = 0.220588235294117647058823529412e-1;
constexpr int kCounters = 1;  // work counters at iws[1..3]
constexpr int kAccepted = 4, kStiffTests = 5, kNonStiffTests = 6, kStiffFlag = 7;  // iws slots
constexpr int kYStage = 16, kFsalY = 17, kCont = 18, kScalars = 26;                // slots of n doubles
}  // namespace dop853

struct StepDOP853 {
  static constexpr bool kHistory = true;  // iws[0] = FSAL flag; the runner clears it after event actions
  static constexpr bool kDense = true;

  // dst = y + h * sum_j a[s][j] k_j, in stage order (zero coefficients skipped at code generation).
  template <class B>
  static void stage_point(B& b, int n, const typename B::Arr* k, int s, typename B::Arr y, typename B::Val h,
                          typename B::Arr dst) {
    for_states(b, n, [&](auto i) {
      typename B::Val acc = b.c(dop853::a[s][0]) * k[0][i];
      for (int j = 1; j < s; ++j)
        if (dop853::a[s][j] != 0.0) acc = acc + b.c(dop853::a[s][j]) * k[j][i];
      dst[i] = y[i] + h * acc;
    });
  }

  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y1, StepOut<B>& o) const {
    using Val = typename B::Val;
    const int n = c.n;
    typename B::Arr k[16];
    for (int j = 0; j < 16; ++j) k[j] = b.offset(c.ws, j * n);
    auto y_stage = b.offset(c.ws, dop853::kYStage * n), fsal_y = b.offset(c.ws, dop853::kFsalY * n),
         scal = b.offset(c.ws, dop853::kScalars * n);
    auto atol = c.cfg[0], rtol = c.cfg[1], safety = c.cfg[2], min_factor = c.cfg[3], max_factor = c.cfg[4],
         beta = c.cfg[5];
    auto max_tries = b.to_int(c.cfg[6]);
    auto min_step = c.cfg[7], dt_max = c.cfg[8], nstiff = c.cfg[9];

    o.status = b.ci(kOK);
    o.err = b.c(0.0);
    o.t_prop = t;
    o.dt_next = dt;
    auto done = b.ivar(b.ci(0));
    auto rejected = b.ivar(b.ci(0));
    fsal_first_stage(b, c, t, y, k[0], k[12], fsal_y, Val(scal[0]), dop853::kCounters, o, done);
    // facold: a zero (fresh workspace) or NaN reads as the initial 1e-4.
    auto facold = b.fmax(Val(scal[1]), b.c(1e-4));
    auto expo1 = b.c(1.0 / 8.0) - beta * b.c(0.2);
    auto h = b.var(b.fmin(dt, dt_max));
    auto tries = b.ivar(b.ci(0));
    auto ntries = b.iselect(max_tries < b.ci(1), b.ci(1), max_tries);
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < ntries); },
             [&] {
               tries = tries.get() + b.ci(1);
               Val hh = h.get();
               for (int s = 1; s <= 11; ++s) {
                 stage_point(b, n, k, s, y, hh, y_stage);
                 f_eval(b, c, t + b.c(dop853::c[s]) * hh, y_stage, k[s]);
               }
               count_work(b, c, dop853::kCounters, WorkCounter::rhs, b.ci(11));
               // y_stage = sum b_j k_j (the increment), y1 = y + h * y_stage.
               for_states(b, n, [&](auto i) {
                 Val acc = b.c(dop853::a[12][0]) * k[0][i];
                 for (int j = 5; j < 12; ++j) acc = acc + b.c(dop853::a[12][j]) * k[j][i];
                 y_stage[i] = acc;
                 y1[i] = y[i] + hh * acc;
               });
               auto finite = all_finite(b, n, y1);
               for (int j = 1; j <= 11; ++j) finite = b.land(finite, all_finite(b, n, k[j]));
               auto e5 = b.var(b.c(0.0)), e3 = b.var(b.c(0.0));
               for_states(b, n, [&](auto i) {
                 auto sk = atol + rtol * b.fmax(b.fabs(y[i]), b.fabs(y1[i]));
                 Val r3 = Val(y_stage[i]) - b.c(dop853::bhh1) * k[0][i] - b.c(dop853::bhh2) * k[8][i] -
                          b.c(dop853::bhh3) * k[11][i];
                 Val r5 = b.c(dop853::e5[0]) * k[0][i];
                 for (int j = 5; j < 12; ++j) r5 = r5 + b.c(dop853::e5[j]) * k[j][i];
                 auto q3 = r3 / sk, q5 = r5 / sk;
                 e3 = e3.get() + q3 * q3;
                 e5 = e5.get() + q5 * q5;
               });
               auto deno = e5.get() + b.c(0.01) * e3.get();
               deno = b.select(deno <= b.c(0.0), b.c(1.0), deno);
               auto err = b.fabs(hh) * e5.get() *
                          b.sqrt(b.c(1.0) / (b.c(static_cast<double>(n > 0 ? n : 1)) * deno));
               o.err = err;
               finite = b.land(finite, b.isfinite(err));
               auto retry_with = [&](Val h_new) {
                 rejected = b.ci(1);
                 retry_or_fail(b, o, h, done, hh, h_new, min_step);
               };
               b.if_(
                   b.lnot(finite), [&] { retry_with(hh * min_factor); },
                   [&] {
                     auto fac11 = b.pow(err, expo1);
                     b.if_(
                         err <= b.c(1.0),
                         [&] {
                           // facold^beta: 1 for the default beta = 0 (pow(x, 0) = 1 for every x), so
                           // the call is skipped there; the same bits either way.
                           auto facold_beta = b.var(b.c(1.0));
                           b.if_(beta != b.c(0.0), [&] { facold_beta = b.pow(facold, beta); });
                           auto q = b.fmax(b.c(1.0) / max_factor,
                                           b.fmin(b.c(1.0) / min_factor, fac11 / facold_beta.get() / safety));
                           auto hnew = hh / q;
                           hnew = b.select(rejected.get() != b.ci(0), b.fmin(hnew, hh), hnew);
                           o.t_prop = t + hh;
                           o.dt_next = b.fmin(hnew, dt_max);
                           scal[1] = b.fmax(err, b.c(1e-4));
                           f_eval(b, c, t + hh, y1, k[12]);
                           count_work(b, c, dop853::kCounters, WorkCounter::rhs, b.ci(1));
                           stiffness_test(b, c, k, t, hh, nstiff, scal);
                           fsal_remember(b, c, t + hh, y1, fsal_y, scal);
                           done = b.ci(1);
                         },
                         [&] { retry_with(hh / b.fmin(b.c(1.0) / min_factor, fac11 / safety)); });
                   });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
  }

  // The stiffness test after an accepted step of size h from t (k[11] = f(t + h, y12), k[12] = f(t + h, y1)).
  // The counters may come from a snapshot file: out-of-range values start them again.
  template <class B>
  static void stiffness_test(B& b, const StepCtx<B>& c, const typename B::Arr* k, typename B::Val t,
                             typename B::Val h, typename B::Val nstiff, typename B::Arr scal) {
    using Val = typename B::Val;
    using Int = typename B::Int;
    const int n = c.n;
    auto in_range = [&](Int v, std::int64_t hi) { return b.land(v >= b.ci(0), v < b.ci(hi)); };
    b.if_(nstiff >= b.c(1.0), [&] {
      // every nstiff-th accepted step: a countdown (no integer division per step)
      Int every = b.to_int(b.fmin(nstiff, b.c(1e15)));
      Int since0 = c.iws[dop853::kAccepted];
      Int since = b.iselect(in_range(since0, std::int64_t{1} << 62), since0 + b.ci(1), b.ci(1));
      auto scheduled = since >= every;
      c.iws[dop853::kAccepted] = b.iselect(scheduled, b.ci(0), since);
      Int stiff0 = c.iws[dop853::kStiffTests], calm0 = c.iws[dop853::kNonStiffTests];
      Int stiff = b.iselect(in_range(stiff0, 1000), stiff0, b.ci(0));
      Int calm = b.iselect(in_range(calm0, 1000), calm0, b.ci(0));
      b.if_(b.lor(scheduled, stiff > b.ci(0)), [&] {
        // y1 - y12 = h * sum_j (b_j - a12_j) k_j (row 12 of a holds b, row 11 the 12th stage).
        auto num = b.var(b.c(0.0)), den = b.var(b.c(0.0));
        for_states(b, n, [&](auto i) {
          Val df = Val(k[12][i]) - Val(k[11][i]);
          Val dy = b.c(dop853::a[12][0] - dop853::a[11][0]) * k[0][i];
          for (int j = 1; j < 12; ++j)
            if (dop853::a[12][j] != dop853::a[11][j])
              dy = dy + b.c(dop853::a[12][j] - dop853::a[11][j]) * k[j][i];
          dy = h * dy;
          num = num.get() + df * df;
          den = den.get() + dy * dy;
        });
        Val hlamb = b.select(den.get() > b.c(0.0), b.fabs(h) * b.sqrt(num.get() / den.get()), b.c(0.0));
        b.if_(
            hlamb > b.c(6.1),
            [&] {
              c.iws[dop853::kNonStiffTests] = b.ci(0);
              c.iws[dop853::kStiffTests] = stiff + b.ci(1);
              b.if_(b.land(stiff + b.ci(1) == b.ci(15), Int(c.iws[dop853::kStiffFlag]) != b.ci(1)), [&] {
                c.iws[dop853::kStiffFlag] = b.ci(1);
                scal[2] = t;
              });
            },
            [&] {
              c.iws[dop853::kNonStiffTests] = calm + b.ci(1);
              c.iws[dop853::kStiffTests] = b.iselect(calm + b.ci(1) == b.ci(6), b.ci(0), stiff);
            });
      });
    });
  }

  // Dense output of the last accepted step (t, y0) -> (t + h, y1): the stages 14..16 and the
  // coefficients of the interpolating polynomial, into cont.
  template <class B>
  void dense_prepare(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val h, typename B::Arr y0,
                     typename B::Arr y1) const {
    using Val = typename B::Val;
    const int n = c.n;
    typename B::Arr k[16], cont[8];
    for (int j = 0; j < 16; ++j) k[j] = b.offset(c.ws, j * n);
    for (int j = 0; j < 8; ++j) cont[j] = b.offset(c.ws, (dop853::kCont + j) * n);
    auto y_stage = b.offset(c.ws, dop853::kYStage * n);
    for (int s = 13; s <= 15; ++s) {
      stage_point(b, n, k, s, y0, h, y_stage);
      f_eval(b, c, t + b.c(dop853::c[s]) * h, y_stage, k[s]);
    }
    count_work(b, c, dop853::kCounters, WorkCounter::rhs, b.ci(3));
    for_states(b, n, [&](auto i) {
      Val ydiff = Val(y1[i]) - Val(y0[i]);
      Val bspl = h * k[0][i] - ydiff;
      cont[0][i] = y0[i];
      cont[1][i] = ydiff;
      cont[2][i] = bspl;
      cont[3][i] = ydiff - h * k[12][i] - bspl;
      for (int r = 0; r < 4; ++r) {
        Val acc = b.c(dop853::d[r][0]) * k[0][i];
        for (int j = 5; j < 16; ++j) acc = acc + b.c(dop853::d[r][j]) * k[j][i];
        cont[4 + r][i] = h * acc;
      }
    });
  }

  // out = the 7th-order interpolant at t + theta*h (Horner-like form in theta and 1 - theta).
  template <class B>
  void dense_eval(B& b, const StepCtx<B>& c, typename B::Val theta, typename B::Arr out) const {
    using Val = typename B::Val;
    const int n = c.n;
    typename B::Arr cont[8];
    for (int j = 0; j < 8; ++j) cont[j] = b.offset(c.ws, (dop853::kCont + j) * n);
    Val s = theta, s1 = b.c(1.0) - theta;
    for_states(b, n, [&](auto i) {
      Val v = s * cont[7][i];
      v = s1 * (Val(cont[6][i]) + v);
      v = s * (Val(cont[5][i]) + v);
      v = s1 * (Val(cont[4][i]) + v);
      v = s * (Val(cont[3][i]) + v);
      v = s1 * (Val(cont[2][i]) + v);
      v = s * (Val(cont[1][i]) + v);
      out[i] = Val(cont[0][i]) + v;
    });
  }
};

}  // namespace dynlib::kernels
