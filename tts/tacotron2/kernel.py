"""A compiled int8 GEMV for Tacotron 2's decoder LSTMs (`tts.tacotron2.fast.Int8GEMV`), AVX-512 VNNI.

Batch-1 decoding reads both LSTMs' weights at every step (17.8 M weights for the full-size model): as
int8 they are 18 MB, which stays in this CPU's 32 MB L3 cache, where float32 (71 MB) and bfloat16
(36 MB) stream from memory. `gemv_int8(xs, w_packed, w_scale, comp, bias)`: y = [x_1 .. x_S] W^T + b
for float rows x_s [B, K_s] (the LSTM input's parts: prenet output, attention context, hidden state),
each part quantized to int8 with its own scale per row (the parts have very different ranges), the
weights int8 with one scale per output, packed [N / 128, K / 4, 8, 16, 4] for `vpdpbusd` (one stream
through memory, 8 independent accumulators per input row), which multiplies
unsigned by signed bytes: x is read as u8 = q + 128 and comp[s, n] = 128 sum_{k in s} W[n, k] takes
the shift back out.

Built on first use with `torch.utils.cpp_extension.load_inline` (`-march=native`; about 40 s, once per
machine); where it cannot be built (no compiler, no AVX-512 VNNI, `TACOGLOW_NO_COMPILE=1`),
`load_gemv_kernel()` returns None and `Int8GEMV` computes the same arithmetic in float32. The only
module state is the compile cache behind `load_gemv_kernel` (functools.lru_cache, one build or load
per process; the library itself is kept under ~/.cache/torch_extensions or $TORCH_EXTENSIONS_DIR).
"""
from __future__ import annotations

import functools

from tts.core.kernels import EXP16, compile_kernel

SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VNNI__)
#error "the int8 GEMV needs AVX-512 VNNI; the PyTorch path is used instead"
#endif

void gemv_int8_into(at::Tensor y, const std::vector<at::Tensor>& xs, const at::Tensor& w_packed, const at::Tensor& w_scale,
                    const at::Tensor& comp, const at::Tensor& bias, int64_t threads);

// y[b] = sum_s scale_x[b, s] * w_scale * (W_s q_s(x_s[b])) + bias, W packed [N/128, K/4, 8, 16, 4] int8,
// each x_s quantized to int8 with one scale per row and segment, read as u8 (+128) by vpdpbusd;
// comp[s, n] = 128 * sum over segment s of W[n, k] undoes the shift.
at::Tensor gemv_int8(std::vector<at::Tensor> xs, at::Tensor w_packed, at::Tensor w_scale, at::Tensor comp,
                     at::Tensor bias, int64_t threads) {
  at::Tensor y = at::empty({xs[0].size(0), w_packed.size(0) * 16}, xs[0].options().dtype(at::kFloat));
  gemv_int8_into(y, xs, w_packed, w_scale, comp, bias, threads);
  return y;
}

