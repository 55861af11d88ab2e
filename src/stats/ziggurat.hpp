#pragma once
// The ziggurat of NormalStream (normal_stream.hpp): its tables, and the fast path over a batch of
// words, in the scalar form and the AVX-512 form (the same values).

#include <cstddef>
#include <cstdint>

namespace deepmr::stats::detail {

// Ziggurat tables for 128 layers and 24-bit magnitudes (Marsaglia and Tsang 2000, r = 3.442619855899,
// layer area v = 9.91256303526217e-3), computed once in double precision and frozen here so that
// no libm difference between machines can change a draw. Layer i has right edge x_i = W[i] * 2^24
// (x_127 = r, the base layer 0 has pseudo-width v / f(r)); K[i] = floor(2^24 x_{i-1} / x_i) is the
// fast-acceptance bound; F[i] = exp(-x_i^2 / 2).
inline constexpr std::uint32_t kZigguratK[128] = {
    15555140, 0, 12590646, 14272655, 14988941, 15384586, 15635011, 15807563,
    15933579, 16029596, 16105157, 16166149, 16216401, 16258510, 16294297, 16325080,
    16351833, 16375293, 16396028, 16414481, 16431004, 16445882, 16459345, 16471580,
    16482746, 16492973, 16502371, 16511033, 16519041, 16526461, 16533355, 16539771,
    16545757, 16551350, 16556586, 16561495, 16566103, 16570436, 16574514, 16578356,
    16581979, 16585400, 16588632, 16591687, 16594578, 16597313, 16599904, 16602357,
    16604681, 16606884, 16608971, 16610948, 16612821, 16614596, 16616275, 16617864,
    16619366, 16620785, 16622124, 16623386, 16624574, 16625689, 16626734, 16627712,
    16628623, 16629469, 16630252, 16630973, 16631633, 16632232, 16632772, 16633253,
    16633676, 16634040, 16634345, 16634592, 16634780, 16634909, 16634978, 16634986,
    16634933, 16634816, 16634636, 16634389, 16634074, 16633688, 16633230, 16632697,
    16632084, 16631389, 16630608, 16629736, 16628767, 16627697, 16626519, 16625225,
    16623807, 16622256, 16620562, 16618713, 16616695, 16614493, 16612090, 16609464,
    16606592, 16603448, 16599998, 16596205, 16592024, 16587401, 16582272, 16576558,
    16570162, 16562964, 16554811, 16545510, 16534808, 16522367, 16507732, 16490264,
    16469044, 16442689, 16409025, 16364393, 16302110, 16208407, 16049218, 15707337,
};
inline constexpr double kZigguratW[128] = {
    0x1.db4668fe7e4a4p-23, 0x1.16db47e193e1ap-26, 0x1.73949184db9dfp-26, 0x1.b4c8fece48e83p-26,
    0x1.e8e576e43fbefp-26, 0x1.0a936da5e55adp-25, 0x1.1e0ce6b5969b3p-25, 0x1.2f98d6bb4f41fp-25,
    0x1.3fabee1911cd7p-25, 0x1.4e94c08c0bab7p-25, 0x1.5c8afdbf0217bp-25, 0x1.69b7b213f3f69p-25,
    0x1.763a1600eec74p-25, 0x1.822a858af0e7dp-25, 0x1.8d9c6a9d35e3dp-25, 0x1.989f85c753b2cp-25,
    0x1.a340d1baf5b18p-25, 0x1.ad8b2506a137cp-25, 0x1.b787a7c516f3bp-25, 0x1.c13e2b014e85cp-25,
    0x1.cab56ac6a38d3p-25, 0x1.d3f340dda611cp-25, 0x1.dcfccc51c59f0p-25, 0x1.e5d6909f51b6ap-25,
    0x1.ee848e956826fp-25, 0x1.f70a5866c8f46p-25, 0x1.ff6b21fffe31ap-25, 0x1.03d4e7391c5b7p-24,
    0x1.07e47d87a40f6p-24, 0x1.0be58456ff4aep-24, 0x1.0fd911b97f236p-24, 0x1.13c024b2c7ec6p-24,
    0x1.179ba80463fecp-24, 0x1.1b6c7492c9735p-24, 0x1.1f335374a10f8p-24, 0x1.22f0ffbaa1e55p-24,
    0x1.26a627fb9d120p-24, 0x1.2a536fae30e33p-24, 0x1.2df97057e7efbp-24, 0x1.3198ba982d911p-24,
    0x1.3531d7146a43ep-24, 0x1.38c54749b9033p-24, 0x1.3c538647ef792p-24, 0x1.3fdd09591d2a4p-24,
    0x1.436240982ad9dp-24, 0x1.46e39778de063p-24, 0x1.4a617543306ccp-24, 0x1.4ddc3d83a5b84p-24,
    0x1.515450720f455p-24, 0x1.54ca0b4ffd349p-24, 0x1.583dc8bff3219p-24, 0x1.5bafe11654817p-24,
    0x1.5f20aaa4dfc1ap-24, 0x1.62907a0176ebfp-24, 0x1.65ffa248e016dp-24, 0x1.696e755e16b84p-24,
    0x1.6cdd4426b88a5p-24, 0x1.704c5ec50cb81p-24, 0x1.73bc14d01a2c9p-24, 0x1.772cb58a39dd6p-24,
    0x1.7a9e90168b8eep-24, 0x1.7e11f3adaeb92p-24, 0x1.81872fd21db73p-24, 0x1.84fe9484873b9p-24,
    0x1.88787278810a6p-24, 0x1.8bf51b49ef337p-24, 0x1.8f74e1b37c6b8p-24, 0x1.92f819c682bf5p-24,
    0x1.967f1924c7b06p-24, 0x1.9a0a373c73f21p-24, 0x1.9d99cd86b58b4p-24, 0x1.a12e37c983369p-24,
    0x1.a4c7d45d01a31p-24, 0x1.a867047516e4fp-24, 0x1.ac0c2c6fc6382p-24, 0x1.afb7b428fe7a1p-24,
    0x1.b36a075498d64p-24, 0x1.b72395df5b73bp-24, 0x1.bae4d457ee119p-24, 0x1.beae3c60cd0e4p-24,
    0x1.c2804d2c6b16fp-24, 0x1.c65b8c04dbac2p-24, 0x1.ca4084e091e34p-24, 0x1.ce2fcb05f8c34p-24,
    0x1.d229f9bfeefdbp-24, 0x1.d62fb52580b86p-24, 0x1.da41aaf79a344p-24, 0x1.de609397e09b9p-24,
    0x1.e28d331c6723cp-24, 0x1.e6c85a849b015p-24, 0x1.eb12e91486bbcp-24, 0x1.ef6dcddc7d392p-24,
    0x1.f3da097460823p-24, 0x1.f858aff31cbf0p-24, 0x1.fceaeb2ca5f17p-24, 0x1.00c8fea1720d4p-23,
    0x1.0327a1cc4cf5ep-23, 0x1.05921d1c4d769p-23, 0x1.08093fe3e40e1p-23, 0x1.0a8ded0ec371ap-23,
    0x1.0d211dd28b00fp-23, 0x1.0fc3e4d95f278p-23, 0x1.12777201834f3p-23, 0x1.153d16d45743dp-23,
    0x1.18164be0c1c39p-23, 0x1.1b04b731f6bccp-23, 0x1.1e0a342cf08f6p-23, 0x1.2128dd36bdf09p-23,
    0x1.246317a6b53c0p-23, 0x1.27bba2b5dbc92p-23, 0x1.2b35aa5ebee3ep-23, 0x1.2ed4df8099571p-23,
    0x1.329d9725e32f7p-23, 0x1.3694f3a3740d9p-23, 0x1.3ac11b8e206d6p-23, 0x1.3f29848d3b416p-23,
    0x1.43d75b60bca1dp-23, 0x1.48d61806d6010p-23, 0x1.4e3456b0e3a1bp-23, 0x1.54052012a04a4p-23,
    0x1.5a61edf7e8f32p-23, 0x1.616dff7c8f54ap-23, 0x1.695c2be68edc9p-23, 0x1.7279dd4ac3f9dp-23,
    0x1.7d45eb36eb842p-23, 0x1.8aa73e440ffbcp-23, 0x1.9c8e0c7c8098fp-23, 0x1.b8a7c476d2be8p-23,
};
inline constexpr double kZigguratF[128] = {
    0x1.0000000000000p+0, 0x1.ed5cf060d53bbp-1, 0x1.df6071934c096p-1, 0x1.d37a74ffb7e3fp-1,
    0x1.c8d923f9e066ep-1, 0x1.bf19b6810e602p-1, 0x1.b6042cf903cb5p-1, 0x1.ad750b7255a18p-1,
    0x1.a55418110d29fp-1, 0x1.9d8fdfaec7beap-1, 0x1.961b4c1afe57ap-1, 0x1.8eec3c5bbfb34p-1,
    0x1.87faa61a739e6p-1, 0x1.814005219cc6ep-1, 0x1.7ab6f9c656c14p-1, 0x1.745b04d027f1cp-1,
    0x1.6e2856a006c14p-1, 0x1.681bab4ebdc18p-1, 0x1.62322fc593a59p-1, 0x1.5c696d348e881p-1,
    0x1.56bf39249a236p-1, 0x1.5131a8efe6179p-1, 0x1.4bbf07c6c217dp-1, 0x1.4665cea500fb2p-1,
    0x1.41249dc646445p-1, 0x1.3bfa374538788p-1, 0x1.36e57aa698262p-1, 0x1.31e5612065cfcp-1,
    0x1.2cf8fa78591b5p-1, 0x1.281f6a5d2446ap-1, 0x1.2357e62428f89p-1, 0x1.1ea1b2d9efcb5p-1,
    0x1.19fc239747fabp-1, 0x1.1566980fb8bacp-1, 0x1.10e07b5015e52p-1, 0x1.0c6942a5bbca5p-1,
    0x1.08006ca84dde0p-1, 0x1.03a58060e667cp-1, 0x1.feb0191503b06p-2, 0x1.f62f4dd04549dp-2,
    0x1.edc7d75b77106p-2, 0x1.e578f9f2c936cp-2, 0x1.dd4204b58297ep-2, 0x1.d52250cd9b948p-2,
    0x1.cd1940ad1b140p-2, 0x1.c5263f5e989c0p-2, 0x1.bd48bfe6a41dfp-2, 0x1.b5803cb422f1dp-2,
    0x1.adcc371df4166p-2, 0x1.a62c36ec664dap-2, 0x1.9e9fc9ed3ad0ap-2, 0x1.97268391186b6p-2,
    0x1.8fbffc917614cp-2, 0x1.886bd29e22628p-2, 0x1.8129a811a7651p-2, 0x1.79f923abe1175p-2,
    0x1.72d9f05230366p-2, 0x1.6bcbbcd4c4723p-2, 0x1.64ce3bb887d89p-2, 0x1.5de12305426e6p-2,
    0x1.57042c17986d6p-2, 0x1.503713768fb3fp-2, 0x1.497998ac51ea1p-2, 0x1.42cb7e21e8c52p-2,
    0x1.3c2c88fdb8dd0p-2, 0x1.359c810485cb7p-2, 0x1.2f1b307ccfe9ap-2, 0x1.28a864146107ep-2,
    0x1.2243eac7e2068p-2, 0x1.1bed95cc5751fp-2, 0x1.15a5387a66034p-2, 0x1.0f6aa83b46cf7p-2,
    0x1.093dbc774f1a0p-2, 0x1.031e4e85fb6a1p-2, 0x1.fa18733ed2789p-3, 0x1.ee0eb59e61862p-3,
    0x1.e21f21d12332ep-3, 0x1.d64978f7cf9d6p-3, 0x1.ca8d7f9ac2021p-3, 0x1.beeafd99d710fp-3,
    0x1.b361be1eb801cp-3, 0x1.a7f18f918fb5cp-3, 0x1.9c9a43902c0f3p-3, 0x1.915baee792bf0p-3,
    0x1.8635a99016373p-3, 0x1.7b280eabfd4b9p-3, 0x1.7032bc88d676ap-3, 0x1.655594a396d54p-3,
    0x1.5a907baface5fp-3, 0x1.4fe359a138234p-3, 0x1.454e19baa0e72p-3, 0x1.3ad0aa9dd7fa4p-3,
    0x1.306afe6193144p-3, 0x1.261d0aaaebe72p-3, 0x1.1be6c8cbda96fp-3, 0x1.11c835e71b728p-3,
    0x1.07c1531a2b49bp-3, 0x1.fba44b5c4de8bp-4, 0x1.e7f56ea105fbcp-4, 0x1.d4762ca983a5ap-4,
    0x1.c126ac011775fp-4, 0x1.ae071dc7af28fp-4, 0x1.9b17be7e63eebp-4, 0x1.8858d6f54ff30p-4,
    0x1.75cabd60e5dbbp-4, 0x1.636dd69e8c211p-4, 0x1.514297b239a5bp-4, 0x1.3f4987896ad6ap-4,
    0x1.2d8341133a33bp-4, 0x1.1bf075c20a9fep-4, 0x1.0a91f09183c33p-4, 0x1.f2d13368bd127p-5,
    0x1.d0eaf63395868p-5, 0x1.af738c17a5016p-5, 0x1.8e6db483bc1bbp-5, 0x1.6ddc9dd1fe248p-5,
    0x1.4dc3fcbd99702p-5, 0x1.2e282b724adacp-5, 0x1.0f0e539c89b76p-5, 0x1.e0f951d57e236p-6,
    0x1.a4f57a25d9cbdp-6, 0x1.6a23fa9d5f276p-6, 0x1.309cee4e09981p-6, 0x1.f100847645165p-7,
    0x1.83f4bed19339ap-7, 0x1.1a9b6b3fc1937p-7, 0x1.6ba8b0ffb627ep-8, 0x1.5de9e33726f20p-9,
};

inline constexpr double kTailStart = 3.442619855899;

// +1 or -1 from bit 7, without a branch (a random sign is a coin flip for the branch predictor).
inline double sign_of(std::uint32_t word) { return static_cast<double>(1 - static_cast<int>((word >> 6) & 2u)); }

// Every draw of a batch by the ziggurat's fast path, (magnitude * W[layer]) * sign, without
// branches; the positions of the draws that missed it, in increasing order, go to `misses` (room
// for `count`; the caller redoes those), and their number is returned. By the widest form the CPU
// runs.
std::size_t ziggurat_fast_path(const std::uint32_t* words, std::size_t count, double* out, std::uint32_t* misses);
std::size_t ziggurat_fast_path_scalar(const std::uint32_t* words, std::size_t count, double* out,
                                      std::uint32_t* misses);
// Compiled with -mavx512f; only where the CPU has it.
std::size_t ziggurat_fast_path_avx512(const std::uint32_t* words, std::size_t count, double* out,
                                      std::uint32_t* misses);

}  // namespace deepmr::stats::detail
