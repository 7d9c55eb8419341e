// Reader for Boulanger-Lewandowski's polyphonic music sets in JSON form:
//   {"train": [piece, ...], "valid": [...], "test": [...]}
// A piece is a list of time steps; a time step is a list of the MIDI notes sounding
// (integers 21..108, in any order, possibly none). Other top-level keys are ignored.
// Hand-written (no JSON library among the dependencies); errors name the file, line and
// column, the element path (e.g. train[12][3][1]) and what was expected.
#pragma once

#include <bitset>
#include <filesystem>
#include <string_view>
#include <vector>

namespace cellzoo::datasets {

inline constexpr int kLowestNote = 21;    // A0, piano key 0
inline constexpr int kHighestNote = 108;  // C8, piano key 87
inline constexpr int kPianoKeys = kHighestNote - kLowestNote + 1;

using PianoRollStep = std::bitset<kPianoKeys>;  // bit k = MIDI note 21 + k
using PianoRollPiece = std::vector<PianoRollStep>;

struct PianoRollSplits {
  std::vector<PianoRollPiece> train, valid, test;
};

// Parses JSON text; `file` names it in error messages. Every split must be present and
// non-empty. Throws cellzoo::Error.
PianoRollSplits parse_piano_roll_json(std::string_view text, const std::string& file);

// `path` is a .json file, or a directory holding exactly one .json file.
std::filesystem::path resolve_piano_roll_path(const std::filesystem::path& path);
PianoRollSplits read_piano_roll_json(const std::filesystem::path& path);

}  // namespace cellzoo::datasets
