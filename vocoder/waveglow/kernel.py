"""A compiled CPU kernel for the int8 WN (`vocoder.waveglow.int8.Int8WN`): one call runs a whole WN.

Built on first use with `torch.utils.cpp_extension.load_inline` (a C++ compiler and ninja are needed;
`-march=native`, AVX-512 F/BW intrinsics; about a minute on 2 cores, once per machine). Where it cannot
be built (no compiler, another CPU family, `TACOGLOW_NO_COMPILE=1` in the environment),
`load_int8_kernel()` returns None; `vocoder.waveglow.int8.verified_kernel` also checks the built kernel
against the pure-PyTorch path on a small random WN, and `Int8WN` falls back to that path: the same
quantization scheme, the same results up to float rounding.

What the kernel does differently from the PyTorch path (same products, same per-time-step scales):
  * time-major layout [T, channels]: a time step's channels are contiguous, so the per-step
    quantization scales are row reductions and every element-wise step is one AVX-512 pass;
  * the element-wise work of a layer is fused into one pass per time step after its int8 products
    (`at::_int_mm`, oneDNN VNNI): dequantize both products, add the biases, gate (tanh a * sigmoid b
    with one exp each and one division), the skip + `end` product, quantize for the residual
    product; another pass dequantizes the residual update; the dilated taps are quantized straight
    from the residual stream (no stacked float copy);
  * the threads share the work of a layer block by block (an atomic counter: a thread slowed down by
    another process takes fewer blocks) and meet once per layer, not once per operation; the int8
    products inside run single-threaded;
  * the GIL is released during the call, so a decoder in another Python thread runs meanwhile.

The only module state is the compile cache behind `load_int8_kernel` (functools.lru_cache: one build or
load per process; torch keeps the built library under ~/.cache/torch_extensions, or
$TORCH_EXTENSIONS_DIR, so later processes load it in well under a second).
"""
from __future__ import annotations

import functools

from tts.core.kernels import EXP16, compile_kernel

#: C++ source of `wn_int8` (see the module docstring; argument layout in `Int8WN._kernel_arguments`)
SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <immintrin.h>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#if !defined(__AVX512F__) || !defined(__AVX512BW__)
#error "the int8 WN kernel needs AVX-512 (F, BW); the pure-PyTorch path is used instead"
#endif

namespace {

// e^x, Cephes expf (range reduction by ln 2, degree-6 polynomial), 2^n by vscalefps
""" + EXP16 + r"""
// tanh(a) sigmoid(g) = (1 - e^-2a) / ((1 + e^-2a)(1 + e^-g)); a, g clamped where the result is
// saturated in float32 (tanh(9) and sigmoid(30) round to 1), so that the product cannot overflow
inline __m512 gate16(__m512 a, __m512 g) {
  const __m512 one = _mm512_set1_ps(1.0f);
  a = _mm512_min_ps(_mm512_max_ps(a, _mm512_set1_ps(-9.0f)), _mm512_set1_ps(9.0f));
  g = _mm512_min_ps(_mm512_max_ps(g, _mm512_set1_ps(-30.0f)), _mm512_set1_ps(30.0f));
  const __m512 ea = exp16(_mm512_mul_ps(a, _mm512_set1_ps(-2.0f)));
  const __m512 eg = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_div_ps(_mm512_sub_ps(one, ea), _mm512_mul_ps(_mm512_add_ps(one, ea), _mm512_add_ps(one, eg)));
}

inline __m512 abs16(__m512 x) { return _mm512_abs_ps(x); }

// int8 q = round(x * inv) for 16 floats (x * inv within [-127, 127])
inline void store_q16(int8_t* q, __m512 x, __m512 inv) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x, inv))));
}

// per-row scale max|x| / 127 (floor 1e-30, as vocoder.waveglow.int8.quantize_columns)
inline float row_scale(__m512 amax) { return std::max(_mm512_reduce_max_ps(amax), 1e-30f) / 127.0f; }

// a copy with standard row-major strides where `t` has others (oneDNN reads the strides of a
// [1, n] view with stride (1, 1) literally)
inline at::Tensor row_major(const at::Tensor& t) {
  if (t.dim() == 2 && t.stride(1) == 1 && t.stride(0) == t.size(1)) return t;
  return at::empty(t.sizes(), t.options()).copy_(t);
}

}  // namespace

