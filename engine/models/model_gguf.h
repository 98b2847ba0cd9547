// Hyperparameters and tensors of a model, to and from GGUF metadata (`{arch}.*` keys, named as
// llama.cpp names them, so files are interchangeable).
#pragma once

#include "common/expected.h"
#include "engine/gguf/gguf.h"
#include "engine/models/model_spec.h"

namespace scout {

// Writes general.architecture and the `{arch}.*` hyperparameter keys.
void write_hparams(gguf::Writer& writer, const ModelHparams& hp);

// Reads them back. n_vocab comes from token_embd's shape. Errors name the file and the key
// that is missing or out of range, and say what a valid value looks like.
Result<ModelHparams> read_hparams(const gguf::File& file);

// Checks that the file holds exactly the tensors `hp` implies, with those shapes and with
// types the kernels support: the first mismatch is reported by tensor name, with expected and
// found shape or type. Tensors the architecture does not use are reported too.
Result<void> check_model_tensors(const gguf::File& file, const ModelHparams& hp);

}  // namespace scout