void gemv_int8_into(at::Tensor y, const std::vector<at::Tensor>& xs, const at::Tensor& w_packed, const at::Tensor& w_scale,
                    const at::Tensor& comp, const at::Tensor& bias, int64_t threads) {
  const int64_t S = (int64_t)xs.size(), B = xs[0].size(0);
  const int64_t NB = w_packed.size(0), K4 = w_packed.size(1), N = NB * 16;
  std::vector<int64_t> k0(S + 1, 0);
  for (int64_t s = 0; s < S; ++s) {
    TORCH_CHECK(xs[s].size(0) == B && xs[s].size(1) % 4 == 0, "segments must be [B, K] with K % 4 == 0");
    k0[s + 1] = k0[s] + xs[s].size(1);
  }
  TORCH_CHECK(k0[S] == K4 * 4, "segments do not match the packed weight");
  // quantize: u8 = round(x / scale) + 128, one scale per row and segment
  at::Tensor xq = at::empty({B, K4 * 4}, xs[0].options().dtype(at::kByte));
  std::vector<float> xscale(B * S);
  uint8_t* q = xq.data_ptr<uint8_t>();
  for (int64_t s = 0; s < S; ++s) {
    at::Tensor x = xs[s].to(at::kFloat).contiguous();
    const float* xp = x.data_ptr<float>();
    const int64_t K = x.size(1);
    for (int64_t b = 0; b < B; ++b) {
      const float* row = xp + b * K;
      float m = 0.0f;
      for (int64_t k = 0; k < K; ++k) m = std::max(m, std::fabs(row[k]));
      const float scale = std::max(m, 1e-30f) / 127.0f, inv = 1.0f / scale;
      xscale[b * S + s] = scale;
      uint8_t* qr = q + b * K4 * 4 + k0[s];
      for (int64_t k = 0; k < K; ++k) qr[k] = static_cast<uint8_t>(static_cast<int32_t>(__builtin_rintf(row[k] * inv)) + 128);
    }
  }
  TORCH_CHECK(y.is_contiguous() && y.size(0) == B && y.size(1) == N, "bad GEMV output");
  const int8_t* wp = w_packed.data_ptr<int8_t>();
  const float* ws = w_scale.data_ptr<float>();
  const int32_t* cp = comp.data_ptr<int32_t>();
  const float* bp = bias.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  constexpr int64_t U = 8, R = 4;  // 8 output blocks x up to 4 rows: 32 independent accumulators
  TORCH_CHECK(NB % U == 0, "the GEMV needs a multiple of 128 outputs");
  const int64_t n_groups = (NB + U - 1) / U;
  // threads == 1: one chunk (no parallel region); otherwise torch's intra-op threads
  at::parallel_for(0, n_groups, threads == 1 ? n_groups : 8, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t nb0 = g * U, nu = std::min(U, NB - nb0);
      for (int64_t b0 = 0; b0 < B; b0 += R) {
        const int64_t nr = std::min(R, B - b0);
        __m512 out[R][U];
        for (int64_t r = 0; r < nr; ++r)
          for (int64_t u = 0; u < nu; ++u) out[r][u] = _mm512_loadu_ps(bp + (nb0 + u) * 16);
        for (int64_t s = 0; s < S; ++s) {
          __m512i acc[R][U];
          for (int64_t r = 0; r < R; ++r)
            for (int64_t u = 0; u < U; ++u) acc[r][u] = _mm512_setzero_si512();
          for (int64_t k4 = k0[s] / 4; k4 < k0[s + 1] / 4; ++k4) {
            __m512i w[U];
            // one stream through the weights: [N / 128, K / 4, 8 blocks, 16 outputs, 4 inputs]
            _mm_prefetch(reinterpret_cast<const char*>(wp + ((g * K4 + k4 + 8) * U) * 64), _MM_HINT_T0);
            for (int64_t u = 0; u < nu; ++u) w[u] = _mm512_loadu_si512(wp + ((g * K4 + k4) * U + u) * 64);
            for (int64_t r = 0; r < nr; ++r) {
              int32_t xv;
              std::memcpy(&xv, q + (b0 + r) * K4 * 4 + 4 * k4, 4);
              const __m512i xb = _mm512_set1_epi32(xv);
              for (int64_t u = 0; u < nu; ++u) acc[r][u] = _mm512_dpbusd_epi32(acc[r][u], xb, w[u]);
            }
          }
          for (int64_t r = 0; r < nr; ++r) {
            const __m512 sx = _mm512_set1_ps(xscale[(b0 + r) * S + s]);
            for (int64_t u = 0; u < nu; ++u) {
              const int64_t n = (nb0 + u) * 16;
              const __m512i v = _mm512_sub_epi32(acc[r][u], _mm512_loadu_si512(cp + s * N + n));
              out[r][u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(_mm512_loadu_ps(ws + n), sx), out[r][u]);
            }
          }
        }
        for (int64_t r = 0; r < nr; ++r)
          for (int64_t u = 0; u < nu; ++u) _mm512_storeu_ps(yp + (b0 + r) * N + (nb0 + u) * 16, out[r][u]);
      }
    }
  });
}

namespace {

""" + EXP16 + r"""
inline __m512 sigmoid16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// tanh x = 2 sigmoid(2x) - 1 (absolute error ~1e-7)
inline __m512 tanh16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), sigmoid16(_mm512_add_ps(x, x)), one);
}

// nn.LSTMCell's non-linear part in place: gates [4H] (input, forget, cell, output), c and h [H]
void lstm_pointwise(const float* g, float* c, float* h, int64_t H) {
  for (int64_t j = 0; j < H; j += 16) {
    const __m512 i = sigmoid16(_mm512_loadu_ps(g + j)), f = sigmoid16(_mm512_loadu_ps(g + H + j));
    const __m512 cc = tanh16(_mm512_loadu_ps(g + 2 * H + j)), o = sigmoid16(_mm512_loadu_ps(g + 3 * H + j));
    const __m512 cell = _mm512_fmadd_ps(f, _mm512_loadu_ps(c + j), _mm512_mul_ps(i, cc));
    _mm512_storeu_ps(c + j, cell);
    _mm512_storeu_ps(h + j, _mm512_mul_ps(o, tanh16(cell)));
  }
}

}  // namespace