at::Tensor wn_int8(at::Tensor audio, at::Tensor spect_q, at::Tensor spect_s, at::Tensor start_w, at::Tensor start_b,
                   at::Tensor first_taps, std::vector<at::Tensor> cond_w, at::Tensor cond_s, std::vector<at::Tensor> in_w,
                   at::Tensor in_s, at::Tensor pre_b, std::vector<at::Tensor> res_w, at::Tensor res_s, at::Tensor res_b,
                   at::Tensor skip_w, at::Tensor out_b, std::vector<int64_t> dilations, int64_t phases, int64_t block,
                   int64_t threads) {
  const int64_t n_in = audio.size(0), T = audio.size(1), C = start_w.size(0), L = (int64_t)dilations.size();
  const int64_t C2 = 2 * C, n_out = out_b.size(0);
  TORCH_CHECK(C % 16 == 0 && n_out <= 16 && L >= 1, "unsupported WN shape");
  TORCH_CHECK(phases >= 1 && spect_q.size(0) * phases == T && spect_q.scalar_type() == at::kChar,
              "spect_q must be int8 [T / phases, n_cond]");
  spect_q = row_major(spect_q);
  const auto fopt = audio.options().dtype(at::kFloat);
  at::Tensor audio_c = audio.contiguous();
  at::Tensor h_cur = at::empty({T, C}, fopt), h_next = at::empty({T, C}, fopt);
  // max |h[t, :]| per time step, kept with h: a stacked tap row's scale is the max over its 3 rows
  at::Tensor hmax_cur = at::empty({T}, fopt), hmax_next = at::empty({T}, fopt);
  at::Tensor out = out_b.view({1, n_out}).repeat({T, 1}).contiguous();  // [T, n_out]
  const float* a_ptr = audio_c.data_ptr<float>();
  {  // residual stream h = start_w audio + start_b, time-major
    const float *sw = start_w.data_ptr<float>(), *sb = start_b.data_ptr<float>();
    float* h = h_cur.data_ptr<float>();
    float* hm = hmax_cur.data_ptr<float>();
    at::parallel_for(0, T, 256, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        float m = 0.0f;
        for (int64_t c = 0; c < C; ++c) {
          float v = sb[c];
          for (int64_t j = 0; j < n_in; ++j) v += sw[c * n_in + j] * a_ptr[j * T + t];
          h[t * C + c] = v;
          m = std::max(m, std::fabs(v));
        }
        hm[t] = m;
      }
    });
  }
  const int64_t W = std::max<int64_t>(1, std::min(block, T)), n_blocks = (T + W - 1) / W;
  const int64_t n_parts = std::max<int64_t>(1, std::min<int64_t>(threads > 0 ? threads : at::get_num_threads(), n_blocks));
  const auto iopt = audio.options().dtype(at::kInt), qopt = audio.options().dtype(at::kChar);
  std::vector<at::Tensor> acc_c(n_parts), acc_i(n_parts), acc_r(n_parts), taps_q(n_parts), acts_q(n_parts);
  for (int64_t p = 0; p < n_parts; ++p) {
    acc_c[p] = at::empty({W, C2}, iopt);
    acc_i[p] = at::empty({W, C2}, iopt);
    acc_r[p] = at::empty({W, C}, iopt);
    taps_q[p] = at::empty({W, 3 * C}, qopt);
    acts_q[p] = at::empty({W, C}, qopt);
  }
  const float* ss = spect_s.data_ptr<float>();
  // phases > 1: the conditioning of a whole layer as one product per thread, [T / P, K] x [K, P * 2C]
  // -> [T / P, P, 2C] = [T, 2C] time-major (the P time steps of a frame are its P phases)
  at::Tensor cond_full = phases > 1 ? at::empty({T / phases, phases * C2}, iopt) : at::Tensor();
  const float* ft = first_taps.data_ptr<float>();  // [3, n_in + 1, 2C]
  float* o_ptr = out.data_ptr<float>();
  const int64_t d0 = dilations[0];
  for (int64_t i = 0; i < L; ++i) {
    const float* cs0 = cond_s.data_ptr<float>() + i * phases * C2;
    const float* pb = pre_b.data_ptr<float>() + i * C2;
    const float* sk = skip_w.data_ptr<float>() + i * n_out * C;
    const float* is = i > 0 ? in_s.data_ptr<float>() + i * C2 : nullptr;
    const bool residual = i < L - 1;
    const float* rs = residual ? res_s.data_ptr<float>() + i * C : nullptr;
    const float* rb = residual ? res_b.data_ptr<float>() + i * C : nullptr;
    const int64_t d = dilations[i];
    if (phases > 1) {
      const int64_t F = T / phases;
      at::parallel_for(0, n_parts, 1, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
          const int64_t f0 = F * p / n_parts, f1 = F * (p + 1) / n_parts;
          if (f1 <= f0) continue;
          at::Tensor rows = cond_full.narrow(0, f0, f1 - f0);
          at::_int_mm_out(rows, spect_q.narrow(0, f0, f1 - f0), cond_w[i]);
        }
      });
    }
    std::atomic<int64_t> next_block{0};
    const float* hc = h_cur.data_ptr<float>();
    float* hn = h_next.data_ptr<float>();
    const float* hmc = hmax_cur.data_ptr<float>();
    float* hmn = hmax_next.data_ptr<float>();
    at::parallel_for(0, n_parts, 1, [&](int64_t p0, int64_t p1) {
      std::vector<float> act_buf(C + 16), tap_scale(W), act_scale(W);
      float* act = act_buf.data();
      for (int64_t p = p0; p < p1; ++p) {
        // blocks are handed out one by one: a thread slowed down by another process takes fewer
        for (int64_t j = next_block++; j < n_blocks; j = next_block++) {
          const int64_t a = j * W, b = std::min(a + W, T), w = b - a;
          at::Tensor ac = acc_c[p].narrow(0, 0, w), ai = acc_i[p].narrow(0, 0, w);
          if (phases == 1) at::_int_mm_out(ac, spect_q.narrow(0, a, w), cond_w[i]);
          if (i > 0) {  // the dilated conv's input: stacked taps [h(t - d), h(t), h(t + d)], one scale per row
            int8_t* tq = taps_q[p].data_ptr<int8_t>();
            for (int64_t t = a; t < b; ++t) {
              const float* src[3];
              float amax = 0.0f;
              for (int k = 0; k < 3; ++k) {
                const int64_t s = t + (k - 1) * d;
                src[k] = (s >= 0 && s < T) ? hc + s * C : nullptr;
                if (src[k]) amax = std::max(amax, hmc[s]);
              }
              const float scale = std::max(amax, 1e-30f) / 127.0f;
              tap_scale[t - a] = scale;
              const __m512 inv = _mm512_set1_ps(1.0f / scale);
              int8_t* row = tq + (t - a) * 3 * C;
              for (int k = 0; k < 3; ++k) {
                if (!src[k]) { std::memset(row + k * C, 0, C); continue; }
                for (int64_t o = 0; o < C; o += 16) store_q16(row + k * C + o, _mm512_loadu_ps(src[k] + o), inv);
              }
            }
            at::_int_mm_out(ai, taps_q[p].narrow(0, 0, w), in_w[i]);
          }
          const int32_t* pc = phases == 1 ? ac.data_ptr<int32_t>() : cond_full.data_ptr<int32_t>() + a * C2;
          const int32_t* pi = ai.data_ptr<int32_t>();
          int8_t* aq = acts_q[p].data_ptr<int8_t>();
          for (int64_t t = a; t < b; ++t) {
            const int64_t r = t - a;
            const __m512 sx = _mm512_set1_ps(ss[t / phases]);
            const float* cs = cs0 + (t % phases) * C2;  // the weight scales of this time step's phase
            const __m512 st = _mm512_set1_ps(i > 0 ? tap_scale[r] : 0.0f);
            const int32_t* rc = pc + r * C2;
            const int32_t* ri = pi + r * C2;
            float v0[3 * 17];  // layer 0: the audio taps (n_in + 1 values each, 0 in the padding)
            if (i == 0) {
              for (int k = 0; k < 3; ++k) {
                const int64_t s = t + (k - 1) * d0;
                const bool inside = s >= 0 && s < T;
                for (int64_t j = 0; j <= n_in; ++j) v0[k * (n_in + 1) + j] = inside ? (j < n_in ? a_ptr[j * T + s] : 1.0f) : 0.0f;
              }
            }
            __m512 skip[16];
            for (int64_t m = 0; m < n_out; ++m) skip[m] = _mm512_setzero_ps();
            __m512 amax = _mm512_setzero_ps();
            for (int64_t o = 0; o < C; o += 16) {
              __m512 x = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(rc + o)),
                                         _mm512_mul_ps(_mm512_loadu_ps(cs + o), sx), _mm512_loadu_ps(pb + o));
              __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(rc + C + o)),
                                         _mm512_mul_ps(_mm512_loadu_ps(cs + C + o), sx), _mm512_loadu_ps(pb + C + o));
              if (i > 0) {
                x = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(ri + o)), _mm512_mul_ps(_mm512_loadu_ps(is + o), st), x);
                y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(ri + C + o)), _mm512_mul_ps(_mm512_loadu_ps(is + C + o), st), y);
              } else {
                for (int64_t kj = 0; kj < 3 * (n_in + 1); ++kj) {
                  const __m512 v = _mm512_set1_ps(v0[kj]);
                  x = _mm512_fmadd_ps(v, _mm512_loadu_ps(ft + kj * C2 + o), x);
                  y = _mm512_fmadd_ps(v, _mm512_loadu_ps(ft + kj * C2 + C + o), y);
                }
              }
              const __m512 g = gate16(x, y);
              _mm512_storeu_ps(act + o, g);
              amax = _mm512_max_ps(amax, abs16(g));
              for (int64_t m = 0; m < n_out; ++m) skip[m] = _mm512_fmadd_ps(_mm512_loadu_ps(sk + m * C + o), g, skip[m]);
            }
            float* orow = o_ptr + t * n_out;
            for (int64_t m = 0; m < n_out; ++m) orow[m] += _mm512_reduce_add_ps(skip[m]);
            if (residual) {
              const float scale = row_scale(amax);
              act_scale[r] = scale;
              const __m512 inv = _mm512_set1_ps(1.0f / scale);
              for (int64_t o = 0; o < C; o += 16) store_q16(aq + r * C + o, _mm512_loadu_ps(act + o), inv);
            }
          }
          if (residual) {
            at::Tensor ar = acc_r[p].narrow(0, 0, w);
            at::_int_mm_out(ar, acts_q[p].narrow(0, 0, w), res_w[i]);
            const int32_t* prr = ar.data_ptr<int32_t>();
            for (int64_t t = a; t < b; ++t) {
              const int64_t r = t - a;
              const __m512 sa = _mm512_set1_ps(act_scale[r]);
              const float* hrow = hc + t * C;
              float* nrow = hn + t * C;
              const int32_t* rr = prr + r * C;
              __m512 m = _mm512_setzero_ps();
              for (int64_t o = 0; o < C; o += 16) {
                const __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(rr + o)),
                                                 _mm512_mul_ps(_mm512_loadu_ps(rs + o), sa), _mm512_loadu_ps(rb + o));
                const __m512 hv = _mm512_add_ps(v, _mm512_loadu_ps(hrow + o));
                _mm512_storeu_ps(nrow + o, hv);
                m = _mm512_max_ps(m, abs16(hv));
              }
              hmn[t] = _mm512_reduce_max_ps(m);
            }
          }
        }
      }
    });
    if (residual) {
      std::swap(h_cur, h_next);
      std::swap(hmax_cur, hmax_next);
    }
  }
  return out.t().contiguous();
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  // the GIL is released while a WN runs: another Python thread (a decoder) keeps going meanwhile
  m.def("wn_int8", &wn_int8, "one int8 WaveGlow WN", pybind11::call_guard<pybind11::gil_scoped_release>());
}
"""

def load_int8_kernel():
    """The compiled module, or None where it cannot be built (`kernel_unavailable_reason`)."""
    return _load()[0]


def kernel_unavailable_reason() -> str:
    """Why `load_int8_kernel()` is None ("" when it is available)."""
    return _load()[1]


@functools.cache
def _load():
    """(module or None, the reason it is None): one build or load per process (`tts.core.kernels`)."""
    return compile_kernel("tacoglow_wn_int8", SOURCE, "the int8 WaveGlow kernel")