// One free-running decoder step of Tacotron 2 (batch B), int8 LSTM products; see tts/tacotron2/kernel.py.
class DecoderStep {
 public:
  DecoderStep(at::Tensor prenet1, at::Tensor prenet2, std::vector<at::Tensor> att, std::vector<at::Tensor> dec,
              at::Tensor location, at::Tensor query, at::Tensor v, at::Tensor out_w, at::Tensor out_b, int64_t threads)
      : prenet1_(prenet1), prenet2_(prenet2), att_(att), dec_(dec), location_(location.contiguous()),
        query_(query.contiguous()), v_(v.contiguous()), out_w_(out_w), out_b_(out_b), threads_(threads) {
    A_ = query_.size(1);
    H_att_ = query_.size(0);
    K2_ = location_.size(0);
    TORCH_CHECK(A_ % 16 == 0 && A_ <= 128 && H_att_ % 16 == 0 && K2_ % 2 == 0, "unsupported decoder shape");
  }

  // new utterance: memory [B, T_in, C], processed memory [B, T_in, A], invalid [B, T_in] bool or empty
  void start(at::Tensor memory, at::Tensor processed, at::Tensor invalid, double p_drop) {
    memory_ = memory.contiguous();
    processed_ = processed.contiguous();
    invalid_ = invalid.numel() ? invalid.to(at::kBool).contiguous() : invalid;
    p_drop_ = p_drop;
    const int64_t B = memory_.size(0), T = memory_.size(1), C = memory_.size(2);
    const int64_t H_dec = dec_[3].size(0) / 4;
    TORCH_CHECK(C % 16 == 0 && H_dec % 16 == 0, "unsupported decoder shape");
    auto f = memory_.options();
    att_h_ = at::zeros({B, H_att_}, f);
    att_c_ = at::zeros({B, H_att_}, f);
    dec_c_ = at::zeros({B, H_dec}, f);
    out_in_ = at::zeros({B, H_dec + C}, f);  // [dec_h, context]: the projection's input
    dec_h_ = out_in_.narrow(1, 0, H_dec);
    context_ = out_in_.narrow(1, H_dec, C);
    wpad_ = at::zeros({B, 2, T + K2_ / 2 - 1}, f);  // previous, cumulative weights, zero-padded
    att_g_ = at::empty({B, 4 * H_att_}, f);
    dec_g_ = at::empty({B, 4 * H_dec}, f);
  }

  // previous frame group [B, n_out] -> {projection and gate logits [B, n_out + r], attention weights [B, T_in]}
  std::vector<at::Tensor> step(at::Tensor frame) {
    const int64_t B = memory_.size(0), T = memory_.size(1), C = memory_.size(2);
    const int64_t H_dec = dec_c_.size(1), K = K2_ / 2, pad = K / 2, A = A_;
    const bool train = p_drop_ > 0;
    at::Tensor x = at::dropout(at::mm(frame, prenet1_).relu_(), p_drop_, train);
    x = at::dropout(at::mm(x, prenet2_).relu_(), p_drop_, train);
    gemv_int8_into(att_g_, {x, context_, att_h_}, att_[0], att_[1], att_[2], att_[3], threads_);
    at::Tensor weights = at::empty({B, T}, memory_.options());
    std::vector<float> q(A), e(T);
    for (int64_t b = 0; b < B; ++b) {
      lstm_pointwise(att_g_.data_ptr<float>() + b * 4 * H_att_, att_c_.data_ptr<float>() + b * H_att_,
                     att_h_.data_ptr<float>() + b * H_att_, H_att_);
      // query = att_h Wq
      const float* h = att_h_.data_ptr<float>() + b * H_att_;
      const float* wq = query_.data_ptr<float>();
      for (int64_t a = 0; a < A; a += 16) _mm512_storeu_ps(q.data() + a, _mm512_setzero_ps());
      for (int64_t j = 0; j < H_att_; ++j) {
        const __m512 hj = _mm512_set1_ps(h[j]);
        for (int64_t a = 0; a < A; a += 16)
          _mm512_storeu_ps(q.data() + a, _mm512_fmadd_ps(hj, _mm512_loadu_ps(wq + j * A + a), _mm512_loadu_ps(q.data() + a)));
      }
      // energies e_t = v . tanh(processed_t + q + location features of the padded weights around t)
      const float* pm = processed_.data_ptr<float>() + b * T * A;
      const float* wp = wpad_.data_ptr<float>() + b * 2 * (T + 2 * pad);
      const float* loc = location_.data_ptr<float>();
      const float* vv = v_.data_ptr<float>();
      const bool* inv = invalid_.numel() ? invalid_.data_ptr<bool>() + b * T : nullptr;
      float emax = -INFINITY;
      for (int64_t t = 0; t < T; ++t) {
        if (inv && inv[t]) { e[t] = -INFINITY; continue; }
        __m512 acc[8];
        const int64_t nA = A / 16;
        for (int64_t u = 0; u < nA && u < 8; ++u)
          acc[u] = _mm512_add_ps(_mm512_loadu_ps(pm + t * A + 16 * u), _mm512_loadu_ps(q.data() + 16 * u));
        for (int64_t c = 0; c < 2; ++c)
          for (int64_t k = 0; k < K; ++k) {
            const __m512 wv = _mm512_set1_ps(wp[c * (T + 2 * pad) + t + k]);
            const float* lrow = loc + (c * K + k) * A;
            for (int64_t u = 0; u < nA && u < 8; ++u) acc[u] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(lrow + 16 * u), acc[u]);
          }
        __m512 s = _mm512_setzero_ps();
        for (int64_t u = 0; u < nA && u < 8; ++u) s = _mm512_fmadd_ps(tanh16(acc[u]), _mm512_loadu_ps(vv + 16 * u), s);
        e[t] = _mm512_reduce_add_ps(s);
        emax = std::max(emax, e[t]);
      }
      // softmax, previous / cumulative weights, context = weights memory
      float* w = weights.data_ptr<float>() + b * T;
      float total = 0.0f;
      for (int64_t t = 0; t < T; ++t) { w[t] = e[t] == -INFINITY ? 0.0f : std::exp(e[t] - emax); total += w[t]; }
      const float inv_total = 1.0f / total;
      float* prev = wpad_.data_ptr<float>() + b * 2 * (T + 2 * pad) + pad;
      float* cum = prev + T + 2 * pad;
      float* ctx = context_.data_ptr<float>() + b * (H_dec + C);
      const float* mem = memory_.data_ptr<float>() + b * T * C;
      for (int64_t j = 0; j < C; j += 16) _mm512_storeu_ps(ctx + j, _mm512_setzero_ps());
      for (int64_t t = 0; t < T; ++t) {
        w[t] *= inv_total;
        prev[t] = w[t];
        cum[t] += w[t];
        if (w[t] == 0.0f) continue;
        const __m512 wt = _mm512_set1_ps(w[t]);
        for (int64_t j = 0; j < C; j += 16)
          _mm512_storeu_ps(ctx + j, _mm512_fmadd_ps(wt, _mm512_loadu_ps(mem + t * C + j), _mm512_loadu_ps(ctx + j)));
      }
    }
    gemv_int8_into(dec_g_, {att_h_, context_, dec_h_}, dec_[0], dec_[1], dec_[2], dec_[3], threads_);
    for (int64_t b = 0; b < B; ++b)
      lstm_pointwise(dec_g_.data_ptr<float>() + b * 4 * H_dec, dec_c_.data_ptr<float>() + b * H_dec,
                     out_in_.data_ptr<float>() + b * (H_dec + C), H_dec);
    return {at::addmm(out_b_, out_in_, out_w_), weights};
  }

 private:
  at::Tensor prenet1_, prenet2_;
  std::vector<at::Tensor> att_, dec_;  // packed, scale, comp, bias
  at::Tensor location_, query_, v_, out_w_, out_b_;
  int64_t A_, H_att_, K2_;
  at::Tensor memory_, processed_, invalid_, att_h_, att_c_, dec_c_, out_in_, dec_h_, context_, wpad_, att_g_, dec_g_;
  int64_t threads_ = 0;
  double p_drop_ = 0.5;
};

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  // the GIL is released during the products and steps: a vocoder in another Python thread keeps going
  m.def("gemv_int8", &gemv_int8, "int8 GEMV with dynamic input quantization",
        pybind11::call_guard<pybind11::gil_scoped_release>());
  pybind11::class_<DecoderStep>(m, "DecoderStep")
      .def(pybind11::init<at::Tensor, at::Tensor, std::vector<at::Tensor>, std::vector<at::Tensor>, at::Tensor, at::Tensor,
                          at::Tensor, at::Tensor, at::Tensor, int64_t>())
      .def("start", &DecoderStep::start, pybind11::call_guard<pybind11::gil_scoped_release>())
      .def("step", &DecoderStep::step, pybind11::call_guard<pybind11::gil_scoped_release>());
}
"""

def load_gemv_kernel():
    """The compiled module, or None where it cannot be built (`kernel_unavailable_reason`)."""
    return _load()[0]


def kernel_unavailable_reason() -> str:
    """Why `load_gemv_kernel()` is None ("" when it is available)."""
    return _load()[1]


@functools.cache
def _load():
    """(module or None, the reason it is None): one build or load per process (`tts.core.kernels`)."""
    return compile_kernel("tacoglow_gemv_int8", SOURCE, "the int8 Tacotron 2 decoder kernel")
